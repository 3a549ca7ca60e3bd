//! A mock Chat Completions upstream that streams a configurable answer as fast as the machine
//! allows (or with the delays asked for). Chunks are rendered once and shared.

use axum::body::{Body, Bytes};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct MockConfig {
    pub text_chunks: usize,
    pub reasoning_chunks: usize,
    pub tool_calls: usize,
    pub first_delay: Duration,
    pub chunk_delay: Duration,
}

impl Default for MockConfig {
    fn default() -> Self {
        Self {
            text_chunks: 50,
            reasoning_chunks: 10,
            tool_calls: 1,
            first_delay: Duration::ZERO,
            chunk_delay: Duration::ZERO,
        }
    }
}

fn ev(v: serde_json::Value) -> Bytes {
    Bytes::from(format!("data: {v}\n\n"))
}

/// One chunk of the answer with this delta.
fn base(delta: serde_json::Value, finish: Option<&str>) -> serde_json::Value {
    serde_json::json!({"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1, "model": "mock-model", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
}

/// The SSE events of one answer, in order.
pub fn render(cfg: &MockConfig) -> Vec<Bytes> {
    let mut out = Vec::new();
    out.push(ev(base(
        serde_json::json!({"role": "assistant", "content": ""}),
        None,
    )));
    for i in 0..cfg.reasoning_chunks {
        out.push(ev(base(
            serde_json::json!({"reasoning_content": format!("step {i} of thinking, ")}),
            None,
        )));
    }
    for i in 0..cfg.text_chunks {
        // The first one is re-rendered per request with its stamp (see `stamped`).
        out.push(ev(base(
            serde_json::json!({"content": format!("token{i} ")}),
            None,
        )));
    }
    for t in 0..cfg.tool_calls {
        out.push(ev(base(serde_json::json!({"tool_calls": [{"index": t, "id": format!("call_{t}"), "type": "function", "function": {"name": "exec_command", "arguments": ""}}]}), None)));
        for piece in ["{\"cmd\":", " \"ls -la", " src\"}"] {
            out.push(ev(base(
                serde_json::json!({"tool_calls": [{"index": t, "function": {"arguments": piece}}]}),
                None,
            )));
        }
    }
    let finish = if cfg.tool_calls > 0 {
        "tool_calls"
    } else {
        "stop"
    };
    out.push(ev(base(serde_json::json!({}), Some(finish))));
    out.push(ev(serde_json::json!({"id": "chatcmpl-bench", "object": "chat.completion.chunk", "choices": [], "usage": {"prompt_tokens": 1000, "completion_tokens": cfg.text_chunks + cfg.reasoning_chunks, "total_tokens": 1000 + cfg.text_chunks + cfg.reasoning_chunks, "prompt_tokens_details": {"cached_tokens": 512}}})));
    out.push(Bytes::from_static(b"data: [DONE]\n\n"));
    out
}

/// Where the first text chunk sits in [`render`]'s list.
pub fn first_text_index(cfg: &MockConfig) -> Option<usize> {
    (cfg.text_chunks > 0).then_some(1 + cfg.reasoning_chunks)
}

/// The first text chunk, stamped with when the request arrived and when the chunk leaves.
fn stamped(received: u64) -> Bytes {
    let text = crate::clock::stamp(received, crate::clock::now_ns());
    ev(base(serde_json::json!({ "content": text }), None))
}

/// Serves the mock on `addr` (port 0 for any) until the runtime ends; returns its address.
pub async fn serve(addr: SocketAddr, cfg: MockConfig) -> std::io::Result<SocketAddr> {
    let events: Arc<Vec<Bytes>> = Arc::new(render(&cfg));
    let cfg = Arc::new(cfg);
    let handler = move |_body: Bytes| {
        let received = crate::clock::now_ns();
        let events = events.clone();
        let cfg = cfg.clone();
        async move {
            let text_at = first_text_index(&cfg);
            // Chunks are made as hyper asks for them, so that the stamp says when the first
            // text left; without delays every chunk is ready at once.
            let stream = futures_util::stream::unfold(0usize, move |i| {
                let (events, cfg) = (events.clone(), cfg.clone());
                async move {
                    let wait = if i == 0 {
                        cfg.first_delay
                    } else {
                        cfg.chunk_delay
                    };
                    if i < events.len() && !wait.is_zero() {
                        tokio::time::sleep(wait).await;
                    }
                    let e = if Some(i) == text_at {
                        stamped(received)
                    } else {
                        events.get(i)?.clone()
                    };
                    Some((Ok::<_, std::io::Error>(e), i + 1))
                }
            });
            let body = Body::from_stream(stream);
            Response::builder()
                .header("content-type", "text/event-stream")
                .body(body)
                .expect("static headers")
        }
    };
    let app = Router::new()
        .route("/v1/chat/completions", post(handler.clone()))
        .route("/chat/completions", post(handler));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    // Small SSE writes must leave at once: with Nagle on, each answer waits ~40 ms on the
    // client's delayed ACK, and every system would look 40 ms slow.
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(addr)
}
