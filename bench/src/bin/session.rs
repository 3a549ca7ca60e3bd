//! `plugboard-session-bench`: one scripted Codex-like session of N turns through the proxy,
//! twice: over HTTP (the whole history posted every turn, as Codex does without WebSockets)
//! and over the WebSocket (one connection, each turn only its new items after
//! `previous_response_id`, as Codex does with `supports_websockets`). Prints the time to the
//! first event per turn for each, and what the hybrid session (GPT plans on two turns, DeepSeek
//! executes the rest) cost against all on the planner, from the proxy's own usage rows.

use axum::body::{Body, Bytes};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use plugboard_config::{Provider, Route, Settings};
use plugboard_server::{EnvKeys, ServeOptions};
use plugboard_usage::{PriceTable, UsageDb, UsageRecorder};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

#[derive(Parser)]
#[command(name = "plugboard-session-bench")]
struct Args {
    #[arg(long, default_value_t = 20)]
    turns: usize,
    /// The upstream's delay before its first chunk (a model's think time).
    #[arg(long, default_value_t = 0)]
    first_delay_ms: u64,
    /// Size of each tool output added to the history, in bytes.
    #[arg(long, default_value_t = 6_000)]
    tool_output_bytes: usize,
    /// Write the report into this file between `<!-- bench:session:begin -->` and `end`.
    #[arg(long)]
    write: Option<std::path::PathBuf>,
}

