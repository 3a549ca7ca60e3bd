//! Starting and stopping the proxy, and swapping its settings while it runs.

use crate::guard::{guard, GuardConfig};
use crate::handlers::{self, AppState};
use crate::keys::KeySource;
use crate::response_store::ResponseStore;
use crate::routing::RouteTable;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use axum::Router;
use plugboard_config::Settings;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use tokio::sync::oneshot;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("invalid settings: {0}")]
    Settings(String),
    #[error("`{0}` is not an address like 127.0.0.1:15731")]
    Address(String),
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
    pub usage: Option<Arc<dyn crate::usage::UsageSink>>,
    /// How long a failed provider is skipped when a route has fallbacks.
    pub cooldown: std::time::Duration,
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
        }
    }
}

/// A running proxy. Dropping it leaves the server running until the runtime ends; call
/// [`ProxyHandle::stop`] for a clean stop.
pub struct ProxyHandle {
    addr: SocketAddr,
    state: Arc<AppState>,
    shutdown: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

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
    let table = RouteTable::new(settings).map_err(StartError::Settings)?;
    let state = Arc::new(AppState {
        routes: RwLock::new(Arc::new(table)),
        keys,
        store: ResponseStore::new(opts.stored_responses),
        max_event_bytes: opts.max_event_bytes,
        usage: opts.usage.clone(),
        cooldowns: Default::default(),
        cooldown: opts.cooldown,
        last_served: Default::default(),
    });
    let loopback_only = addr.ip().is_loopback();
    if !loopback_only && opts.access_token.as_deref().is_none_or(|t| t.len() < 16) {
        return Err(StartError::Settings(format!(
            "{addr} is reachable from other machines: an access token of at least 16 characters is required (--access-token or PLUGBOARD_ACCESS_TOKEN)"
        )));
    }
    let guard_cfg = Arc::new(GuardConfig {
        loopback_only,
        access_token: opts.access_token.clone(),
    });
    let app = Router::new()
        .route("/v1/responses", post(handlers::create_response))
        .route("/responses", post(handlers::create_response))
        .route("/v1/models", get(handlers::list_models))
        .route("/models", get(handlers::list_models))
        .route("/health", get(handlers::health))
        .fallback(handlers::not_found)
        .layer(DefaultBodyLimit::max(opts.body_limit))
        .layer(axum::middleware::from_fn_with_state(guard_cfg, guard))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| StartError::Bind { addr, source })?;
    // Small SSE writes must leave at once, not wait for Nagle.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let serve = axum::serve(listener, app).with_graceful_shutdown(async {
            let _ = rx.await;
        });
        if let Err(e) = serve.await {
            tracing::error!(error = %e, "the proxy server stopped with an error");
        }
    });
    tracing::info!(%addr, "proxy listening");
    Ok(ProxyHandle {
        addr,
        state,
        shutdown: Some(tx),
        task,
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
    pub fn update_settings(&self, settings: Settings) -> Result<(), String> {
        let table = Arc::new(RouteTable::new(settings)?);
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

    /// Stops accepting, lets requests under way finish, and returns when the server is gone.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}
