//! `POST /responses/compact` for chat providers. The routed model is asked for a summary of
//! the history; the compacted window is the user's recent messages plus one `compaction`
//! item whose content is Plugboard's own blob holding that summary. Sent back as input on a
//! later turn, the item becomes the summary as context, so a compacted session keeps its
//! memory on a provider that has no compaction of its own.

use crate::compaction_item::encode_summary;
use crate::request::{translate_request, TranslateOptions, Translation};
use plugboard_wire::responses::{
    Input, InputItem, MessageContent, OutputItem, ResponsesRequest, ToInputItem,
};
use plugboard_wire::ParseError;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

/// How much of the user's own words the compacted window keeps verbatim, newest first
/// (about 20,000 tokens); older messages live on in the summary.
const KEPT_USER_CHARS: usize = 80_000;

/// What the model is asked at the end of the history.
pub const SUMMARY_PROMPT: &str = "Context checkpoint. Another model will continue this conversation from a summary instead of the full history above. Write that summary now: the user's goals, constraints and preferences; the decisions taken and why; what has been done so far (files touched, commands run and their results, errors met); what remains to do and the next step; and every name, path, identifier or value the work depends on. Write it as plain prose and lists, complete but without repetition. Do not call tools.";

/// `POST /responses/compact` body (Open Responses `CompactResponseMethodPublicBody`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CompactRequest {
    pub model: String,
    #[serde(default)]
    pub input: Input,
    #[serde(default)]
    pub previous_response_id: Option<String>,
    #[serde(default)]
    pub instructions: Option<String>,
}

/// The chat request that asks for the summary: the history translated as for an ordinary
/// request (no tools), then the summary prompt. The context reads the answer back.
pub fn summary_request(
    req: &CompactRequest,
    history: &[Value],
    opts: &TranslateOptions<'_>,
) -> Result<Translation, ParseError> {
    let as_request = ResponsesRequest {
        model: req.model.clone(),
        input: req.input.clone(),
        instructions: req.instructions.clone(),
        store: Some(false),
        ..Default::default()
    };
    let mut t = translate_request(&as_request, history, opts)?;
    t.chat.messages.push(plugboard_wire::chat::ChatMessage {
        role: plugboard_wire::chat::Role::User,
        content: Some(plugboard_wire::chat::ChatContent::Text(
            SUMMARY_PROMPT.into(),
        )),
        ..Default::default()
    });
    Ok(t)
}

/// The `compaction` item holding Plugboard's summary.
pub fn compaction_item(summary: &str, response_id: &str) -> OutputItem {
    let tail = response_id.strip_prefix("resp_").unwrap_or(response_id);
    OutputItem::Compaction {
        id: format!("cmp_{tail}"),
        encrypted_content: encode_summary(summary),
    }
}

/// Whether an input item is Codex's `{"type": "compaction_trigger"}` (remote compaction v2:
/// the answer must be one `compaction` item).
pub fn is_trigger(raw: &RawValue) -> bool {
    let json = raw.get();
    json.len() < 512
        && json.contains("compaction_trigger")
        && serde_json::from_str::<Value>(json)
            .is_ok_and(|v| v.get("type").and_then(Value::as_str) == Some("compaction_trigger"))
}

/// The compacted window: the user's most recent messages (as many as fit the budget, in
/// their order) and the compaction item. `items` is the whole history, oldest first.
pub fn compacted_output(items: &[Value], summary: &str, response_id: &str) -> Vec<Value> {
    let tail = response_id.strip_prefix("resp_").unwrap_or(response_id);
    let mut kept = Vec::new();
    let mut budget = KEPT_USER_CHARS;
    for item in items.iter().rev() {
        let Ok(InputItem::Message(m)) = item.to_input_item() else {
            continue;
        };
        if m.role != "user" {
            continue;
        }
        let texts: Vec<String> = match m.content {
            MessageContent::Text(t) => vec![t],
            MessageContent::Parts(parts) => parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str).map(str::to_string))
                .collect(),
        };
        let len: usize = texts.iter().map(String::len).sum();
        if len == 0 {
            continue;
        }
        if len > budget {
            break;
        }
        budget -= len;
        kept.push(texts);
    }
    kept.reverse();
    let mut out: Vec<Value> = kept
        .into_iter()
        .enumerate()
        .map(|(i, texts)| {
            let content: Vec<Value> = texts
                .into_iter()
                .map(|t| json!({"type": "input_text", "text": t}))
                .collect();
            json!({"type": "message", "id": format!("msg_{tail}_{i}"), "status": "completed", "role": "user", "content": content})
        })
        .collect();
    out.push(serde_json::to_value(compaction_item(summary, response_id)).expect("serializes"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compaction_item::{context_text, decode_summary};

    #[test]
    fn the_window_keeps_recent_user_words_and_the_summary() {
        let items: Vec<Value> = vec![
            json!({"type": "message", "role": "developer", "content": "system rules"}),
            json!({"type": "message", "role": "user", "content": "fix the parser"}),
            json!({"type": "function_call", "call_id": "c", "name": "shell", "arguments": "{}"}),
            json!({"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "done"}]}),
            json!({"type": "message", "role": "user", "content": [{"type": "input_text", "text": "now the tests"}]}),
        ];
        let out = compacted_output(&items, "Parser fixed; tests next.", "resp_abc");
        assert_eq!(out.len(), 3);
        assert_eq!(out[0]["content"][0]["text"], "fix the parser");
        assert_eq!(out[1]["content"][0]["text"], "now the tests");
        assert_eq!(out[1]["id"], "msg_abc_1");
        assert_eq!(out[2]["type"], "compaction");
        assert_eq!(
            decode_summary(out[2]["encrypted_content"].as_str().unwrap()).as_deref(),
            Some("Parser fixed; tests next.")
        );
        assert_eq!(
            decode_summary("plugboard.v1:aGk="),
            None,
            "a reasoning blob is not a summary"
        );
    }

    #[test]
    fn a_compaction_item_sent_back_becomes_the_summary_and_a_foreign_one_is_skipped() {
        let req: ResponsesRequest = serde_json::from_value(json!({"model": "m", "input": [
            {"type": "compaction", "id": "cmp_1", "encrypted_content": encode_summary("We fixed the parser.")},
            {"type": "compaction", "id": "cmp_2", "encrypted_content": "gAAAAB-openai-opaque"},
            {"type": "message", "role": "user", "content": "Go on."},
        ]}))
        .unwrap();
        let opts = TranslateOptions {
            upstream_model: "m",
            dialect: &crate::Dialect::default(),
            response_id: "resp_t".into(),
            created_at: 0,
        };
        let chat = serde_json::to_value(translate_request(&req, &[], &opts).unwrap().chat).unwrap();
        assert_eq!(
            chat["messages"],
            json!([
                {"role": "user", "content": context_text("We fixed the parser.")},
                {"role": "user", "content": "Go on."},
            ])
        );
    }

    #[test]
    fn old_user_messages_past_the_budget_live_on_in_the_summary_only() {
        let big = "x".repeat(KEPT_USER_CHARS - 8);
        let items = vec![
            json!({"type": "message", "role": "user", "content": "old"}),
            json!({"type": "message", "role": "user", "content": big}),
            json!({"type": "message", "role": "user", "content": "newest"}),
        ];
        let out = compacted_output(&items, "s", "resp_x");
        let texts: Vec<usize> = out[..out.len() - 1]
            .iter()
            .map(|m| m["content"][0]["text"].as_str().unwrap().len())
            .collect();
        assert_eq!(texts, vec![KEPT_USER_CHARS - 8, 6], "`old` no longer fits");
    }
}
