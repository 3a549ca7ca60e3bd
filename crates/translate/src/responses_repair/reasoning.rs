//! Reasoning items in the history a Responses provider is sent back, per provider: kept
//! (OpenAI reads its encrypted reasoning; DeepSeek wants its own back on tool-call steps),
//! stripped (providers that refuse or misread reasoning input, as Kimi's chat API does), or
//! cut to their summaries (a provider that takes reasoning items but not content or
//! encrypted blobs it did not make).

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasoningReplay {
    #[default]
    Keep,
    Strip,
    Summary,
}

/// The input with its reasoning items as `mode` says; `None` when nothing changes.
pub fn replay(items: &[Box<RawValue>], mode: ReasoningReplay) -> Option<Vec<Box<RawValue>>> {
    if mode == ReasoningReplay::Keep {
        return None;
    }
    let is_reasoning = |raw: &RawValue| {
        // Cheap first look: only items that name the type are parsed.
        raw.get().contains("\"reasoning\"")
            && serde_json::from_str::<Value>(raw.get())
                .ok()
                .is_some_and(|v| v.get("type").and_then(Value::as_str) == Some("reasoning"))
    };
    if !items.iter().any(|r| is_reasoning(r)) {
        return None;
    }
    let mut out = Vec::with_capacity(items.len());
    for raw in items {
        if !is_reasoning(raw) {
            out.push(raw.clone());
            continue;
        }
        if mode == ReasoningReplay::Summary {
            let mut v: Value = serde_json::from_str(raw.get()).expect("parsed above");
            if let Some(o) = v.as_object_mut() {
                o.remove("encrypted_content");
                o.remove("content");
                o.entry("summary")
                    .or_insert_with(|| Value::Array(Vec::new()));
            }
            out.push(serde_json::value::to_raw_value(&v).expect("a JSON value serializes"));
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn raw(items: &[Value]) -> Vec<Box<RawValue>> {
        items
            .iter()
            .map(|v| serde_json::value::to_raw_value(v).unwrap())
            .collect()
    }

    #[test]
    fn reasoning_is_kept_stripped_or_cut_to_its_summary() {
        let items = raw(&[
            json!({"type": "message", "role": "user", "content": "the word reasoning inside"}),
            json!({"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "plan"}],
                "content": [{"type": "reasoning_text", "text": "long"}], "encrypted_content": "gAAA"}),
            json!({"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"}),
        ]);
        assert!(replay(&items, ReasoningReplay::Keep).is_none());
        let stripped = replay(&items, ReasoningReplay::Strip).unwrap();
        assert_eq!(stripped.len(), 2);
        assert!(!stripped[1].get().contains("reasoning"));
        let summary = replay(&items, ReasoningReplay::Summary).unwrap();
        let r: Value = serde_json::from_str(summary[1].get()).unwrap();
        assert_eq!(
            r,
            json!({"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "plan"}]})
        );
        // No reasoning item: nothing copied.
        assert!(replay(&items[..1], ReasoningReplay::Strip).is_none());
    }
}
