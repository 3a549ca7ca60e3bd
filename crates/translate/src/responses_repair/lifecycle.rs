//! A native Responses stream with its missing lifecycle events put back, for upstreams whose
//! streams have gaps (vLLM leaves out `*.done` events and items that had no delta, vllm
//! #42407 and #48274; some answer `response.completed` with an empty `output`, vllm #30223;
//! LlamaStack left out `response.output_text.done`). Codex acts on `output_item.done` (that is
//! when a tool call runs), so a stream without it "uses tokens" and does nothing.
//!
//! Events pass through in order; before an event that needs a missing one (a part closed
//! without its text's `done`, an item closed with parts still open, the terminal event with
//! items never closed), the missing events are written from what the stream showed. A
//! terminal response with an empty `output` gets the items the stream carried, and a stream
//! that ends without a terminal event gets one. Every `sequence_number` is rewritten so that
//! the repaired stream counts up from 0 with no gap (the driver in `mod.rs` numbers them).

use super::Events;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// One output item as the stream showed it.
#[derive(Default)]
struct Item {
    /// The item as added (or as done), updated from deltas.
    item: Option<Value>,
    added: bool,
    done: bool,
    /// Text parts by content index.
    parts: BTreeMap<u64, Part>,
    /// A function call's arguments from its deltas, and whether their `done` came.
    arguments: Option<(String, bool)>,
}

#[derive(Default)]
struct Part {
    text: String,
    added: bool,
    text_done: bool,
    done: bool,
}

#[derive(Default)]
pub(super) struct Lifecycle {
    items: BTreeMap<u64, Item>,
    /// The response as `response.created` showed it (for a terminal event written here).
    response: Option<Value>,
    ended: bool,
}

impl Lifecycle {
    /// The end of the upstream's stream: when no terminal event came, the missing `done`
    /// events and a terminal one (`response.completed` when the stream ended cleanly,
    /// `response.failed` when it was cut).
    pub(super) fn finish(&mut self, clean: bool, out: &mut Events) {
        if self.ended {
            return;
        }
        self.close_all(out);
        let mut response = self.response.take().unwrap_or_else(|| json!({}));
        response["output"] = Value::Array(self.output());
        let kind = if clean {
            response["status"] = "completed".into();
            "response.completed"
        } else {
            response["status"] = "failed".into();
            response["error"] = json!({"code": "stream_interrupted",
                "message": "the provider's stream ended before the response was complete"});
            "response.failed"
        };
        self.emit(json!({"type": kind, "response": response}), out);
        self.ended = true;
    }

    /// One upstream event, after the events missing before it.
    pub(super) fn event(&mut self, mut e: Map<String, Value>, out: &mut Events) {
        let kind = e
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        // llama.cpp's events name their item by id only: the index is found from the id
        // (or is the next one), and written in, as the specification requires it.
        let index = e
            .get("output_index")
            .and_then(Value::as_u64)
            .or_else(|| self.index_by_id(&kind, &e));
        if let Some(i) = index {
            e.entry("output_index").or_insert(i.into());
        }
        let content = e.get("content_index").and_then(Value::as_u64).unwrap_or(0);
        if kind.starts_with("response.content_part") || kind.starts_with("response.output_text") {
            e.entry("content_index").or_insert(content.into());
        }
        match (kind.as_str(), index) {
            ("response.created" | "response.in_progress", _) => {
                self.response = e.get("response").cloned();
            }
            ("response.output_item.added", Some(i)) => {
                let it = self.items.entry(i).or_default();
                it.added = true;
                it.item = e.get("item").cloned();
            }
            ("response.content_part.added", Some(i)) => {
                self.open_item(i, &e, out);
                self.part(i, content).added = true;
            }
            ("response.output_text.delta", Some(i)) => {
                self.open_part(i, content, &e, out);
                let delta = e.get("delta").and_then(Value::as_str).unwrap_or("");
                let part = self.part(i, content);
                part.text.push_str(delta);
            }
            ("response.output_text.done", Some(i)) => {
                self.open_part(i, content, &e, out);
                let part = self.part(i, content);
                part.text_done = true;
                if let Some(t) = e.get("text").and_then(Value::as_str) {
                    part.text = t.to_string();
                }
            }
            ("response.content_part.done", Some(i)) => {
                self.open_part(i, content, &e, out);
                self.close_text(i, content, out);
                self.part(i, content).done = true;
            }
            ("response.function_call_arguments.delta", Some(i)) => {
                self.open_item(i, &e, out);
                let delta = e.get("delta").and_then(Value::as_str).unwrap_or("");
                let it = self.items.entry(i).or_default();
                it.arguments
                    .get_or_insert_with(Default::default)
                    .0
                    .push_str(delta);
            }
            ("response.function_call_arguments.done", Some(i)) => {
                self.open_item(i, &e, out);
                let it = self.items.entry(i).or_default();
                let args = it.arguments.get_or_insert_with(Default::default);
                if let Some(a) = e.get("arguments").and_then(Value::as_str) {
                    args.0 = a.to_string();
                }
                args.1 = true;
            }
            ("response.output_item.done", Some(i)) => {
                if let Some(item) = e.get("item").cloned() {
                    let it = self.items.entry(i).or_default();
                    if it.item.is_none() {
                        it.item = Some(item.clone());
                    }
                    if !it.added {
                        self.emit_added(i, item, out);
                    }
                }
                self.close_parts(i, out);
                let it = self.items.entry(i).or_default();
                it.done = true;
                it.item = e.get("item").cloned().or(it.item.take());
            }
            (k, _) if crate::terminal::is_terminal(k) => {
                let given: Vec<Value> = e
                    .get("response")
                    .and_then(|r| r.get("output"))
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                // Items only the terminal response shows are added and closed first.
                for (i, item) in given.iter().enumerate() {
                    let i = i as u64;
                    if !self.items.get(&i).is_some_and(|it| it.added) {
                        self.items.entry(i).or_default().item = Some(item.clone());
                        self.emit_added(i, item.clone(), out);
                    }
                }
                self.close_all_with(&given, out);
                if given.is_empty() && !self.items.is_empty() {
                    let output = self.output();
                    if let Some(Value::Object(r)) = e.get_mut("response") {
                        r.insert("output".into(), Value::Array(output));
                    }
                }
                self.ended = true;
            }
            _ => {}
        }
        self.emit_map(e, out);
    }

