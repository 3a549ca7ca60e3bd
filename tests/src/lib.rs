//! Test harness: a scripted Chat Completions (or Responses) upstream on loopback that records
//! every request, the proxy started in process in front of it, and an SSE reader.

pub mod codex;
pub mod scripted_model;
pub mod webdriver;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use plugboard_config::{Provider, Settings};
use plugboard_server::{ApiKey, KeyError, KeySource, ProxyHandle, ServeOptions};
use serde_json::{json, Value};
use std::collections::HashMap;
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

/// Keys given by the test, by provider id.
#[derive(Default)]
pub struct StaticKeys(pub HashMap<String, String>);

impl KeySource for StaticKeys {
    fn key(&self, provider: &Provider) -> Result<Option<ApiKey>, KeyError> {
        Ok(self.0.get(&provider.id).map(ApiKey::new))
    }
}

/// Settings with one chat provider `mock` (DeepSeek dialect) at `base_url`, serving every
/// model, `gpt-*` mapped to `mock-model`.
pub fn one_provider(base_url: &str) -> Settings {
    let mut p = Provider::from_preset("mock", "deepseek").unwrap();
    p.base_url = base_url.to_string();
    p.model_map.insert("gpt-*".into(), "mock-model".into());
    p.timeouts.idle_secs = 5;
    Settings {
        listen: "127.0.0.1:0".into(),
        active_provider: Some("mock".into()),
        providers: vec![p],
        ..Settings::default()
    }
}

pub async fn start_proxy(settings: Settings, key: &str) -> ProxyHandle {
    start_proxy_with(settings, key, ServeOptions::default()).await
}

pub async fn start_proxy_with(settings: Settings, key: &str, opts: ServeOptions) -> ProxyHandle {
    let keys: HashMap<String, String> = settings
        .providers
        .iter()
        .map(|p| (p.id.clone(), key.to_string()))
        .collect();
    plugboard_server::start(settings, Arc::new(StaticKeys(keys)), opts)
        .await
        .expect("proxy starts")
}

/// A port nothing listens on right now (for a proxy or an app to take, or to stand for an
/// address where nothing answers).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The path an external test tool is installed at, from `var` (the project's test script
/// sets it); `None` when unset and `PLUGBOARD_SKIP_EXTERNAL=1`, a failure otherwise.
pub fn external_tool(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(p) => Some(p),
        Err(_) if std::env::var("PLUGBOARD_SKIP_EXTERNAL").as_deref() == Ok("1") => None,
        Err(_) => panic!("{var} is not set: run the tests through scripts/test.sh, or set PLUGBOARD_SKIP_EXTERNAL=1"),
    }
}

/// Runs a client script (`program script args...`, never through an environment proxy),
/// requires it to succeed within two minutes, and reads the one JSON object it prints.
pub async fn run_client_script(program: &str, script: &std::path::Path, args: &[String]) -> Value {
    let out = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new(program)
            .arg(script)
            .args(args)
            .env("NO_PROXY", "127.0.0.1,localhost")
            .kill_on_drop(true)
            .output(),
    )
    .await
    .unwrap_or_else(|_| panic!("{} did not finish", script.display()))
    .unwrap_or_else(|e| panic!("{program} cannot run: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{} failed:\n{stderr}",
        script.display()
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// An HTTP client for the proxy under test: never through an environment proxy, and never
/// waiting forever.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client")
}

/// `POST {base}/responses` with a JSON body; the proxy must answer.
pub async fn post_responses(base: &str, body: &Value) -> reqwest::Response {
    http_client()
        .post(format!("{base}/responses"))
        .json(body)
        .send()
        .await
        .expect("the proxy answers")
}

/// A small streaming request any route answers.
pub fn hello_body() -> Value {
    json!({"model": "gpt-5.5", "input": "hi", "stream": true})
}

/// Reads an SSE body into (event name, JSON data) pairs.
pub async fn read_sse(resp: reqwest::Response) -> Vec<(String, Value)> {
    use eventsource_stream::Eventsource;
    use futures_util::StreamExt;
    let mut events = Vec::new();
    let mut stream = resp.bytes_stream().eventsource();
    while let Some(ev) = tokio::time::timeout(Duration::from_secs(20), stream.next())
        .await
        .expect("stream stalled")
    {
        let ev = ev.expect("valid SSE");
        events.push((ev.event, serde_json::from_str(&ev.data).expect("JSON data")));
    }
    events
}

/// The final response object of a stream (from its terminal event).
pub fn terminal(events: &[(String, Value)]) -> &Value {
    let (name, data) = events.last().expect("at least one event");
    assert!(
        matches!(
            name.as_str(),
            "response.completed" | "response.incomplete" | "response.failed"
        ),
        "last event is {name}"
    );
    &data["response"]
}

/// What a provider that validates tool schemas as strictly as DeepSeek, Kimi and Gemini's
/// OpenAI endpoint do finds wrong with a chat request's tools (empty: accepted).
pub fn strict_schema_problems(chat_request: &Value) -> Vec<String> {
    fn node(path: &str, v: &Value, out: &mut Vec<String>) {
        let Some(o) = v.as_object() else { return };
        for k in ["$ref", "$defs", "definitions", "$schema"] {
            if o.contains_key(k) {
                out.push(format!("{path}: `{k}` is not supported"));
            }
        }
        match o.get("type") {
            Some(Value::String(t))
                if ["object", "array", "string", "number", "integer", "boolean"]
                    .contains(&t.as_str()) => {}
            Some(other) => out.push(format!("{path}: got 'type: {other}'")),
            None if !o.contains_key("anyOf")
                && !o.contains_key("oneOf")
                && !o.contains_key("allOf") =>
            {
                out.push(format!("{path}: got 'type: null'"))
            }
            None => {}
        }
        if let Some(Value::Object(props)) = o.get("properties") {
            for (k, p) in props {
                node(&format!("{path}.properties.{k}"), p, out);
            }
        }
        if let Some(items) = o.get("items") {
            node(&format!("{path}.items"), items, out);
        }
        for key in ["anyOf", "oneOf", "allOf"] {
            for (i, b) in o
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                node(&format!("{path}.{key}[{i}]"), b, out);
            }
        }
    }
    let mut out = Vec::new();
    for t in chat_request["tools"].as_array().into_iter().flatten() {
        let name = t["function"]["name"].as_str().unwrap_or("?");
        let params = &t["function"]["parameters"];
        if params["type"] != "object" {
            out.push(format!("{name}: the parameters' root must be an object"));
        }
        node(name, params, &mut out);
    }
    out
}

/// A fresh home for the app's files (settings, logs, usage, Codex), removed when dropped;
/// its settings file listens on a free port.
pub struct TempHome {
    pub root: std::path::PathBuf,
    pub paths: plugboard_app::AppPaths,
}

impl TempHome {
    pub fn new(name: &str) -> TempHome {
        let root = std::env::temp_dir().join(format!("plugboard-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let paths = plugboard_app::AppPaths {
            settings_file: root.join("config/settings.toml"),
            log_dir: root.join("data/logs"),
            codex_home: root.join("codex"),
            usage_db: root.join("data/usage.sqlite"),
        };
        std::fs::create_dir_all(root.join("config")).unwrap();
        std::fs::write(
            &paths.settings_file,
            format!("listen = \"127.0.0.1:{}\"\n", free_port()),
        )
        .unwrap();
        TempHome { root, paths }
    }
}

impl Drop for TempHome {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
