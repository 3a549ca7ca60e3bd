//! `plugboard-counts`: what one request costs Plugboard, counted rather than timed, so that
//! the figure is the same on a busy machine and a quiet one. Each path runs N requests on one
//! thread (client, proxy and mock upstream on a current-thread runtime) twice: through
//! Plugboard and straight to the same mock, and the difference per request is Plugboard's.
//!
//! - instructions: the child runs under Valgrind's callgrind, counting only inside
//!   `measured_requests` (`--toggle-collect`); the usage recorder's writer thread is not on
//!   the request path and is not counted;
//! - allocations: the child counts every allocation made meanwhile (`stats_alloc`).
//!
//! `plugboard-counts` runs every path and prints the table (`--write` puts it into
//! BENCHMARKS.md); `--child` is one path, used by the parent.

use axum::body::{Body, Bytes};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use clap::Parser;
use plugboard_bench::mock::{self, MockConfig};
use plugboard_config::{Provider, Settings, WireApi};
use plugboard_server::{EnvKeys, ServeOptions};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use std::alloc::System;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[derive(Parser)]
#[command(name = "plugboard-counts")]
struct Args {
    /// Requests per path (after 3 not counted).
    #[arg(long, default_value_t = 20)]
    requests: usize,
    /// Only these paths (comma-separated), e.g. `translated,direct-chat`.
    #[arg(long, value_delimiter = ',')]
    paths: Vec<String>,
    /// Write the report into this file between `<!-- bench:counts:begin -->` and `end`.
    #[arg(long)]
    write: Option<PathBuf>,
    /// One path, in this process (the parent runs these).
    #[arg(long)]
    child: Option<String>,
    /// With `--child`: print the allocations instead of running under callgrind.
    #[arg(long)]
    allocs: bool,
}

/// The paths: (name, through Plugboard?, upstream API, usage recorded?).
const PATHS: [(&str, bool, WireApi, bool); 5] = [
    ("direct-chat", false, WireApi::Chat, false),
    ("translated", true, WireApi::Chat, false),
    ("translated+usage", true, WireApi::Chat, true),
    ("direct-responses", false, WireApi::Responses, false),
    ("pass-through", true, WireApi::Responses, false),
];

/// Instructions Plugboard may add per request on each path, in thousands: the figures of
/// 2026-12-03 (after the first round of cuts) with about 15 % of margin. A change that goes
/// over shows as "over" in the table.
fn budget_kinstr(path: &str) -> Option<f64> {
    match path {
        "translated" => Some(1850.0),
        "translated+usage" => Some(1870.0),
        "pass-through" => Some(1800.0),
        _ => None,
    }
}