    /// The index of the item an event without `output_index` is about: the item with its
    /// id, else (a new item) the next index.
    fn index_by_id(&self, kind: &str, e: &Map<String, Value>) -> Option<u64> {
        if !kind.starts_with("response.output_")
            && !kind.starts_with("response.content_part")
            && !kind.starts_with("response.function_call_arguments")
        {
            return None;
        }
        let id = e
            .get("item_id")
            .or_else(|| e.get("item").and_then(|it| it.get("id")))?;
        let known = self
            .items
            .iter()
            .find(|(_, it)| it.item.as_ref().and_then(|item| item.get("id")) == Some(id))
            .map(|(i, _)| *i);
        Some(known.unwrap_or_else(|| self.items.keys().max().map_or(0, |m| m + 1)))
    }

    /// A text delta for a part already open, taken in without a parsed event: `false` when
    /// the part is not open yet (the event then goes the long way, which opens it).
    pub(super) fn text_in_open_part(&mut self, i: u64, content: u64, delta: &str) -> bool {
        if self.ended {
            return false;
        }
        let Some(it) = self.items.get_mut(&i).filter(|it| it.added && !it.done) else {
            return false;
        };
        match it.parts.get_mut(&content) {
            Some(part) if part.added && !part.text_done && !part.done => {
                part.text.push_str(delta);
                true
            }
            _ => false,
        }
    }

    fn part(&mut self, i: u64, content: u64) -> &mut Part {
        self.items
            .entry(i)
            .or_default()
            .parts
            .entry(content)
            .or_default()
    }