/// A chat model that reads how long the conversation is and says so in its usage.
async fn mock(delay: Duration) -> String {
    let app = Router::new().route(
        "/v1/chat/completions",
        post(move |body: Bytes| async move {
            let prompt = (body.len() / 4) as u64;
            let chunks = [
                json!({"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}),
                json!({"choices": [{"index": 0, "delta": {"content": "Done: "}}]}),
                json!({"choices": [{"index": 0, "delta": {"content": "the step ran."}}]}),
                json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
                json!({"choices": [], "usage": {"prompt_tokens": prompt, "completion_tokens": 400, "total_tokens": prompt + 400}}),
            ];
            let text: String = chunks.iter().map(|c| format!("data: {c}\n\n")).collect::<String>() + "data: [DONE]\n\n";
            tokio::time::sleep(delay).await;
            Response::builder()
                .header("content-type", "text/event-stream")
                .body(Body::from(text))
                .unwrap()
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    format!("http://{addr}/v1")
}

fn provider(id: &str, base: String) -> Provider {
    let mut p = Provider::from_preset(id, "custom").unwrap();
    p.base_url = base;
    p.dialect.insert("think_tags".into(), false.into());
    p.dialect.insert("text_tool_calls".into(), false.into());
    p
}

/// The model of turn `i`: GPT plans the first turn and the middle one, DeepSeek the rest.
fn model_of(i: usize, turns: usize) -> &'static str {
    if i == 0 || i == turns / 2 {
        "gpt-5.5"
    } else {
        "deepseek-chat"
    }
}

fn user(i: usize) -> Value {
    json!({"type": "message", "role": "user", "content": [{"type": "input_text", "text": format!("Step {i}: go on with the plan.")}]})
}

fn tool_turn(i: usize, bytes: usize) -> [Value; 2] {
    [
        json!({"type": "function_call", "call_id": format!("call_{i}"), "name": "exec_command", "arguments": "{\"cmd\":\"cargo test\"}"}),
        json!({"type": "function_call_output", "call_id": format!("call_{i}"), "output": "test result: ok. ".repeat(bytes / 17)}),
    ]
}

struct Run {
    ttfe_ms: Vec<f64>,
    sent_bytes: usize,
}

async fn over_http(base: &str, args: &Args) -> Run {
    let client = reqwest::Client::new();
    let mut history = vec![
        json!({"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "You are a coding agent. ".repeat(400)}]}),
    ];
    let mut run = Run {
        ttfe_ms: Vec::new(),
        sent_bytes: 0,
    };
    for i in 0..args.turns {
        history.push(user(i));
        let body = json!({"model": model_of(i, args.turns), "stream": true, "store": false, "input": history}).to_string();
        run.sent_bytes += body.len();
        let started = Instant::now();
        let resp = client
            .post(format!("{base}/responses"))
            .header("session-id", "bench-http")
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let mut stream = resp.bytes_stream();
        let mut all = Vec::new();
        if let Some(Ok(first)) = stream.next().await {
            run.ttfe_ms.push(started.elapsed().as_secs_f64() * 1e3);
            all.extend_from_slice(&first);
        }
        while let Some(Ok(b)) = stream.next().await {
            all.extend_from_slice(&b);
        }
        history.extend(output_items(&all));
        history.extend(tool_turn(i, args.tool_output_bytes));
    }
    run
}

/// The output items of a stream's `response.completed`.
fn output_items(sse: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(sse)
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .find(|v| v["type"] == "response.completed")
        .and_then(|v| v["response"]["output"].as_array().cloned())
        .unwrap_or_default()
}

async fn over_websocket(addr: std::net::SocketAddr, args: &Args) -> Run {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = format!("ws://{addr}/v1/responses")
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("session-id", "bench-ws".parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let mut run = Run {
        ttfe_ms: Vec::new(),
        sent_bytes: 0,
    };
    let mut new_items = vec![
        json!({"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "You are a coding agent. ".repeat(400)}]}),
    ];
    let mut previous: Option<String> = None;
    for i in 0..args.turns {
        new_items.push(user(i));
        let mut msg = json!({"type": "response.create", "model": model_of(i, args.turns), "store": false, "input": new_items});
        if let Some(p) = &previous {
            msg["previous_response_id"] = p.clone().into();
        }
        let text = msg.to_string();
        run.sent_bytes += text.len();
        let started = Instant::now();
        ws.send(Message::text(text)).await.unwrap();
        let mut first = true;
        loop {
            let Some(Ok(Message::Text(t))) = ws.next().await else {
                panic!("the socket closed")
            };
            if first {
                run.ttfe_ms.push(started.elapsed().as_secs_f64() * 1e3);
                first = false;
            }
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            if v["type"] == "response.completed" {
                previous = v["response"]["id"].as_str().map(str::to_string);
                break;
            }
            assert_ne!(v["type"], "error", "{v}");
        }
        new_items = tool_turn(i, args.tool_output_bytes).to_vec();
    }
    run
}

fn pct(v: &[f64], p: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s[((s.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let delay = Duration::from_millis(args.first_delay_ms);
    let (plan, exec) = (mock(delay).await, mock(delay).await);
    let settings = Settings {
        listen: "127.0.0.1:0".into(),
        active_provider: Some("plan".into()),
        providers: vec![provider("plan", plan), provider("exec", exec)],
        routes: vec![
            Route::new("gpt-*", "plan"),
            Route::new("deepseek-*", "exec"),
        ],
        ..Settings::default()
    };
    let db = std::env::temp_dir().join(format!(
        "plugboard-session-bench-{}.sqlite",
        std::process::id()
    ));
    let recorder =
        UsageRecorder::open(&db, PriceTable::with_overrides(&Default::default())).unwrap();
    let proxy = plugboard_server::start(
        settings,
        Arc::new(EnvKeys),
        ServeOptions {
            usage: Some(recorder.clone()),
            ..ServeOptions::default()
        },
    )
    .await
    .unwrap();
    // One session of each, warm connections not counted apart: the first turn is in the figures.
    let http = over_http(&proxy.base_url(), &args).await;
    let ws = over_websocket(proxy.addr(), &args).await;
    proxy.stop().await;
    recorder.flush();
    let sessions = UsageDb::open(&db)
        .unwrap()
        .sessions(0, 10, &PriceTable::with_overrides(&Default::default()))
        .unwrap();
    let _ = std::fs::remove_file(&db);

    let mut out = format!(
        "Measured {} at commit {} (`plugboard-session-bench --turns {} --first-delay-ms {} --tool-output-bytes {}`, the proxy in process, two scripted chat upstreams on loopback).\n\n",
        now(), commit(), args.turns, args.first_delay_ms, args.tool_output_bytes
    );
    out += "| transport | turns | first event p50 | first event mean | last turn | bytes sent by the client |\n|---|---:|---:|---:|---:|---:|\n";
    for (name, r) in [
        ("HTTP (whole history each turn)", &http),
        ("WebSocket (new items after previous_response_id)", &ws),
    ] {
        let mean = r.ttfe_ms.iter().sum::<f64>() / r.ttfe_ms.len() as f64;
        out += &format!(
            "| {name} | {} | {:.2} ms | {:.2} ms | {:.2} ms | {} KB |\n",
            r.ttfe_ms.len(),
            pct(&r.ttfe_ms, 0.5),
            mean,
            r.ttfe_ms.last().copied().unwrap_or_default(),
            r.sent_bytes / 1024
        );
    }
    out += &format!(
        "\nWebSocket against HTTP: first event p50 ×{:.2}, bytes sent ×{:.3}.\n\n",
        pct(&ws.ttfe_ms, 0.5) / pct(&http.ttfe_ms, 0.5),
        ws.sent_bytes as f64 / http.sent_bytes as f64
    );
    out +=
        "| session | requests | cost | all on the planner | saved |\n|---|---:|---:|---:|---:|\n";
    for s in &sessions {
        out += &format!(
            "| {} ({}) | {} | ${:.4} | ${:.4} ({}) | ${:.4} ({:.0}%) |\n",
            s.session,
            s.parts
                .iter()
                .map(|p| format!("{} × {}", p.requests, p.upstream_model))
                .collect::<Vec<_>>()
                .join(", "),
            s.requests,
            s.cost_usd,
            s.cost_if_planner_usd,
            s.planner_model.as_deref().unwrap_or("-"),
            s.saved_usd,
            100.0 * s.saved_usd / s.cost_if_planner_usd.max(1e-12)
        );
    }
    print!("{out}");
    if let Some(path) = &args.write {
        plugboard_bench::report::write_section(path, "bench:session:", &out).unwrap();
    }
}

fn now() -> String {
    let out = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok();
    out.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn commit() -> String {
    std::process::Command::new("git")
        .args(["describe", "--always", "--dirty"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}
