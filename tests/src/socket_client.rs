//! A WebSocket client of the proxy's `GET /v1/responses` (the Open Responses WebSocket
//! mode): open, send a `response.create`, read a turn to its end.

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{connect_async, MaybeTlsStream, WebSocketStream};

pub type Ws = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

pub fn ws_url(proxy: &plugboard_server::ProxyHandle) -> String {
    format!("ws://{}/v1/responses", proxy.addr())
}

pub async fn open(proxy: &plugboard_server::ProxyHandle) -> Ws {
    connect_async(ws_url(proxy)).await.expect("handshake").0
}

/// Sends one `response.create` and reads until the turn ends (a terminal event or an error
/// message): every message received.
pub async fn turn(ws: &mut Ws, request: Value) -> Vec<Value> {
    let mut msg = json!({"type": "response.create"});
    for (k, v) in request.as_object().unwrap() {
        msg[k] = v.clone();
    }
    ws.send(Message::text(msg.to_string())).await.unwrap();
    read_turn(ws).await
}

pub async fn read_turn(ws: &mut Ws) -> Vec<Value> {
    let mut got = Vec::new();
    loop {
        let m = tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .expect("a message in time")
            .expect("the socket stays open")
            .expect("a good frame");
        let Message::Text(t) = m else { continue };
        let v: Value = serde_json::from_str(t.as_str()).expect("JSON messages");
        let kind = v["type"].as_str().unwrap_or_default().to_string();
        got.push(v);
        if kind == "error"
            || kind == "response.completed"
            || kind == "response.failed"
            || kind == "response.incomplete"
        {
            return got;
        }
    }
}

pub fn last(events: &[Value]) -> &Value {
    events.last().unwrap()
}

pub fn text_of(events: &[Value]) -> String {
    events
        .iter()
        .filter(|e| e["type"] == "response.output_text.delta")
        .filter_map(|e| e["delta"].as_str())
        .collect()
}
