//! HTTP endpoints: `POST /v1/responses`, `GET /v1/models`, `GET /health`.

use crate::endpoint::{entry, require_input, session_of, JsonBody};
use crate::error::ProxyError;
use crate::failover::{self, Attempt, RequestFacts};
use crate::request_log::RequestLog;
use crate::routing::{RouteTable, Target};
use crate::shared_state;
use crate::state::{Incoming, ProxyState};
use crate::upstream_socket::SocketTurn;
use crate::{chat_bridge, passthrough};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use plugboard_config::WireApi;
use plugboard_core::ApiKey;
use plugboard_core::Caller;
use plugboard_wire::responses::ResponsesRequest;
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;

pub async fn create_response(
    State(state): State<Arc<ProxyState>>,
    caller: Option<Extension<Caller>>,
    headers: HeaderMap,
    body: Result<JsonBody<ResponsesRequest>, ProxyError>,
) -> Response {
    create(state, headers, caller.map(|Extension(c)| c), body, None).await
}

/// `POST /v1/responses`, or one `response.create` of a WebSocket (`socket`).
pub(crate) async fn create(
    state: Arc<ProxyState>,
    headers: HeaderMap,
    caller: Option<Caller>,
    body: Result<JsonBody<ResponsesRequest>, ProxyError>,
    socket: Option<SocketTurn>,
) -> Response {
    let work = state.clone();
    entry(&state, move |request_id, started| {
        handle(work, headers, caller, body, socket, request_id, started)
    })
    .await
}

/// Parses and routes; errors before routing get a line of their own, the rest the request's
/// log line (written here, or by the stream when it ends).
async fn handle(
    state: Arc<ProxyState>,
    headers: HeaderMap,
    caller: Option<Caller>,
    body: Result<JsonBody<ResponsesRequest>, ProxyError>,
    socket: Option<SocketTurn>,
    request_id: String,
    started: Instant,
) -> Response {
    let (incoming, routes) = match parse(&state, headers, body, socket, caller) {
        Ok(parsed) => parsed,
        Err(e) => {
            tracing::info!(status = e.status().as_u16(), code = e.code(), message = %e.message(), "request refused");
            return e.into_response();
        }
    };
    if state.shared.is_some() {
        let signals = crate::routing::Signals::of(&incoming.headers);
        let chain = routes.resolve_chain(&incoming.req.model, signals);
        let named = shared_state::Named {
            previous: incoming.req.previous_response_id.as_deref(),
            items: shared_state::items_of(&incoming.req.input),
            patient: chain.first().is_some_and(shared_state::kept_here),
        };
        shared_state::hydrate(&state, named).await;
    }
    let session = session_of(&incoming.headers);
    let facts = RequestFacts {
        model: &incoming.req.model,
        stream: incoming.req.stream,
        request_id: &request_id,
        started,
        session: session.as_deref(),
        user: incoming.who(),
        signals: crate::routing::Signals::of(&incoming.headers),
    };
    let work = CreateAttempt {
        state: &state,
        incoming: &incoming,
    };
    failover::serve(&state, &routes, facts, &work).await
}

/// `POST /v1/responses` at one provider: passed through or translated.
struct CreateAttempt<'r> {
    state: &'r Arc<ProxyState>,
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
    state: &ProxyState,
    headers: HeaderMap,
    body: Result<JsonBody<ResponsesRequest>, ProxyError>,
    socket: Option<SocketTurn>,
    caller: Option<Caller>,
) -> Result<(Incoming, Arc<RouteTable>), ProxyError> {
    let JsonBody { bytes, value: req } = body?;
    require_input(&req.input, req.previous_response_id.is_some())?;
    let incoming = Incoming {
        body: bytes,
        req,
        headers,
        socket,
        caller,
    };
    Ok((incoming, state.routes()))
}

pub async fn list_models(State(state): State<Arc<ProxyState>>) -> Response {
    let data: Vec<_> = state
        .routes()
        .model_names()
        .into_iter()
        .map(|(id, owner)| json!({"id": id, "object": "model", "created": 0, "owned_by": owner}))
        .collect();
    Json(json!({"object": "list", "data": data})).into_response()
}

pub async fn health(State(state): State<Arc<ProxyState>>) -> Response {
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

/// Readiness for a load balancer: the shared state store answers and usage rows are being
/// written (liveness is `/health`).
pub async fn ready(State(state): State<Arc<ProxyState>>) -> Response {
    let mut problems = Vec::new();
    if state.life.draining.is_cancelled() {
        problems.push("stopping".to_string());
    }
    if let Some(shared) = &state.shared {
        match tokio::time::timeout(std::time::Duration::from_secs(2), shared.ping()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "not ready: the shared state store");
                problems.push("shared state store unreachable".to_string());
            }
            Err(_) => problems.push("shared state store: no answer within 2 s".into()),
        }
    }
    if let Some(Err(e)) = state.usage.as_ref().map(|u| u.ready()) {
        tracing::warn!(error = %e, "not ready: the usage store");
        problems.push("usage store: rows are not being written".to_string());
    }
    let stores = json!({
        "state": if state.shared.is_some() { "shared" } else { "memory" },
        "usage": if state.usage.is_some() { "on" } else { "off" },
    });
    if problems.is_empty() {
        Json(json!({"status": "ready", "stores": stores})).into_response()
    } else {
        (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "not_ready", "problems": problems, "stores": stores})),
        )
            .into_response()
    }
}

/// Prometheus metrics (the OpenMetrics text format), when the proxy keeps them.
pub async fn metrics(State(state): State<Arc<ProxyState>>) -> Response {
    match &state.metrics {
        Some(m) => (
            [(
                axum::http::header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            m.render(),
        )
            .into_response(),
        None => ProxyError::NotFound.into_response(),
    }
}

pub async fn not_found() -> Response {
    ProxyError::NotFound.into_response()
}
