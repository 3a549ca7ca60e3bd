//! The repairs of a native Responses stream, for providers whose Responses API has gaps (see
//! `responses_dialect`): the SSE bytes are read into events, each stage turns an event into
//! the events the client should see, and they are written out again with their
//! `sequence_number`s counted from 0. Pure: bytes in, bytes out, whatever way they were cut.
//!
//! Stages, in order: `lifecycle` (missing `*.done` and terminal events written back), then
//! the output limit (a response the limit cut, reported `completed` as llama.cpp does, made
//! `incomplete`), then `custom_tools` (function calls that stand for freeform tools turned
//! back into `custom_tool_call`s), which can rely on every item having its
//! `output_item.done`.

pub mod custom_tools;
mod lifecycle;
pub mod reasoning;

use crate::sse::SseReader;
use custom_tools::CustomCalls;
use lifecycle::Lifecycle;
use serde_json::{Map, Value};
use std::collections::HashSet;

type Events = Vec<Map<String, Value>>;

pub struct ResponsesRepair {
    reader: SseReader,
    lifecycle: Option<Lifecycle>,
    custom: Option<CustomCalls>,
    /// The request's `max_output_tokens`, when a `completed` at that count is to be read as
    /// cut by it.
    output_limit: Option<u64>,
    seq: u64,
}

impl ResponsesRepair {
    /// `lifecycle`: write back missing lifecycle events; `custom_tools`: the freeform tools
    /// the request declared as functions (none: no mapping).
    pub fn new(max_event_bytes: usize, lifecycle: bool, custom_tools: HashSet<String>) -> Self {
        Self {
            reader: SseReader::new(max_event_bytes),
            lifecycle: lifecycle.then(Lifecycle::default),
            custom: (!custom_tools.is_empty()).then(|| CustomCalls::new(custom_tools)),
            output_limit: None,
            seq: 0,
        }
    }

    /// Reads a `completed` response whose output reached `limit` tokens as cut by it.
    pub fn with_output_limit(mut self, limit: Option<u64>) -> Self {
        self.output_limit = limit;
        self
    }

    /// Whether any stage is on.
    pub fn is_idle(&self) -> bool {
        self.lifecycle.is_none() && self.custom.is_none() && self.output_limit.is_none()
    }

    /// The repaired events of `bytes` (whole events only; a partial one waits for the rest).
    pub fn push(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        self.reader.push(bytes);
        while let Ok(Some(data)) = self.reader.next_event() {
            self.data(&data, out);
        }
    }

    /// The end of the upstream's stream: its last partial event, then what the stages still
    /// owe (a terminal event when none came: completed when `clean`, failed when cut).
    pub fn finish(&mut self, clean: bool, out: &mut Vec<u8>) {
        if let Some(data) = self.reader.finish() {
            self.data(&data, out);
        }
        let mut events = Events::new();
        if let Some(l) = self.lifecycle.as_mut() {
            l.finish(clean, &mut events);
        }
        self.after_lifecycle(events, out);
    }

    fn data(&mut self, data: &[u8], out: &mut Vec<u8>) {
        let Ok(Value::Object(e)) = serde_json::from_slice::<Value>(data) else {
            // `[DONE]` or something that is not an event: as it came.
            out.extend_from_slice(b"data: ");
            out.extend_from_slice(data);
            out.extend_from_slice(b"\n\n");
            return;
        };
        let events = match self.lifecycle.as_mut() {
            Some(l) => {
                let mut events = Events::new();
                l.event(e, &mut events);
                events
            }
            None => vec![e],
        };
        self.after_lifecycle(events, out);
    }

    fn after_lifecycle(&mut self, events: Events, out: &mut Vec<u8>) {
        for mut e in events {
            if let Some(limit) = self.output_limit {
                cut_by_limit(&mut e, limit);
            }
            match self.custom.as_mut() {
                Some(c) => {
                    let mut mapped = Events::new();
                    c.event(e, &mut mapped);
                    for m in mapped {
                        self.write(m, out);
                    }
                }
                None => self.write(e, out),
            }
        }
    }

    fn write(&mut self, mut e: Map<String, Value>, out: &mut Vec<u8>) {
        e.insert("sequence_number".into(), self.seq.into());
        self.seq += 1;
        let kind = e.get("type").and_then(Value::as_str).unwrap_or("");
        if !kind.contains(['\n', '\r']) {
            out.extend_from_slice(b"event: ");
            out.extend_from_slice(kind.as_bytes());
            out.push(b'\n');
        }
        out.extend_from_slice(b"data: ");
        serde_json::to_writer(&mut *out, &e).expect("a JSON map serializes");
        out.extend_from_slice(b"\n\n");
    }
}

/// `response.completed` whose output used the whole `limit`: the limit cut it, so it is
/// `response.incomplete` with the reason, as OpenAI reports it (Codex tells the user the
/// answer was cut instead of taking it as whole).
fn cut_by_limit(e: &mut Map<String, Value>, limit: u64) {
    if e.get("type").and_then(Value::as_str) != Some("response.completed") {
        return;
    }
    let Some(Value::Object(r)) = e.get_mut("response") else {
        return;
    };
    let used = r
        .get("usage")
        .and_then(|u| u.get("output_tokens"))
        .and_then(Value::as_u64);
    if used.is_none_or(|u| u < limit) {
        return;
    }
    r.insert("status".into(), "incomplete".into());
    r.insert(
        "incomplete_details".into(),
        serde_json::json!({"reason": "max_output_tokens"}),
    );
    e.insert("type".into(), "response.incomplete".into());
}
