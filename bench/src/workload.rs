//! Requests like Codex's: small (≈4 KB: system prompt, a question, two tools) and large
//! (≈300 KB: Codex's real tool list and a long tool-call history), plus the equivalent
//! Chat Completions body for the direct baseline.

use bytes::Bytes;
use plugboard_translate::{translate_request, Dialect, TranslateOptions};
use serde_json::{json, Value};

const CODEX_TURN: &str =
    include_str!("../../tests/fixtures/codex-0.169.0/turn2-after-exec_command.json");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    Small,
    Large,
}

impl Size {
    pub fn label(self) -> &'static str {
        match self {
            Size::Small => "small (4 KB)",
            Size::Large => "large (300 KB)",
        }
    }
}

pub fn responses_body(size: Size) -> Value {
    let mut base: Value = serde_json::from_str(CODEX_TURN).expect("fixture");
    base["model"] = json!("gpt-5.5");
    base["stream"] = json!(true);
    match size {
        Size::Small => {
            let tools: Vec<Value> = base["tools"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|t| t["name"] == "exec_command" || t["name"] == "apply_patch")
                .cloned()
                .collect();
            let mut body = json!({
                "model": "gpt-5.5",
                "stream": true,
                "store": false,
                "tools": tools,
                "tool_choice": "auto",
                "parallel_tool_calls": true,
                "input": [
                    {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": ""}]},
                    {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "List the files in src and tell me what the project does."}]}
                ]
            });
            let room = 4096usize.saturating_sub(body.to_string().len());
            body["input"][0]["content"][0]["text"] =
                json!("You are a coding agent. ".repeat(room / 24 + 1));
            body
        }
        Size::Large => {
            let input = base["input"].as_array_mut().unwrap();
            let output = "drwxr-xr-x  src/\n-rw-r--r--  Cargo.toml\n".repeat(40);
            let mut n = 0;
            while serde_json::to_string(&*input).unwrap().len() < 300 * 1024 {
                input.push(json!({"type": "function_call", "call_id": format!("call_h{n}"), "name": "exec_command", "arguments": format!("{{\"cmd\": \"ls -la dir{n}\"}}")}));
                input.push(json!({"type": "function_call_output", "call_id": format!("call_h{n}"), "output": output}));
                n += 1;
            }
            base
        }
    }
}

/// The same request as Chat Completions, what a client talking to the upstream directly sends.
pub fn chat_body(responses: &Value) -> Bytes {
    let req: plugboard_wire::responses::ResponsesRequest =
        serde_json::from_value(responses.clone()).expect("valid request");
    let t = translate_request(
        &req,
        &[],
        &TranslateOptions {
            upstream_model: "mock-model",
            dialect: &Dialect::default(),
            response_id: "resp_bench".into(),
            created_at: 0,
        },
    )
    .expect("translates");
    Bytes::from(serde_json::to_vec(&t.chat).unwrap())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_as_named() {
        let small = responses_body(Size::Small).to_string().len();
        let large = responses_body(Size::Large).to_string().len();
        assert!((3500..6000).contains(&small), "{small}");
        assert!((300 * 1024..340 * 1024).contains(&large), "{large}");
        assert!(chat_body(&responses_body(Size::Small)).len() > 1000);
    }
}
