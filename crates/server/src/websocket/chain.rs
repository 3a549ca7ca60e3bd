//! A WebSocket connection's own memory of its responses (the Open Responses WebSocket mode):
//! a `response.create` naming the previous response gets that response's whole history put
//! in front of its input, so a client can send only the new items even with `store: false`
//! (what Codex does on its cached connection). A continuation that fails evicts the response
//! it continued from; a later continuation from it is refused as not found.

use plugboard_translate::provenance::{CALL_TYPES, OUTPUT_TYPES};
use serde_json::{json, Map, Value};
use std::collections::{HashSet, VecDeque};

/// Responses remembered per connection: clients continue from the last one.
const KEPT: usize = 8;

#[derive(Default)]
pub struct Chain {
    /// (response id, every item up to and including its output), newest last.
    kept: VecDeque<(String, Vec<Value>)>,
    evicted: HashSet<String>,
}

/// What to do with a `response.create`'s body.
#[derive(Debug, PartialEq)]
pub enum Continue {
    /// Send it on as it is (no previous response, or one this connection does not hold:
    /// the proxy's store or the provider may).
    AsIs,
    /// The previous response was evicted by a failed continuation.
    Evicted(String),
    /// The history was put in front of the input; `previous_response_id` removed.
    Expanded { from: String },
    /// The new input answers a tool call that is not in the history.
    OrphanOutput { from: String, call_id: String },
}

/// The request's input as items (a plain string is one user message).
pub fn input_items(body: &Map<String, Value>) -> Vec<Value> {
    match body.get("input") {
        Some(Value::Array(items)) => items.clone(),
        Some(Value::String(text)) => vec![json!({
            "type": "message", "role": "user",
            "content": [{"type": "input_text", "text": text}],
        })],
        _ => Vec::new(),
    }
}

impl Chain {
    /// Expands `body` in place when it continues a response this connection holds.
    pub fn expand(&mut self, body: &mut Map<String, Value>) -> Continue {
        let Some(prev) = body
            .get("previous_response_id")
            .and_then(Value::as_str)
            .map(str::to_string)
        else {
            return Continue::AsIs;
        };
        if self.evicted.contains(&prev) {
            return Continue::Evicted(prev);
        }
        let Some(history) = self.kept.iter().find(|(id, _)| *id == prev).map(|(_, h)| h) else {
            return Continue::AsIs;
        };
        let mut items = history.clone();
        items.extend(input_items(body));
        if let Some(call_id) = orphan_output(&items) {
            self.evict(&prev);
            return Continue::OrphanOutput {
                from: prev,
                call_id,
            };
        }
        body.remove("previous_response_id");
        body.insert("input".into(), Value::Array(items));
        Continue::Expanded { from: prev }
    }

    /// Keeps a finished response: the items it was asked with and its output.
    pub fn keep(&mut self, id: String, mut items: Vec<Value>, output: Vec<Value>) {
        items.extend(output);
        self.evicted.remove(&id);
        self.kept.retain(|(k, _)| *k != id);
        self.kept.push_back((id, items));
        while self.kept.len() > KEPT {
            self.kept.pop_front();
        }
    }

    /// A continuation from `id` failed: it may not be continued from again.
    pub fn evict(&mut self, id: &str) {
        self.kept.retain(|(k, _)| k != id);
        self.evicted.insert(id.to_string());
    }
}

/// The call id of a tool output whose call is not among the items before it.
fn orphan_output(items: &[Value]) -> Option<String> {
    let mut calls = HashSet::new();
    for item in items {
        let call_id = item.get("call_id").and_then(Value::as_str);
        let kind = item.get("type").and_then(Value::as_str).unwrap_or("");
        if CALL_TYPES.contains(&kind) {
            calls.extend(call_id);
        } else if OUTPUT_TYPES.contains(&kind) {
            if let Some(c) = call_id.filter(|c| !calls.contains(c)) {
                return Some(c.to_string());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn a_continuation_gets_the_history_in_front() {
        let mut c = Chain::default();
        c.keep(
            "resp_1".into(),
            vec![json!({"type": "message", "role": "user", "content": "hi"})],
            vec![json!({"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"})],
        );
        let mut b = body(json!({"previous_response_id": "resp_1", "input": [
            {"type": "function_call_output", "call_id": "c1", "output": "ok"}]}));
        assert_eq!(
            c.expand(&mut b),
            Continue::Expanded {
                from: "resp_1".into()
            }
        );
        assert!(b.get("previous_response_id").is_none());
        assert_eq!(b["input"].as_array().unwrap().len(), 3);
        // A plain-string input continues too.
        let mut b = body(json!({"previous_response_id": "resp_1", "input": "and then?"}));
        assert!(matches!(c.expand(&mut b), Continue::Expanded { .. }));
        assert_eq!(b["input"][2]["content"][0]["text"], "and then?");
    }

    #[test]
    fn unknown_ids_go_on_and_failed_continuations_evict() {
        let mut c = Chain::default();
        let mut b = body(json!({"previous_response_id": "resp_elsewhere", "input": []}));
        assert_eq!(c.expand(&mut b), Continue::AsIs);
        assert_eq!(b["previous_response_id"], "resp_elsewhere");
        c.keep("resp_1".into(), vec![], vec![]);
        let mut b = body(json!({"previous_response_id": "resp_1", "input": [
            {"type": "function_call_output", "call_id": "nope", "output": "x"}]}));
        assert_eq!(
            c.expand(&mut b),
            Continue::OrphanOutput {
                from: "resp_1".into(),
                call_id: "nope".into()
            }
        );
        let mut b = body(json!({"previous_response_id": "resp_1", "input": "again"}));
        assert_eq!(c.expand(&mut b), Continue::Evicted("resp_1".into()));
    }

    #[test]
    fn only_the_last_few_are_kept() {
        let mut c = Chain::default();
        for i in 0..20 {
            c.keep(format!("r{i}"), vec![], vec![]);
        }
        assert_eq!(c.kept.len(), KEPT);
        let mut b = body(json!({"previous_response_id": "r0", "input": []}));
        assert_eq!(c.expand(&mut b), Continue::AsIs);
    }
}
