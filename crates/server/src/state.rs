//! What every request handler shares: the running proxy's state, and a request as it comes
//! in. Kept apart from the handlers so that the bridge, the pass-through and failover depend
//! on it, not on each other.

use crate::issuers::Issuers;
use crate::lifecycle::Lifecycle;
use crate::response_store::ResponseStore;
use crate::routing::RouteTable;
use axum::body::Bytes;
use axum::http::HeaderMap;
use plugboard_core::KeySource;
use plugboard_core::UsageSink;
use plugboard_wire::responses::ResponsesRequest;
use std::sync::{Arc, Mutex, RwLock};

/// What every request handler of one running proxy shares: routes, keys, the response store,
/// usage. (The desktop app's own state is `plugboard_app::App`.)
pub struct ProxyState {
    pub routes: RwLock<Arc<RouteTable>>,
    pub keys: Arc<dyn KeySource>,
    pub store: ResponseStore,
    /// Who issued the items of recent answers, for sessions that change provider.
    pub issuers: Issuers,
    pub usage: Option<Arc<dyn UsageSink>>,
    /// Providers that failed recently, skipped while a route has others.
    pub cooldowns: crate::cooldown::Cooldowns,
    /// The provider that answered last.
    pub last_served: Mutex<Option<String>>,
    /// Longest line accepted in an upstream stream.
    pub max_event_bytes: usize,
    /// Largest request body (and WebSocket message) accepted.
    pub body_limit: usize,
    /// Stop phases: requests are refused while draining, streams end on abort.
    pub life: Lifecycle,
    /// Name resolution for local-only checks.
    pub resolver: Arc<dyn crate::local_only::HostResolver>,
    /// A gateway's shared state store (Redis), when replicas share conversations.
    pub shared: Option<Arc<dyn crate::shared_state::SharedState>>,
    /// What `GET /metrics` shows, when the proxy keeps metrics.
    pub metrics: Option<Arc<dyn plugboard_core::MetricsExport>>,
    /// A gateway's users (for the checks a WebSocket repeats per response).
    pub accounts: Option<Arc<dyn plugboard_core::Accounts>>,
}

impl ProxyState {
    pub fn routes(&self) -> Arc<RouteTable> {
        self.routes
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn note_served(&self, provider: &str) {
        self.cooldowns.served(provider);
        *self.last_served.lock().unwrap_or_else(|e| e.into_inner()) = Some(provider.to_string());
    }
}

/// Everything a request carries into the bridge or the pass-through.
pub struct Incoming {
    pub body: Bytes,
    pub req: ResponsesRequest,
    pub headers: HeaderMap,
    /// A turn that came over a WebSocket: the connection's upstream sockets.
    pub socket: Option<crate::upstream_socket::SocketTurn>,
    /// The gateway user it is attributed to.
    pub caller: Option<plugboard_core::Caller>,
}

impl Incoming {
    /// The gateway user's name, whose stored conversations this request may continue.
    pub(crate) fn who(&self) -> Option<&str> {
        self.caller.as_ref().map(plugboard_core::Caller::name)
    }

    /// What the pass-through reads of the request.
    pub(crate) fn asked(&self) -> crate::passthrough::Asked<'_> {
        crate::passthrough::Asked {
            model: &self.req.model,
            input: &self.req.input,
            previous: self.req.previous_response_id.as_ref(),
            tools: &self.req.tools,
            tool_choice: self.req.tool_choice.as_ref(),
            store: self.req.store,
            who: self.who(),
        }
    }
}
