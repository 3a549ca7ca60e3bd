//! What every proxied endpoint shares: the request's scope (id, refusal while stopping,
//! the end of the grace period) and its JSON body, read into OpenAI-shaped errors.

use crate::error::ProxyError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use plugboard_wire::responses::Input;
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;

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
        ProxyError::Stopping.into_response()
    } else {
        tokio::select! {
            biased;
            resp = work(request_id.clone(), started).instrument(span) => resp,
            _ = state.life.abort.cancelled() => ProxyError::Stopping.into_response(),
        }
    };
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

/// A request's JSON body, kept as sent (the pass-through forwards it) and parsed. As an
/// extractor it is taken as `Result<JsonBody<T>, ProxyError>`, so that a bad body is
/// answered inside the request's scope (its id, its log line).
pub struct JsonBody<T> {
    pub bytes: Bytes,
    pub value: T,
}

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ProxyError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ProxyError> {
        let body = Bytes::from_request(req, state).await.map_err(|e| {
            let message = format!("the request body could not be read: {}", e.body_text());
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ProxyError::TooLarge { message }
            } else {
                ProxyError::invalid_request(None, "invalid_body", message)
            }
        })?;
        JsonBody::parse(body)
    }
}

impl<T: serde::de::DeserializeOwned> JsonBody<T> {
    /// A body read whole (an HTTP body, a WebSocket message's request), parsed.
    pub(crate) fn parse(body: Bytes) -> Result<Self, ProxyError> {
        let value = plugboard_wire::parse_json(&body).map_err(|e| {
            let param = (!e.path.is_empty()).then(|| e.path.clone());
            ProxyError::invalid_request(param.as_deref(), "invalid_request", e.to_string())
        })?;
        Ok(JsonBody { bytes: body, value })
    }
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
