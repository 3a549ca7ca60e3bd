//! Starting and stopping the proxy, and swapping its settings while it runs.

use crate::codex_login;
use crate::compact;
use crate::connections::{self, Registry};
use crate::guard::{guard, GuardConfig};
use crate::handlers;
use crate::issuers::Issuers;
use crate::lifecycle::Lifecycle;
use crate::listener;
use crate::response_store::ResponseStore;
use crate::routing::RouteTable;
use crate::state::ProxyState;
use crate::websocket;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use plugboard_config::Settings;
use plugboard_core::KeySource;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio_util::task::TaskTracker;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("invalid settings: {0}")]
    Settings(#[from] crate::routing::SettingsError),
    #[error("`{0}` is not an address like 127.0.0.1:15731")]
    Address(String),
    #[error("{0} is reachable from other machines: an access token of at least 16 characters (--access-token or PLUGBOARD_ACCESS_TOKEN) or gateway users (`plugboard-proxy users add NAME`) are required")]
    OpenWithoutToken(SocketAddr),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

pub struct ServeOptions {
    /// Overrides `settings.listen`.
    pub listen: Option<SocketAddr>,
    pub body_limit: usize,
    /// How many finished responses `previous_response_id` can name.
    pub stored_responses: usize,
    /// Longest line accepted in an upstream stream (a broken upstream must not grow a buffer
    /// without bound).
    pub max_event_bytes: usize,
    /// Required (as `Authorization: Bearer …` or `x-plugboard-token`) on every request; needed
    /// to listen on anything but loopback.
    pub access_token: Option<String>,
    /// Where each request attempt is reported (usage history).
    pub usage: Option<Arc<dyn plugboard_core::UsageSink>>,
    /// How long a failed provider is skipped when a route has fallbacks.
    pub cooldown: std::time::Duration,
    /// Name resolution for local-only checks (tests give fixed answers).
    pub resolver: Option<Arc<dyn crate::local_only::HostResolver>>,
    /// A team gateway's users (tokens, budgets); with users defined every request needs a
    /// user's token (or the access token).
    pub accounts: Option<Arc<dyn plugboard_core::Accounts>>,
    /// A gateway's shared state store: replicas continue each other's conversations.
    pub shared_state: Option<Arc<dyn crate::shared_state::SharedState>>,
    /// Served on `GET /metrics` (Prometheus's text format).
    pub metrics: Option<Arc<dyn plugboard_core::MetricsExport>>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            listen: None,
            body_limit: 64 * 1024 * 1024,
            stored_responses: 1024,
            max_event_bytes: 16 * 1024 * 1024,
            access_token: None,
            usage: None,
            cooldown: std::time::Duration::from_secs(30),
            resolver: None,
            accounts: None,
            shared_state: None,
            metrics: None,
        }
    }
}

/// A running proxy. Dropping it leaves the server running until the runtime ends; call
/// [`ProxyHandle::stop`] for a clean stop.
pub struct ProxyHandle {
    addr: SocketAddr,
    state: Arc<ProxyState>,
    accept: tokio::task::JoinHandle<()>,
    tracker: TaskTracker,
    registry: Arc<Registry>,
    grace: Duration,
}

/// How long streams cut at the end of the grace period get to send their last event.
const FLUSH: Duration = Duration::from_millis(500);
/// Item keys remembered with their issuing provider: a Codex turn leaves a handful, so this
/// covers thousands of turns in about 2 MiB.
const ISSUED_KEYS: usize = 32 * 1024;

