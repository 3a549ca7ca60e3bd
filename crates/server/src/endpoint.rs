//! What every proxied endpoint shares: the request's scope (id, refusal while stopping,
//! the end of the grace period) and its JSON body, read into OpenAI-shaped errors.

use crate::error::ProxyError;
use crate::state::ProxyState;
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
    state: &Arc<ProxyState>,
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
        let encoding = req
            .headers()
            .get(axum::http::header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_ascii_lowercase());
        let limit = req
            .extensions()
            .get::<BodyLimit>()
            .map_or(usize::MAX, |l| l.0);
        let body = Bytes::from_request(req, state).await.map_err(|e| {
            let message = format!("the request body could not be read: {}", e.body_text());
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ProxyError::TooLarge { message }
            } else {
                ProxyError::invalid_request(None, "invalid_body", message)
            }
        })?;
        let body = match encoding.as_deref() {
            None | Some("identity") => body,
            // Codex compresses its requests to OpenAI's backends.
            Some("zstd") => unzstd(&body, limit)?,
            Some(other) => {
                return Err(ProxyError::invalid_request(
                    None,
                    "unsupported_encoding",
                    format!("Content-Encoding `{other}` is not supported: send the body plain or zstd-compressed"),
                ))
            }
        };
        JsonBody::parse(body)
    }
}

/// The body limit, for what a compressed body may grow to.
#[derive(Clone, Copy)]
pub(crate) struct BodyLimit(pub usize);

/// A zstd body decompressed, refused past `limit` bytes (a small body must not expand
/// without bound).
fn unzstd(body: &[u8], limit: usize) -> Result<Bytes, ProxyError> {
    use std::io::Read;
    let bad = |e: String| {
        ProxyError::invalid_request(
            None,
            "invalid_body",
            format!("the zstd body could not be read: {e}"),
        )
    };
    let decoder = ruzstd::decoding::StreamingDecoder::new(body).map_err(|e| bad(e.to_string()))?;
    let mut out = Vec::with_capacity(body.len() * 4);
    decoder
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| bad(e.to_string()))?;
    if out.len() > limit {
        return Err(ProxyError::TooLarge {
            message: format!("the request body is over {limit} bytes once decompressed"),
        });
    }
    Ok(Bytes::from(out))
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

/// The client's session: Codex's `session-id` (its root thread's id, which subagents
/// inherit and `codex exec resume` keeps; `session_id` in older versions), else the parent
/// of a subagent's thread, else the thread. Ids that are not short printable text are
/// ignored.
pub(crate) fn session_of(headers: &axum::http::HeaderMap) -> Option<String> {
    [
        "session-id",
        "session_id",
        "x-codex-parent-thread-id",
        "thread-id",
    ]
    .iter()
    .filter_map(|name| headers.get(*name)?.to_str().ok())
    .map(str::trim)
    .find(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
    .map(str::to_string)
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
