//! A provider that speaks the Responses API itself and is as strict as OpenAI about what it
//! is sent back: encrypted content it did not issue ("The encrypted content for item
//! input[N] could not be verified."), item ids without its prefixes, a reasoning item it
//! cannot find under `store: false`, and tool outputs whose call is not in the input are all
//! refused with a 400 in OpenAI's words. It answers like a coding model: a user turn gets
//! reasoning and a shell call, a tool result gets a closing message. Like OpenAI it serves
//! the same API over a WebSocket too (`GET .../responses` upgraded), keeping the last
//! response of each connection for a `previous_response_id` that names it.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
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
    /// How each request came: "http" or "websocket".
    transports: Vec<&'static str>,
    /// WebSocket connections opened.
    sockets: usize,
}

#[derive(Clone)]
pub(crate) struct Shared {
    name: &'static str,
    memory: Arc<Mutex<Memory>>,
    /// What `GET {prefix}/models` answers.
    models: Value,
    quirks: Arc<Quirks>,
}

/// How the provider departs from OpenAI's behaviour, switched on while it runs.
#[derive(Default)]
struct Quirks {
    /// Refuse WebSocket handshakes (a server that speaks the API over HTTP only).
    http_only: AtomicBool,
    /// Forget each connection's last response after answering (a lost connection cache).
    forgetful: AtomicBool,
    /// Stream like vLLM's `/v1/responses`: no `output_item.done` events and an empty
    /// `output` in `response.completed` (vllm #42407, #30223).
    gappy: AtomicBool,
    /// Answer like a local runtime (Ollama's `/v1/responses`): freeform (`custom`) tools and
    /// `previous_response_id` refused, files edited with an `apply_patch` function call.
    local: AtomicBool,
}

impl Quirks {
    fn on(flag: &AtomicBool) -> bool {
        flag.load(Ordering::SeqCst)
    }
}

pub struct ScriptedResponses {
    pub addr: SocketAddr,
    memory: Arc<Mutex<Memory>>,
    quirks: Arc<Quirks>,
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
        let shared = Shared {
            name,
            memory: memory.clone(),
            models,
            quirks: Arc::default(),
        };
        let quirks = shared.quirks.clone();
        let app = Router::new()
            .route(
                &format!("{prefix}/responses"),
                post(responses).get(crate::scripted_socket::upgrade),
            )
            .route(&format!("{prefix}/models"), axum::routing::get(list))
            .with_state(shared);
        let server = crate::LoopbackServer::start(app).await;
        Self {
            addr: server.addr,
            memory,
            quirks,
            _server: server,
        }
    }

    /// From now on, WebSocket handshakes are refused (HTTP 405).
    pub fn refuse_websockets(&self) {
        self.quirks.http_only.store(true, Ordering::SeqCst);
    }

    /// From now on, a connection forgets its last response once it has answered.
    pub fn forget_responses(&self) {
        self.quirks.forgetful.store(true, Ordering::SeqCst);
    }

    /// From now on, streams leave out their `*.done` events as vLLM's do.
    pub fn leave_out_done_events(&self) {
        self.quirks.gappy.store(true, Ordering::SeqCst);
    }

    /// From now on, answer like a local runtime: freeform tools are refused ("unsupported
    /// tool type") and so is `previous_response_id` (it keeps nothing); a user turn that asks
    /// for apply_patch gets an `apply_patch` function call adding `hello.txt`.
    pub fn act_like_a_local_runtime(&self) {
        self.quirks.local.store(true, Ordering::SeqCst);
    }

    /// How each request came, in order: "http" or "websocket".
    pub fn transports(&self) -> Vec<&'static str> {
        self.memory.lock().unwrap().transports.clone()
    }

    /// WebSocket connections opened so far.
    pub fn sockets_opened(&self) -> usize {
        self.memory.lock().unwrap().sockets
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

pub(crate) fn header_pairs(h: &HeaderMap) -> Vec<(String, String)> {
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

async fn responses(State(s): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    s.record(&body, header_pairs(&headers), "http");
    let input = body["input"].as_array().cloned().unwrap_or_default();
    match answer(&s, &body, &input) {
        Err(refusal) => (StatusCode::BAD_REQUEST, Json(json!({"error": refusal}))).into_response(),
        // Not streamed: the finished response, whole.
        Ok(answer) if body["stream"] != true => {
            let end = answer.events.last().map(|e| e["response"].clone());
            Json(end.unwrap_or_default()).into_response()
        }
        Ok(answer) => {
            let sse: String = answer
                .events
                .iter()
                .map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap_or("")))
                .collect();
            (
                [
                    ("content-type", "text/event-stream".to_string()),
                    ("x-codex-turn-state", answer.turn_state),
                ],
                sse,
            )
                .into_response()
        }
    }
}

/// One answered request: its events in order (each with `type` and `sequence_number`).
pub(crate) struct Answer {
    pub id: String,
    pub output: Vec<Value>,
    pub events: Vec<Value>,
    /// The ChatGPT backend's sticky routing for the rest of the turn.
    pub turn_state: String,
}

impl Shared {
    pub(crate) fn forgets(&self) -> bool {
        Quirks::on(&self.quirks.forgetful)
    }

    pub(crate) fn serves_websockets(&self) -> bool {
        !Quirks::on(&self.quirks.http_only)
    }

