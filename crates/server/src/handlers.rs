//! HTTP endpoints: `POST /v1/responses`, `GET /v1/models`, `GET /health`.

use crate::error::ProxyError;
use crate::keys::KeySource;
use crate::lifecycle::{self, Lifecycle};
use crate::request_log::{LogStart, RequestLog};
use crate::response_store::ResponseStore;
use crate::routing::RouteTable;
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
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use std::time::Instant;
use tracing::Instrument;

pub struct AppState {
    pub routes: RwLock<Arc<RouteTable>>,
    pub keys: Arc<dyn KeySource>,
    pub store: ResponseStore,
    pub usage: Option<Arc<dyn UsageSink>>,
    /// Providers that failed recently, until when they are skipped.
    pub cooldowns: Mutex<HashMap<String, Instant>>,
    pub cooldown: Duration,
    /// The provider that answered last.
    pub last_served: Mutex<Option<String>>,
    /// Longest line accepted in an upstream stream.
    pub max_event_bytes: usize,
    /// Stop phases: requests are refused while draining, streams end on abort.
    pub life: Lifecycle,
}

impl AppState {
    pub fn routes(&self) -> Arc<RouteTable> {
        self.routes
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn is_cooling(&self, provider: &str) -> bool {
        self.cooldowns
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(provider)
            .is_some_and(|until| Instant::now() < *until)
    }

    fn cool_down(&self, provider: &str) {
        self.cooldowns
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(provider.to_string(), Instant::now() + self.cooldown);
    }

    fn note_served(&self, provider: &str) {
        self.cooldowns
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(provider);
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
    let started = Instant::now();
    let request_id = plugboard_translate::new_id("req");
    let span = tracing::info_span!("request", id = %request_id);
    let abort = state.life.abort.clone();
    let mut resp = if state.life.draining.is_cancelled() {
        stopping_error().into_response()
    } else {
        // A request still waiting for its provider when the grace period ends gets an
        // answer too; a stream already under way ends itself (see the bridge).
        tokio::select! {
            biased;
            resp = handle(state, headers, body, request_id.clone(), started).instrument(span) => resp,
            _ = abort.cancelled() => stopping_error().into_response(),
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
    let chain = routes.resolve_chain(&incoming.req.model);
    if chain.is_empty() {
        let e = ProxyError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "server_error",
            "no_provider",
            "Plugboard has no provider for this model: add a provider or choose an active one",
        );
        tracing::info!(model = %incoming.req.model, code = e.code(), "request refused");
        return e.into_response();
    }
    // The route's providers in order; a provider that just failed is skipped while it cools
    // down (unless it is the last one left).
    let mut last_error = None;
    for (i, target) in chain.iter().enumerate() {
        let is_last = i + 1 == chain.len();
        if !is_last && state.is_cooling(&target.provider.id) {
            tracing::debug!(provider = %target.provider.id, "skipping a provider that is cooling down");
            continue;
        }
        tracing::debug!(model = %incoming.req.model, provider = %target.provider.id, upstream_model = %target.upstream_model, route = ?target.route, attempt = i + 1, "routed");
        let mut log = Some(RequestLog::new(
            LogStart {
                abort: state.life.abort.clone(),
                request_id: &request_id,
                attempt: i as u32 + 1,
                route: target.route,
                model: &incoming.req.model,
                provider: &target.provider.id,
                upstream_model: &target.upstream_model,
                stream: incoming.req.stream,
                started,
            },
            state.usage.clone(),
        ));
        let result = match state.keys.key(target.provider) {
            Err(e) => Err(ProxyError::new(
                StatusCode::UNAUTHORIZED,
                "authentication_error",
                "missing_api_key",
                e.to_string(),
            )),
            Ok(key) => match target.provider.wire_api {
                WireApi::Responses => {
                    passthrough::forward(&state, &incoming, target, key, &mut log).await
                }
                WireApi::Chat => {
                    chat_bridge::bridge(&state, &incoming, target, key, &mut log).await
                }
            },
        };
        match result {
            Ok(mut resp) => {
                state.note_served(&target.provider.id);
                if let Ok(v) = HeaderValue::from_str(&target.provider.id) {
                    resp.headers_mut().insert("x-plugboard-provider", v);
                }
                return resp;
            }
            Err(e) => {
                // A stream takes its log along; an error before streaming ends it here.
                if let Some(mut log) = log {
                    log.finish(&format!("error_{}", e.status.as_u16()), Some(e.code()));
                }
                tracing::debug!(message = %e.error.message, "attempt failed");
                if !failover_worthy(&e) {
                    return e.into_response();
                }
                state.cool_down(&target.provider.id);
                if !is_last {
                    tracing::info!(provider = %target.provider.id, code = e.code(), "failing over to the next provider");
                }
                last_error = Some(e);
            }
        }
    }
    last_error
        .map(IntoResponse::into_response)
        .unwrap_or_else(|| StatusCode::SERVICE_UNAVAILABLE.into_response())
}

/// Connect errors, timeouts before the first byte, 5xx and 429 move on to the next provider;
/// anything else (a bad request, a bad key) would fail there too.
fn failover_worthy(e: &ProxyError) -> bool {
    e.status == StatusCode::TOO_MANY_REQUESTS || e.status.is_server_error()
}

fn parse(
    state: &AppState,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(Incoming, Arc<RouteTable>), ProxyError> {
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
    let req: ResponsesRequest = plugboard_wire::parse_json(&body).map_err(|e| {
        let param = (!e.path.is_empty()).then(|| e.path.clone());
        ProxyError::invalid_request(param.as_deref(), "invalid_request", e.to_string())
    })?;
    if matches!(&req.input, Input::Items(items) if items.is_empty())
        && req.previous_response_id.is_none()
    {
        return Err(ProxyError::invalid_request(
            Some("input"),
            "missing_input",
            "`input` is required: a string or a list of items",
        ));
    }
    let incoming = Incoming { body, req, headers };
    Ok((incoming, state.routes()))
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
        "Plugboard serves POST /v1/responses, GET /v1/models and GET /health",
    )
    .into_response()
}
