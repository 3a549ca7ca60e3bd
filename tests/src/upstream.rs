//! Scripted upstreams on loopback: a server helper, and a mock chat (or Responses)
//! provider whose answer to each request is a script's, recording every request.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

/// One request the mock received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
}

/// What the mock answers.
pub enum Reply {
    /// An SSE body: each string is one `data:` payload, sent in order.
    Sse(Vec<String>),
    /// SSE whose later events wait for `gate` after the first `before_gate` were sent.
    GatedSse {
        events: Vec<String>,
        before_gate: usize,
        gate: Arc<Notify>,
    },
    /// SSE that never ends after the given events; `dropped` turns true when the proxy
    /// closes the connection.
    Hang {
        events: Vec<String>,
        dropped: Arc<AtomicBool>,
    },
    /// Never answers, not even headers.
    Stall,
    /// An SSE stream that never ends: a text chunk every `every`.
    Trickle { every: Duration },
    /// An SSE body written piece by piece, each raw piece after its delay (for comments,
    /// pauses and splits as providers send them).
    Paced(Vec<(Duration, String)>),
    /// A raw HTTP answer.
    Raw {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
}

type Script = dyn Fn(&Value, usize) -> Reply + Send + Sync;

#[derive(Clone)]
struct MockState {
    script: Arc<Script>,
    recorded: Arc<Mutex<Vec<Recorded>>>,
}

/// An axum app served on a free loopback port until dropped.
pub struct LoopbackServer {
    pub addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl LoopbackServer {
    pub async fn start(app: Router) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
        Self {
            addr,
            shutdown: Some(tx),
        }
    }
}

impl Drop for LoopbackServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub struct MockUpstream {
    pub addr: SocketAddr,
    recorded: Arc<Mutex<Vec<Recorded>>>,
    _server: LoopbackServer,
}

impl MockUpstream {
    /// Starts a mock whose answer to the n-th request (from 0) is `script(body, n)`.
    pub async fn start(script: impl Fn(&Value, usize) -> Reply + Send + Sync + 'static) -> Self {
        let state = MockState {
            script: Arc::new(script),
            recorded: Arc::default(),
        };
        let recorded = state.recorded.clone();
        let app = Router::new()
            .route("/v1/chat/completions", post(answer))
            .route("/v1/responses", post(answer))
            .with_state(state);
        let server = LoopbackServer::start(app).await;
        Self {
            addr: server.addr,
            recorded,
            _server: server,
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.recorded.lock().unwrap().clone()
    }
}

async fn answer(
    State(s): State<MockState>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let n = {
        let mut rec = s.recorded.lock().unwrap();
        rec.push(Recorded {
            path: uri.path().to_string(),
            headers,
            body: body.clone(),
        });
        rec.len() - 1
    };
    match (s.script)(&body, n) {
        Reply::Sse(events) => sse_response(Body::from(sse_text(&events))),
        Reply::GatedSse {
            events,
            before_gate,
            gate,
        } => {
            let (first, rest) = events.split_at(before_gate.min(events.len()));
            let first = sse_text(first);
            let rest = sse_text(rest);
            let stream = futures_util::stream::unfold(0u8, move |step| {
                let (first, rest, gate) = (first.clone(), rest.clone(), gate.clone());
                async move {
                    match step {
                        0 => Some((Ok::<_, std::io::Error>(Bytes::from(first)), 1)),
                        1 => {
                            gate.notified().await;
                            Some((Ok(Bytes::from(rest)), 2))
                        }
                        _ => None,
                    }
                }
            });
            sse_response(Body::from_stream(stream))
        }
        Reply::Stall => std::future::pending().await,
        Reply::Trickle { every } => {
            let stream = futures_util::stream::unfold((), move |_| async move {
                tokio::time::sleep(every).await;
                let chunk = format!(
                    "data: {}\n\n",
                    json!({"choices": [{"index": 0, "delta": {"content": "."}}]})
                );
                Some((Ok::<_, std::io::Error>(Bytes::from(chunk)), ()))
            });
            sse_response(Body::from_stream(stream))
        }
        Reply::Hang { events, dropped } => {
            struct OnDrop(Arc<AtomicBool>);
            impl Drop for OnDrop {
                fn drop(&mut self) {
                    self.0.store(true, Ordering::SeqCst);
                }
            }
            let guard = OnDrop(dropped);
            let first = sse_text(&events);
            let stream =
                futures_util::stream::unfold((Some(first), guard), |(first, guard)| async move {
                    match first {
                        Some(f) => Some((Ok::<_, std::io::Error>(Bytes::from(f)), (None, guard))),
                        None => {
                            std::future::pending::<()>().await;
                            None
                        }
                    }
                });
            sse_response(Body::from_stream(stream))
        }
        Reply::Paced(pieces) => {
            use futures_util::StreamExt;
            let stream = futures_util::stream::iter(pieces).then(|(delay, piece)| async move {
                tokio::time::sleep(delay).await;
                Ok::<_, std::io::Error>(Bytes::from(piece))
            });
            sse_response(Body::from_stream(stream))
        }
        Reply::Raw {
            status,
            headers,
            body,
        } => {
            let mut r = Response::builder().status(StatusCode::from_u16(status).unwrap());
            for (k, v) in headers {
                r = r.header(k, v);
            }
            r.body(Body::from(body)).unwrap()
        }
    }
}

fn sse_text(events: &[String]) -> String {
    events.iter().map(|e| format!("data: {e}\n\n")).collect()
}

fn sse_response(body: Body) -> Response {
    ([("content-type", "text/event-stream")], body).into_response()
}

/// The answer a request asked for: the chunks as a stream, or (for `stream: false`) the
/// one chat completion they add up to, as a real provider answers either way.
pub fn reply_as_asked(body: &Value, chunks: Vec<String>) -> Reply {
    if body["stream"] == true {
        return Reply::Sse(chunks);
    }
    let (mut content, mut reasoning, mut finish, mut usage) =
        (String::new(), String::new(), Value::Null, Value::Null);
    let mut calls: Vec<Value> = Vec::new();
    for c in chunks.iter().filter(|c| *c != "[DONE]") {
        let c: Value = serde_json::from_str(c).expect("chunks are JSON");
        if !c["usage"].is_null() {
            usage = c["usage"].clone();
        }
        let Some(choice) = c["choices"].get(0) else {
            continue;
        };
        let d = &choice["delta"];
        content.push_str(d["content"].as_str().unwrap_or(""));
        reasoning.push_str(d["reasoning_content"].as_str().unwrap_or(""));
        for tc in d["tool_calls"].as_array().into_iter().flatten() {
            let i = tc["index"].as_u64().unwrap_or(0) as usize;
            if calls.len() <= i {
                calls.push(json!({"id": tc["id"], "type": "function", "function": {"name": tc["function"]["name"], "arguments": ""}}));
            }
            let args = calls[i]["function"]["arguments"]
                .as_str()
                .unwrap_or("")
                .to_string()
                + tc["function"]["arguments"].as_str().unwrap_or("");
            calls[i]["function"]["arguments"] = Value::String(args);
        }
        if !choice["finish_reason"].is_null() {
            finish = choice["finish_reason"].clone();
        }
    }
    let mut message = json!({"role": "assistant", "content": if content.is_empty() { Value::Null } else { Value::String(content) }});
    if !reasoning.is_empty() {
        message["reasoning_content"] = Value::String(reasoning);
    }
    if !calls.is_empty() {
        message["tool_calls"] = Value::Array(calls);
    }
    Reply::Raw {
        status: 200,
        headers: vec![("content-type", "application/json".into())],
        body: json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "message": message, "finish_reason": finish}], "usage": usage})
        .to_string(),
    }
}

