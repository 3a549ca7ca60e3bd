//! One request to the proxy, read the way Codex reads it: the SSE events, gathered into what
//! the steps judge (text, output items, usage, the error if any).

use futures_util::StreamExt;
use serde_json::Value;
use std::time::Duration;

/// What came back for one request.
#[derive(Debug, Default, Clone)]
pub struct Turn {
    /// How many text deltas arrived (streamed, not one block at the end).
    pub text_deltas: usize,
    pub text: String,
    /// The output items of the finished response, in order.
    pub output: Vec<Value>,
    /// `response.usage` of the finished response.
    pub usage: Option<Value>,
    /// The error, in the provider's words: an HTTP error body's message, or
    /// `response.failed`'s.
    pub error: Option<String>,
    /// `response.incomplete`'s reason.
    pub incomplete: Option<String>,
    /// The response's id.
    pub id: Option<String>,
    /// Output items announced (`output_item.added`) and finished (`output_item.done`): Codex
    /// acts on an item only when it is done.
    pub items_added: usize,
    pub items_done: Vec<Value>,
}

impl Turn {
    fn failed(message: impl Into<String>) -> Turn {
        Turn {
            error: Some(message.into()),
            ..Turn::default()
        }
    }

    /// The first output item of a type (`function_call`, `custom_tool_call`, `reasoning`).
    pub fn item(&self, kind: &str) -> Option<&Value> {
        self.output.iter().find(|i| i["type"] == kind)
    }

    pub fn has(&self, kind: &str) -> bool {
        self.item(kind).is_some()
    }

    /// Items the stream announced or the response holds that never got their
    /// `output_item.done`: what Codex would never act on.
    pub fn unfinished_items(&self) -> usize {
        self.items_added
            .max(self.output.len())
            .saturating_sub(self.items_done.len())
    }
}

/// How long one step may take: local models on a laptop can be slow, a hang must not be.
const STEP_TIMEOUT: Duration = Duration::from_secs(240);

pub async fn send(client: &reqwest::Client, url: &str, body: &Value) -> Turn {
    match tokio::time::timeout(STEP_TIMEOUT, send_inner(client, url, body)).await {
        Ok(turn) => turn,
        Err(_) => Turn::failed(format!(
            "no complete answer in {} s: the model is very slow or the stream stalled",
            STEP_TIMEOUT.as_secs()
        )),
    }
}

async fn send_inner(client: &reqwest::Client, url: &str, body: &Value) -> Turn {
    let resp = match client.post(url).json(body).send().await {
        Ok(r) => r,
        // The proxy is ours, on loopback: this is not the provider's fault.
        Err(e) => return Turn::failed(format!("Plugboard's check proxy did not answer: {e}")),
    };
    if !resp.status().is_success() {
        let text = resp.text().await.unwrap_or_default();
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        return Turn::failed(v["error"]["message"].as_str().unwrap_or(text.trim()));
    }
    let mut turn = Turn::default();
    let mut events = eventsource_stream::EventStream::new(resp.bytes_stream());
    let mut finished = false;
    while let Some(ev) = events.next().await {
        let ev = match ev {
            Ok(ev) => ev,
            Err(e) => {
                turn.error = Some(format!("the stream broke off: {e}"));
                return turn;
            }
        };
        let Ok(v) = serde_json::from_str::<Value>(&ev.data) else {
            continue;
        };
        match v["type"].as_str().unwrap_or_default() {
            "response.output_item.added" => turn.items_added += 1,
            "response.output_item.done" => turn.items_done.push(v["item"].clone()),
            "response.output_text.delta" => {
                turn.text_deltas += 1;
                turn.text.push_str(v["delta"].as_str().unwrap_or_default());
            }
            "response.completed" | "response.incomplete" | "response.failed" => {
                let r = &v["response"];
                turn.id = r["id"].as_str().map(str::to_string);
                turn.output = r["output"].as_array().cloned().unwrap_or_default();
                // Some servers leave the final output empty; the items went by in the stream.
                if turn.output.is_empty() {
                    turn.output = turn.items_done.clone();
                }
                turn.usage = Some(r["usage"].clone()).filter(|u| !u.is_null());
                if let Some(reason) = r["incomplete_details"]["reason"].as_str() {
                    turn.incomplete = Some(reason.to_string());
                }
                if v["type"] == "response.failed" {
                    let message = r["error"]["message"].as_str();
                    turn.error = Some(message.unwrap_or("the response failed").to_string());
                }
                finished = true;
            }
            "error" => {
                turn.error = Some(v["message"].as_str().unwrap_or("error").to_string());
                finished = true;
            }
            _ => {}
        }
    }
    if !finished {
        turn.error = Some("the stream ended without `response.completed`".into());
    }
    turn
}
