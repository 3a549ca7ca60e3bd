//! HTTP endpoints: `POST /v1/responses`, `GET /v1/models`, `GET /health`.

use crate::error::ProxyError;
use crate::failover::{self, Attempt, RequestFacts};
use crate::keys::ApiKey;
use crate::keys::KeySource;
use crate::lifecycle::{self, Lifecycle};
use crate::request_log::RequestLog;
use crate::response_store::ResponseStore;
use crate::routing::RouteTable;
use crate::routing::Target;
use crate::usage::UsageSink;
use crate::{chat_bridge, passthrough};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use plugboard_config::WireApi;
use plugboard_wire::responses::{Input, ResponsesRequest};
use serde_json::json;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;
use tracing::Instrument;

pub struct AppState {
    pub routes: RwLock<Arc<RouteTable>>,
    pub keys: Arc<dyn KeySource>,
    pub store: ResponseStore,
    pub usage: Option<Arc<dyn UsageSink>>,
    /// Providers that failed recently, skipped while a route has others.
    pub cooldowns: crate::cooldown::Cooldowns,
    /// The provider that answered last.
    pub last_served: Mutex<Option<String>>,
    /// Longest line accepted in an upstream stream.
    pub max_event_bytes: usize,
    /// Stop phases: requests are refused while draining, streams end on abort.
    pub life: Lifecycle,
    /// Name resolution for local-only checks.
    pub resolver: Arc<dyn crate::local_only::HostResolver>,
}

impl AppState {
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
}

pub async fn create_response(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let work = state.clone();
    entry(&state, move |request_id, started| {
        handle(work, headers, body, request_id, started)
    })
    .await
}

/// What every proxied endpoint shares: a request id (in the log span and the
/// `x-request-id` header), a refusal while the proxy stops, and an answer when the grace
/// period ends before the provider answered (a stream already under way ends itself).
pub(crate) async fn entry<F: std::future::Future<Output = Response>>(
    state: &Arc<AppState>,
    work: impl FnOnce(String, Instant) -> F,
) -> Response {
    let started = Instant::now();
    let request_id = plugboard_translate::new_id("req");
    let span = tracing::info_span!("request", id = %request_id);
    let mut resp = if state.life.draining.is_cancelled() {
        stopping_error().into_response()
    } else {
        tokio::select! {
            biased;
            resp = work(request_id.clone(), started).instrument(span) => resp,
            _ = state.life.abort.cancelled() => stopping_error().into_response(),
        }
    };
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

fn stopping_error() -> ProxyError {
    let mut e = ProxyError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "server_error",
        lifecycle::STOPPING_CODE,
        lifecycle::stopping_message(),
    );
    e.retry_after = Some(HeaderValue::from_static("1"));
    e
}

/// Parses and routes; errors before routing get a line of their own, the rest the request's
/// log line (written here, or by the stream when it ends).
async fn handle(
    state: Arc<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
    request_id: String,
    started: Instant,
) -> Response {
    let (incoming, routes) = match parse(&state, headers, body) {
        Ok(parsed) => parsed,
        Err(e) => {
            tracing::info!(status = e.status.as_u16(), code = e.code(), message = %e.error.message, "request refused");
            return e.into_response();
        }
    };
    let facts = RequestFacts {
        model: &incoming.req.model,
        stream: incoming.req.stream,
        request_id: &request_id,
        started,
    };
    let work = CreateAttempt {
        state: &state,
        incoming: &incoming,
    };
    failover::serve(&state, &routes, facts, &work).await
}

/// `POST /v1/responses` at one provider: passed through or translated.
struct CreateAttempt<'r> {
    state: &'r Arc<AppState>,
    incoming: &'r Incoming,
}

impl Attempt for CreateAttempt<'_> {
    async fn attempt<'a>(
        &'a self,
        target: &'a Target<'a>,
        key: Option<ApiKey>,
        log: &'a mut Option<RequestLog>,
    ) -> Result<Response, ProxyError> {
        match target.provider.wire_api {
            WireApi::Responses => {
                passthrough::forward(self.state, self.incoming, target, key, log).await
            }
            WireApi::Chat => chat_bridge::bridge(self.state, self.incoming, target, key, log).await,
        }
    }
}

fn parse(
    state: &AppState,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(Incoming, Arc<RouteTable>), ProxyError> {
    let (body, req): (Bytes, ResponsesRequest) = read_json(body)?;
    require_input(&req.input, req.previous_response_id.is_some())?;
    let incoming = Incoming { body, req, headers };
    Ok((incoming, state.routes()))
}

/// A request body read and parsed; a body that cannot be read, is too large or does not
/// parse is a 4xx naming the field.
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
) -> Result<(Bytes, T), ProxyError> {
    let body = body.map_err(|e| {
        let status = e.status();
        let mut err = ProxyError::invalid_request(
            None,
            "invalid_body",
            format!("the request body could not be read: {}", e.body_text()),
        );
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            err.status = status;
            err.error.code = Some("request_too_large".into());
        }
        err
    })?;
    let parsed = plugboard_wire::parse_json(&body).map_err(|e| {
        let param = (!e.path.is_empty()).then(|| e.path.clone());
        ProxyError::invalid_request(param.as_deref(), "invalid_request", e.to_string())
    })?;
    Ok((body, parsed))
}

/// An empty input is only allowed when a previous response supplies the history.
pub(crate) fn require_input(input: &Input, has_previous: bool) -> Result<(), ProxyError> {
    if matches!(input, Input::Items(items) if items.is_empty()) && !has_previous {
        return Err(ProxyError::invalid_request(
            Some("input"),
            "missing_input",
            "`input` is required: a string or a list of items",
        ));
    }
    Ok(())
}

pub async fn list_models(State(state): State<Arc<AppState>>) -> Response {
    let data: Vec<_> = state
        .routes()
        .model_names()
        .into_iter()
        .map(|(id, owner)| json!({"id": id, "object": "model", "created": 0, "owned_by": owner}))
        .collect();
    Json(json!({"object": "list", "data": data})).into_response()
}

pub async fn health(State(state): State<Arc<AppState>>) -> Response {
    let routes = state.routes();
    let s = routes.settings();
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "active_provider": s.active().map(|p| p.id.clone()),
        "providers": s.providers.len(),
        "routes": s.routes.len(),
    }))
    .into_response()
}

pub async fn not_found() -> Response {
    ProxyError::new(
        StatusCode::NOT_FOUND,
        "invalid_request_error",
        "not_found",
        "Plugboard serves POST /v1/responses, POST /v1/responses/compact, GET /v1/models and GET /health",
    )
    .into_response()
}
