//! The repairs of recorded native-Responses streams: a vLLM-style stream without its `*.done`
//! events comes out whole and in order, a complete stream comes out as it went in, an abrupt
//! end gets a terminal event; a call of a freeform tool's stand-in function comes out as the
//! custom tool call it stands for; the result never depends on where the bytes were cut.

use plugboard_translate::responses_repair::ResponsesRepair;
use serde_json::Value;
use std::collections::HashSet;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/streams/responses/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn repair_in(chunks: &[&[u8]], clean: bool) -> Vec<u8> {
    run(
        ResponsesRepair::new(1 << 20, true, HashSet::new()),
        chunks,
        clean,
    )
}

fn run(mut r: ResponsesRepair, chunks: &[&[u8]], clean: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for c in chunks {
        r.push(c, &mut out);
    }
    r.finish(clean, &mut out);
    out
}

fn events(sse: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(sse)
        .split("\n\n")
        .filter_map(|block| {
            let data: Vec<&str> = block
                .lines()
                .filter_map(|l| l.strip_prefix("data: "))
                .collect();
            (!data.is_empty()).then(|| serde_json::from_str(&data.join("\n")).unwrap())
        })
        .collect()
}

fn kinds(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            let kind = e["type"].as_str().unwrap();
            match e["output_index"].as_u64() {
                Some(i) => format!("{kind}[{i}]"),
                None => kind.to_string(),
            }
        })
        .collect()
}

#[test]
fn a_stream_without_done_events_comes_out_whole() {
    let out = events(&repair_in(&[&fixture("vllm-no-done-events.sse")], true));
    assert_eq!(
        kinds(&out),
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added[0]",
            "response.content_part.added[0]",
            "response.output_text.delta[0]",
            "response.output_text.delta[0]",
            "response.output_item.added[1]",
            "response.function_call_arguments.delta[1]",
            "response.function_call_arguments.delta[1]",
            // Written by the repair, in the order OpenAI sends them:
            "response.output_text.done[0]",
            "response.content_part.done[0]",
            "response.output_item.done[0]",
            "response.function_call_arguments.done[1]",
            "response.output_item.done[1]",
            "response.completed",
        ]
    );
    let seqs: Vec<u64> = out
        .iter()
        .map(|e| e["sequence_number"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (0..out.len() as u64).collect::<Vec<_>>());
    assert_eq!(out[9]["text"], "Let me list the files.");
    let call = &out[13]["item"];
    assert_eq!(call["type"], "function_call");
    assert_eq!(call["call_id"], "call_b2");
    assert_eq!(call["arguments"], "{\"cmd\": \"ls\"}");
    assert_eq!(call["status"], "completed");
    // The terminal response's empty output filled from the stream.
    let output = out.last().unwrap()["response"]["output"]
        .as_array()
        .unwrap();
    assert_eq!(output.len(), 2);
    assert_eq!(output[0]["content"][0]["text"], "Let me list the files.");
    assert_eq!(output[1]["name"], "exec_command");
    assert_eq!(
        out.last().unwrap()["response"]["usage"]["input_tokens"],
        812
    );
}

#[test]
fn a_complete_stream_comes_out_as_it_went_in() {
    let repaired = repair_in(&[&fixture("vllm-no-done-events.sse")], true);
    let again = events(&repair_in(&[&repaired], true));
    assert_eq!(again, events(&repaired));
}

#[test]
fn where_the_bytes_are_cut_changes_nothing() {
    let input = fixture("vllm-no-done-events.sse");
    let whole = repair_in(&[&input], true);
    for cut in 1..input.len() {
        let (a, b) = input.split_at(cut);
        assert_eq!(repair_in(&[a, b], true), whole, "cut at {cut}");
    }
}

#[test]
fn an_abrupt_end_gets_a_terminal_event() {
    let input = fixture("vllm-no-done-events.sse");
    let text = String::from_utf8(input).unwrap();
    let cut = text.find("event: response.completed").unwrap();
    let out = events(&repair_in(&[&text.as_bytes()[..cut]], false));
    let end = out.last().unwrap();
    assert_eq!(end["type"], "response.failed");
    assert_eq!(end["response"]["id"], "resp_vllm1");
    assert_eq!(end["response"]["output"].as_array().unwrap().len(), 2);
    // A clean end of the body without a terminal event: completed.
    let out = events(&repair_in(&[&text.as_bytes()[..cut]], true));
    assert_eq!(out.last().unwrap()["type"], "response.completed");
    assert_eq!(
        kinds(&out)
            .iter()
            .filter(|k| k.starts_with("response.output_item.done"))
            .count(),
        2
    );
}

