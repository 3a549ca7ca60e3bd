//! The WebSocket side of `scripted_responses`, as OpenAI serves it: `response.create`
//! messages answered in order with one message per event; a `previous_response_id` resolves
//! only to the last response of the same connection (OpenAI's connection cache under
//! `store: false`), else `previous_response_not_found`.

use crate::scripted_responses::{answer, header_pairs, Shared};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

pub(crate) async fn upgrade(State(s): State<Shared>, req: Request) -> Response {
    let headers = req.headers().clone();
    let wants_socket = headers
        .get(header::UPGRADE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"));
    let Some(key) = headers.get(header::SEC_WEBSOCKET_KEY) else {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    };
    if !wants_socket || !s.serves_websockets() {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let accept = derive_accept_key(key.as_bytes());
    let on_upgrade = hyper::upgrade::on(req);
    s.socket_opened();
    tokio::spawn(async move {
        let Ok(upgraded) = on_upgrade.await else {
            return;
        };
        let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
        serve(s, header_pairs(&headers), ws).await;
    });
    let mut resp = StatusCode::SWITCHING_PROTOCOLS.into_response();
    let h = resp.headers_mut();
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    h.insert(
        header::SEC_WEBSOCKET_ACCEPT,
        HeaderValue::from_str(&accept).unwrap(),
    );
    resp
}

async fn serve<S>(s: Shared, headers: Vec<(String, String)>, mut ws: WebSocketStream<S>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    // The connection's last response: its id and every item up to its output.
    let mut last: Option<(String, Vec<Value>)> = None;
    while let Some(Ok(msg)) = ws.next().await {
        let Message::Text(text) = msg else { continue };
        let body: Value = serde_json::from_str(text.as_str()).unwrap_or(Value::Null);
        if body["type"] != "response.create" {
            continue;
        }
        s.record(&body, headers.clone(), "websocket");
        let mut input = body["input"].as_array().cloned().unwrap_or_default();
        if let Some(prev) = body["previous_response_id"].as_str() {
            match &last {
                Some((id, items)) if id == prev => {
                    let mut whole = items.clone();
                    whole.append(&mut input);
                    input = whole;
                }
                _ => {
                    let error = json!({"type": "error", "status": 400, "error": {
                        "type": "invalid_request_error", "code": "previous_response_not_found",
                        "message": format!("Previous response with id '{prev}' not found."),
                        "param": "previous_response_id"}});
                    if ws.send(Message::text(error.to_string())).await.is_err() {
                        return;
                    }
                    continue;
                }
            }
        }
        match answer(&s, &body, &input) {
            Err(refusal) => {
                let error = json!({"type": "error", "status": 400, "error": refusal});
                if ws.send(Message::text(error.to_string())).await.is_err() {
                    return;
                }
            }
            Ok(a) => {
                for e in &a.events {
                    if ws.send(Message::text(e.to_string())).await.is_err() {
                        return;
                    }
                }
                input.extend(a.output);
                last = (!s.forgets()).then_some((a.id, input));
            }
        }
    }
}
