//! What the proxy reports of each request attempt, for usage history (the sink is the
//! app's or the headless binary's SQLite recorder).

use crate::Outcome;

/// One attempt at serving a request (a failover makes several for one request id).
#[derive(Debug, Clone, PartialEq)]
pub struct RequestRecord {
    pub ts_ms: u64,
    pub request_id: String,
    /// 1 for the first provider tried, 2 for the first fallback, ...
    pub attempt: u32,
    pub route: Option<String>,
    /// The model the client asked for.
    pub model: String,
    pub provider: String,
    pub upstream_model: String,
    /// How it ended.
    pub status: Outcome,
    /// The error code, when the attempt failed.
    pub error_class: Option<String>,
    pub input_tokens: u64,
    pub cached_tokens: u64,
    pub output_tokens: u64,
    pub reasoning_tokens: u64,
    pub first_event_ms: Option<f64>,
    pub total_ms: f64,
    pub stream: bool,
    /// The provider was on this machine or the local network (checked in local-only mode,
    /// read off the address otherwise).
    pub local: bool,
    /// The client's session (Codex's thread id; a subagent's requests count for the session
    /// that started it), so that a session's mix of providers can be priced.
    pub session: Option<String>,
    /// The gateway user the request is attributed to (their name; never a token).
    pub user: Option<String>,
}

pub trait UsageSink: Send + Sync + 'static {
    fn record(&self, r: RequestRecord);

    /// Whether records reach their store now (`/ready`); the reason when not.
    fn ready(&self) -> Result<(), String> {
        Ok(())
    }
}

/// What a sink counted, in Prometheus's text format (`GET /metrics`).
pub trait MetricsExport: Send + Sync + 'static {
    fn render(&self) -> String;
}