#[test]
fn items_only_the_terminal_response_shows_are_added_and_closed() {
    let input = br#"data: {"type":"response.created","response":{"id":"r","output":[]}}

data: {"type":"response.completed","response":{"id":"r","status":"completed","output":[{"type":"function_call","id":"fc_1","call_id":"c1","name":"f","arguments":"{}"}]}}

"#;
    let out = events(&repair_in(&[input], true));
    assert_eq!(
        kinds(&out),
        [
            "response.created",
            "response.output_item.added[0]",
            "response.output_item.done[0]",
            "response.completed"
        ]
    );
    assert_eq!(out[2]["item"]["call_id"], "c1");
}

fn freeform(chunks: &[&[u8]]) -> Vec<u8> {
    let names = HashSet::from(["apply_patch".to_string()]);
    run(ResponsesRepair::new(1 << 20, false, names), chunks, true)
}

#[test]
fn a_stand_in_function_call_comes_out_as_the_freeform_call() {
    let input = fixture("ollama-apply-patch-as-function.sse");
    let out = events(&freeform(&[&input]));
    assert_eq!(
        kinds(&out),
        [
            "response.created",
            "response.output_item.added[0]",
            "response.custom_tool_call_input.delta[0]",
            "response.custom_tool_call_input.done[0]",
            "response.output_item.done[0]",
            "response.completed",
        ]
    );
    let patch = "*** Begin Patch\n*** Add File: a.txt\n+a\n*** End Patch\n";
    assert_eq!(out[1]["item"]["type"], "custom_tool_call");
    assert_eq!(out[3]["input"], patch);
    let done = &out[4]["item"];
    assert_eq!(done["type"], "custom_tool_call");
    assert_eq!(done["call_id"], "call_o1");
    assert_eq!(done["input"], patch);
    assert!(done.get("arguments").is_none());
    let output = &out[5]["response"]["output"][0];
    assert_eq!(output["type"], "custom_tool_call");
    assert_eq!(output["input"], patch);
    let whole = freeform(&[&input]);
    for cut in 1..input.len() {
        let (a, b) = input.split_at(cut);
        assert_eq!(freeform(&[a, b]), whole, "cut at {cut}");
    }
    // Other functions' calls are left as they are.
    let other = run(
        ResponsesRepair::new(1 << 20, false, HashSet::from(["other".to_string()])),
        &[&input],
        true,
    );
    assert_eq!(events(&other), events(&input));
}

#[test]
fn a_completed_answer_that_used_the_whole_limit_is_incomplete() {
    // llama.cpp's server says `completed` when `max_output_tokens` cut the answer.
    let input = br#"data: {"type":"response.created","response":{"id":"r","output":[]}}

data: {"type":"response.completed","response":{"id":"r","status":"completed","output":[],"usage":{"input_tokens":9,"output_tokens":16,"total_tokens":25}}}

"#;
    let limited = |limit| {
        let r = ResponsesRepair::new(1 << 20, false, HashSet::new()).with_output_limit(limit);
        events(&run(r, &[input], true))
    };
    let cut = limited(Some(16));
    let end = cut.last().unwrap();
    assert_eq!(end["type"], "response.incomplete");
    assert_eq!(end["response"]["status"], "incomplete");
    assert_eq!(
        end["response"]["incomplete_details"]["reason"],
        "max_output_tokens"
    );
    // Under the limit: whole.
    assert_eq!(
        limited(Some(64)).last().unwrap()["type"],
        "response.completed"
    );
}

#[test]
fn events_that_name_their_item_by_id_only_get_their_index_and_numbers() {
    // llama.cpp's server: no `output_index`, no `sequence_number`, no arguments `done`.
    let input = fixture("llamacpp-no-indices.sse");
    let out = events(&repair_in(&[&input], true));
    assert_eq!(
        kinds(&out),
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added[0]",
            "response.content_part.added[0]",
            "response.output_text.delta[0]",
            "response.output_text.done[0]",
            "response.content_part.done[0]",
            "response.output_item.done[0]",
            "response.output_item.added[1]",
            "response.function_call_arguments.delta[1]",
            "response.function_call_arguments.delta[1]",
            "response.function_call_arguments.done[1]",
            "response.output_item.done[1]",
            "response.completed",
        ]
    );
    assert_eq!(out[11]["arguments"], "{\"city\": \"Paris\"}");
    assert_eq!(out[3]["content_index"], 0);
    let whole = repair_in(&[&input], true);
    for cut in (1..input.len()).step_by(7) {
        let (a, b) = input.split_at(cut);
        assert_eq!(repair_in(&[a, b], true), whole, "cut at {cut}");
    }
}
