//! Every JSON reply and every stream event Plugboard sends, validated against the Open
//! Responses specification's own models (`openresponses-types`, strict mode) for text, tool
//! calls, reasoning, failures and incomplete answers.
//!
//! `PLUGBOARD_PYTHON` names a Python with `openresponses-types` installed (the project's test
//! script makes one); without it the test fails, unless `PLUGBOARD_SKIP_EXTERNAL=1`.
//!
//! (Over 400 lines: the Open Responses checks need the whole event sequence of each reply
//! spelled out.)

use plugboard_e2e::*;
use serde_json::{json, Value};

/// A whole (non-streamed) chat completion.
fn whole(message: Value, finish: &str) -> Reply {
    Reply::Raw {
        status: 200,
        headers: vec![("content-type", "application/json".into())],
        body: json!({"id": "c1", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13}})
        .to_string(),
    }
}

/// What the scripted provider answers, chosen by the last user message.
fn answer(body: &Value) -> Reply {
    let said = body["messages"]
        .as_array()
        .and_then(|m| m.last())
        .map(|m| m["content"].to_string())
        .unwrap_or_default();
    let stream = body["stream"] == true;
    if said.contains("Context checkpoint") {
        return whole(
            json!({"role": "assistant", "content": "The user is renaming `parse_args` to `parse_cli` in src/cli.rs; the rename is done, the tests remain."}),
            "stop",
        );
    }
    if said.contains("weather") {
        if !stream {
            return whole(
                json!({"role": "assistant", "content": null, "reasoning_content": "Need the weather tool.",
                    "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"location\":\"Paris\"}"}}]}),
                "tool_calls",
            );
        }
        return Reply::Sse(tool_call_chunks(
            Some("Need the weather tool."),
            "call_1",
            "get_weather",
            r#"{"location":"Paris"}"#,
        ));
    }
    if said.contains("long") {
        if !stream {
            return whole(json!({"role": "assistant", "content": "One two"}), "length");
        }
        let mut chunks = text_chunks(&["One", " two"]);
        chunks[3] =
            json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]}).to_string();
        return Reply::Sse(chunks);
    }
    if said.contains("break") {
        let mut chunks = text_chunks(&["Half"]);
        chunks.truncate(2);
        chunks.push("{not json".into());
        return Reply::Sse(chunks);
    }
    if !stream {
        return whole(
            json!({"role": "assistant", "content": "Hello there, friend."}),
            "stop",
        );
    }
    Reply::Sse(text_chunks(&["Hello", " there,", " friend."]))
}

