//! What the app's tests share: a scripted chat upstream that keeps the keys it was sent, and
//! (from the workspace's test kit) a free port.

use std::sync::{Arc, Mutex};

/// A chat upstream that answers `reply` and records the Authorization headers it saw.
pub async fn upstream(reply: &'static str) -> (String, Arc<Mutex<Vec<String>>>) {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let s = seen.clone();
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let s = s.clone();
            async move {
                s.lock().unwrap().push(headers.get("authorization").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default());
                axum::Json(serde_json::json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}]}))
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (format!("http://{addr}/v1"), seen)
}

// Not every test binary that includes this module uses it.
#[allow(unused_imports)]
pub use plugboard_e2e::free_port;
