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
    // From the OS's cryptographic generator: on a gateway an id is all that names a stored
    // conversation, so one must not be guessable from the ids a user has seen (a fast PRNG's
    // output gives its state away). 24 of 62 characters: about 143 bits.
    const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = [0u8; 24];
    if getrandom::fill(&mut bytes).is_err() {
        // No OS generator (never seen on the systems Plugboard runs on): still unique.
        bytes.iter_mut().for_each(|b| *b = fastrand::u8(..));
    }
    // (A byte modulo 62 favours the first 8 characters a little: under 0.1 bit lost per
    // character.)
    id.extend(bytes.iter().map(|b| ALPHABET[(b % 62) as usize] as char));
    id
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