fn weather_tool() -> Value {
    json!({"type": "function", "name": "get_weather", "description": "Get the weather",
        "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}})
}

#[tokio::test]
async fn replies_and_events_validate_against_the_open_responses_models() {
    let Some(python) = external_tool("PLUGBOARD_PYTHON") else {
        return;
    };
    let mock = MockUpstream::start(|body, _| answer(body)).await;
    let proxy = start_proxy(one_provider(&mock.base_url()), "k").await;
    let mut cases = Vec::new();
    for stream in [false, true] {
        let tag = if stream { "stream" } else { "json" };
        let user = |text: &str| json!([{"type": "message", "role": "user", "content": text}]);
        cases.push(json!({"name": format!("text-{tag}"), "body": {
            "model": "gpt-5.5", "stream": stream,
            "input": [{"type": "message", "role": "system", "content": "Be brief."},
                      {"type": "message", "role": "user", "content": "Say hello."}]}}));
        cases.push(json!({"name": format!("tool-{tag}"), "body": {
            "model": "gpt-5.5", "stream": stream, "input": user("What is the weather in Paris?"),
            "tools": [weather_tool()], "reasoning": {"effort": "low"}}}));
        cases.push(json!({"name": format!("incomplete-{tag}"), "body": {
            "model": "gpt-5.5", "stream": stream, "input": user("Write something long."),
            "max_output_tokens": 2, "temperature": 0.2, "top_p": 0.9,
            "metadata": {"run": "7"}, "prompt_cache_key": "k1", "safety_identifier": "u1",
            "text": {"format": {"type": "text"}}}}));
    }
    cases.push(json!({"name": "failed-stream", "body": {
        "model": "gpt-5.5", "stream": true,
        "input": [{"type": "message", "role": "user", "content": "Please break."}]}}));
    cases.push(json!({"name": "multi-turn-string-input", "body": {
        "model": "gpt-5.5", "stream": true, "input": "Say hello."}}));
    cases.push(
        json!({"name": "compact", "path": "/responses/compact", "body": {
        "model": "gpt-5.5", "input": long_history()}}),
    );

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/python/spec_validate.py");
    let args = [proxy.base_url(), Value::Array(cases).to_string()];
    let r = run_client_script(&python, script.as_ref(), &args).await;

    let mut all_errors = Vec::new();
    for (name, case) in r.as_object().unwrap() {
        for e in case["errors"].as_array().unwrap() {
            all_errors.push(format!("{name}: {}", e.as_str().unwrap()));
        }
    }
    assert!(
        all_errors.is_empty(),
        "not valid per the specification:\n{}",
        all_errors.join("\n")
    );

    // What each case must show beyond validity.
    let status = |name: &str| r[name]["response"]["status"].clone();
    for tag in ["json", "stream"] {
        assert_eq!(status(&format!("text-{tag}")), "completed");
        assert_eq!(status(&format!("tool-{tag}")), "completed");
        assert_eq!(status(&format!("incomplete-{tag}")), "incomplete");
        let tool = &r[format!("tool-{tag}")]["response"];
        let types: Vec<&str> = tool["output"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["type"].as_str().unwrap())
            .collect();
        assert_eq!(types, ["reasoning", "function_call"], "{tag}");
        assert_eq!(tool["tools"][0]["strict"], false, "echoed with `strict`");
        let inc = &r[format!("incomplete-{tag}")]["response"];
        assert_eq!(
            inc["incomplete_details"]["reason"], "max_output_tokens",
            "{inc}"
        );
        assert_eq!(inc["temperature"], 0.2);
        assert_eq!(inc["top_p"], 0.9);
        assert_eq!(inc["metadata"], json!({"run": "7"}));
        assert_eq!(inc["prompt_cache_key"], "k1");
        assert_eq!(inc["safety_identifier"], "u1");
        assert!(
            inc["completed_at"].is_null(),
            "only a completed answer has completed_at"
        );
        let text = &r[format!("text-{tag}")]["response"];
        assert!(text["completed_at"].as_u64().unwrap() >= text["created_at"].as_u64().unwrap());
        assert_eq!(text["text"], json!({"format": {"type": "text"}}));
        assert_eq!(text["truncation"], "disabled");
    }
    let compacted = &r["compact"]["response"];
    assert_eq!(compacted["object"], "response.compaction");
    assert_eq!(compacted["usage"]["total_tokens"], 13);
    compacted_history_keeps_its_memory(&proxy, &mock, compacted).await;

    let failed = &r["failed-stream"]["response"];
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["error"]["code"], "bad_upstream_response");
    let events: Vec<&str> = r["tool-stream"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    for needed in [
        "response.created",
        "response.in_progress",
        "response.reasoning_summary_text.delta",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ] {
        assert!(events.contains(&needed), "{needed} in {events:?}");
    }
    proxy.stop().await;
}

/// A session long enough to compact: two user requests, tool calls and their results.
fn long_history() -> Value {
    json!([
        {"type": "message", "role": "developer", "content": "You are a coding agent."},
        {"type": "message", "role": "user", "content": "Rename parse_args to parse_cli in src/cli.rs."},
        {"type": "function_call", "call_id": "c1", "name": "exec_command", "arguments": "{\"cmd\":\"grep -rn parse_args src\"}"},
        {"type": "function_call_output", "call_id": "c1", "output": "src/cli.rs:10: fn parse_args() {}\n".repeat(50)},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Renamed in src/cli.rs."}]},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Now run the tests."}]},
    ])
}

