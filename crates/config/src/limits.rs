//! What the listener allows a peer: how long it may take to send a request's headers, how
//! many connections may be open at once, and how long streams get when the proxy stops.
//! Both the app's embedded proxy and `plugboard-proxy` read these from the settings file.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerLimits {
    /// Seconds a connection may wait, idle or mid-headers, before a whole request head has
    /// arrived; then it is closed (with a 408 when part of a request had come).
    pub header_timeout_secs: u64,
    /// Connections open at once; 0 picks one from the open-files limit. Past it, idle
    /// connections are closed to make room, and with none idle a new one gets a 503.
    pub max_connections: usize,
    /// Connections the kernel queues before they are accepted.
    pub backlog: u32,
    /// Seconds streams under way get to finish when the proxy stops; then they end with
    /// `response.failed`.
    pub shutdown_grace_secs: u64,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            header_timeout_secs: 5,
            max_connections: 0,
            backlog: 2048,
            shutdown_grace_secs: 3,
        }
    }
}

impl ServerLimits {
    /// Problems a user must fix, as sentences naming the field.
    pub fn validate(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.header_timeout_secs == 0 {
            problems.push("server.header_timeout_secs must be at least 1".to_string());
        }
        if self.backlog == 0 {
            problems.push("server.backlog must be at least 1".to_string());
        }
        problems
    }
}
