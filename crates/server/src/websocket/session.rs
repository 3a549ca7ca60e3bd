//! One WebSocket connection: `response.create` messages answered one at a time, in order,
//! each through the HTTP handler; its SSE events sent back as text messages (the `data` of
//! each event, as the specification says). The connection remembers its responses for
//! `previous_response_id` (see `chain`). It closes when the peer goes, when it has been idle
//! for long, or when the proxy stops (after the turn under way has its terminal event).

use super::chain::{input_items, Chain, Continue};
use crate::connections::Activity;
use crate::endpoint::JsonBody;
use crate::error::ProxyError;
use crate::handlers;
use crate::state::ProxyState;
use crate::upstream_socket::{SocketTurn, Sockets};
use axum::http::{header, HeaderMap};
use axum::response::Response;
use bytes::Bytes;
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use plugboard_core::Caller;
use plugboard_translate::SseReader;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// A connection with no message for this long is closed (a client reconnects at its next
/// turn; Codex keeps one per session and sessions sit idle while their user reads).
const IDLE: Duration = Duration::from_secs(30 * 60);

/// The most of an error answer read to word the `error` message.
const ERROR_BODY_CAP: usize = 1024 * 1024;

type Sink = SplitSink<WebSocketStream<TcpStream>, Message>;

enum Inbound {
    Text(String),
    Binary,
}

pub(super) async fn run(
    state: Arc<ProxyState>,
    headers: HeaderMap,
    caller: Option<Caller>,
    stream: TcpStream,
    read: Bytes,
    activity: Activity,
) {
    let span = tracing::info_span!("websocket", id = %plugboard_translate::new_id("ws"));
    async move {
        let config = WebSocketConfig::default()
            .max_message_size(Some(state.body_limit))
            .max_frame_size(Some(state.body_limit));
        let ws =
            WebSocketStream::from_partially_read(stream, read.to_vec(), Role::Server, Some(config))
                .await;
        let (mut sink, mut source) = ws.split();
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Inbound>(16);
        let gone = CancellationToken::new();
        let reader_gone = gone.clone();
        // Reads on its own so that a peer that leaves mid-turn is noticed (and pings answered).
        let reader = tokio::spawn(async move {
            while let Some(msg) = source.next().await {
                let inbound = match msg {
                    Ok(Message::Text(t)) => Inbound::Text(t.as_str().to_string()),
                    Ok(Message::Binary(_)) => Inbound::Binary,
                    Ok(Message::Close(_)) => break,
                    Ok(_) => continue,
                    Err(e) => {
                        tracing::debug!(error = %e, "websocket read ended");
                        break;
                    }
                };
                if tx.send(inbound).await.is_err() {
                    break;
                }
            }
            reader_gone.cancel();
        });
        tracing::info!("websocket opened");
        let mut chain = Chain::default();
        let sockets = Sockets::default();
        loop {
            let inbound = tokio::select! {
                biased;
                _ = state.life.draining.cancelled() => {
                    close(&mut sink, CloseCode::Away, "Plugboard is stopping").await;
                    break;
                }
                m = tokio::time::timeout(IDLE, rx.recv()) => match m {
                    Ok(Some(m)) => m,
                    Ok(None) => break,
                    Err(_) => {
                        close(&mut sink, CloseCode::Normal, "idle").await;
                        break;
                    }
                },
            };
            let text = match inbound {
                Inbound::Text(t) => t,
                Inbound::Binary => {
                    let e = ProxyError::invalid_request(
                        None,
                        "invalid_message",
                        "binary messages are not accepted: send each request as JSON text",
                    );
                    if send(&mut sink, error_message(&e)).await.is_err() {
                        break;
                    }
                    continue;
                }
            };
            let _busy = activity.busy();
            let turn = Turn {
                state: &state,
                headers: &headers,
                caller: caller.as_ref(),
                chain: &mut chain,
                sockets: &sockets,
                sink: &mut sink,
                gone: &gone,
            };
            if turn.run(&text).await.is_err() {
                break;
            }
        }
        reader.abort();
        sockets.close_all().await;
        tracing::info!("websocket closed");
    }
    .instrument(span)
    .await
}

async fn send(sink: &mut Sink, text: String) -> Result<(), ()> {
    sink.send(Message::text(text)).await.map_err(|e| {
        tracing::debug!(error = %e, "websocket write failed");
    })
}