/// The compacted window sent back as input: the provider gets the summary and the user's
/// recent words, not the old tool traffic.
async fn compacted_history_keeps_its_memory(
    proxy: &plugboard_server::ProxyHandle,
    mock: &MockUpstream,
    compacted: &Value,
) {
    let summary_request = mock
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.body.to_string().contains("Context checkpoint"))
        .expect("the provider was asked for a summary");
    let asked = summary_request.body.to_string();
    assert!(
        asked.contains("grep -rn parse_args"),
        "the whole history is summarised"
    );
    assert!(
        summary_request.body["tools"].is_null(),
        "no tools while summarising"
    );

    let mut input = compacted["output"].as_array().unwrap().clone();
    input.push(json!({"type": "message", "role": "user", "content": "What were we doing?"}));
    let r = post_responses(
        &proxy.base_url(),
        &json!({"model": "gpt-5.5", "stream": true, "input": input}),
    )
    .await;
    assert_eq!(terminal(&read_sse(r).await)["status"], "completed");
    let sent = mock.requests().last().unwrap().body.clone();
    let messages = sent["messages"].as_array().unwrap();
    let text = sent["messages"].to_string();
    assert!(
        text.contains("Summary of the conversation so far")
            && text.contains("the rename is done, the tests remain"),
        "the summary is context: {text}"
    );
    assert!(
        text.contains("Now run the tests."),
        "recent user words kept: {text}"
    );
    assert!(
        !text.contains("src/cli.rs:10"),
        "old tool output gone: {text}"
    );
    assert_eq!(messages.last().unwrap()["content"], "What were we doing?");
}

#[tokio::test]
async fn input_files_reach_the_provider_as_its_dialect_says() {
    use base64::Engine;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let pdf = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/files/report.pdf"
    ))
    .unwrap();
    let content = json!([
        {"type": "input_text", "text": "Summarise these."},
        {"type": "input_file", "filename": "report.pdf", "file_data": format!("data:application/pdf;base64,{}", b64(&pdf))},
        {"type": "input_file", "filename": "todo.txt", "file_data": b64(b"1. ship\n2. rest\n")},
    ]);
    let body = json!({"model": "gpt-5.5", "stream": true,
        "input": [{"type": "message", "role": "user", "content": content}]});
    let mock = MockUpstream::start(|_, _| Reply::Sse(text_chunks(&["ok"]))).await;

    // DeepSeek's chat API takes no file parts: the files arrive as their text.
    let proxy = start_proxy(one_provider(&mock.base_url()), "k").await;
    let r = post_responses(&proxy.base_url(), &body).await;
    assert_eq!(terminal(&read_sse(r).await)["status"], "completed");
    let user = mock.requests().last().unwrap().body["messages"][0]["content"].clone();
    let text = user
        .as_str()
        .expect("plain text for a provider without file parts");
    assert!(
        text.starts_with("Summarise these.\n<file name=\"report.pdf\">"),
        "{text}"
    );
    assert!(
        text.contains("Quarterly revenue grew 12 percent."),
        "the PDF's text: {text}"
    );
    assert!(
        text.contains("<file name=\"todo.txt\">\n1. ship\n2. rest\n</file>"),
        "{text}"
    );

    // An image given as a file cannot become text: refused, naming the part and provider.
    let png = json!({"model": "gpt-5.5", "input": [{"type": "message", "role": "user", "content": [
        {"type": "input_text", "text": "What is this?"},
        {"type": "input_file", "filename": "pic.png", "file_data": format!("data:image/png;base64,{}", b64(&[0x89, b'P', b'N', b'G', 0, 0]))},
    ]}]});
    let before = mock.requests().len();
    let r = post_responses(&proxy.base_url(), &png).await;
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["param"], "input[0].content[1]", "{e}");
    let message = e["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("pic.png") && message.contains("provider `mock`"),
        "{message}"
    );
    assert_eq!(mock.requests().len(), before, "nothing was sent");
    proxy.stop().await;

    // OpenRouter's takes them: the files go as file parts.
    let mut settings = one_provider(&mock.base_url());
    settings.providers[0].preset = Some("openrouter".into());
    let proxy = start_proxy(settings, "k").await;
    let r = post_responses(&proxy.base_url(), &body).await;
    assert_eq!(terminal(&read_sse(r).await)["status"], "completed");
    let parts = mock.requests().last().unwrap().body["messages"][0]["content"].clone();
    assert_eq!(
        parts[0],
        json!({"type": "text", "text": "Summarise these."})
    );
    assert_eq!(parts[1]["type"], "file");
    assert_eq!(parts[1]["file"]["filename"], "report.pdf");
    assert_eq!(
        parts[1]["file"]["file_data"],
        format!("data:application/pdf;base64,{}", b64(&pdf))
    );
    assert_eq!(
        parts[2]["file"]["file_data"],
        format!("data:text/plain;base64,{}", b64(b"1. ship\n2. rest\n"))
    );
    proxy.stop().await;
}

