//! `GET /v1/responses` upgraded to a WebSocket: the Open Responses WebSocket mode and Codex's
//! WebSocket transport. Each `response.create` message is one request through the same
//! handler as `POST /v1/responses` (routing, translation, pass-through, usage, the log), its
//! events sent back one text message each; errors come as `error` messages, never a dropped
//! socket. The handshake is answered here; the connection is handed over to the session
//! once hyper has written the `101` (see `connections.rs`), so the listener's limits hold
//! for it as for any connection.

pub(crate) mod chain;
mod session;

use crate::connections::Activity;
use crate::error::ProxyError;
use crate::state::ProxyState;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use plugboard_core::Caller;
use std::sync::{Arc, Mutex};
use tokio::net::TcpStream;

/// What runs on the connection once the handshake is written: the raw stream, the bytes
/// hyper read past the request, and the connection's busy mark.
pub(crate) type Handoff =
    Box<dyn FnOnce(TcpStream, Bytes, Activity) -> BoxFuture<'static, ()> + Send>;

/// Where a handler leaves the connection's next owner (one per connection).
#[derive(Clone, Default)]
pub(crate) struct UpgradeSlot(Arc<Mutex<Option<Handoff>>>);

impl UpgradeSlot {
    pub(crate) fn take(&self) -> Option<Handoff> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    fn put(&self, handoff: Handoff) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(handoff);
    }
}

fn header_has(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|v| {
        v.to_str()
            .map(|s| s.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
            .unwrap_or(false)
    })
}

pub async fn upgrade(
    State(state): State<Arc<ProxyState>>,
    headers: HeaderMap,
    caller: Option<Extension<Caller>>,
    slot: Option<Extension<UpgradeSlot>>,
) -> Response {
    if !header_has(&headers, header::UPGRADE, "websocket") {
        return ProxyError::invalid_request(
            None,
            "websocket_required",
            "GET /v1/responses opens a WebSocket (Upgrade: websocket); send a request with POST",
        )
        .into_response();
    }
    if state.life.draining.is_cancelled() {
        return ProxyError::Stopping.into_response();
    }
    let key = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .map(HeaderValue::as_bytes);
    let version_ok = headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .is_some_and(|v| v == "13");
    let (Some(key), true, Some(Extension(slot))) = (key, version_ok, slot) else {
        // 426 sends a client that can fall back (Codex does at once) to HTTP.
        let mut resp = ProxyError::UpgradeRequired {
            message: "this WebSocket handshake cannot be answered (WebSocket version 13 with a Sec-WebSocket-Key is required); use POST /v1/responses".into(),
        }
        .into_response();
        resp.headers_mut().insert(
            header::SEC_WEBSOCKET_VERSION,
            HeaderValue::from_static("13"),
        );
        return resp;
    };
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key);
    let session_headers = headers.clone();
    let caller = caller.map(|Extension(c)| c);
    slot.put(Box::new(move |stream, read, activity| {
        Box::pin(session::run(
            state,
            session_headers,
            caller,
            stream,
            read,
            activity,
        ))
    }));
    let mut resp = StatusCode::SWITCHING_PROTOCOLS.into_response();
    let h = resp.headers_mut();
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    if let Ok(v) = HeaderValue::from_str(&accept) {
        h.insert(header::SEC_WEBSOCKET_ACCEPT, v);
    }
    resp
}
