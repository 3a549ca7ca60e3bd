//! WebSocket turns relayed to a Responses provider over a WebSocket of its own (OpenAI, the
//! ChatGPT backend). A client connection keeps one upstream socket per provider, opened at
//! the first turn routed there and kept for the next ones; a turn that continues the response
//! its socket served last sends only its new items with `previous_response_id`, since the
//! provider keeps that response in the connection even under `store: false`. Anything else
//! (another provider served the last turn, the socket was lost) sends the whole history the
//! WebSocket session rebuilt. Each upstream message becomes one SSE event, so the
//! pass-through's relay (usage, the log, the issued items, shutdown) reads it as it reads an
//! HTTP stream. A provider whose handshake is not answered with a socket gets the rest of
//! the connection's turns over HTTP.

use crate::error::ProxyError;
use crate::passthrough::{self, ByteStream, Forwarded};
use crate::routing::Target;
use crate::state::{Incoming, ProxyState};
use crate::upstream;
use axum::http::{header, StatusCode};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use plugboard_core::ApiKey;
use plugboard_translate::provenance::History;
use plugboard_translate::responses_repair::custom_tools::declare_as_functions;
use plugboard_wire::responses::Input;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_tungstenite::tungstenite::handshake::client::generate_key;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// The beta OpenAI's WebSocket mode is opened with (what Codex sends).
const BETA: &str = "responses_websockets=2026-02-06";

/// Upstream sockets kept per client connection (one per provider and credential).
const KEPT: usize = 4;

type Socket = WebSocketStream<reqwest::Upgraded>;

/// One client connection's upstream sockets.
#[derive(Clone, Default)]
pub struct Sockets(Arc<Mutex<Pool>>);

#[derive(Default)]
struct Pool {
    idle: Vec<Idle>,
    /// Providers whose handshake was not answered with a socket.
    http_only: HashSet<String>,
}

struct Idle {
    provider: String,
    /// A fingerprint of the key or login the socket was opened with (kept in memory only):
    /// a socket is never reused with another credential.
    credential: u64,
    socket: Socket,
    /// The response this socket completed last, which the provider holds in the connection.
    last: Option<String>,
}

/// What the WebSocket session tells the pass-through of one turn.
pub struct SocketTurn {
    pub sockets: Sockets,
    /// The response the turn continues (which the session put in front of its input) and
    /// the input as the client sent it.
    pub continues: Option<(String, Value)>,
}

impl Sockets {
    fn lock(&self) -> std::sync::MutexGuard<'_, Pool> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn take(&self, provider: &str, credential: u64) -> Option<Idle> {
        let mut pool = self.lock();
        let i = pool
            .idle
            .iter()
            .position(|s| s.provider == provider && s.credential == credential)?;
        Some(pool.idle.remove(i))
    }

    fn put_back(&self, idle: Idle) {
        let mut pool = self.lock();
        pool.idle.retain(|s| s.provider != idle.provider);
        pool.idle.push(idle);
        if pool.idle.len() > KEPT {
            pool.idle.remove(0);
        }
    }

    fn is_http_only(&self, provider: &str) -> bool {
        self.lock().http_only.contains(provider)
    }

    /// Closes the upstream sockets when the client's connection ends.
    pub async fn close_all(&self) {
        let idle = std::mem::take(&mut self.lock().idle);
        for mut s in idle {
            let _ = tokio::time::timeout(Duration::from_secs(1), s.socket.close(None)).await;
        }
    }
}

/// Where a socket goes back when its answer ends.
struct Home {
    sockets: Sockets,
    provider: String,
    credential: u64,
}

