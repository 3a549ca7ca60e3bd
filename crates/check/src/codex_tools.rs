//! The requests the check sends, shaped as Codex sends them: Codex's own tool definitions
//! (taken from a request Codex 0.169 sent), `store: false`, reasoning asked back encrypted,
//! the prompt as developer and user messages. The prompts are short, to spend few tokens.

use serde_json::{json, Value};
use std::sync::OnceLock;

/// A first turn the Codex CLI sent; its `tools` are what a model meets in a Codex session.
const CODEX_TURN: &str = include_str!("../../../tests/fixtures/codex-0.169.0/turn1-gpt-5.5.json");

const DEVELOPER: &str = "You are a coding agent running in the user's terminal. Act through the \
    tools you are given; do not describe what you would do. Keep answers short.";

/// Codex's function and freeform tools (the hosted ones, web and tool search, are left out:
/// a chat provider never sees them).
pub fn tools() -> &'static Vec<Value> {
    static TOOLS: OnceLock<Vec<Value>> = OnceLock::new();
    TOOLS.get_or_init(|| {
        let turn: Value = serde_json::from_str(CODEX_TURN).expect("the fixture is JSON");
        turn["tools"]
            .as_array()
            .expect("the fixture has tools")
            .iter()
            .filter(|t| matches!(t["type"].as_str(), Some("function" | "custom")))
            .cloned()
            .collect()
    })
}

fn message(role: &str, text: &str) -> Value {
    let kind = if role == "assistant" {
        "output_text"
    } else {
        "input_text"
    };
    json!({"type": "message", "role": role, "content": [{"type": kind, "text": text}]})
}

/// A streamed request with Codex's fields; `tools` off for the plain text step.
pub fn request(model: &str, input: Vec<Value>, with_tools: bool) -> Value {
    let mut body = json!({
        "model": model,
        "stream": true,
        "store": false,
        "include": ["reasoning.encrypted_content"],
        "input": input,
        "reasoning": {"effort": "low"},
        // Enough for a thinking model's thoughts and a call; a check never needs more.
        "max_output_tokens": 4096,
    });
    if with_tools {
        body["tools"] = Value::Array(tools().clone());
        body["tool_choice"] = "auto".into();
        body["parallel_tool_calls"] = false.into();
    }
    body
}

pub fn text_turn() -> Vec<Value> {
    vec![
        message("developer", DEVELOPER),
        message("user", "Say hello in five words or fewer."),
    ]
}

pub fn shell_turn() -> Vec<Value> {
    vec![
        message("developer", DEVELOPER),
        message(
            "user",
            "Use the exec_command tool to run `echo plugboard` in the shell.",
        ),
    ]
}

pub fn patch_turn() -> Vec<Value> {
    vec![
        message("developer", DEVELOPER),
        message(
            "user",
            "Create a new file named hello.txt whose only line is `hello`. Use the apply_patch \
             tool, not the shell.",
        ),
    ]
}

/// What Codex sends back after running the call: the turn, the model's output items as they
/// came (reasoning with its encrypted content, the call), and the command's output in
/// Codex's own format.
pub fn result_turn(turn: Vec<Value>, output: &[Value], call_id: &str) -> Vec<Value> {
    let mut input = turn;
    for item in output {
        let mut item = item.clone();
        // Codex sends items back without the status the stream gave them.
        if let Some(o) = item.as_object_mut() {
            o.remove("status");
        }
        input.push(item);
    }
    input.push(json!({
        "type": "function_call_output",
        "call_id": call_id,
        "output": "Chunk ID: 3f2a91\nWall time: 0.0102 seconds\nProcess exited with code 0\nOriginal token count: 2\nOutput:\nplugboard\n",
    }));
    input
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codex_tools_include_the_two_a_session_needs() {
        let names: Vec<&str> = tools().iter().filter_map(|t| t["name"].as_str()).collect();
        assert!(names.contains(&"exec_command"), "{names:?}");
        assert!(names.contains(&"apply_patch"), "{names:?}");
        let patch = tools().iter().find(|t| t["name"] == "apply_patch").unwrap();
        assert_eq!(patch["type"], "custom", "apply_patch is freeform");
    }
}