/// The scripted provider for the AI SDK run: a tool call, then an answer once the tool's
/// result is in the history; plain text otherwise.
fn sdk_answer(body: &Value) -> Reply {
    let messages = body["messages"].to_string();
    let stream = body["stream"] == true;
    if messages.contains("\"tool\"") {
        if !stream {
            return whole(
                json!({"role": "assistant", "content": "It is sunny and 21°C in Paris."}),
                "stop",
            );
        }
        return Reply::Sse(text_chunks(&["It is sunny", " and 21°C in Paris."]));
    }
    if messages.contains("weather") {
        if !stream {
            return whole(
                json!({"role": "assistant", "content": null, "tool_calls": [{"id": "call_sdk", "type": "function",
                    "function": {"name": "get_weather", "arguments": "{\"location\":\"Paris\"}"}}]}),
                "tool_calls",
            );
        }
        return Reply::Sse(tool_call_chunks(
            None,
            "call_sdk",
            "get_weather",
            r#"{"location":"Paris"}"#,
        ));
    }
    if !stream {
        return whole(json!({"role": "assistant", "content": "Hello!"}), "stop");
    }
    if messages.contains("Count") {
        return Reply::Sse(text_chunks(&["One,", " two,", " three."]));
    }
    Reply::Sse(text_chunks(&["Hello!"]))
}

/// `@ai-sdk/open-responses` (a client built on the specification) through Plugboard.
/// `PLUGBOARD_JS_CLIENTS` names a folder with it installed (the project's test script
/// makes one); without it the test fails, unless `PLUGBOARD_SKIP_EXTERNAL=1`.
#[tokio::test]
async fn the_ai_sdk_open_responses_provider_works_through_plugboard() {
    let Some(dir) = external_tool("PLUGBOARD_JS_CLIENTS") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let mock = MockUpstream::start(|body, _| sdk_answer(body)).await;
    let proxy = start_proxy(one_provider(&mock.base_url()), "k").await;
    // ES modules resolve packages from the script's own folder.
    let script = dir.join("open_responses_client.mjs");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/js/open_responses_client.mjs"),
        &script,
    )
    .unwrap();
    let r = run_client_script("node", &script, &[proxy.base_url()]).await;
    assert_eq!(r["text"], "Hello!", "{r}");
    assert_eq!(r["text_finish"], "stop");
    assert_eq!(r["text_usage"]["inputTokens"], 9, "{r}");
    assert_eq!(
        r["tool_calls"],
        json!(["Paris"]),
        "the SDK ran the tool: {r}"
    );
    assert_eq!(r["weather_text"], "It is sunny and 21°C in Paris.", "{r}");
    assert_eq!(r["weather_steps"], 2);
    assert_eq!(r["streamed"], "One, two, three.");
    assert!(
        r["deltas"].as_u64().unwrap() >= 3,
        "streamed piece by piece: {r}"
    );
    assert_eq!(r["stream_finish"], "stop");
    assert_eq!(r["stream_usage"]["outputTokens"], 7, "{r}");

    // The tool round trip reached the provider whole: the call and its result.
    let second = mock
        .requests()
        .into_iter()
        .find(|q| q.body["messages"].to_string().contains("\"tool\""))
        .expect("the follow-up reached the provider");
    let messages = second.body["messages"].as_array().unwrap();
    let call = messages
        .iter()
        .find(|m| m["role"] == "assistant")
        .expect("the assistant's call is in the history");
    assert_eq!(call["tool_calls"][0]["function"]["name"], "get_weather");
    let result = messages.iter().find(|m| m["role"] == "tool").unwrap();
    assert_eq!(result["tool_call_id"], call["tool_calls"][0]["id"]);
    assert!(
        result["content"].as_str().unwrap().contains("sunny"),
        "{result}"
    );
    proxy.stop().await;
}
