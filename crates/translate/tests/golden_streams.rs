//! Golden tests: provider-style chunk streams → the Responses events Plugboard emits.

mod common;
use common::{codex_like_context, local_context, parse_sse};
use plugboard_translate::ResponseContext;
use plugboard_translate::{SseWriter, StreamEnd, StreamTranslator};
use serde_json::Value;

/// Runs a recorded stream through the translator, as the server does, and returns every
/// event as JSON (sequence numbers included).
fn run(name: &str) -> Vec<Value> {
    run_in(name, codex_like_context())
}

/// The same for a local runtime's dialect.
fn run_local(name: &str) -> Vec<Value> {
    run_in(name, local_context())
}

fn run_in(name: &str, ctx: ResponseContext) -> Vec<Value> {
    let path = format!("{}/tests/streams/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut t = StreamTranslator::new(ctx);
    let mut w = SseWriter::default();
    let mut out = Vec::new();
    w.write(&t.start(), &mut out);
    let mut done = false;
    for chunk in parse_sse(&text) {
        match chunk {
            Some(c) => w.write(&t.push(c), &mut out),
            None => {
                w.write(&t.finish(StreamEnd::Done), &mut out);
                done = true;
            }
        }
    }
    if !done {
        w.write(&t.finish(StreamEnd::Eof), &mut out);
    }
    let text = String::from_utf8(out).unwrap();
    let mut events = Vec::new();
    for block in text.split("\n\n").filter(|b| !b.is_empty()) {
        let (event_line, data_line) = block.split_once('\n').unwrap();
        let data: Value = serde_json::from_str(data_line.strip_prefix("data: ").unwrap()).unwrap();
        assert_eq!(
            event_line.strip_prefix("event: ").unwrap(),
            data["type"],
            "event name = type"
        );
        events.push(data);
    }
    check_invariants(name, &events);
    // Snapshots without the echoed request, which every response object repeats.
    events.into_iter().map(strip_echo).collect()
}

fn strip_echo(mut e: Value) -> Value {
    if let Some(r) = e.get_mut("response").and_then(Value::as_object_mut) {
        for k in [
            "tools",
            "tool_choice",
            "instructions",
            "max_output_tokens",
            "parallel_tool_calls",
            "previous_response_id",
            "reasoning",
            "store",
            "temperature",
            "top_p",
            "text",
            "max_tool_calls",
            "presence_penalty",
            "frequency_penalty",
            "top_logprobs",
            "truncation",
            "background",
            "service_tier",
            "metadata",
            "safety_identifier",
            "prompt_cache_key",
            "user",
        ] {
            r.remove(k);
        }
        // The one time-dependent field: a time for a completed response, null otherwise.
        let completed = r["status"] == "completed";
        match r.remove("completed_at") {
            Some(Value::Number(n))
                if completed && n.as_u64().is_some_and(|t| t >= 1_700_000_000) => {}
            Some(Value::Null) if !completed => {}
            other => panic!("completed_at {other:?} for status {}", r["status"]),
        }
    }
    e
}

/// What Codex requires of every stream, checked on every fixture.
fn check_invariants(name: &str, events: &[Value]) {
    assert_eq!(events[0]["type"], "response.created", "{name}");
    assert_eq!(events[1]["type"], "response.in_progress", "{name}");
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["sequence_number"], i as u64, "{name}: sequence");
    }
    let last = events.last().unwrap();
    let terminal = [
        "response.completed",
        "response.incomplete",
        "response.failed",
    ];
    assert!(
        terminal.contains(&last["type"].as_str().unwrap()),
        "{name}: ends with a terminal event"
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| terminal.contains(&e["type"].as_str().unwrap()))
            .count(),
        1,
        "{name}"
    );
    if last["type"] != "response.failed" {
        // Every added item is done, and the final output is exactly the done items.
        let added: Vec<&Value> = events
            .iter()
            .filter(|e| e["type"] == "response.output_item.added")
            .map(|e| &e["item"]["id"])
            .collect();
        let done: Vec<&Value> = events
            .iter()
            .filter(|e| e["type"] == "response.output_item.done")
            .map(|e| &e["item"])
            .collect();
        assert_eq!(added.len(), done.len(), "{name}");
        assert_eq!(
            &last["response"]["output"]
                .as_array()
                .unwrap()
                .iter()
                .collect::<Vec<_>>(),
            &done,
            "{name}"
        );
        if let Some(u) = last["response"]["usage"].as_object() {
            for k in ["input_tokens", "output_tokens", "total_tokens"] {
                assert!(u[k].is_u64(), "{name}: usage.{k}");
            }
        }
    }
    for e in events {
        if e["type"] == "response.reasoning_summary_text.delta" {
            assert!(e["summary_index"].is_u64(), "{name}: summary_index");
        }
    }
}

macro_rules! golden {
    ($test:ident, $file:literal) => {
        #[test]
        fn $test() {
            insta::assert_json_snapshot!(run($file));
        }
    };
    ($test:ident, $file:literal, local) => {
        #[test]
        fn $test() {
            insta::assert_json_snapshot!(run_local($file));
        }
    };
}