/// The turn over the provider's WebSocket, as an SSE stream that starts with its first
/// event; `None` when this turn goes over HTTP (not a WebSocket turn, or the provider does
/// not serve one).
pub(crate) async fn forward(
    state: &ProxyState,
    inc: &Incoming,
    target: &Target<'_>,
    key: Option<&ApiKey>,
    forwarded: &Forwarded,
) -> Result<Option<(ByteStream, HashSet<String>)>, ProxyError> {
    let (Some(turn), Some(client)) = (&inc.socket, target.websocket_client) else {
        return Ok(None);
    };
    let provider = &target.provider.id;
    if turn.sockets.is_http_only(provider) {
        return Ok(None);
    }
    let (fields, custom_tools) = full_message(state, target, inc)?;
    let full = serde_json::to_string(&fields).expect("a JSON map serializes");
    let credential = fingerprint(key, forwarded);
    let home = Home {
        sockets: turn.sockets.clone(),
        provider: provider.clone(),
        credential,
    };
    let wait = Duration::from_secs(target.provider.timeouts.first_byte_secs.max(1));
    if let Some(idle) = turn.sockets.take(provider, credential) {
        let incremental = match (&turn.continues, &idle.last) {
            (Some((from, input)), Some(last)) if from == last => {
                Some(incremental_message(state, target, &fields, from, input))
            }
            _ => None,
        };
        let sent_incremental = incremental.is_some();
        let msg = incremental.unwrap_or_else(|| full.clone());
        tracing::debug!(provider = %provider, incremental = sent_incremental, "turn sent on the provider's open WebSocket");
        match exchange(idle.socket, msg, wait).await {
            Exchange::Answer { socket, first } => {
                return Ok(Some((answer_stream(socket, first, home), custom_tools)));
            }
            Exchange::Refused {
                socket,
                status,
                error,
            } if sent_incremental && refers_to_lost_response(&error) => {
                // The provider let go of the response: the whole history instead.
                tracing::debug!(provider = %provider, "previous response gone upstream; sending the whole history");
                tracing::debug!(status, "the incremental turn was refused");
                return finish(exchange(socket, full, wait).await, target, key, home)
                    .map(|s| Some((s, custom_tools)));
            }
            Exchange::Gone => {
                tracing::debug!(provider = %provider, "the provider's WebSocket closed while idle; opening another");
            }
            other => {
                return finish(other, target, key, home).map(|s| Some((s, custom_tools)));
            }
        }
    }
    let Some(socket) = open(client, target, key, forwarded, &inc.headers, state).await? else {
        turn.sockets.lock().http_only.insert(provider.clone());
        return Ok(None);
    };
    finish(exchange(socket, full, wait).await, target, key, home).map(|s| Some((s, custom_tools)))
}

/// An exchange's result as the turn's answer or error.
fn finish(
    exchange: Exchange,
    target: &Target<'_>,
    key: Option<&ApiKey>,
    home: Home,
) -> Result<ByteStream, ProxyError> {
    match exchange {
        Exchange::Answer { socket, first } => Ok(answer_stream(socket, first, home)),
        Exchange::Refused {
            socket,
            status,
            error,
        } => {
            // An error message does not end the connection.
            home.sockets.put_back(Idle {
                provider: home.provider,
                credential: home.credential,
                socket,
                last: None,
            });
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
            let body = serde_json::json!({ "error": error }).to_string();
            Err(upstream::provider_error(
                target.provider,
                key,
                status,
                body.as_bytes(),
                "application/json",
                None,
            ))
        }
        Exchange::Gone => Err(ProxyError::BadUpstream {
            message: format!(
                "provider `{}` closed its WebSocket before answering",
                target.provider.id
            ),
        }),
        Exchange::TimedOut(after) => Err(upstream::no_answer_within(target.provider, after)),
    }
}

/// Whether a refusal says the previous response is not held (any more).
fn refers_to_lost_response(error: &Value) -> bool {
    error.get("code").and_then(Value::as_str) == Some("previous_response_not_found")
}

/// The request as the fields of a `response.create` message with the whole input (prepared
/// for the provider as over HTTP), and the freeform tools it declared as functions.
fn full_message(
    state: &ProxyState,
    target: &Target<'_>,
    inc: &Incoming,
) -> Result<(Map<String, Value>, HashSet<String>), ProxyError> {
    let prepared = passthrough::body_for(state, target, inc.asked(), &inc.body)?;
    let mut fields: Map<String, Value> = serde_json::from_slice(&prepared.body)
        .map_err(|e| ProxyError::invalid_request(None, "invalid_request", e.to_string()))?;
    // HTTP-only fields a WebSocket message must not carry.
    for http_only in ["stream", "stream_options", "background"] {
        fields.remove(http_only);
    }
    fields.insert("type".into(), Value::String("response.create".into()));
    Ok((fields, prepared.custom_tools))
}