    /// A request as it came, with its headers (a WebSocket's handshake) and transport.
    pub(crate) fn record(
        &self,
        body: &Value,
        headers: Vec<(String, String)>,
        transport: &'static str,
    ) {
        let mut m = self.memory.lock().unwrap();
        m.seen.push(body.clone());
        m.headers.push(headers);
        m.transports.push(transport);
    }

    pub(crate) fn socket_opened(&self) {
        self.memory.lock().unwrap().sockets += 1;
    }
}

/// The answer to `body` with its whole `input`, or OpenAI's error object for it.
pub(crate) fn answer(s: &Shared, body: &Value, input: &[Value]) -> Result<Answer, Value> {
    let mut m = s.memory.lock().unwrap();
    let local = Quirks::on(&s.quirks.local);
    let freeform = body["tools"]
        .as_array()
        .is_some_and(|t| t.iter().any(|t| t["type"] == "custom"));
    let refused = if local && freeform {
        Some("Unsupported tool type: custom. Supported types: function.".to_string())
    } else if local && body.get("previous_response_id").is_some() {
        Some("previous_response_id is not supported: this server does not store responses".into())
    } else {
        refusal(input, &m.issued)
    };
    if let Some(message) = refused {
        m.refused.push(message.clone());
        return Err(
            json!({"message": message, "type": "invalid_request_error", "param": "input", "code": "invalid_request_error"}),
        );
    }
    m.answers += 1;
    let n = m.answers;
    let name = s.name;
    let after_tool = input.last().is_some_and(|i| {
        i["type"] == "function_call_output" || i["type"] == "custom_tool_call_output"
    });
    let patch = local
        && input
            .last()
            .is_some_and(|i| i.to_string().contains("apply_patch"));
    let message = |text: String| {
        json!({"type": "message", "id": format!("msg_{name}{n}"), "status": "completed", "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": []}]})
    };
    let output: Vec<Value> = if after_tool {
        vec![message(format!("{name} finished step {n}."))]
    } else if local && body.get("tools").is_none() {
        vec![message(format!("Hello from {name}, ready."))]
    } else {
        let blob = format!("gAAAA{name}{n}");
        m.issued.insert(blob.clone());
        vec![
            json!({"type": "reasoning", "id": format!("rs_{name}{n}"), "summary": [{"type": "summary_text", "text": format!("{name} plans step {n}.")}], "encrypted_content": blob}),
            json!({"type": "function_call", "id": format!("fc_{name}{n}"), "status": "completed", "call_id": format!("call_{name}{n}"),
                "name": if patch { "apply_patch" } else { "exec_command" },
                "arguments": if patch {
                    json!({"input": "*** Begin Patch\n*** Add File: hello.txt\n+hello from the patch\n*** End Patch\n"})
                } else {
                    json!({"cmd": format!("echo {name}-ran-{n}")})
                }.to_string()}),
        ]
    };
    drop(m);
    let id = format!("resp_{name}{n}");
    let events = stream_events(&id, &body["model"], &output, Quirks::on(&s.quirks.gappy));
    Ok(Answer {
        id,
        output,
        events,
        turn_state: format!("turn-state-{name}-{n}"),
    })
}

/// The events of an answer, as OpenAI streams them (a message's text in two deltas), with
/// `sequence_number`s; `gappy` leaves out every `*.done` event and the final output, as
/// vLLM's streams do.
fn stream_events(id: &str, model: &Value, output: &[Value], gappy: bool) -> Vec<Value> {
    let mut events = vec![
        json!({"type": "response.created", "response": {"id": id, "object": "response", "status": "in_progress", "model": model, "output": []}}),
    ];
    for (i, item) in output.iter().enumerate() {
        let text = item["content"][0]["text"]
            .as_str()
            .filter(|_| item["type"] == "message");
        let Some(text) = text else {
            events.push(
                json!({"type": "response.output_item.added", "output_index": i, "item": item}),
            );
            events.push(
                json!({"type": "response.output_item.done", "output_index": i, "item": item}),
            );
            continue;
        };
        let item_id = &item["id"];
        let mut opened = item.clone();
        opened["content"] = json!([]);
        opened["status"] = "in_progress".into();
        let part = |text: &str| json!({"type": "output_text", "text": text, "annotations": []});
        let at = |kind: &str| json!({"type": kind, "item_id": item_id, "output_index": i, "content_index": 0});
        let (head, tail) = text.split_at(text.len() / 2);
        let mut e = vec![
            json!({"type": "response.output_item.added", "output_index": i, "item": opened}),
            at("response.content_part.added"),
            at("response.output_text.delta"),
            at("response.output_text.delta"),
            at("response.output_text.done"),
            at("response.content_part.done"),
            json!({"type": "response.output_item.done", "output_index": i, "item": item}),
        ];
        e[1]["part"] = part("");
        e[2]["delta"] = head.into();
        e[3]["delta"] = tail.into();
        e[4]["text"] = text.into();
        e[5]["part"] = part(text);
        events.extend(e);
    }
    events.push(json!({"type": "response.completed", "response": {"id": id, "object": "response", "status": "completed", "model": model, "output": output,
        "usage": {"input_tokens": 900, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 40,
            "output_tokens_details": {"reasoning_tokens": 12}, "total_tokens": 940}}}));
    if gappy {
        events.retain(|e| !e["type"].as_str().unwrap_or("").ends_with(".done"));
        if let Some(end) = events.last_mut() {
            end["response"]["output"] = json!([]);
        }
    }
    for (seq, e) in events.iter_mut().enumerate() {
        e["sequence_number"] = seq.into();
    }
    events
}
