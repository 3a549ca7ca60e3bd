//! Helpers shared by the golden and property tests.
#![allow(dead_code)]

use plugboard_translate::{translate_request, Dialect, ResponseContext, TranslateOptions};
use plugboard_wire::chat::ChatChunk;
use plugboard_wire::responses::ResponsesRequest;
use serde_json::Value;

/// Long strings (Codex's system prompt, tool grammars) replaced by a prefix, their length
/// and a hash: snapshots stay readable and still change when a byte changes.
pub fn abbreviate(v: Value) -> Value {
    match v {
        Value::String(s) if s.chars().count() > 160 => {
            let head: String = s.chars().take(60).collect();
            let hash = s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
            });
            Value::String(format!("{head}…<{} chars, fnv {hash:016x}>", s.len()))
        }
        Value::Array(a) => Value::Array(a.into_iter().map(abbreviate).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, abbreviate(v))).collect()),
        other => other,
    }
}

/// The context of a small Codex-like request: exec_command, apply_patch, local_shell and a
/// namespaced tool.
pub fn codex_like_context() -> ResponseContext {
    codex_like_context_for(&Dialect::default())
}

/// The same for a local runtime's dialect (inline thinking and text tool calls repaired).
pub fn local_context() -> ResponseContext {
    codex_like_context_for(&Dialect {
        think_tags: true,
        text_tool_calls: true,
        ..Dialect::default()
    })
}

pub fn codex_like_context_for(dialect: &Dialect) -> ResponseContext {
    let req: ResponsesRequest = serde_json::from_value(serde_json::json!({
        "model": "deepseek-chat",
        "stream": true,
        "tools": [
            {"type": "function", "name": "exec_command", "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}}},
            {"type": "custom", "name": "apply_patch", "description": "patch", "format": {"type": "grammar", "syntax": "lark", "definition": "start: x"}},
            {"type": "local_shell"},
            {"type": "namespace", "name": "multi_agent_v1", "tools": [{"type": "function", "name": "spawn_agent", "parameters": {"type": "object", "properties": {}}}]}
        ],
        "input": "hi"
    }))
    .unwrap();
    translate_request(
        &req,
        &[],
        &TranslateOptions {
            upstream_model: "m",
            dialect,
            response_id: "resp_test".into(),
            created_at: 1_700_000_000,
        },
    )
    .unwrap()
    .context
}

/// The chunks of an SSE body as a provider sends it; `None` marks `[DONE]`.
pub fn parse_sse(text: &str) -> Vec<Option<ChatChunk>> {
    text.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            if d == "[DONE]" {
                None
            } else {
                Some(serde_json::from_str(d).unwrap_or_else(|e| panic!("{d}: {e}")))
            }
        })
        .collect()
}
