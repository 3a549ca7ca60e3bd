//! What the header and the tray say about the proxy: the last request's outcome in a
//! sentence a person can act on, and the tray icon's state.

use plugboard_server::{Outcome, RequestRecord};
use serde::Serialize;

/// The last request the proxy finished, as the status line shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LastRequest {
    /// The provider's name (not its id).
    pub provider: String,
    pub ok: bool,
    /// For a failure: what happened, e.g. "DeepSeek rejected the key (401)".
    pub sentence: Option<String>,
    pub ts_ms: u64,
}

/// Records that say nothing about the provider: the client left, or Plugboard's own stop
/// cut the request.
pub fn tells_about_provider(r: &RequestRecord) -> bool {
    r.status != Outcome::ClientDisconnected
        && r.error_class.as_deref() != Some(plugboard_server::STOPPING_CODE)
}

/// `record` as the status line says it, `provider` being the provider's name.
pub fn last_request(r: &RequestRecord, provider: &str) -> LastRequest {
    let ok = r.status.answered();
    LastRequest {
        provider: provider.to_string(),
        ok,
        sentence: (!ok).then(|| {
            failure_sentence(
                &r.status,
                r.error_class.as_deref(),
                &r.upstream_model,
                provider,
            )
        }),
        ts_ms: r.ts_ms,
    }
}

/// A failed request in a sentence: how it ended (`status`, `error_class`) at provider `p`
/// for `model`. The header's status line and the Requests tab say the same.
pub fn failure_sentence(status: &Outcome, class: Option<&str>, model: &str, p: &str) -> String {
    let code = status.http_status();
    let class = class.unwrap_or("");
    match (status, code, class) {
        (Outcome::CutByShutdown, _, _) => {
            return format!("Plugboard stopped before {p} finished (Stop, Quit or a port change)")
        }
        (Outcome::ClientDisconnected, _, _) => {
            return format!("the client went away before {p} finished")
        }
        _ => {}
    }
    match (code, class) {
        (_, "context_length_exceeded") => {
            format!("the conversation is longer than {model}'s context window on {p}")
        }
        (_, "insufficient_quota") | (Some(402), _) => {
            // OpenAI says it with a 429, others with a 402: the code is the provider's.
            format!(
                "{p} says the account has no credit left ({})",
                code.unwrap_or(402)
            )
        }
        (_, "missing_api_key") => {
            format!("{p}'s key is not available (no key saved, or the keyring is locked)")
        }
        (_, "local_only_refused") => {
            format!("{p} is not on this machine or the local network, and local-only is on")
        }
        (_, "upstream_unreachable") => format!("{p} could not be reached"),
        (_, "upstream_timeout") => format!("{p} did not answer in time"),
        (_, "upstream_redirect_refused") => {
            format!("{p} redirected the request elsewhere; Plugboard did not follow")
        }
        (Some(c @ (401 | 403)), _) => format!("{p} rejected the key ({c})"),
        (Some(404), _) => format!("{p} does not know the model {model} (404)"),
        (Some(429), _) => format!("{p} is limiting the request rate (429)"),
        (Some(c), _) if c >= 500 => format!("{p} had a server error ({c})"),
        (Some(c), "") => format!("{p} refused the request ({c})"),
        (Some(c), class) => format!("{p} refused the request ({c}, {class})"),
        (None, "") => format!("{p}'s answer ended with `{status}`"),
        (None, class) => format!("{p}'s answer broke off ({class})"),
    }
}

/// The tray icon: what a glance at the panel should tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrayState {
    Running,
    Stopped,
    /// The proxy could not start, the last request failed, or a key waits for the keyring.
    Error,
    /// No provider yet.
    Setup,
    /// Running in local-only mode: nothing leaves this machine or the local network.
    LocalOnly,
}

impl TrayState {
    pub fn icon_name(self) -> &'static str {
        match self {
            TrayState::Running => "tray-running",
            TrayState::Stopped => "tray-stopped",
            TrayState::Error => "tray-error",
            TrayState::Setup => "tray-setup",
            TrayState::LocalOnly => "tray-local",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(status: &str, class: Option<&str>) -> RequestRecord {
        RequestRecord {
            ts_ms: 1,
            request_id: "r".into(),
            attempt: 1,
            route: None,
            model: "gpt-5.5".into(),
            provider: "ds".into(),
            upstream_model: "deepseek-chat".into(),
            status: status.into(),
            error_class: class.map(str::to_string),
            input_tokens: 0,
            cached_tokens: 0,
            output_tokens: 0,
            reasoning_tokens: 0,
            first_event_ms: None,
            total_ms: 1.0,
            stream: true,
            local: false,
            session: None,
            user: None,
        }
    }

    #[test]
    fn failures_read_as_sentences_with_the_providers_name() {
        let s = |status, class| {
            last_request(&record(status, class), "DeepSeek")
                .sentence
                .unwrap()
        };
        assert_eq!(
            s("error_401", Some("invalid_api_key")),
            "DeepSeek rejected the key (401)"
        );
        assert_eq!(
            s("error_402", Some("insufficient_quota")),
            "DeepSeek says the account has no credit left (402)"
        );
        assert_eq!(
            s("error_502", Some("upstream_unreachable")),
            "DeepSeek could not be reached"
        );
        assert_eq!(
            s("error_404", Some("model_not_found")),
            "DeepSeek does not know the model deepseek-chat (404)"
        );
        assert_eq!(
            s("failed", Some("server_error")),
            "DeepSeek's answer broke off (server_error)"
        );
        assert_eq!(
            s("error_403", Some("local_only_refused")),
            "DeepSeek is not on this machine or the local network, and local-only is on"
        );
        assert_eq!(
            s("cut_by_shutdown", Some("server_is_overloaded")),
            "Plugboard stopped before DeepSeek finished (Stop, Quit or a port change)"
        );
        assert!(last_request(&record("completed", None), "DeepSeek").ok);
        assert!(last_request(&record("incomplete", None), "DeepSeek").ok);
        assert!(!tells_about_provider(&record("client_disconnected", None)));
    }
}
