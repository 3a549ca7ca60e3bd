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
use memchr::memmem::Finder;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::LazyLock;

/// The bulk of a stream: text deltas, which no stage changes once their part is open.
static TEXT_DELTA: LazyLock<Finder<'static>> =
    LazyLock::new(|| Finder::new(b"\"response.output_text.delta\""));
static SEQUENCE_NUMBER: LazyLock<Finder<'static>> =
    LazyLock::new(|| Finder::new(b"\"sequence_number\":"));

/// What the fast path reads of a text delta, borrowed from the event's bytes.
#[derive(serde::Deserialize)]
struct TextDelta<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    output_index: Option<u64>,
    content_index: Option<u64>,
    #[serde(borrow)]
    delta: Cow<'a, str>,
}

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
        if self.text_delta(data, out) {
            return;
        }
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

    /// A text delta in a part already open goes out as it came, only renumbered: no stage
    /// changes it, and parsing it into a map and writing it again was most of a repaired
    /// stream's cost (`plugboard-counts`). Anything else, or a delta that opens its part,
    /// goes the long way.
    fn text_delta(&mut self, data: &[u8], out: &mut Vec<u8>) -> bool {
        if TEXT_DELTA.find(data).is_none() {
            return false;
        }
        let Ok(d) = serde_json::from_slice::<TextDelta>(data) else {
            return false;
        };
        let (Some(i), Some(content)) = (d.output_index, d.content_index) else {
            return false;
        };
        if d.kind != "response.output_text.delta" {
            return false;
        }
        if let Some(l) = self.lifecycle.as_mut() {
            if !l.text_in_open_part(i, content, &d.delta) {
                return false;
            }
        }
        let Some(slot) = SequenceSlot::find(data) else {
            return false;
        };
        out.extend_from_slice(b"event: response.output_text.delta\ndata: ");
        slot.write(data, self.seq, out);
        out.extend_from_slice(b"\n\n");
        self.seq += 1;
        true
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

/// Where an event's top-level `sequence_number` is, so that the event can be written out
/// renumbered straight from its bytes (or numbered, when the upstream left it out, as
/// llama.cpp does). Only for events whose one `"sequence_number":` is their own (a text
/// delta's other fields hold no object).
struct SequenceSlot {
    /// Where the number goes.
    at: usize,
    /// The bytes of the old number (with the spaces around it) that it replaces.
    replaced: usize,
    /// The key is not there and is written in before the closing brace.
    with_key: bool,
}

impl SequenceSlot {
    fn find(json: &[u8]) -> Option<SequenceSlot> {
        match SEQUENCE_NUMBER.find(json) {
            Some(key) => {
                let at = key + b"\"sequence_number\":".len();
                let replaced = json[at..]
                    .iter()
                    .position(|b| !(b.is_ascii_digit() || *b == b' '))?;
                json[at..at + replaced]
                    .iter()
                    .any(u8::is_ascii_digit)
                    .then_some(SequenceSlot {
                        at,
                        replaced,
                        with_key: false,
                    })
            }
            None => Some(SequenceSlot {
                at: json.iter().rposition(|b| *b == b'}')?,
                replaced: 0,
                with_key: true,
            }),
        }
    }

    /// `json` with `seq` in the slot, appended to `out`.
    fn write(&self, json: &[u8], seq: u64, out: &mut Vec<u8>) {
        use std::io::Write;
        out.extend_from_slice(&json[..self.at]);
        if self.with_key {
            out.extend_from_slice(b",\"sequence_number\":");
        }
        write!(out, "{seq}").expect("writing to a Vec cannot fail");
        out.extend_from_slice(&json[self.at + self.replaced..]);
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

#[cfg(test)]
mod tests {
    use super::SequenceSlot;

    fn json(v: &[u8]) -> serde_json::Value {
        serde_json::from_slice(v).unwrap()
    }

    fn renumbered(v: &[u8], seq: u64) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        SequenceSlot::find(v)?.write(v, seq, &mut out);
        Some(out)
    }

    #[test]
    fn a_delta_is_renumbered_in_place_or_numbered_when_it_had_none() {
        let with = br#"{"type":"response.output_text.delta","sequence_number": 17,"delta":"hi"}"#;
        assert_eq!(json(&renumbered(with, 3).unwrap())["sequence_number"], 3);
        let without =
            br#"{"type":"response.output_text.delta","delta":"a \"sequence_number\": 9"}"#;
        let out = json(&renumbered(without, 42).unwrap());
        assert_eq!(out["sequence_number"], 42);
        assert_eq!(out["delta"], "a \"sequence_number\": 9");
        // Not a number: left to the long way.
        assert!(renumbered(br#"{"sequence_number":null}"#, 1).is_none());
    }
}
