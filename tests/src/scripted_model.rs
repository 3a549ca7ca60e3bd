//! A chat provider that behaves like a model: it reads the conversation and answers as a
//! coding model would (text, a shell call, a patch, a reply to a tool result), with the
//! quirks real providers and local runtimes have switched on one by one. The Codex check is
//! tested against it.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// What makes this provider unlike OpenAI. All off: a provider Codex works with.
#[derive(Debug, Clone, Default)]
pub struct Quirks {
    /// Prints tool calls as Hermes `<tool_call>` text instead of calling (small local models).
    pub text_tool_calls: bool,
    /// Prints its thinking inline as `<think>…</think>` (a runtime without a reasoning parser).
    pub think_tags: bool,
    /// Streams `reasoning_content` before answering.
    pub thinks: bool,
    /// Refuses a follow-up whose assistant tool-call message lacks `reasoning_content`
    /// (DeepSeek thinking mode).
    pub needs_reasoning_back: bool,
    /// Refuses tool schemas holding this keyword, in Gemini's words.
    pub refuses_schema_keyword: Option<&'static str>,
    /// Never sends usage, even when asked.
    pub never_usage: bool,
    /// The window, given in the model list as `context_length`.
    pub window_in_list: Option<u64>,
    /// The window, named (vLLM's words) when a request asks for more tokens than it holds.
    pub window_in_error: Option<u64>,
    /// Answers `POST /v1/responses` too.
    pub speaks_responses: bool,
    /// Served with this window, as llama.cpp's server is: a request longer than it (about
    /// four bytes a token) is refused in llama.cpp's words.
    pub served_window: Option<u64>,
}

pub const MODEL: &str = "scripted-coder";

#[derive(Clone)]
struct Shared {
    quirks: Quirks,
    seen: Arc<Mutex<Vec<Value>>>,
    headers: Arc<Mutex<Vec<String>>>,
}

pub struct ScriptedModel {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Value>>>,
    headers: Arc<Mutex<Vec<String>>>,
    _server: crate::LoopbackServer,
}