    /// `output_item.added` for an item the stream names before adding it.
    fn open_item(&mut self, i: u64, e: &Map<String, Value>, out: &mut Events) {
        if self.items.get(&i).is_some_and(|it| it.added) {
            return;
        }
        let id = e.get("item_id").cloned().unwrap_or(Value::Null);
        let item = if e
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.starts_with("response.function_call_arguments"))
        {
            json!({"type": "function_call", "id": id, "status": "in_progress", "arguments": ""})
        } else {
            json!({"type": "message", "id": id, "role": "assistant", "status": "in_progress", "content": []})
        };
        self.items.entry(i).or_default().item = Some(item.clone());
        self.emit_added(i, item, out);
    }

    fn emit_added(&mut self, i: u64, item: Value, out: &mut Events) {
        self.items.entry(i).or_default().added = true;
        self.emit(
            json!({"type": "response.output_item.added", "output_index": i, "item": item}),
            out,
        );
    }

    /// `content_part.added` (and the item's `added`) for a part the stream writes into first.
    fn open_part(&mut self, i: u64, content: u64, e: &Map<String, Value>, out: &mut Events) {
        self.open_item(i, e, out);
        if self.part(i, content).added {
            return;
        }
        self.part(i, content).added = true;
        let item_id = self.item_id(i);
        self.emit(
            json!({"type": "response.content_part.added", "item_id": item_id, "output_index": i,
                "content_index": content, "part": {"type": "output_text", "text": "", "annotations": []}}),
            out,
        );
    }

    fn item_id(&self, i: u64) -> Value {
        self.items
            .get(&i)
            .and_then(|it| it.item.as_ref())
            .and_then(|item| item.get("id"))
            .cloned()
            .unwrap_or(Value::Null)
    }

    /// Sets the part's mark; when it was not set yet, the item's id and the part's text (for
    /// the event the mark stands for).
    fn mark(
        &mut self,
        i: u64,
        content: u64,
        flag: fn(&mut Part) -> &mut bool,
    ) -> Option<(Value, String)> {
        let part = self.part(i, content);
        if std::mem::replace(flag(part), true) {
            return None;
        }
        let text = part.text.clone();
        Some((self.item_id(i), text))
    }

    /// `output_text.done` for a part whose text never got one.
    fn close_text(&mut self, i: u64, content: u64, out: &mut Events) {
        let Some((item_id, text)) = self.mark(i, content, |p| &mut p.text_done) else {
            return;
        };
        self.emit(
            json!({"type": "response.output_text.done", "item_id": item_id, "output_index": i,
                "content_index": content, "text": text}),
            out,
        );
    }

    /// Every open part of item `i` closed (its text's `done`, the part's `done`), and its
    /// arguments' `done`.
    fn close_parts(&mut self, i: u64, out: &mut Events) {
        let contents: Vec<u64> = self
            .items
            .get(&i)
            .map(|it| it.parts.keys().copied().collect())
            .unwrap_or_default();
        for c in contents {
            self.close_text(i, c, out);
            let Some((item_id, text)) = self.mark(i, c, |p| &mut p.done) else {
                continue;
            };
            self.emit(
                json!({"type": "response.content_part.done", "item_id": item_id, "output_index": i,
                    "content_index": c, "part": {"type": "output_text", "text": text, "annotations": []}}),
                out,
            );
        }
        let item_id = self.item_id(i);
        if let Some((args, done)) = self.items.get_mut(&i).and_then(|it| it.arguments.as_mut()) {
            if !*done {
                *done = true;
                let arguments = args.clone();
                self.emit(
                    json!({"type": "response.function_call_arguments.done", "item_id": item_id,
                        "output_index": i, "arguments": arguments}),
                    out,
                );
            }
        }
    }

    fn close_all(&mut self, out: &mut Events) {
        self.close_all_with(&[], out);
    }

    /// Every item not yet closed gets its `done` events; `given` is the terminal response's
    /// output, preferred over what the stream built.
    fn close_all_with(&mut self, given: &[Value], out: &mut Events) {
        let open: Vec<u64> = self
            .items
            .iter()
            .filter(|(_, it)| !it.done)
            .map(|(i, _)| *i)
            .collect();
        for i in open {
            self.close_parts(i, out);
            let item = match given.get(i as usize) {
                Some(g) => g.clone(),
                None => self.built(i),
            };
            let it = self.items.entry(i).or_default();
            it.done = true;
            it.item = Some(item.clone());
            self.emit(
                json!({"type": "response.output_item.done", "output_index": i, "item": item}),
                out,
            );
        }
    }

    /// Item `i` completed from what the stream showed: its text parts, its arguments.
    fn built(&self, i: u64) -> Value {
        let Some(it) = self.items.get(&i) else {
            return Value::Null;
        };
        let mut item = it.item.clone().unwrap_or_else(|| json!({}));
        if !it.parts.is_empty() {
            item["content"] = it
                .parts
                .values()
                .map(|p| json!({"type": "output_text", "text": p.text, "annotations": []}))
                .collect();
        }
        if let Some((args, _)) = &it.arguments {
            item["arguments"] = Value::String(args.clone());
        }
        if item.get("status").is_some() {
            item["status"] = "completed".into();
        }
        item
    }

    fn output(&self) -> Vec<Value> {
        self.items
            .iter()
            .map(|(i, it)| it.item.clone().unwrap_or_else(|| self.built(*i)))
            .collect()
    }

    fn emit(&mut self, v: Value, out: &mut Events) {
        if let Value::Object(m) = v {
            self.emit_map(m, out);
        }
    }

    fn emit_map(&mut self, e: Map<String, Value>, out: &mut Events) {
        out.push(e);
    }
}