/// A Responses upstream streaming the same answer as the chat mock: 10 reasoning and 50 text
/// deltas, then `response.completed` with usage.
fn responses_events() -> Vec<Bytes> {
    let ev = |v: serde_json::Value| {
        Bytes::from(format!(
            "event: {}\ndata: {v}\n\n",
            v["type"].as_str().unwrap_or_default()
        ))
    };
    let mut out = vec![ev(
        serde_json::json!({"type": "response.created", "response": {"id": "resp_bench", "object": "response", "status": "in_progress", "model": "mock-model", "output": []}}),
    )];
    out.push(ev(serde_json::json!({"type": "response.output_item.added", "output_index": 0, "item": {"type": "message", "id": "msg_1", "role": "assistant", "status": "in_progress", "content": []}})));
    for i in 0..60 {
        out.push(ev(serde_json::json!({"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0, "content_index": 0, "delta": format!("token{i} ")})));
    }
    out.push(ev(serde_json::json!({"type": "response.output_item.done", "output_index": 0, "item": {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed", "content": [{"type": "output_text", "text": "…", "annotations": []}]}})));
    out.push(ev(serde_json::json!({"type": "response.completed", "response": {"id": "resp_bench", "object": "response", "status": "completed", "model": "mock-model", "output": [], "usage": {"input_tokens": 1000, "output_tokens": 60, "total_tokens": 1060, "input_tokens_details": {"cached_tokens": 512}, "output_tokens_details": {"reasoning_tokens": 0}}}})));
    out
}

async fn responses_mock() -> String {
    let events = Arc::new(responses_events());
    let app = Router::new().route(
        "/v1/responses",
        post(move |_: Bytes| {
            let events = events.clone();
            async move {
                let body = futures_util::stream::iter(
                    events
                        .iter()
                        .cloned()
                        .map(Ok::<_, std::convert::Infallible>)
                        .collect::<Vec<_>>(),
                );
                Response::builder()
                    .header("content-type", "text/event-stream")
                    .body(Body::from_stream(body))
                    .unwrap()
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    format!("http://{addr}/v1")
}

/// Where the requests go and what they say, once the upstream (and the proxy) are up.
async fn set_up(path: &str) -> (String, String) {
    let (_, through, api, usage) = *PATHS
        .iter()
        .find(|p| p.0 == path)
        .unwrap_or_else(|| panic!("no path `{path}`"));
    let responses_body =
        plugboard_bench::workload::responses_body(plugboard_bench::workload::Size::Small);
    let upstream = match api {
        WireApi::Chat => {
            let addr = mock::serve("127.0.0.1:0".parse().unwrap(), MockConfig::default())
                .await
                .unwrap();
            format!("http://{addr}/v1")
        }
        WireApi::Responses => responses_mock().await,
    };
    if !through {
        return match api {
            WireApi::Chat => (
                format!("{upstream}/chat/completions"),
                String::from_utf8(plugboard_bench::workload::chat_body(&responses_body).to_vec())
                    .unwrap(),
            ),
            WireApi::Responses => (format!("{upstream}/responses"), responses_body.to_string()),
        };
    }
    let mut p = Provider::from_preset("mock", "custom").unwrap();
    p.base_url = upstream;
    p.wire_api = api;
    p.default_model = Some("mock-model".into());
    p.model_map.insert("gpt-*".into(), "mock-model".into());
    let settings = Settings {
        listen: "127.0.0.1:0".into(),
        active_provider: Some("mock".into()),
        providers: vec![p],
        ..Settings::default()
    };
    let recorder = usage.then(|| {
        let db =
            std::env::temp_dir().join(format!("plugboard-counts-{}.sqlite", std::process::id()));
        let _ = std::fs::remove_file(&db);
        plugboard_usage::UsageRecorder::open(
            &db,
            plugboard_usage::PriceTable::with_overrides(&Default::default()),
        )
        .unwrap() as Arc<dyn plugboard_server::UsageSink>
    });
    let proxy = plugboard_server::start(
        settings,
        Arc::new(EnvKeys),
        ServeOptions {
            usage: recorder,
            ..ServeOptions::default()
        },
    )
    .await
    .unwrap();
    let url = format!("{}/responses", proxy.base_url());
    // The proxy lives as long as the process.
    std::mem::forget(proxy);
    (url, responses_body.to_string())
}

async fn one(client: &reqwest::Client, url: &str, body: &str) -> usize {
    let mut resp = client
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{url}: {}", resp.status());
    let mut read = 0;
    while let Some(chunk) = resp.chunk().await.unwrap() {
        read += chunk.len();
    }
    read
}

/// The requests callgrind counts (`--toggle-collect`): everything on this thread from here
/// until it returns.
#[inline(never)]
fn measured_requests(
    rt: &tokio::runtime::Runtime,
    client: &reqwest::Client,
    url: &str,
    body: &str,
    n: usize,
) -> usize {
    rt.block_on(async {
        let mut read = 0;
        for _ in 0..n {
            read += one(client, url, body).await;
        }
        read
    })
}

fn child(path: &str, n: usize, allocs: bool) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (url, body) = rt.block_on(set_up(path));
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    // Warm: connections open, lazily built tables built.
    rt.block_on(async {
        for _ in 0..3 {
            one(&client, &url, &body).await;
        }
    });
    let region = Region::new(GLOBAL);
    let read = measured_requests(&rt, &client, &url, &body, n);
    let change = region.change();
    if allocs {
        println!(
            "allocations {} bytes {} read {read}",
            change.allocations, change.bytes_allocated
        );
    }
}

/// Instructions of `n` requests on `path`, from callgrind's totals.
fn instructions(me: &Path, path: &str, n: usize) -> Result<u64, String> {
    let out = std::env::temp_dir().join(format!(
        "plugboard-counts-{path}-{}.out",
        std::process::id()
    ));
    let status = std::process::Command::new("valgrind")
        .args([
            "--tool=callgrind",
            "--collect-atstart=no",
            "--toggle-collect=*measured_requests*",
            &format!("--callgrind-out-file={}", out.display()),
        ])
        .arg(me)
        .args(["--child", path, "--requests", &n.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .map_err(|e| format!("valgrind: {e} (apt-get install valgrind)"))?;
    if !status.success() {
        return Err(format!("valgrind on `{path}` exited with {status}"));
    }
    let text = std::fs::read_to_string(&out).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_file(&out);
    text.lines()
        .find_map(|l| {
            l.strip_prefix("totals:")
                .or_else(|| l.strip_prefix("summary:"))
        })
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| "no totals in callgrind's output".into())
}

/// Allocations of `n` requests on `path`: (count, bytes).
fn allocations(me: &Path, path: &str, n: usize) -> Result<(u64, u64), String> {
    let out = std::process::Command::new(me)
        .args(["--child", path, "--allocs", "--requests", &n.to_string()])
        .output()
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout);
    let f: Vec<&str> = text.split_whitespace().collect();
    match (
        f.get(1).and_then(|v| v.parse().ok()),
        f.get(3).and_then(|v| v.parse().ok()),
    ) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err(format!("`{path}` printed no allocations: {text}")),
    }
}

fn main() {
    let args = Args::parse();
    if let Some(path) = &args.child {
        child(path, args.requests, args.allocs);
        return;
    }
    let me = std::env::current_exe().unwrap();
    let n = args.requests;
    let mut measured = Vec::new();
    for (path, ..) in PATHS {
        if !args.paths.is_empty() && !args.paths.iter().any(|p| p == path) {
            continue;
        }
        let ir = instructions(&me, path, n).unwrap_or_else(|e| {
            eprintln!("plugboard-counts: {e}");
            std::process::exit(1)
        });
        let (allocs, bytes) = allocations(&me, path, n).unwrap_or_else(|e| {
            eprintln!("plugboard-counts: {e}");
            std::process::exit(1)
        });
        eprintln!("{path}: {ir} instructions, {allocs} allocations for {n} requests");
        measured.push((
            path,
            ir as f64 / n as f64,
            allocs as f64 / n as f64,
            bytes as f64 / n as f64,
        ));
    }
    let base = |name: &str| measured.iter().find(|m| m.0 == name).map(|m| (m.1, m.2));
    let mut out = format!(
        "Per request, {n} requests after 3 not counted, one thread (client, proxy and mock upstream together; the direct rows are the client and the mock alone). A small Codex-like request; the answer streams 10 reasoning and 50 text chunks and a tool call (translated) or 60 text deltas (pass-through).\n\n| path | instructions | added by Plugboard | budget (added) | allocations | added by Plugboard | bytes allocated |\n|---|---|---|---|---|---|---|\n"
    );
    for (path, ir, allocs, bytes) in &measured {
        let direct = match *path {
            "translated" | "translated+usage" => base("direct-chat"),
            "pass-through" => base("direct-responses"),
            _ => None,
        };
        let (ir_added, alloc_added, budget) = match direct {
            Some((d_ir, d_al)) => {
                let added = (ir - d_ir) / 1000.0;
                let budget = budget_kinstr(path).map_or("–".to_string(), |b| {
                    format!("{b:.0} k, {}", if added <= b { "within" } else { "over" })
                });
                (
                    format!("{added:.0} k"),
                    format!("{:.0}", allocs - d_al),
                    budget,
                )
            }
            None => ("–".into(), "–".into(), "–".into()),
        };
        out += &format!(
            "| {path} | {:.0} k | {ir_added} | {budget} | {allocs:.0} | {alloc_added} | {:.1} KiB |\n",
            ir / 1000.0,
            bytes / 1024.0
        );
    }
    print!("{out}");
    if let Some(file) = &args.write {
        plugboard_bench::report::write_section(file, "bench:counts:", &out).unwrap();
    }
}
