//! What a passed-through answer (a provider that speaks Responses itself) says about itself,
//! read beside the bytes relayed unchanged: how many events went by, and the final status,
//! usage and error, so that pass-through requests are counted and priced like translated
//! ones. Only a terminal event is parsed; every other event is just counted.

use crate::provenance::OwnedTrace;
use crate::sse::SseReader;
use plugboard_wire::responses::Usage;
use serde::Deserialize;

/// The end of an answer as the provider reported it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    /// `completed`, `incomplete` or `failed`.
    pub status: String,
    pub usage: Option<Usage>,
    pub error_code: Option<String>,
    /// The keys of the answer's output items (`provenance`), to remember who issued them.
    pub issued: Vec<u64>,
}

#[derive(Deserialize)]
struct Terminal {
    #[serde(default)]
    response: Option<Body>,
}

#[derive(Deserialize)]
struct Body {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    error: Option<ErrorCode>,
    #[serde(default)]
    output: Vec<OwnedTrace>,
}

#[derive(Deserialize)]
struct ErrorCode {
    #[serde(default)]
    code: Option<String>,
}

impl From<Body> for Outcome {
    fn from(b: Body) -> Self {
        Outcome {
            status: b.status.unwrap_or_default(),
            usage: b.usage,
            error_code: b.error.and_then(|e| e.code),
            issued: b.output.iter().flat_map(OwnedTrace::keys).collect(),
        }
    }
}

/// Reads a relayed body as it goes by.
pub enum RelayWatch {
    /// An event stream: events counted, the terminal one read.
    Stream {
        reader: SseReader,
        events: usize,
        outcome: Option<Outcome>,
        /// The terminal event as it came, when the answer is to be kept.
        terminal: Option<Vec<u8>>,
        keep: bool,
    },
    /// A whole JSON answer, kept (up to a cap) to be read at its end.
    Whole { body: Vec<u8>, cap: usize },
}

impl RelayWatch {
    pub fn stream(max_event_bytes: usize) -> Self {
        RelayWatch::Stream {
            reader: SseReader::new(max_event_bytes),
            events: 0,
            outcome: None,
            terminal: None,
            keep: false,
        }
    }

    /// The same, keeping the terminal event for [`RelayWatch::answer`].
    pub fn stream_keeping(max_event_bytes: usize) -> Self {
        let mut w = Self::stream(max_event_bytes);
        if let RelayWatch::Stream { keep, .. } = &mut w {
            *keep = true;
        }
        w
    }

    pub fn whole(cap: usize) -> Self {
        RelayWatch::Whole {
            body: Vec::new(),
            cap,
        }
    }

    pub fn push(&mut self, bytes: &[u8]) {
        match self {
            RelayWatch::Stream {
                reader,
                events,
                outcome,
                terminal,
                keep,
            } => {
                reader.push(bytes);
                // A line past the limit only stops the watching, never the relay.
                while let Ok(Some(data)) = reader.next_event() {
                    *events += 1;
                    if crate::terminal::may_end(&data) {
                        if let Ok(Terminal { response: Some(b) }) = serde_json::from_slice(&data) {
                            *outcome = Some(b.into());
                            if *keep {
                                *terminal = Some(data);
                            }
                        }
                    }
                }
            }
            RelayWatch::Whole { body, cap } => {
                if body.len() + bytes.len() <= *cap {
                    body.extend_from_slice(bytes);
                }
            }
        }
    }

    /// Events seen so far (the sequence number an event added at the end takes).
    pub fn events(&self) -> usize {
        match self {
            RelayWatch::Stream { events, .. } => *events,
            RelayWatch::Whole { .. } => 0,
        }
    }

    /// What the answer reported, once it has all gone by.
    pub fn outcome(&mut self) -> Option<Outcome> {
        match self {
            RelayWatch::Stream {
                reader, outcome, ..
            } => {
                if outcome.is_none() {
                    if let Some(data) = reader.finish() {
                        if let Ok(Terminal { response: Some(b) }) = serde_json::from_slice(&data) {
                            *outcome = Some(b.into());
                        }
                    }
                }
                outcome.clone()
            }
            RelayWatch::Whole { body, .. } => {
                serde_json::from_slice::<Body>(body).ok().map(Outcome::from)
            }
        }
    }
}

/// A whole answer as a client may build on it later: its id and output items.
#[derive(Deserialize)]
pub struct Answer {
    pub id: String,
    #[serde(default)]
    pub output: Vec<serde_json::Value>,
}

impl RelayWatch {
    /// The answer's id and output, once it has gone by complete (a stream made with
    /// [`RelayWatch::stream_keeping`], or a whole answer).
    pub fn answer(&self) -> Option<Answer> {
        #[derive(Deserialize)]
        struct Event {
            response: Answer,
        }
        match self {
            RelayWatch::Stream { terminal, .. } => terminal
                .as_deref()
                .and_then(|t| serde_json::from_slice::<Event>(t).ok())
                .map(|e| e.response),
            RelayWatch::Whole { body, .. } => serde_json::from_slice(body).ok(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_is_counted_and_its_end_read_however_it_is_split() {
        let body = concat!(
            "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"status\":\"in_progress\"}}\n\n",
            "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"hi\"}\n\n",
            "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"status\":\"completed\",",
            "\"usage\":{\"input_tokens\":120,\"input_tokens_details\":{\"cached_tokens\":100},\"output_tokens\":30,",
            "\"output_tokens_details\":{\"reasoning_tokens\":12},\"total_tokens\":150}}}\n\n"
        )
        .as_bytes();
        for at in (0..body.len()).step_by(7) {
            let mut w = RelayWatch::stream(1 << 20);
            w.push(&body[..at]);
            w.push(&body[at..]);
            assert_eq!(w.events(), 3);
            let o = w.outcome().unwrap();
            assert_eq!(o.status, "completed");
            let u = o.usage.unwrap();
            assert_eq!(
                (
                    u.input_tokens,
                    u.input_tokens_details.cached_tokens,
                    u.output_tokens,
                    u.output_tokens_details.reasoning_tokens
                ),
                (120, 100, 30, 12)
            );
        }
    }

    #[test]
    fn failures_and_whole_answers() {
        let mut w = RelayWatch::stream(1 << 20);
        w.push(b"data: {\"type\":\"response.failed\",\"response\":{\"status\":\"failed\",\"error\":{\"code\":\"server_error\",\"message\":\"x\"}}}\n\n");
        let o = w.outcome().unwrap();
        assert_eq!(
            (o.status.as_str(), o.error_code.as_deref()),
            ("failed", Some("server_error"))
        );
        let mut w = RelayWatch::whole(1 << 20);
        w.push(b"{\"id\":\"r\",\"status\":\"completed\",\"usage\":{\"input_tokens\":5,");
        w.push(b"\"output_tokens\":2,\"total_tokens\":7}}");
        let o = w.outcome().unwrap();
        assert_eq!(o.usage.unwrap().total_tokens, 7);
        let mut w = RelayWatch::stream(1 << 20);
        w.push(b"data: {\"type\":\"response.created\"}\n\n");
        assert_eq!(w.outcome(), None, "no end seen");
    }
}
