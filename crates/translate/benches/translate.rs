//! The translator alone: a large Codex-like request (≈300 KB) to a chat body, and a stream
//! of chunks to Responses events.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use plugboard_translate::{
    translate_request, Dialect, SseWriter, StreamEnd, StreamTranslator, TranslateOptions,
};
use plugboard_wire::chat::ChatChunk;
use plugboard_wire::responses::ResponsesRequest;
use serde_json::{json, Value};

fn large_request() -> Vec<u8> {
    let mut v: Value = serde_json::from_str(include_str!(
        "../../../tests/fixtures/codex-0.169.0/turn3-after-apply_patch.json"
    ))
    .unwrap();
    let input = v["input"].as_array_mut().unwrap();
    let output = "drwxr-xr-x  src/\n-rw-r--r--  Cargo.toml\n".repeat(40);
    let mut n = 0;
    while serde_json::to_string(&*input).unwrap().len() < 300 * 1024 {
        input.push(json!({"type": "function_call", "call_id": format!("c{n}"), "name": "exec_command", "arguments": "{\"cmd\": \"ls\"}"}));
        input.push(
            json!({"type": "function_call_output", "call_id": format!("c{n}"), "output": output}),
        );
        n += 1;
    }
    serde_json::to_vec(&v).unwrap()
}

fn opts(d: &Dialect) -> TranslateOptions<'_> {
    TranslateOptions {
        upstream_model: "m",
        dialect: d,
        response_id: "resp_bench".into(),
        created_at: 0,
    }
}

fn chunks() -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..10 {
        out.push(json!({"choices": [{"index": 0, "delta": {"reasoning_content": format!("thinking {i} ")}}]}).to_string());
    }
    for i in 0..100 {
        out.push(
            json!({"choices": [{"index": 0, "delta": {"content": format!("token{i} ")}}]})
                .to_string(),
        );
    }
    out.push(json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "call_1", "function": {"name": "exec_command", "arguments": "{\"cmd\":"}}]}}]}).to_string());
    out.push(json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "\"ls\"}"}}]}}]}).to_string());
    out.push(json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}], "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}).to_string());
    out
}

/// A local model's stream: thinking inline, the answer, then a call printed as Hermes text.
fn local_chunks() -> Vec<String> {
    let content =
        |c: String| json!({"choices": [{"index": 0, "delta": {"content": c}}]}).to_string();
    let mut out = vec![content("<think>".into())];
    for i in 0..10 {
        out.push(content(format!("thinking {i} ")));
    }
    out.push(content("</think>\n\n".into()));
    for i in 0..100 {
        out.push(content(format!("token{i} ")));
    }
    out.push(content("<tool_call>\n{\"name\": \"exec_command\", ".into()));
    out.push(content("\"arguments\": {\"cmd\": \"ls\"}}".into()));
    out.push(content("\n</tool_call>".into()));
    out.push(json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}).to_string());
    out
}

/// One stream through the translator, as the server runs it.
fn bench_stream(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    ctx: &plugboard_translate::ResponseContext,
    raw: &[String],
) {
    g.throughput(Throughput::Elements(raw.len() as u64));
    g.bench_function(name, |b| {
        b.iter_batched(
            || StreamTranslator::new(ctx.clone()),
            |mut t| {
                let mut w = SseWriter::default();
                let mut out = Vec::with_capacity(64 * 1024);
                w.write(&t.start(), &mut out);
                for c in raw {
                    let chunk: ChatChunk = serde_json::from_str(c).unwrap();
                    w.write(&t.push(chunk), &mut out);
                }
                w.write(&t.finish(StreamEnd::Done), &mut out);
                out
            },
            BatchSize::SmallInput,
        )
    });
}

fn bench(c: &mut Criterion) {
    let body = large_request();
    let dialect = Dialect::default();
    let mut g = c.benchmark_group("request");
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("parse + translate + serialize, 300 KB Codex request", |b| {
        b.iter(|| {
            let req: ResponsesRequest = plugboard_wire::parse_json(&body).unwrap();
            let t = translate_request(&req, &[], &opts(&dialect)).unwrap();
            serde_json::to_vec(&t.chat).unwrap()
        })
    });
    // The same three steps one by one, to see where the time goes.
    g.bench_function("parse only, 300 KB Codex request", |b| {
        b.iter(|| plugboard_wire::parse_json::<ResponsesRequest>(&body).unwrap())
    });
    let parsed: ResponsesRequest = plugboard_wire::parse_json(&body).unwrap();
    g.bench_function("translate only, 300 KB Codex request", |b| {
        b.iter(|| translate_request(&parsed, &[], &opts(&dialect)).unwrap())
    });
    let chat = translate_request(&parsed, &[], &opts(&dialect))
        .unwrap()
        .chat;
    g.bench_function("serialize only, 300 KB Codex request", |b| {
        b.iter(|| serde_json::to_vec(&chat).unwrap())
    });
    g.finish();

    let req: ResponsesRequest = serde_json::from_value(json!({"model": "gpt-5.5", "input": "hi", "tools": [{"type": "function", "name": "exec_command", "parameters": {"type": "object"}}]})).unwrap();
    let ctx = translate_request(&req, &[], &opts(&dialect))
        .unwrap()
        .context;
    let raw = chunks();
    let mut g = c.benchmark_group("stream");
    bench_stream(
        &mut g,
        "parse chunk + translate + write SSE, per stream of 113 chunks",
        &ctx,
        &raw,
    );
    // The local runtimes' repairs (inline thinking, text tool calls) on: the same plain
    // stream (their cost when there is nothing to repair), then a stream that needs both.
    let local = Dialect {
        think_tags: true,
        text_tool_calls: true,
        ..Dialect::default()
    };
    let local_ctx = translate_request(&req, &[], &opts(&local)).unwrap().context;
    bench_stream(
        &mut g,
        "the same 113 chunks with the local repairs on",
        &local_ctx,
        &raw,
    );
    bench_stream(
        &mut g,
        "inline thinking + Hermes text call, 116 chunks, repairs on",
        &local_ctx,
        &local_chunks(),
    );
    g.finish();
}