pub async fn start(
    settings: Settings,
    keys: Arc<dyn KeySource>,
    opts: ServeOptions,
) -> Result<ProxyHandle, StartError> {
    let addr = match opts.listen {
        Some(a) => a,
        None => settings
            .listen
            .parse()
            .map_err(|_| StartError::Address(settings.listen.clone()))?,
    };
    let limits = settings.server;
    let problems = limits.validate();
    if !problems.is_empty() {
        return Err(crate::routing::SettingsError::Invalid(problems).into());
    }
    let resolver: Arc<dyn crate::local_only::HostResolver> = opts
        .resolver
        .clone()
        .unwrap_or_else(|| Arc::new(crate::local_only::SystemResolver));
    let table = RouteTable::with_resolver(settings, resolver.clone())?;
    let life = Lifecycle::default();
    let mut store = ResponseStore::new(opts.stored_responses);
    let mut issuers = Issuers::new(ISSUED_KEYS);
    if let Some(shared) = &opts.shared_state {
        let writer = crate::shared_state::start_writer(shared.clone());
        store = store.writing_behind(writer.clone());
        issuers = issuers.writing_behind(writer);
    }
    let state = Arc::new(ProxyState {
        routes: RwLock::new(Arc::new(table)),
        keys,
        store,
        issuers,
        shared: opts.shared_state.clone(),
        metrics: opts.metrics.clone(),
        accounts: opts.accounts.clone(),
        max_event_bytes: opts.max_event_bytes,
        body_limit: opts.body_limit,
        usage: opts.usage.clone(),
        cooldowns: crate::cooldown::Cooldowns::new(opts.cooldown),
        last_served: Default::default(),
        life: life.clone(),
        resolver,
    });
    let loopback_only = addr.ip().is_loopback();
    let strong_token = opts.access_token.as_deref().is_some_and(|t| t.len() >= 16);
    let users = opts.accounts.as_ref().is_some_and(|a| a.enabled());
    // Reachable from elsewhere: users' tokens or a strong access token, and never a weak one
    // beside the users' (it would pass unattributed and without a budget).
    let weak_token = opts.access_token.is_some() && !strong_token;
    if !loopback_only && ((!strong_token && !users) || weak_token) {
        return Err(StartError::OpenWithoutToken(addr));
    }
    let guard_cfg = Arc::new(GuardConfig {
        loopback_only,
        access_token: opts.access_token.clone(),
        accounts: opts.accounts.clone(),
        users_required: !loopback_only && !strong_token,
    });
    let app = Router::new()
        .route(
            "/v1/responses",
            post(handlers::create_response).get(websocket::upgrade),
        )
        .route(
            "/responses",
            post(handlers::create_response).get(websocket::upgrade),
        )
        // Codex's built-in `openai` provider (`openai_base_url`), for the ChatGPT plan relay.
        .route(
            "/codex/responses",
            post(handlers::create_response).get(websocket::upgrade),
        )
        .route("/codex/responses/compact", post(compact::compact_response))
        .route("/codex/models", get(codex_login::models))
        .route("/v1/responses/compact", post(compact::compact_response))
        .route("/responses/compact", post(compact::compact_response))
        .route("/v1/models", get(handlers::list_models))
        .route("/models", get(handlers::list_models))
        .route("/health", get(handlers::health))
        .route("/ready", get(handlers::ready))
        .route("/metrics", get(handlers::metrics))
        .fallback(handlers::not_found)
        .layer(DefaultBodyLimit::max(opts.body_limit))
        .layer(axum::Extension(crate::endpoint::BodyLimit(opts.body_limit)))
        .layer(axum::middleware::from_fn_with_state(guard_cfg, guard))
        .with_state(state.clone());
    let fd = listener::raise_fd_limit();
    let max_connections = listener::connection_cap(limits.max_connections, fd);
    let listener =
        listener::bind(addr, limits.backlog).map_err(|source| StartError::Bind { addr, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| StartError::Bind { addr, source })?;
    let registry = Arc::new(Registry::new(max_connections));
    let tracker = TaskTracker::new();
    let accept = tokio::spawn(connections::accept_loop(
        listener,
        app,
        registry.clone(),
        Duration::from_secs(limits.header_timeout_secs.max(1)),
        life,
        tracker.clone(),
    ));
    tracing::info!(
        %addr,
        max_connections,
        open_files_limit = fd.map(|l| l.now),
        open_files_limit_was = fd.map(|l| l.before),
        backlog = limits.backlog,
        header_timeout_secs = limits.header_timeout_secs,
        shutdown_grace_secs = limits.shutdown_grace_secs,
        "proxy listening"
    );
    Ok(ProxyHandle {
        addr,
        state,
        accept,
        tracker,
        registry,
        grace: Duration::from_secs(limits.shutdown_grace_secs),
    })
}

impl ProxyHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR/v1`, what Codex's `base_url` must be.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// New providers and routes for the next request; requests under way keep theirs.
    /// Listener limits apply from the next start.
    pub fn update_settings(&self, settings: Settings) -> Result<(), crate::routing::SettingsError> {
        let table = Arc::new(RouteTable::with_resolver(
            settings,
            self.state.resolver.clone(),
        )?);
        *self.state.routes.write().unwrap_or_else(|e| e.into_inner()) = table;
        Ok(())
    }

    /// The provider that answered the last request.
    pub fn last_served(&self) -> Option<String> {
        self.state
            .last_served
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn settings(&self) -> Settings {
        self.state.routes().settings().clone()
    }

    /// Connections open now.
    pub fn open_connections(&self) -> usize {
        self.registry.open()
    }

    /// Stops within the configured grace period (`server.shutdown_grace_secs`).
    pub async fn stop(self) -> StopReport {
        self.begin_stop().await.finish().await
    }

    /// Stops accepting at once: when this returns the port is free and no new request is
    /// taken. [`Stopping::finish`] then waits for the requests under way.
    pub async fn begin_stop(self) -> Stopping {
        self.state.life.draining.cancel();
        let _ = self.accept.await;
        self.tracker.close();
        Stopping {
            state: self.state,
            tracker: self.tracker,
            registry: self.registry,
            grace: self.grace,
        }
    }
}

/// A proxy that no longer accepts, with requests possibly still under way.
pub struct Stopping {
    state: Arc<ProxyState>,
    tracker: TaskTracker,
    registry: Arc<Registry>,
    grace: Duration,
}

impl Stopping {
    /// Waits for the configured grace period.
    pub async fn finish(self) -> StopReport {
        let grace = self.grace;
        self.finish_within(grace).await
    }

    /// Lets requests under way finish for `grace`, then ends the streams still open with
    /// `response.failed` and returns when every connection is gone.
    pub async fn finish_within(self, grace: Duration) -> StopReport {
        let life = &self.state.life;
        let open = self.registry.open();
        if tokio::time::timeout(grace, self.tracker.wait())
            .await
            .is_ok()
        {
            return StopReport { cut: 0 };
        }
        let cut = self.registry.open();
        tracing::info!(
            open_at_stop = open,
            cut,
            grace_secs = grace.as_secs_f32(),
            "grace period over: ending what still streams"
        );
        life.abort.cancel();
        if tokio::time::timeout(FLUSH, self.tracker.wait())
            .await
            .is_err()
        {
            life.kill.cancel();
            self.tracker.wait().await;
        }
        StopReport { cut }
    }
}

/// What a stop had to cut short.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StopReport {
    /// Connections still busy when the grace period ended.
    pub cut: usize,
}
