//! What the stream translator needs to know of the request it answers.

use crate::tool_names::ToolNameMap;
use plugboard_wire::responses::RequestEcho;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct ResponseContext {
    /// `resp_...`; item ids are derived from it so that a response is reproducible.
    pub response_id: String,
    /// The model name the client asked for (not the upstream one).
    pub model: String,
    pub created_at: u64,
    pub echo: Arc<RequestEcho>,
    pub tool_names: Arc<ToolNameMap>,
    /// Split `<think>…</think>` at the start of the content into reasoning.
    pub think_tags: bool,
    /// Turn tool calls printed as text into calls.
    pub text_tool_calls: bool,
}

/// A new random id with the given prefix, e.g. `resp_3fK9...`.
pub fn new_id(prefix: &str) -> String {
    let mut id = String::with_capacity(prefix.len() + 25);
    id.push_str(prefix);
    id.push('_');
    id.extend(std::iter::repeat_with(fastrand::alphanumeric).take(24));
    id
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
