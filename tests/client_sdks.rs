//! Responses clients other than Codex, as their users run them, against a scripted chat
//! provider that checks the whole history arrives: the Vercel AI SDK (`ai` +
//! `@ai-sdk/openai`, which sends earlier turns as `item_reference`s by default) and the
//! OpenAI Agents SDK (which replays its items).
//!
//! `PLUGBOARD_JS_CLIENTS` and `PLUGBOARD_PYTHON` name where the packages are installed (the
//! project's test script sets both up); without them the tests fail, unless
//! `PLUGBOARD_SKIP_EXTERNAL=1`.

use plugboard_e2e::*;
use serde_json::{json, Value};

/// A DeepSeek-like provider in thinking mode: it reasons before each answer and, like
/// DeepSeek, refuses a follow-up whose tool call lost its reasoning.
fn thinking_provider(body: &Value) -> Reply {
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let text = body["messages"].to_string();
    for m in &messages {
        if m["role"] == "assistant"
            && m["tool_calls"].is_array()
            && m["reasoning_content"].is_null()
        {
            return Reply::Raw {
                status: 400,
                headers: vec![("content-type", "application/json".into())],
                body: json!({"error": {"message": "Missing `reasoning_content` field in the assistant message at message index 1", "type": "invalid_request_error"}}).to_string(),
            };
        }
    }
    if text.contains("tomorrow") {
        return reply_as_asked(
            body,
            reasoned_text("They ask about tomorrow.", "Tomorrow brings rain."),
        );
    }
    if messages.iter().any(|m| m["role"] == "tool") {
        return reply_as_asked(
            body,
            reasoned_text("The tool said sunny.", "It is sunny and 21°C in Paris."),
        );
    }
    reply_as_asked(
        body,
        tool_call_chunks(
            Some("Need the weather tool."),
            "call_w",
            "get_weather",
            r#"{"location":"Paris"}"#,
        ),
    )
}

fn reasoned_text(reasoning: &str, answer: &str) -> Vec<String> {
    let mut chunks = vec![json!({"choices": [{"index": 0, "delta": {"role": "assistant", "reasoning_content": reasoning}}]}).to_string()];
    chunks.extend(text_chunks(&[answer]).into_iter().skip(1));
    chunks
}

#[tokio::test]
async fn the_vercel_ai_sdk_follow_up_keeps_the_history_it_sends_by_reference() {
    let Some(dir) = external_tool("PLUGBOARD_JS_CLIENTS") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let mock = MockUpstream::start(|body, _| thinking_provider(body)).await;
    let proxy = start_proxy(one_provider(&mock.base_url()), "k").await;
    let script = dir.join("vercel_ai_sdk_client.mjs");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/js/vercel_ai_sdk_client.mjs"),
        &script,
    )
    .unwrap();
    let r = run_client_script("node", &script, &[proxy.base_url()]).await;
    assert_eq!(r["first_text"], "It is sunny and 21°C in Paris.", "{r}");
    assert_eq!(r["first_steps"], 2);
    assert_eq!(r["follow_up_text"], "Tomorrow brings rain.", "{r}");

    // What the SDK sent: references to the earlier answer, not the answer itself.
    let follow_up = mock.requests().last().unwrap().body.clone();
    let messages = follow_up["messages"].as_array().unwrap();
    let said = |role: &str, text: &str| {
        messages
            .iter()
            .any(|m| m["role"] == role && m["content"].to_string().contains(text))
    };
    assert!(said("user", "What is the weather in Paris?"), "{follow_up}");
    assert!(
        said("assistant", "It is sunny and 21°C in Paris."),
        "the referenced answer arrived: {follow_up}"
    );
    assert!(said("tool", "sunny"), "{follow_up}");
    let call = messages
        .iter()
        .find(|m| m["tool_calls"].is_array())
        .expect("the tool call is in the history");
    assert_eq!(
        call["reasoning_content"], "Need the weather tool.",
        "its reasoning came back"
    );
    assert_eq!(messages.last().unwrap()["content"], "And tomorrow?");
    proxy.stop().await;
}

#[tokio::test]
async fn the_openai_agents_sdk_runs_its_tool_and_a_replayed_follow_up() {
    let Some(python) = external_tool("PLUGBOARD_PYTHON") else {
        return;
    };
    let mock = MockUpstream::start(|body, _| thinking_provider(body)).await;
    let proxy = start_proxy(one_provider(&mock.base_url()), "k").await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/python/agents_client.py");
    let r = run_client_script(&python, script.as_ref(), &[proxy.base_url()]).await;
    assert_eq!(
        r["tool_calls"],
        json!(["Paris"]),
        "the SDK ran the tool: {r}"
    );
    assert_eq!(r["first"], "It is sunny and 21°C in Paris.", "{r}");
    assert_eq!(r["follow_up"], "Tomorrow brings rain.", "{r}");

    let follow_up = mock.requests().last().unwrap().body.clone();
    let messages = follow_up["messages"].as_array().unwrap();
    assert_eq!(
        messages[0]["role"], "system",
        "the agent's instructions: {follow_up}"
    );
    let call = messages
        .iter()
        .find(|m| m["tool_calls"].is_array())
        .expect("the replayed tool call");
    assert_eq!(call["tool_calls"][0]["function"]["name"], "get_weather");
    assert_eq!(
        call["reasoning_content"], "Need the weather tool.",
        "{follow_up}"
    );
    let result = messages.iter().find(|m| m["role"] == "tool").unwrap();
    assert_eq!(result["tool_call_id"], call["tool_calls"][0]["id"]);
    assert!(messages
        .iter()
        .any(|m| m["role"] == "assistant" && m["content"].to_string().contains("sunny and 21°C")));
    assert_eq!(messages.last().unwrap()["content"], "And tomorrow?");
    proxy.stop().await;
}
