//! How a stop reaches every part of the proxy: first it stops taking new requests
//! (draining), then, when the grace period is over, it ends whatever still streams (abort),
//! and last it drops the connections that are left (kill). Each phase is a cancellation
//! token that the accept loop, the connections, the handlers and the streams watch.

use tokio_util::sync::CancellationToken;

#[derive(Clone, Default)]
pub struct Lifecycle {
    /// No new connections or requests; connections close once their response is done.
    pub draining: CancellationToken,
    /// Streams under way end now, with `response.failed`.
    pub abort: CancellationToken,
    /// Connections still open are dropped.
    pub kill: CancellationToken,
}

/// The code a stream cut by a stop ends with. Clients treat it as "try again", which is
/// what a user restarting the proxy wants (Codex retries any code it has no special
/// handling for; routers and SDKs that know codes retry this one).
pub const STOPPING_CODE: &str = "server_is_overloaded";

pub fn stopping_message() -> String {
    "Plugboard is stopping: this request was cut off after the shutdown grace period; try it again once Plugboard runs".to_string()
}