/// The same message carrying only the client's new items after `previous_response_id`
/// (the whole history, the bulk of the message, is left out rather than parsed again).
fn incremental_message(
    state: &ProxyState,
    target: &Target<'_>,
    full: &Map<String, Value>,
    from: &str,
    input: &Value,
) -> String {
    let mut fields: Map<String, Value> = full
        .iter()
        .filter(|(k, _)| k.as_str() != "input")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let input = match serde_json::from_value::<Input>(input.clone()) {
        Ok(Input::Items(items)) => state
            .issuers
            .clean(&items, History::Continued, &target.provider.id)
            .items
            .map(|cleaned| serde_json::to_value(cleaned).expect("items serialize"))
            .unwrap_or_else(|| input.clone()),
        _ => input.clone(),
    };
    fields.insert("input".into(), input);
    if target.responses_dialect.custom_tools_as_functions {
        declare_as_functions(&mut fields);
    }
    fields.insert("previous_response_id".into(), Value::String(from.into()));
    Value::Object(fields).to_string()
}

fn fingerprint(key: Option<&ApiKey>, forwarded: &Forwarded) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    key.map(ApiKey::expose).hash(&mut h);
    forwarded
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("chatgpt-account-id"))
        .hash(&mut h);
    h.finish()
}

/// Opens the provider's WebSocket; `None` when its handshake is answered without one (it
/// does not serve WebSockets there). A refused key or a rate limit is the provider's error,
/// as it would be over HTTP.
async fn open(
    client: &reqwest::Client,
    target: &Target<'_>,
    key: Option<&ApiKey>,
    forwarded: &Forwarded,
    client_headers: &axum::http::HeaderMap,
    state: &ProxyState,
) -> Result<Option<Socket>, ProxyError> {
    let p = target.provider;
    let nonce = generate_key();
    // The client's own WebSocket beta when it sent one (Codex does), else the one we know.
    let beta = client_headers
        .get("openai-beta")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.contains("responses_websockets"))
        .unwrap_or(BETA);
    let forwarded: Forwarded = forwarded
        .iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case("openai-beta"))
        .cloned()
        .collect();
    let req = client
        .get(upstream::url(p, "responses"))
        .version(reqwest::Version::HTTP_11)
        .header(header::CONNECTION, "Upgrade")
        .header(header::UPGRADE, "websocket")
        .header(header::SEC_WEBSOCKET_VERSION, "13")
        .header(header::SEC_WEBSOCKET_KEY, &nonce)
        .header("openai-beta", beta);
    let resp = upstream::send(p, upstream::with_credentials(req, p, key, &forwarded)).await?;
    let status = resp.status();
    if status != reqwest::StatusCode::SWITCHING_PROTOCOLS {
        if matches!(status.as_u16(), 401 | 403 | 429) {
            return Err(upstream::error_response(p, key, resp).await);
        }
        tracing::info!(provider = %p.id, status = status.as_u16(), "the provider serves no WebSocket; this connection's turns go to it over HTTP");
        return Ok(None);
    }
    let accepted = resp
        .headers()
        .get(header::SEC_WEBSOCKET_ACCEPT)
        .is_some_and(|v| v.as_bytes() == derive_accept_key(nonce.as_bytes()).as_bytes());
    if !accepted {
        tracing::warn!(provider = %p.id, "the provider's WebSocket handshake has a wrong accept key; using HTTP");
        return Ok(None);
    }
    let upgraded = resp
        .upgrade()
        .await
        .map_err(|e| upstream::send_error(p, &e))?;
    let config = WebSocketConfig::default()
        .max_message_size(Some(state.max_event_bytes))
        .max_frame_size(Some(state.max_event_bytes));
    tracing::debug!(provider = %p.id, "the provider's WebSocket opened");
    Ok(Some(
        WebSocketStream::from_raw_socket(upgraded, Role::Client, Some(config)).await,
    ))
}

enum Exchange {
    /// The first event came: the answer is under way.
    Answer {
        socket: Socket,
        first: String,
    },
    /// The provider answered with an `error` message.
    Refused {
        socket: Socket,
        status: u16,
        error: Value,
    },
    /// The socket closed (or failed) before answering.
    Gone,
    TimedOut(Duration),
}

/// Sends one `response.create` and waits for the first message in reply.
async fn exchange(mut socket: Socket, msg: String, wait: Duration) -> Exchange {
    if let Err(e) = socket.send(Message::text(msg)).await {
        tracing::debug!(error = %e, "the provider's WebSocket failed on send");
        return Exchange::Gone;
    }
    let first = tokio::time::timeout(wait, async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Text(t))) => return Some(t.as_str().to_string()),
                Some(Ok(Message::Close(_))) | None => return None,
                Some(Ok(_)) => continue,
                Some(Err(e)) => {
                    tracing::debug!(error = %e, "the provider's WebSocket failed before answering");
                    return None;
                }
            }
        }
    })
    .await;
    let first = match first {
        Err(_) => return Exchange::TimedOut(wait),
        Ok(None) => return Exchange::Gone,
        Ok(Some(t)) => t,
    };
    match serde_json::from_str::<Head>(&first) {
        Ok(h) if h.kind == "error" => Exchange::Refused {
            socket,
            status: h.status.unwrap_or(400),
            error: h
                .error
                .unwrap_or_else(|| serde_json::json!({"message": first})),
        },
        _ => Exchange::Answer { socket, first },
    }
}