/// The pass-through's check of a 300 KB Codex history before it leaves for a Responses
/// provider: nothing to change (the common case: the items are its own or unknown), and a
/// session that changed provider (every reasoning item another's, dropped).
fn bench_provenance(c: &mut Criterion) {
    use plugboard_translate::provenance::{clean, content_key};
    let body = large_request();
    let req: ResponsesRequest = plugboard_wire::parse_json(&body).unwrap();
    let plugboard_wire::responses::Input::Items(items) = &req.input else {
        unreachable!()
    };
    let mut g = c.benchmark_group("provenance");
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("clean, 300 KB Codex history, nothing to change", |b| {
        b.iter(|| clean(items, "openai", &|_| None).items.is_none())
    });
    let foreign = content_key("opaque-blob-1");
    g.bench_function(
        "clean, 300 KB Codex history, another provider's reasoning",
        |b| {
            b.iter(|| {
                clean(items, "openai", &|k| (k == foreign).then_some("deepseek"))
                    .items
                    .is_some()
            })
        },
    );
    g.finish();
}

/// The pass-through's reading of a native Responses stream: what every relayed answer costs
/// (the watch that reads usage and the end), against the repairs a gappy provider turns on.
fn bench_responses_repair(c: &mut Criterion) {
    use plugboard_translate::relay_watch::RelayWatch;
    use plugboard_translate::responses_repair::ResponsesRepair;
    use std::collections::HashSet;
    let read = |name: &str| {
        let path = format!(
            "{}/tests/streams/responses/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(path).unwrap()
    };
    let gappy = read("vllm-no-done-events.sse");
    let freeform = read("ollama-apply-patch-as-function.sse");
    let repair = |stream: &[u8], lifecycle: bool, names: HashSet<String>| {
        let mut r = ResponsesRepair::new(1 << 20, lifecycle, names);
        let mut out = Vec::with_capacity(stream.len() * 2);
        r.push(stream, &mut out);
        r.finish(true, &mut out);
        out.len()
    };
    let mut g = c.benchmark_group("responses");
    g.throughput(Throughput::Elements(10));
    g.bench_function(
        "relay, no repair (the watch only), vLLM stream of 10 events",
        |b| {
            b.iter(|| {
                let mut w = RelayWatch::stream(1 << 20);
                w.push(&gappy);
                w.outcome().is_some()
            })
        },
    );
    g.bench_function("lifecycle repair, vLLM stream of 10 events", |b| {
        b.iter(|| repair(&gappy, true, HashSet::new()))
    });
    // The bulk of a real answer: text deltas in a part already open (they leave the repairs
    // as they came, renumbered in place).
    let mut long = String::new();
    let mut ev = |v: Value| {
        long.push_str(&format!(
            "event: {}\ndata: {v}\n\n",
            v["type"].as_str().unwrap()
        ))
    };
    ev(
        json!({"type": "response.created", "response": {"id": "resp_1", "status": "in_progress", "output": []}}),
    );
    ev(
        json!({"type": "response.output_item.added", "output_index": 0, "item": {"type": "message", "id": "msg_1", "role": "assistant", "content": []}}),
    );
    ev(
        json!({"type": "response.content_part.added", "item_id": "msg_1", "output_index": 0, "content_index": 0, "part": {"type": "output_text", "text": ""}}),
    );
    for i in 0..60 {
        ev(
            json!({"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0, "content_index": 0, "delta": format!("token{i} "), "sequence_number": i + 3}),
        );
    }
    ev(
        json!({"type": "response.completed", "response": {"id": "resp_1", "status": "completed", "output": []}}),
    );
    let long = long.into_bytes();
    g.throughput(Throughput::Elements(64));
    g.bench_function("lifecycle repair, 60 text deltas in an open part", |b| {
        b.iter(|| repair(&long, true, HashSet::new()))
    });
    g.throughput(Throughput::Elements(7));
    let names = HashSet::from(["apply_patch".to_string()]);
    g.bench_function("freeform call restored, stream of 7 events", |b| {
        b.iter(|| repair(&freeform, false, names.clone()))
    });
    g.finish();
}

criterion_group!(benches, bench, bench_provenance, bench_responses_repair);
criterion_main!(benches);
