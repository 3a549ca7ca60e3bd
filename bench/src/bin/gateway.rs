//! `plugboard-gateway-bench`: what sharing conversations through Redis costs a gateway. Three
//! proxies in this process on one scripted chat model: one keeping conversations in memory
//! (the default), two sharing a `redis-server` started here. Measures, interleaved round by
//! round so that drift cancels:
//! - a follow-up turn (`previous_response_id`) on the memory proxy, on a Redis replica that
//!   served the turn before (the write behind only), and on the other replica (the turn
//!   loaded from Redis first);
//! - CPU per request (this process, and the Redis server's);
//! - throughput of concurrent conversations on one Redis replica against two.

use axum::body::{Body, Bytes};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use clap::Parser;
use plugboard_config::{Provider, Settings};
use plugboard_server::{EnvKeys, ProxyHandle, ServeOptions};
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(name = "plugboard-gateway-bench")]
struct Args {
    /// Follow-up turns per path for the latency figures.
    #[arg(long, default_value_t = 300)]
    rounds: usize,
    /// Concurrent conversations for the throughput figures.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Seconds each throughput run lasts.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// The Redis server to start (Debian's `redis-server`).
    #[arg(long, env = "PLUGBOARD_REDIS_SERVER", default_value = "redis-server")]
    redis_server: String,
    /// Write the report into this file between `<!-- bench:gateway:begin -->` and `end`.
    #[arg(long)]
    write: Option<std::path::PathBuf>,
}

async fn mock() -> String {
    let app = Router::new().route(
        "/v1/chat/completions",
        post(|body: Bytes| async move {
            let streamed = serde_json::from_slice::<Value>(&body).is_ok_and(|b| b["stream"] == true);
            if !streamed {
                let whole = json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": "A short answer."}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 40, "completion_tokens": 4, "total_tokens": 44}});
                return Response::builder().header("content-type", "application/json").body(Body::from(whole.to_string())).unwrap();
            }
            let chunks = [
                json!({"choices": [{"index": 0, "delta": {"role": "assistant", "content": "A short answer."}}]}),
                json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 40, "completion_tokens": 4, "total_tokens": 44}}),
            ];
            let text: String = chunks.iter().map(|c| format!("data: {c}\n\n")).collect::<String>() + "data: [DONE]\n\n";
            Response::builder().header("content-type", "text/event-stream").body(Body::from(text)).unwrap()
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    format!("http://{addr}/v1")
}