/// Chat chunks for a plain text answer, split into pieces, with usage at the end.
pub fn text_chunks(pieces: &[&str]) -> Vec<String> {
    let mut out = vec![
        json!({"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]})
            .to_string(),
    ];
    for p in pieces {
        out.push(json!({"choices": [{"index": 0, "delta": {"content": p}}]}).to_string());
    }
    out.push(json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}).to_string());
    out.push(json!({"choices": [], "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}}).to_string());
    out.push("[DONE]".into());
    out
}

/// Chat chunks for one tool call, its arguments streamed in two pieces, with reasoning
/// before it when given.
pub fn tool_call_chunks(
    reasoning: Option<&str>,
    call_id: &str,
    name: &str,
    arguments: &str,
) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(r) = reasoning {
        out.push(json!({"choices": [{"index": 0, "delta": {"role": "assistant", "reasoning_content": r}}]}).to_string());
    }
    let mid = arguments
        .char_indices()
        .nth(arguments.chars().count() / 2)
        .map(|(i, _)| i)
        .unwrap_or(0);
    out.push(json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": call_id, "type": "function", "function": {"name": name, "arguments": &arguments[..mid]}}]}}]}).to_string());
    out.push(json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": &arguments[mid..]}}]}}]}).to_string());
    out.push(json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}], "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120, "prompt_tokens_details": {"cached_tokens": 64}}}).to_string());
    out.push("[DONE]".into());
    out
}

/// A chat upstream whose every stream sends one text chunk (`partial`) and then nothing,
/// forever: requests stay in flight until the proxy cuts them.
pub async fn hanging_chat_upstream() -> String {
    let app = Router::new().route(
        "/v1/chat/completions",
        post(|| async {
            use futures_util::StreamExt;
            let first =
                "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"partial\"}}]}\n\n";
            let body = futures_util::stream::once(async move {
                Ok::<_, std::io::Error>(bytes::Bytes::from(first))
            })
            .chain(futures_util::stream::pending());
            (
                [("content-type", "text/event-stream")],
                axum::body::Body::from_stream(body),
            )
        }),
    );
    let server = LoopbackServer::start(app).await;
    let url = format!("http://{}/v1", server.addr);
    // Lives as long as the test process.
    std::mem::forget(server);
    url
}
