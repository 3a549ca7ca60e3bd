//! A provider that speaks the Responses API itself and is as strict as OpenAI about what it
//! is sent back: encrypted content it did not issue ("The encrypted content for item
//! input[N] could not be verified."), item ids without its prefixes, a reasoning item it
//! cannot find under `store: false`, and tool outputs whose call is not in the input are all
//! refused with a 400 in OpenAI's words. It answers like a coding model: a user turn gets
//! reasoning and a shell call, a tool result gets a closing message.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct Memory {
    /// Every request body, in order.
    seen: Vec<Value>,
    /// Every request's headers, in order (model lists included).
    headers: Vec<Vec<(String, String)>>,
    /// Every refusal sent, in order.
    refused: Vec<String>,
    /// The encrypted content this provider issued.
    issued: HashSet<String>,
    answers: usize,
}

#[derive(Clone)]
struct Shared {
    name: &'static str,
    memory: Arc<Mutex<Memory>>,
    /// What `GET {prefix}/models` answers.
    models: Value,
}

pub struct ScriptedResponses {
    pub addr: SocketAddr,
    memory: Arc<Mutex<Memory>>,
    _server: crate::LoopbackServer,
}

impl ScriptedResponses {
    /// `name` marks what it issues (its encrypted blobs), so that a test can tell whose is whose.
    pub async fn start(name: &'static str) -> Self {
        Self::start_at(name, "/v1", Value::Null).await
    }

    /// The same under another path (the ChatGPT backend's `/backend-api/codex`), with
    /// `models` as its model list.
    pub async fn start_at(name: &'static str, prefix: &str, models: Value) -> Self {
        let memory: Arc<Mutex<Memory>> = Arc::default();
        let app = Router::new()
            .route(&format!("{prefix}/responses"), post(responses))
            .route(&format!("{prefix}/models"), axum::routing::get(list))
            .with_state(Shared {
                name,
                memory: memory.clone(),
                models,
            });
        let server = crate::LoopbackServer::start(app).await;
        Self {
            addr: server.addr,
            memory,
            _server: server,
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn requests(&self) -> Vec<Value> {
        self.memory.lock().unwrap().seen.clone()
    }

    pub fn refusals(&self) -> Vec<String> {
        self.memory.lock().unwrap().refused.clone()
    }

    /// The headers of every request, in order.
    pub fn headers(&self) -> Vec<Vec<(String, String)>> {
        self.memory.lock().unwrap().headers.clone()
    }
}

fn header_pairs(h: &HeaderMap) -> Vec<(String, String)> {
    h.iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
        .collect()
}

async fn list(State(s): State<Shared>, headers: HeaderMap) -> Json<Value> {
    s.memory
        .lock()
        .unwrap()
        .headers
        .push(header_pairs(&headers));
    Json(s.models.clone())
}

/// What OpenAI would refuse in this input, in its words.
fn refusal(input: &[Value], issued: &HashSet<String>) -> Option<String> {
    let mut calls = HashSet::new();
    for (i, item) in input.iter().enumerate() {
        let kind = item["type"].as_str().unwrap_or("");
        if let Some(e) = item["encrypted_content"].as_str() {
            if !issued.contains(e) {
                return Some(format!(
                    "The encrypted content for item input[{i}] could not be verified."
                ));
            }
        } else if kind == "reasoning" {
            return Some(format!(
                "Item with id '{}' not found. Items are not persisted when `store` is set to false. Try again with `store` set to true, or remove this item from your input.",
                item["id"].as_str().unwrap_or("")
            ));
        }
        let prefix = match kind {
            "message" => "msg",
            "reasoning" => "rs",
            "function_call" => "fc",
            "custom_tool_call" => "ctc",
            _ => "",
        };
        if let Some(id) = item["id"].as_str() {
            if !id.starts_with(prefix) {
                return Some(format!(
                    "Invalid 'input[{i}].id': '{id}'. Expected an ID that begins with '{prefix}'."
                ));
            }
        }
        match kind {
            "function_call" | "custom_tool_call" => {
                calls.insert(item["call_id"].as_str().unwrap_or("").to_string());
            }
            "function_call_output" | "custom_tool_call_output" => {
                let call = item["call_id"].as_str().unwrap_or("");
                if !calls.contains(call) {
                    return Some(format!(
                        "No tool call found for function call output with call_id {call}."
                    ));
                }
            }
            _ => {}
        }
    }
    None
}

fn event(kind: &str, mut data: Value, seq: &mut u64) -> String {
    data["type"] = kind.into();
    data["sequence_number"] = (*seq).into();
    *seq += 1;
    format!("event: {kind}\ndata: {data}\n\n")
}

async fn responses(State(s): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let input = body["input"].as_array().cloned().unwrap_or_default();
    let mut m = s.memory.lock().unwrap();
    m.seen.push(body.clone());
    m.headers.push(header_pairs(&headers));
    if let Some(message) = refusal(&input, &m.issued) {
        m.refused.push(message.clone());
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": {"message": message, "type": "invalid_request_error", "param": "input", "code": "invalid_request_error"}})),
        )
            .into_response();
    }
    m.answers += 1;
    let n = m.answers;
    let name = s.name;
    let after_tool = input
        .last()
        .is_some_and(|i| i["type"] == "function_call_output");
    let output: Vec<Value> = if after_tool {
        vec![
            json!({"type": "message", "id": format!("msg_{name}{n}"), "status": "completed", "role": "assistant",
                "content": [{"type": "output_text", "text": format!("{name} finished step {n}."), "annotations": []}]}),
        ]
    } else {
        let blob = format!("gAAAA{name}{n}");
        m.issued.insert(blob.clone());
        vec![
            json!({"type": "reasoning", "id": format!("rs_{name}{n}"), "summary": [{"type": "summary_text", "text": format!("{name} plans step {n}.")}], "encrypted_content": blob}),
            json!({"type": "function_call", "id": format!("fc_{name}{n}"), "status": "completed", "call_id": format!("call_{name}{n}"),
                "name": "exec_command", "arguments": json!({"cmd": format!("echo {name}-ran-{n}")}).to_string()}),
        ]
    };
    drop(m);
    let id = format!("resp_{name}{n}");
    let model = body["model"].clone();
    let mut seq = 0;
    let mut sse = event(
        "response.created",
        json!({"response": {"id": id, "object": "response", "status": "in_progress", "model": model, "output": []}}),
        &mut seq,
    );
    for (i, item) in output.iter().enumerate() {
        sse += &event(
            "response.output_item.added",
            json!({"output_index": i, "item": item}),
            &mut seq,
        );
        sse += &event(
            "response.output_item.done",
            json!({"output_index": i, "item": item}),
            &mut seq,
        );
    }
    sse += &event(
        "response.completed",
        json!({"response": {"id": id, "object": "response", "status": "completed", "model": model, "output": output,
            "usage": {"input_tokens": 900, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 40,
                "output_tokens_details": {"reasoning_tokens": 12}, "total_tokens": 940}}}),
        &mut seq,
    );
    // The ChatGPT backend's sticky routing for the rest of the turn.
    let turn_state = format!("turn-state-{name}-{n}");
    (
        [
            ("content-type", "text/event-stream".to_string()),
            ("x-codex-turn-state", turn_state),
        ],
        sse,
    )
        .into_response()
}