async fn proxy(upstream: &str, shared: Option<&str>) -> ProxyHandle {
    let mut p = Provider::from_preset("model", "custom").unwrap();
    p.base_url = upstream.to_string();
    let settings = Settings {
        active_provider: Some("model".into()),
        providers: vec![p],
        ..Settings::default()
    };
    let shared_state = shared.map(|url| {
        Arc::new(plugboard_state_redis::RedisState::new(url, Default::default()).unwrap())
            as Arc<dyn plugboard_server::SharedState>
    });
    plugboard_server::start(
        settings,
        Arc::new(EnvKeys),
        ServeOptions {
            listen: Some("127.0.0.1:0".parse().unwrap()),
            shared_state,
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

/// One non-streamed turn; its response id and how long it took.
async fn turn(client: &reqwest::Client, base: &str, previous: Option<&str>) -> (String, f64) {
    let mut body = json!({"model": "gpt-5.5", "input": "go on", "stream": false});
    if let Some(p) = previous {
        body["previous_response_id"] = Value::String(p.to_string());
    }
    let started = Instant::now();
    let r = client
        .post(format!("{base}/responses"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    let v: Value = r.json().await.unwrap();
    let ms = started.elapsed().as_secs_f64() * 1e3;
    (v["id"].as_str().unwrap().to_string(), ms)
}

/// Turn `i` of a conversation spread over `bases` in turn, started afresh every 20 turns.
async fn next_turn(
    client: &reqwest::Client,
    bases: &[String],
    i: usize,
    prev: &mut Option<String>,
) {
    if i.is_multiple_of(20) {
        *prev = None;
    }
    *prev = Some(
        turn(client, &bases[i % bases.len()], prev.as_deref())
            .await
            .0,
    );
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn self_cpu() -> Duration {
    plugboard_bench::procstat::cpu_time(std::process::id()).unwrap_or_default()
}

struct Redis(Child);

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let redis = Redis(
        Command::new(&args.redis_server)
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server starts (pass --redis-server PATH)"),
    );
    let url = format!("redis://127.0.0.1:{port}/0");
    let t = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "redis-server did not listen"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let upstream = mock().await;
    let memory = proxy(&upstream, None).await;
    let r1 = proxy(&upstream, Some(&url)).await;
    let r2 = proxy(&upstream, Some(&url)).await;
    let (m, a, b) = (memory.base_url(), r1.base_url(), r2.base_url());
    let client = reqwest::Client::builder().no_proxy().build().unwrap();

    // Latency: three conversations advanced in turn, each restarted every 20 turns.
    let (mut lm, mut ls, mut lx) = (Vec::new(), Vec::new(), Vec::new());
    let (mut cm, mut cs, mut cx): (Option<String>, Option<String>, Option<String>) =
        (None, None, None);
    for i in 0..args.rounds + 20 {
        if i % 20 == 0 {
            cm = Some(turn(&client, &m, None).await.0);
            cs = Some(turn(&client, &a, None).await.0);
            cx = Some(turn(&client, &a, None).await.0);
        }
        let (id, ms) = turn(&client, &m, cm.as_deref()).await;
        cm = Some(id);
        let (id, t_same) = turn(&client, &a, cs.as_deref()).await;
        cs = Some(id);
        // Alternating replicas: every turn is loaded from Redis by the one that did not serve
        // the turn before.
        let other = if i % 2 == 0 { &b } else { &a };
        let (id, t_cross) = turn(&client, other, cx.as_deref()).await;
        cx = Some(id);
        if i >= 20 {
            lm.push(ms);
            ls.push(t_same);
            lx.push(t_cross);
        }
    }

    // CPU per request: the same sequential conversation on each path.
    let redis_pid = redis.0.id();
    // /proc counts CPU in 10 ms ticks: ten times the rounds keep the figure within a few µs.
    let n = (args.rounds * 10).max(100);
    let mut cpu = Vec::new();
    for (name, bases) in [
        ("memory", vec![m.clone()]),
        ("Redis, same replica", vec![a.clone()]),
        ("Redis, alternating replicas", vec![a.clone(), b.clone()]),
    ] {
        let (c0, r0) = (
            self_cpu(),
            plugboard_bench::procstat::cpu_time(redis_pid).unwrap_or_default(),
        );
        let mut prev: Option<String> = None;
        for i in 0..n {
            next_turn(&client, &bases, i, &mut prev).await;
        }
        let (c1, r1t) = (
            self_cpu(),
            plugboard_bench::procstat::cpu_time(redis_pid).unwrap_or_default(),
        );
        cpu.push((
            name,
            (c1 - c0).as_secs_f64() * 1e6 / n as f64,
            (r1t - r0).as_secs_f64() * 1e6 / n as f64,
        ));
    }

    // Throughput: concurrent conversations on one replica, then spread over two.
    let mut rates = Vec::new();
    for (name, bases) in [
        ("one replica, memory", vec![m.clone()]),
        ("one replica", vec![a.clone()]),
        ("two replicas", vec![a.clone(), b.clone()]),
    ] {
        let done = Arc::new(AtomicU64::new(0));
        let deadline = Instant::now() + Duration::from_secs(args.seconds);
        let mut tasks = Vec::new();
        for w in 0..args.concurrency {
            let (client, bases, done) = (client.clone(), bases.clone(), done.clone());
            tasks.push(tokio::spawn(async move {
                let mut prev: Option<String> = None;
                let mut i = w;
                while Instant::now() < deadline {
                    next_turn(&client, &bases, i, &mut prev).await;
                    done.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        rates.push((
            name,
            done.load(Ordering::Relaxed) as f64 / args.seconds as f64,
        ));
    }

    let (m50, s50, x50) = (pct(&mut lm, 0.5), pct(&mut ls, 0.5), pct(&mut lx, 0.5));
    let mut out = String::new();
    out.push_str(&format!(
        "`plugboard-gateway-bench --rounds {} --concurrency {} --seconds {}`: three proxies in one process on a scripted chat model, a `redis-server` on loopback; non-streamed follow-up turns (`previous_response_id`), conversations restarted every 20 turns.\n\n",
        args.rounds, args.concurrency, args.seconds
    ));
    out.push_str("| follow-up turn | p50 ms | p99 ms | added p50 vs memory |\n|---|---|---|---|\n");
    for (name, v, med) in [
        ("memory (the default)", &mut lm, m50),
        (
            "Redis, the replica that served the turn before",
            &mut ls,
            s50,
        ),
        (
            "Redis, the other replica (turn loaded from Redis)",
            &mut lx,
            x50,
        ),
    ] {
        out.push_str(&format!(
            "| {name} | {med:.3} | {:.3} | {:+.3} ms |\n",
            pct(v, 0.99),
            med - m50
        ));
    }
    out.push_str(&format!(
        "\n{n} sequential turns per path (CPU from /proc in 10 ms ticks: ±{:.0} µs).\n\n| path | CPU per request, this process (client, proxies, model) | CPU per request, redis-server |\n|---|---|---|\n",
        10_000.0 / n as f64
    ));
    for (name, own, red) in &cpu {
        out.push_str(&format!("| {name} | {own:.0} µs | {red:.0} µs |\n"));
    }
    out.push_str(&format!(
        "\n| throughput, {} concurrent conversations (Redis unless said) | requests/s |\n|---|---|\n",
        args.concurrency
    ));
    for (name, r) in &rates {
        out.push_str(&format!("| {name} | {r:.0} |\n"));
    }
    out.push_str(&format!(
        "\nTwo replicas against one: {:.2}× (both in this one process on this machine's 2 cores, each with its own Redis connection: what a second replica changes here, not what a second machine adds).\n",
        rates[2].1 / rates[1].1
    ));
    print!("{out}");
    if let Some(path) = &args.write {
        plugboard_bench::report::write_section(path, "bench:gateway:", &out)
            .expect("write the report");
    }
    drop(redis);
}