/// What is read of each upstream message.
#[derive(Deserialize)]
struct Head {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    error: Option<Value>,
    #[serde(default)]
    response: Option<HeadResponse>,
}

#[derive(Deserialize)]
struct HeadResponse {
    #[serde(default)]
    id: Option<String>,
}

/// One upstream message as an SSE event; with the id of the response it completed, or
/// `Some(None)` when it ended the answer otherwise.
fn to_sse(text: &str) -> (Bytes, Option<Option<String>>) {
    let head = serde_json::from_str::<Head>(text).ok();
    let kind = head.as_ref().map(|h| h.kind.as_str()).unwrap_or("");
    // A socket's `error` message ends its turn too.
    let end = (plugboard_translate::terminal::is_terminal(kind) || kind == "error").then(|| {
        head.as_ref()
            .filter(|h| h.kind == "response.completed")
            .and_then(|h| h.response.as_ref()?.id.clone())
    });
    let mut out = Vec::with_capacity(text.len() + kind.len() + 16);
    if !kind.is_empty() && !kind.contains(['\n', '\r']) {
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(kind.as_bytes());
        out.push(b'\n');
    }
    for line in text.split('\n') {
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(line.trim_end_matches('\r').as_bytes());
        out.push(b'\n');
    }
    out.push(b'\n');
    (Bytes::from(out), end)
}

/// The answer's messages as SSE bytes, the socket going back to the connection's pool when
/// the answer ends (dropped, and so closed, when it is cut).
fn answer_stream(socket: Socket, first: String, home: Home) -> ByteStream {
    struct Reading {
        socket: Option<Socket>,
        first: Option<String>,
        home: Home,
    }
    impl Reading {
        fn ended(&mut self, last: Option<String>) {
            if let Some(socket) = self.socket.take() {
                self.home.sockets.put_back(Idle {
                    provider: self.home.provider.clone(),
                    credential: self.home.credential,
                    socket,
                    last,
                });
            }
        }
    }
    let reading = Reading {
        socket: Some(socket),
        first: Some(first),
        home,
    };
    Box::pin(futures_util::stream::unfold(reading, |mut r| async move {
        let text = match r.first.take() {
            Some(t) => t,
            None => loop {
                let socket = r.socket.as_mut()?;
                match socket.next().await {
                    Some(Ok(Message::Text(t))) => break t.as_str().to_string(),
                    Some(Ok(Message::Close(_))) | None => {
                        r.socket = None;
                        let e: passthrough::StreamError =
                            "the provider closed its WebSocket before the response ended".into();
                        return Some((Err(e), r));
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => {
                        r.socket = None;
                        return Some((Err(Box::new(e) as passthrough::StreamError), r));
                    }
                }
            },
        };
        let (bytes, end) = to_sse(&text);
        if let Some(last) = end {
            r.ended(last);
        }
        Some((Ok(bytes), r))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_become_sse_events() {
        let (b, end) = to_sse(r#"{"type":"response.output_text.delta","delta":"hi"}"#);
        assert_eq!(
            std::str::from_utf8(&b).unwrap(),
            "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"hi\"}\n\n"
        );
        assert_eq!(end, None);
        let (_, end) = to_sse(r#"{"type":"response.completed","response":{"id":"resp_1"}}"#);
        assert_eq!(end, Some(Some("resp_1".into())));
        let (_, end) = to_sse(r#"{"type":"response.failed","response":{"id":"resp_2"}}"#);
        assert_eq!(end, Some(None));
        let (_, end) = to_sse(r#"{"type":"error","status":400,"error":{}}"#);
        assert_eq!(end, Some(None));
        // Pretty-printed JSON keeps to one event.
        let (b, _) = to_sse("{\n\"type\": \"x\"\n}");
        assert_eq!(
            std::str::from_utf8(&b).unwrap(),
            "event: x\ndata: {\ndata: \"type\": \"x\"\ndata: }\n\n"
        );
    }
}
