//! How a request attempt ended. One type behind the log line's `status`, the usage
//! database's `status` column, the request log in the window and the tray's last-request
//! line; written as text in one place ([`Outcome::as_str`]) and read back in one
//! ([`Outcome::parse`]).

use std::borrow::Cow;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The response ended as the Responses API says it did.
    Completed,
    /// Ended early (the output limit, a content filter): an answer all the same.
    Incomplete,
    /// `response.failed`: the error class says why.
    Failed,
    /// Relayed from a Responses provider whose stream named no end Plugboard could read.
    PassedThrough,
    /// Answered with this HTTP error before any event (refused, unreachable, stopping).
    Http(u16),
    /// The provider's stream broke off.
    StreamInterrupted,
    /// The provider's stream went silent for longer than allowed.
    UpstreamTimeout,
    /// The client went away before the end.
    ClientDisconnected,
    /// Plugboard stopped (Stop, Quit, a port change) before the end.
    CutByShutdown,
    /// A status a relayed stream gave that this version does not know (kept as written).
    Other(String),
}

impl Outcome {
    /// The outcomes that are an answer; everything else counts as an error.
    pub const ANSWERED: [Outcome; 3] = [
        Outcome::Completed,
        Outcome::Incomplete,
        Outcome::PassedThrough,
    ];

    pub fn as_str(&self) -> Cow<'static, str> {
        Cow::Borrowed(match self {
            Outcome::Completed => "completed",
            Outcome::Incomplete => "incomplete",
            Outcome::Failed => "failed",
            Outcome::PassedThrough => "passed_through",
            Outcome::StreamInterrupted => "stream_interrupted",
            Outcome::UpstreamTimeout => "upstream_timeout",
            Outcome::ClientDisconnected => "client_disconnected",
            Outcome::CutByShutdown => "cut_by_shutdown",
            Outcome::Http(code) => return Cow::Owned(format!("error_{code}")),
            Outcome::Other(s) => return Cow::Owned(s.clone()),
        })
    }

    /// Reads what [`Outcome::as_str`] wrote (and the status of a relayed response).
    pub fn parse(s: &str) -> Outcome {
        match s {
            "completed" => Outcome::Completed,
            "incomplete" => Outcome::Incomplete,
            "failed" => Outcome::Failed,
            "passed_through" => Outcome::PassedThrough,
            "stream_interrupted" => Outcome::StreamInterrupted,
            "upstream_timeout" => Outcome::UpstreamTimeout,
            "client_disconnected" => Outcome::ClientDisconnected,
            "cut_by_shutdown" => Outcome::CutByShutdown,
            other => match other.strip_prefix("error_").and_then(|c| c.parse().ok()) {
                Some(code) => Outcome::Http(code),
                None => Outcome::Other(other.to_string()),
            },
        }
    }

    /// An answer reached the client (whole, cut short by a limit, or relayed).
    pub fn answered(&self) -> bool {
        Self::ANSWERED.contains(self)
    }

    /// The HTTP status the client got instead of an answer, if that is how it ended.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Outcome::Http(code) => Some(*code),
            _ => None,
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.as_str())
    }
}

/// `outcome == "completed"`: compares with the text it is written as.
impl PartialEq<&str> for Outcome {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl From<&str> for Outcome {
    fn from(s: &str) -> Outcome {
        Outcome::parse(s)
    }
}

impl serde::Serialize for Outcome {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Outcome {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Outcome, D::Error> {
        let s = <Cow<'de, str>>::deserialize(d)?;
        Ok(Outcome::parse(&s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outcome_reads_back_as_written() {
        for o in [
            Outcome::Completed,
            Outcome::Incomplete,
            Outcome::Failed,
            Outcome::PassedThrough,
            Outcome::Http(503),
            Outcome::Http(401),
            Outcome::StreamInterrupted,
            Outcome::UpstreamTimeout,
            Outcome::ClientDisconnected,
            Outcome::Other("cancelled".into()),
        ] {
            assert_eq!(Outcome::parse(&o.as_str()), o, "{o}");
        }
        assert!(Outcome::Incomplete.answered());
        assert!(!Outcome::Http(502).answered());
        assert_eq!(Outcome::parse("error_x"), Outcome::Other("error_x".into()));
    }
}