async fn close(sink: &mut Sink, code: CloseCode, reason: &str) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = tokio::time::timeout(
        Duration::from_secs(1),
        sink.send(Message::Close(Some(frame))),
    )
    .await;
}

/// The specification's `error` message; `status` always set (Codex ignores an error
/// message without one).
fn error_message(e: &ProxyError) -> String {
    error_json(
        e.status().as_u16(),
        serde_json::to_value(e.api_error()).unwrap_or_default(),
    )
}

fn error_json(status: u16, error: Value) -> String {
    json!({"type": "error", "status": status, "error": error}).to_string()
}

/// The end of a response, read from its terminal event.
#[derive(Deserialize)]
struct Terminal {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    response: Option<TerminalResponse>,
}

#[derive(Deserialize)]
struct TerminalResponse {
    id: String,
    #[serde(default)]
    output: Vec<Value>,
}

struct Turn<'a> {
    state: &'a Arc<ProxyState>,
    headers: &'a HeaderMap,
    caller: Option<&'a Caller>,
    chain: &'a mut Chain,
    /// The connection's sockets to providers that serve WebSockets themselves.
    sockets: &'a Sockets,
    sink: &'a mut Sink,
    gone: &'a CancellationToken,
}

impl Turn<'_> {
    /// One message; `Err` when the connection is gone.
    async fn run(self, text: &str) -> Result<(), ()> {
        let mut body = match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(m)) => m,
            _ => {
                let e = ProxyError::invalid_request(
                    None,
                    "invalid_json",
                    "each message must be a JSON object with a `type`",
                );
                return send(self.sink, error_message(&e)).await;
            }
        };
        match body.get("type").and_then(Value::as_str) {
            Some("response.create") => {}
            other => {
                // `response.processed` (Codex), or a kind this proxy does not know yet.
                tracing::debug!(kind = ?other, "websocket message ignored");
                return Ok(());
            }
        }
        self.create(body_fields(&mut body)).await
    }

    async fn create(mut self, mut body: Map<String, Value>) -> Result<(), ()> {
        let generate = body
            .remove("generate")
            .and_then(|v| v.as_bool())
            .unwrap_or(true);
        let sent_input = body.get("input").cloned();
        let mut expanded_from = None;
        let continued = match self.chain.expand(&mut body) {
            Continue::Evicted(id) => {
                let e = ProxyError::invalid_request(
                    Some("previous_response_id"),
                    "previous_response_not_found",
                    format!("Previous response with id '{id}' not found: a continuation from it failed on this connection."),
                );
                return self.refuse(e).await;
            }
            Continue::OrphanOutput { call_id, .. } => {
                let e = ProxyError::invalid_request(
                    Some("input"),
                    "invalid_request",
                    format!("No tool call found for function call output with call_id {call_id}."),
                );
                return self.refuse(e).await;
            }
            Continue::Expanded { from } => {
                expanded_from = Some(from.clone());
                Some(from)
            }
            Continue::AsIs => body
                .get("previous_response_id")
                .and_then(Value::as_str)
                .map(str::to_string),
        };
        // The connection was admitted once; each response it carries is checked again (a
        // budget spent meanwhile, a user removed).
        if let (Some(accounts), Some(caller)) = (&self.state.accounts, self.caller) {
            if let Some(refusal) = crate::guard::refused(&**accounts, caller) {
                return self.relay(refusal).await.map(|_| ());
            }
        }
        let asked = input_items(&body);
        if !generate {
            return self.warm_up(&body, asked).await;
        }
        // Events come back as they are made, whatever the client said.
        body.insert("stream".into(), Value::Bool(true));
        let bytes = serde_json::to_vec(&Value::Object(body)).expect("a JSON map serializes");
        let parsed = JsonBody::parse(Bytes::from(bytes));
        let socket = SocketTurn {
            sockets: self.sockets.clone(),
            continues: expanded_from
                .map(|from| (from, sent_input.unwrap_or_else(|| Value::Array(Vec::new())))),
        };
        let resp = handlers::create(
            self.state.clone(),
            self.headers.clone(),
            self.caller.cloned(),
            parsed,
            Some(socket),
        )
        .await;
        let end = self.relay(resp).await?;
        match end {
            Some(t) if t.kind == "response.completed" => {
                if let Some(r) = t.response {
                    self.chain.keep(r.id, asked, r.output);
                }
            }
            _ => {
                if let Some(prev) = continued {
                    self.chain.evict(&prev);
                }
            }
        }
        Ok(())
    }

    /// A turn refused before it reached the handler: logged as the handler logs refusals.
    async fn refuse(self, e: ProxyError) -> Result<(), ()> {
        tracing::info!(status = e.status().as_u16(), code = e.code(), message = %e.message(), "request refused");
        send(self.sink, error_message(&e)).await
    }

    /// `generate: false` (Codex's prewarm): no model is asked; the request is remembered
    /// under a new response id that the next turn continues from.
    async fn warm_up(self, body: &Map<String, Value>, asked: Vec<Value>) -> Result<(), ()> {
        let id = plugboard_translate::new_id("resp");
        let now = plugboard_translate::unix_now();
        let response = json!({
            "id": id, "object": "response", "created_at": now, "status": "completed",
            "model": body.get("model").cloned().unwrap_or(Value::Null), "output": [],
            "usage": {"input_tokens": 0, "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": 0, "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 0},
        });
        let mut in_progress = response.clone();
        in_progress["status"] = "in_progress".into();
        for (seq, (kind, r)) in [
            ("response.created", in_progress),
            ("response.completed", response),
        ]
        .into_iter()
        .enumerate()
        {
            let event = json!({"type": kind, "sequence_number": seq, "response": r});
            send(self.sink, event.to_string()).await?;
        }
        self.chain.keep(id, asked, Vec::new());
        Ok(())
    }

    /// The handler's answer sent on: each event as a message, or an error answer as an
    /// `error` message. The terminal event, when one came.
    async fn relay(&mut self, resp: Response) -> Result<Option<Terminal>, ()> {
        let status = resp.status();
        let is_sse = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("text/event-stream"));
        if !is_sse {
            let body = axum::body::to_bytes(resp.into_body(), ERROR_BODY_CAP)
                .await
                .unwrap_or_default();
            let error = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| v.get("error").cloned())
                .unwrap_or_else(
                    || json!({"type": "server_error", "message": String::from_utf8_lossy(&body)}),
                );
            send(self.sink, error_json(status.as_u16(), error)).await?;
            return Ok(None);
        }
        let mut events = resp.into_body().into_data_stream();
        let mut reader = SseReader::new(self.state.max_event_bytes);
        let mut end = None;
        loop {
            let chunk = tokio::select! {
                biased;
                // The peer left: dropping the body ends the upstream request too.
                _ = self.gone.cancelled() => return Err(()),
                c = events.next() => c,
            };
            let done = match chunk {
                Some(Ok(bytes)) => {
                    reader.push(&bytes);
                    false
                }
                Some(Err(e)) => {
                    tracing::debug!(error = %e, "the response stream failed");
                    true
                }
                None => true,
            };
            loop {
                let data = match reader.next_event() {
                    Ok(Some(d)) => d,
                    Ok(None) if done => match reader.finish() {
                        Some(d) => d,
                        None => break,
                    },
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "an event too long for the websocket relay");
                        break;
                    }
                };
                // Only JSON events (no `[DONE]` sentinel).
                if data.first() != Some(&b'{') {
                    continue;
                }
                if plugboard_translate::terminal::may_end(&data) {
                    if let Ok(t) = serde_json::from_slice::<Terminal>(&data) {
                        end = Some(t);
                    }
                }
                send(self.sink, String::from_utf8_lossy(&data).into_owned()).await?;
            }
            if done {
                return Ok(end);
            }
        }
    }
}

/// The request's fields from a `response.create` message: its own fields beside `type` (or
/// under `response`, as early drafts nested them), without the HTTP-only ones the
/// specification says a client must not send.
fn body_fields(msg: &mut Map<String, Value>) -> Map<String, Value> {
    let mut body = std::mem::take(msg);
    body.remove("type");
    if let Some(Value::Object(inner)) = body.remove("response") {
        for (k, v) in inner {
            body.entry(k).or_insert(v);
        }
    }
    for http_only in ["stream", "stream_options", "background"] {
        body.remove(http_only);
    }
    body
}
