//! Golden tests: Responses request bodies (the Codex CLI's real ones and hand-made edge
//! cases) → the Chat Completions body sent upstream. Snapshots live in `snapshots/`.

use plugboard_translate::{
    translate_request, Dialect, MaxTokensField, ReasoningSwitch, TranslateOptions,
};
use plugboard_wire::responses::ResponsesRequest;
use serde_json::Value;

mod common;
use common::abbreviate;

fn fixture(path: &str) -> ResponsesRequest {
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    plugboard_wire::parse_json(&bytes).expect("fixture parses")
}

fn codex(name: &str) -> ResponsesRequest {
    fixture(&format!("../../tests/fixtures/codex-0.169.0/{name}"))
}

fn translate(req: &ResponsesRequest, dialect: &Dialect) -> Value {
    let t = translate_request(
        req,
        &[],
        &TranslateOptions {
            upstream_model: "upstream-model",
            dialect,
            response_id: "resp_test".into(),
            created_at: 0,
        },
    )
    .expect("translates");
    abbreviate(serde_json::to_value(&t.chat).unwrap())
}

fn deepseek() -> Dialect {
    Dialect {
        reasoning_switch: ReasoningSwitch::None,
        reasoning_echo: true,
        ..Dialect::default()
    }
}

#[test]
fn codex_turn1_known_model() {
    insta::assert_json_snapshot!(translate(&codex("turn1-gpt-5.5.json"), &Dialect::default()));
}

#[test]
fn codex_turn1_unknown_model_with_namespace_tools() {
    insta::assert_json_snapshot!(translate(
        &codex("turn1-unknown-model.json"),
        &Dialect::default()
    ));
}

#[test]
fn codex_turn2_reasoning_is_echoed_for_deepseek() {
    insta::assert_json_snapshot!(translate(
        &codex("turn2-after-exec_command.json"),
        &deepseek()
    ));
}

#[test]
fn codex_turn3_custom_tool_call_history() {
    insta::assert_json_snapshot!(translate(
        &codex("turn3-after-apply_patch.json"),
        &Dialect::default()
    ));
}

#[test]
fn hand_mixed_edge_cases() {
    insta::assert_json_snapshot!(translate(
        &fixture("tests/requests/hand-mixed.json"),
        &Dialect::default()
    ));
}

#[test]
fn hand_mixed_with_a_restrictive_dialect() {
    let d = Dialect {
        max_tokens_field: MaxTokensField::MaxCompletionTokens,
        reasoning_switch: ReasoningSwitch::ThinkingObject,
        developer_role: true,
        content_parts: false,
        parallel_tool_calls: false,
        stream_usage: false,
        ..Dialect::default()
    };
    insta::assert_json_snapshot!(translate(&fixture("tests/requests/hand-mixed.json"), &d));
}

/// Facts every Codex turn must satisfy, whatever the snapshots say.
#[test]
fn codex_requests_keep_every_call_paired_with_its_result() {
    for name in [
        "turn1-gpt-5.5.json",
        "turn1-unknown-model.json",
        "turn2-after-exec_command.json",
        "turn3-after-apply_patch.json",
    ] {
        let v = translate(&codex(name), &deepseek());
        let msgs = v["messages"].as_array().unwrap();
        assert_eq!(msgs[0]["role"], "system", "{name}");
        for (i, m) in msgs.iter().enumerate() {
            if let Some(calls) = m["tool_calls"].as_array() {
                for (k, c) in calls.iter().enumerate() {
                    assert_eq!(
                        msgs[i + 1 + k]["tool_call_id"],
                        c["id"],
                        "{name}: call {k} of message {i}"
                    );
                }
            }
        }
        let tools = v["tools"].as_array().unwrap();
        for t in tools {
            let n = t["function"]["name"].as_str().unwrap();
            assert!(plugboard_translate::tool_names::is_valid(n), "{name}: {n}");
        }
        assert_eq!(v["stream_options"]["include_usage"], true);
    }
}

/// `tool_choice` naming a function inside a namespace picks the flattened name the tool was
/// declared under, not a bare name the model was never offered.
#[test]
fn tool_choice_keeps_the_namespace_of_a_namespaced_function() {
    let req: ResponsesRequest = plugboard_wire::parse_json(
        serde_json::json!({
            "model": "m",
            "input": "think",
            "tools": [
                {"type": "namespace", "name": "mcp__thinking__", "description": "", "tools": [
                    {"type": "function", "name": "sequentialthinking", "description": "d",
                     "parameters": {"type": "object", "properties": {}}}
                ]},
                {"type": "function", "name": "sequentialthinking", "description": "another",
                 "parameters": {"type": "object", "properties": {}}}
            ],
            "tool_choice": {"type": "function", "name": "sequentialthinking", "namespace": "mcp__thinking__"}
        })
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    let chat = translate(&req, &Dialect::default());
    let chosen = chat["tool_choice"]["function"]["name"].as_str().unwrap();
    let declared: Vec<&str> = chat["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(chosen, "mcp__thinking____sequentialthinking");
    assert!(declared.contains(&chosen), "{declared:?}");
}

/// A keyword the provider refuses is dropped from every tool Codex sends, the freeform
/// `apply_patch` whose schema Plugboard writes included (the Codex check found it kept).
#[test]
fn schema_rules_reach_the_tools_plugboard_writes_itself() {
    let d = Dialect {
        schema_drop: vec!["additionalProperties".into()],
        ..Dialect::default()
    };
    let v = translate(&codex("turn1-gpt-5.5.json"), &d);
    let tools = v["tools"].as_array().unwrap();
    assert!(
        tools.iter().any(|t| t["function"]["name"] == "apply_patch"),
        "{v}"
    );
    for t in tools {
        let schema = t["function"]["parameters"].to_string();
        assert!(
            !schema.contains("additionalProperties"),
            "{}: {schema}",
            t["function"]["name"]
        );
    }
}