impl ScriptedModel {
    pub async fn start(quirks: Quirks) -> Self {
        let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
        let headers: Arc<Mutex<Vec<String>>> = Arc::default();
        let shared = Shared {
            quirks,
            seen: seen.clone(),
            headers: headers.clone(),
        };
        let app = Router::new()
            .route("/v1/chat/completions", post(chat))
            .route("/v1/models", get(models))
            .route("/v1/responses", post(responses))
            .with_state(shared);
        let server = crate::LoopbackServer::start(app).await;
        Self {
            addr: server.addr,
            seen,
            headers,
            _server: server,
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The chat requests received, in order.
    pub fn requests(&self) -> Vec<Value> {
        self.seen.lock().unwrap().clone()
    }

    /// Each chat request's headers, as `name: value` lines.
    pub fn request_headers(&self) -> Vec<String> {
        self.headers.lock().unwrap().clone()
    }
}

async fn models(State(s): State<Shared>) -> Json<Value> {
    let mut entry = json!({"id": MODEL, "object": "model", "owned_by": "test"});
    if let Some(w) = s.quirks.window_in_list {
        entry["context_length"] = w.into();
    }
    Json(json!({"object": "list", "data": [entry]}))
}

async fn responses(State(s): State<Shared>) -> Response {
    if !s.quirks.speaks_responses {
        return (StatusCode::NOT_FOUND, "404 page not found").into_response();
    }
    Json(
        json!({"id": "resp_1", "object": "response", "status": "completed", "model": MODEL,
        "output": [{"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
            "content": [{"type": "output_text", "text": "pong", "annotations": []}]}]}),
    )
    .into_response()
}

fn refuse(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": "invalid_request_error"}})),
    )
        .into_response()
}

fn text_of(m: &Value) -> String {
    match &m["content"] {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    }
}

/// The chat name and argument of the tool a request declares for `name` (Plugboard may
/// rename tools; a freeform one takes its text in one string argument).
fn declared(body: &Value, name: &str) -> Option<String> {
    body["tools"]
        .as_array()?
        .iter()
        .filter_map(|t| t["function"]["name"].as_str())
        .find(|n| *n == name || n.ends_with(name))
        .map(str::to_string)
}

async fn chat(State(s): State<Shared>, headers: axum::http::HeaderMap, body: Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    s.seen.lock().unwrap().push(body.clone());
    let lines: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {}\n", v.to_str().unwrap_or_default()))
        .collect();
    s.headers.lock().unwrap().push(lines);
    let q = &s.quirks;
    let max = body["max_tokens"]
        .as_u64()
        .or(body["max_completion_tokens"].as_u64());
    if let (Some(w), Some(m)) = (q.window_in_error, max) {
        if m > w {
            return refuse(&format!("This model's maximum context length is {w} tokens. However, you requested {} tokens (24 in the messages, {m} in the completion). Please reduce the length of the messages or completion.", m + 24));
        }
    }
    if let Some(w) = q.served_window {
        let tokens = body.to_string().len() as u64 / 4;
        if tokens > w {
            return refuse(&format!("request ({tokens} tokens) exceeds the available context size ({w} tokens), try increasing it"));
        }
    }
    if let Some(k) = q.refuses_schema_keyword {
        if body["tools"].to_string().contains(&format!("\"{k}\"")) {
            return refuse(&format!("Invalid JSON payload received. Unknown name \"{k}\" at 'tools[0].function_declarations[0].parameters': Cannot find field."));
        }
    }
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    if q.needs_reasoning_back {
        for (i, m) in messages.iter().enumerate() {
            let lacks = m["reasoning_content"].as_str().is_none_or(str::is_empty);
            if m["role"] == "assistant" && m["tool_calls"].is_array() && lacks {
                return refuse(&format!("Missing `reasoning_content` field in the assistant message at message index {i}. The reasoning_content in the thinking mode must be passed back to the API."));
            }
        }
    }
    let last = messages.last().cloned().unwrap_or(Value::Null);
    let asked = text_of(&last);
    // (call name, JSON arguments) or the text to answer.
    let answer: Result<(String, Value), String> = if last["role"] == "tool" {
        Err(format!(
            "The command printed: {}",
            text_of(&last).lines().last().unwrap_or_default()
        ))
    } else if asked.contains("exec_command") {
        match declared(&body, "exec_command") {
            Some(n) => Ok((n, json!({"cmd": "echo plugboard"}))),
            None => Err("I have no shell.".into()),
        }
    } else if asked.contains("apply_patch") {
        match declared(&body, "apply_patch") {
            Some(n) => Ok((
                n,
                json!({"input": "*** Begin Patch\n*** Add File: hello.txt\n+hello\n*** End Patch\n"}),
            )),
            None => Err("I cannot edit files.".into()),
        }
    } else {
        Err("Hello from the scripted box.".into())
    };

    let mut chunks: Vec<Value> =
        vec![json!({"choices": [{"index": 0, "delta": {"role": "assistant"}}]})];
    let delta = |d: Value| json!({"choices": [{"index": 0, "delta": d}]});
    if q.thinks {
        chunks.push(delta(json!({"reasoning_content": "The user wants this; "})));
        chunks.push(delta(json!({"reasoning_content": "I will do it."})));
    }
    if q.think_tags {
        chunks.push(delta(json!({"content": "<think>The user wants this."})));
        chunks.push(delta(json!({"content": "</think>\n\n"})));
    }
    let finish = match answer {
        Ok((name, args)) if q.text_tool_calls => {
            let text = format!(
                "<tool_call>\n{}\n</tool_call>",
                json!({"name": name, "arguments": args})
            );
            for piece in text.as_bytes().chunks(24) {
                chunks.push(delta(json!({"content": String::from_utf8_lossy(piece)})));
            }
            "stop"
        }
        Ok((name, args)) => {
            let args = args.to_string();
            let (a, b) = args.split_at(args.len() / 2);
            chunks.push(delta(json!({"tool_calls": [{"index": 0, "id": "call_sc1", "type": "function", "function": {"name": name, "arguments": a}}]})));
            chunks.push(delta(
                json!({"tool_calls": [{"index": 0, "function": {"arguments": b}}]}),
            ));
            "tool_calls"
        }
        Err(text) => {
            for word in text.split_inclusive(' ') {
                chunks.push(delta(json!({"content": word})));
            }
            "stop"
        }
    };
    chunks.push(json!({"choices": [{"index": 0, "delta": {}, "finish_reason": finish}]}));
    if body["stream_options"]["include_usage"] == true && !q.never_usage {
        chunks.push(json!({"choices": [], "usage": {"prompt_tokens": 812, "completion_tokens": 23, "total_tokens": 835}}));
    }
    if body["stream"] != true {
        return Json(whole(&chunks, finish)).into_response();
    }
    let mut sse: String = chunks.iter().map(|c| format!("data: {c}\n\n")).collect();
    sse.push_str("data: [DONE]\n\n");
    ([("content-type", "text/event-stream")], sse).into_response()
}

/// The one chat completion a stream's chunks add up to (a request with `stream: false`).
fn whole(chunks: &[Value], finish: &str) -> Value {
    let mut content = String::new();
    let mut reasoning = String::new();
    let mut calls: Vec<Value> = Vec::new();
    for c in chunks {
        let d = &c["choices"][0]["delta"];
        content.push_str(d["content"].as_str().unwrap_or_default());
        reasoning.push_str(d["reasoning_content"].as_str().unwrap_or_default());
        for t in d["tool_calls"].as_array().into_iter().flatten() {
            match calls.last_mut() {
                Some(last) if t["id"].is_null() => {
                    let more = t["function"]["arguments"].as_str().unwrap_or_default();
                    let args = format!(
                        "{}{more}",
                        last["function"]["arguments"].as_str().unwrap_or_default()
                    );
                    last["function"]["arguments"] = args.into();
                }
                _ => calls.push(t.clone()),
            }
        }
    }
    let mut message = json!({"role": "assistant", "content": content});
    if !reasoning.is_empty() {
        message["reasoning_content"] = reasoning.into();
    }
    if !calls.is_empty() {
        message["tool_calls"] = calls.into();
    }
    json!({"id": "chatcmpl-scripted", "object": "chat.completion", "created": 1, "model": MODEL,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 812, "completion_tokens": 23, "total_tokens": 835}})
}