golden!(
    deepseek_reasoning_content_then_streamed_tool_call,
    "deepseek-reasoning-then-tool.sse"
);
golden!(
    openrouter_reasoning_field_then_text,
    "openrouter-reasoning-text.sse"
);
golden!(
    tool_arguments_whole_in_one_chunk,
    "ollama-tool-args-in-one-chunk.sse"
);
golden!(
    id_only_in_first_chunk_without_index_custom_tool,
    "id-only-in-first-chunk-no-index.sse"
);
golden!(several_calls_in_one_chunk, "several-calls-in-one-chunk.sse");
golden!(
    interleaved_parallel_arguments,
    "interleaved-parallel-args.sse"
);
golden!(usage_only_in_a_final_chunk, "usage-only-final-chunk.sse");
golden!(no_usage_and_no_done, "no-usage-no-done.sse");
golden!(finish_reason_length_is_incomplete, "length-cut.sse");
golden!(
    dropped_mid_stream_fails_without_half_calls,
    "dropped-mid-stream.sse"
);
golden!(error_object_inside_the_stream, "error-inside-stream.sse");
golden!(
    inline_think_tags_cut_across_chunks_become_reasoning,
    "qwen-inline-think.sse",
    local
);

golden!(
    hermes_text_tool_call_after_inline_thinking,
    "hermes-think-then-text-tool-call.sse",
    local
);
golden!(
    mistral_text_tool_calls,
    "mistral-text-tool-calls.sse",
    local
);
golden!(llama_python_tag_call, "llama-python-tag-call.sse", local);
golden!(
    bare_json_call_as_the_whole_message,
    "bare-json-call.sse",
    local
);
golden!(
    text_tool_call_look_alikes_stay_text,
    "text-tool-call-look-alikes.sse",
    local
);

/// The output items' types and, for calls, name and arguments, of a local-dialect run.
fn calls_of(file: &str) -> Vec<(String, String, String)> {
    let events = run_local(file);
    events.last().unwrap()["response"]["output"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let s = |k: &str| i[k].as_str().unwrap_or("").to_string();
            (
                s("type"),
                s("name"),
                if i["type"] == "custom_tool_call" {
                    s("input")
                } else {
                    s("arguments")
                },
            )
        })
        .collect()
}

#[test]
fn text_tool_calls_become_calls_in_every_format() {
    let t = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
    assert_eq!(
        calls_of("hermes-think-then-text-tool-call.sse"),
        vec![
            t("reasoning", "", ""),
            t("message", "", ""),
            t("function_call", "exec_command", r#"{"cmd":"ls -la"}"#)
        ]
    );
    assert_eq!(
        calls_of("mistral-text-tool-calls.sse"),
        vec![
            t("function_call", "exec_command", r#"{"cmd":"ls"}"#),
            t(
                "custom_tool_call",
                "apply_patch",
                "*** Begin Patch\n*** Add File: a.txt\n+hi\n*** End Patch\n"
            ),
        ]
    );
    assert_eq!(
        calls_of("llama-python-tag-call.sse"),
        vec![t("function_call", "exec_command", r#"{"cmd":"pwd"}"#)]
    );
    assert_eq!(
        calls_of("bare-json-call.sse"),
        vec![t(
            "function_call",
            "exec_command",
            r#"{"cmd":"git status"}"#
        )]
    );
    assert_eq!(
        calls_of("text-tool-call-look-alikes.sse"),
        vec![t("message", "", "")]
    );
    // Without the dialect switch, the markup is the answer's text.
    let plain = run("hermes-think-then-text-tool-call.sse");
    let text = plain.last().unwrap()["response"]["output"][0]["content"][0]["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(text.contains("<tool_call>"), "{text}");
}

#[test]
fn inline_thinking_is_text_where_the_dialect_does_not_split_it() {
    let events = run("qwen-inline-think.sse");
    let done = events
        .iter()
        .find(|e| e["type"] == "response.output_item.done")
        .unwrap();
    assert_eq!(done["item"]["type"], "message");
    assert!(done["item"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .starts_with("<think>"));
}

#[test]
fn custom_tool_input_is_unwrapped_for_codex() {
    let events = run("id-only-in-first-chunk-no-index.sse");
    let done = events
        .iter()
        .find(|e| e["type"] == "response.output_item.done")
        .unwrap();
    assert_eq!(done["item"]["type"], "custom_tool_call");
    assert_eq!(done["item"]["call_id"], "call_a");
    assert_eq!(
        done["item"]["input"],
        "*** Begin Patch\n*** Add File: a.txt\n+hello\n*** End Patch\n"
    );
}

#[test]
fn reasoning_round_trips_through_encrypted_content() {
    let events = run("deepseek-reasoning-then-tool.sse");
    let done = events
        .iter()
        .find(|e| e["type"] == "response.output_item.done")
        .unwrap();
    let blob = done["item"]["encrypted_content"].as_str().unwrap();
    assert_eq!(
        plugboard_translate::reasoning_blob::decode(blob).as_deref(),
        Some("I should list the files.")
    );
}
