//! Property tests: any chunking of the same answer gives the same final response; no input
//! makes the translators panic.

mod common;
use common::codex_like_context;
use plugboard_translate::{
    translate_request, Dialect, StreamEnd, StreamTranslator, TranslateOptions,
};
use plugboard_wire::chat::{
    ChatChunk, ChatUsage, ChunkChoice, Delta, FunctionDelta, ToolCallDelta,
};
use plugboard_wire::responses::ResponsesRequest;
use proptest::prelude::*;
use serde_json::{json, Value};

/// One logical answer: reasoning, text, then tool calls (name, arguments).
#[derive(Debug, Clone)]
struct Answer {
    reasoning: String,
    text: String,
    calls: Vec<(String, String)>,
}

fn split(s: &str, cuts: &[usize]) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (chars.len() + 1)).collect();
    points.push(0);
    points.push(chars.len());
    points.sort_unstable();
    points.dedup();
    points
        .windows(2)
        .map(|w| chars[w[0]..w[1]].iter().collect())
        .collect()
}

fn chunk(delta: Delta) -> ChatChunk {
    ChatChunk {
        choices: vec![ChunkChoice {
            index: 0,
            delta,
            finish_reason: None,
        }],
        ..Default::default()
    }
}

/// The answer as chunks, each string cut at the given places.
fn chunks(a: &Answer, cuts: &[usize], with_index: bool) -> Vec<ChatChunk> {
    let mut out = Vec::new();
    for piece in split(&a.reasoning, cuts)
        .into_iter()
        .filter(|p| !p.is_empty())
    {
        out.push(chunk(Delta {
            reasoning_content: Some(piece),
            ..Default::default()
        }));
    }
    for piece in split(&a.text, cuts).into_iter().filter(|p| !p.is_empty()) {
        out.push(chunk(Delta {
            content: Some(piece),
            ..Default::default()
        }));
    }
    for (i, (name, args)) in a.calls.iter().enumerate() {
        for (k, piece) in split(args, cuts).into_iter().enumerate() {
            out.push(chunk(Delta {
                tool_calls: vec![ToolCallDelta {
                    index: with_index.then_some(i as u32),
                    id: (k == 0).then(|| format!("call_{i}")),
                    function: Some(FunctionDelta {
                        name: (k == 0).then(|| name.clone()),
                        arguments: Some(piece),
                    }),
                }],
                ..Default::default()
            }));
        }
    }
    let mut last = chunk(Delta::default());
    last.choices[0].finish_reason = Some(plugboard_wire::chat::FinishReason::Stop);
    last.usage = Some(ChatUsage {
        prompt_tokens: Some(10),
        completion_tokens: Some(5),
        ..Default::default()
    });
    out.push(last);
    out
}

fn final_output(chunks: Vec<ChatChunk>) -> Value {
    let mut t = StreamTranslator::new(codex_like_context());
    t.start();
    for c in chunks {
        t.push(c);
    }
    t.finish(StreamEnd::Done);
    let r = t.final_response().unwrap();
    json!({"output": r.output, "usage": r.usage, "status": r.status})
}

fn answer() -> impl Strategy<Value = Answer> {
    let tool = prop_oneof![
        Just("exec_command".to_string()),
        Just("apply_patch".to_string()),
        Just("multi_agent_v1__spawn_agent".to_string())
    ];
    (
        "[a-z é思]{0,40}",
        "[a-zA-Z0-9 \n\"{}]{0,60}",
        prop::collection::vec((tool, "\\{\"[a-z]{1,5}\": \"[a-z \\\\n]{0,30}\"\\}"), 0..3),
    )
        .prop_map(|(reasoning, text, calls)| Answer {
            reasoning,
            text,
            calls,
        })
}

proptest! {
    #[test]
    fn any_chunking_gives_the_same_final_output(a in answer(), cuts in prop::collection::vec(0usize..200, 0..12)) {
        let whole = final_output(chunks(&a, &[], true));
        prop_assert_eq!(&final_output(chunks(&a, &cuts, true)), &whole);
        // Providers without `index` (id on the first piece only) give the same result too.
        prop_assert_eq!(&final_output(chunks(&a, &cuts, false)), &whole);
    }

    #[test]
    fn arbitrary_chunks_never_panic_and_always_terminate(raw in prop::collection::vec(any_json(), 0..8), eof in any::<bool>()) {
        let mut t = StreamTranslator::new(codex_like_context());
        t.start();
        for v in raw {
            if let Ok(c) = serde_json::from_value::<ChatChunk>(v) {
                t.push(c);
            }
        }
        let ev = t.finish(if eof { StreamEnd::Eof } else { StreamEnd::Done });
        prop_assert!(t.is_finished());
        prop_assert!(ev.last().map(|e| e.event_type().starts_with("response.")).unwrap_or(false));
    }

    #[test]
    fn arbitrary_input_items_never_panic(items in prop::collection::vec(any_json(), 0..8)) {
        let req: ResponsesRequest = serde_json::from_value(json!({"model": "m", "input": items})).unwrap();
        let _ = translate_request(&req, &[], &TranslateOptions { upstream_model: "m", dialect: &Dialect::default(), response_id: "resp_p".into(), created_at: 0 });
    }
}

/// JSON values biased towards the shapes both APIs use.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[a-z_]{0,12}".prop_map(Value::from),
        prop_oneof![
            Just("message"),
            Just("function_call"),
            Just("function_call_output"),
            Just("reasoning"),
            Just("custom_tool_call"),
            Just("local_shell_call"),
            Just("assistant"),
            Just("user"),
            Just("input_image")
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("type".to_string()),
                    Just("role".to_string()),
                    Just("content".to_string()),
                    Just("choices".to_string()),
                    Just("delta".to_string()),
                    Just("tool_calls".to_string()),
                    Just("index".to_string()),
                    Just("id".to_string()),
                    Just("function".to_string()),
                    Just("name".to_string()),
                    Just("arguments".to_string()),
                    Just("call_id".to_string()),
                    Just("output".to_string()),
                    Just("text".to_string()),
                    Just("finish_reason".to_string()),
                    Just("usage".to_string())
                ],
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
