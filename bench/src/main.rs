//! `plugboard-bench`: see `scripts/bench.sh` and BENCHMARKS.md.

use clap::Parser;
use plugboard_bench::mock::MockConfig;
use plugboard_bench::suite::{self, SuiteConfig};
use plugboard_bench::workload::Size;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "plugboard-bench",
    about = "Plugboard against a direct connection and LiteLLM, side by side"
)]
struct Args {
    /// The headless proxy binary (default: $CARGO_TARGET_DIR/release/plugboard-proxy).
    #[arg(long)]
    plugboard_bin: Option<PathBuf>,
    /// LiteLLM's `litellm` executable; without it LiteLLM is not measured.
    #[arg(long)]
    litellm: Option<PathBuf>,
    #[arg(long, value_delimiter = ',', default_value = "1,16,64,256")]
    concurrency: Vec<usize>,
    /// Requests per measurement (at least 4 per stream).
    #[arg(long, default_value_t = 400)]
    requests: usize,
    #[arg(long, default_value_t = 40)]
    warmup: usize,
    #[arg(long, value_delimiter = ',', default_value = "small,large")]
    sizes: Vec<String>,
    #[arg(long, default_value_t = 50)]
    text_chunks: usize,
    #[arg(long, default_value_t = 10)]
    reasoning_chunks: usize,
    #[arg(long, default_value_t = 1)]
    tool_calls: usize,
    #[arg(long, default_value_t = 0)]
    first_delay_ms: u64,
    #[arg(long, default_value_t = 0)]
    chunk_delay_ms: u64,
    /// Seconds of soak at 64 streams (RSS at start and end).
    #[arg(long, default_value_t = 0)]
    soak_secs: u64,
    /// The tray app binary, measured idle (needs a DISPLAY).
    #[arg(long)]
    app: Option<PathBuf>,
    #[arg(long, default_value_t = 20)]
    app_idle_secs: u64,
    /// Rounds of the sequential check, one request to each system in turn (0: none).
    #[arg(long, default_value_t = 300)]
    interleaved_rounds: usize,
    /// Write the report into this file between `<!-- bench:begin -->` and `<!-- bench:end -->`
    /// (with `--section NAME`: `<!-- bench:NAME:begin -->` … `<!-- bench:NAME:end -->`).
    #[arg(long)]
    write: Option<PathBuf>,
    #[arg(long)]
    section: Option<String>,
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0 / 1024.0)
        .unwrap_or(0.0);
    format!("{cpu}, {cores} cores, {mem:.0} GiB")
}

#[tokio::main]
async fn main() {
    // The sequential check's bare relay runs as a child of this binary (see `null_relay`).
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some(plugboard_bench::null_relay::FLAG) {
        let origin = argv.get(2).cloned().unwrap_or_default();
        if let Err(e) = plugboard_bench::null_relay::serve(origin).await {
            eprintln!("null relay: {e}");
            std::process::exit(1);
        }
        return;
    }
    let a = Args::parse();
    let sizes = a.sizes.iter().map(|s| match s.as_str() {
        "small" => Size::Small,
        "large" => Size::Large,
        other => panic!("unknown size `{other}` (small, large)"),
    });
    let cfg = SuiteConfig {
        plugboard_bin: Some(
            a.plugboard_bin
                .unwrap_or_else(plugboard_bench::runner::default_plugboard_bin),
        ),
        litellm: a.litellm,
        concurrency: a.concurrency,
        requests: a.requests,
        warmup: a.warmup,
        sizes: sizes.collect(),
        mock: MockConfig {
            text_chunks: a.text_chunks,
            reasoning_chunks: a.reasoning_chunks,
            tool_calls: a.tool_calls,
            first_delay: Duration::from_millis(a.first_delay_ms),
            chunk_delay: Duration::from_millis(a.chunk_delay_ms),
        },
        soak: Duration::from_secs(a.soak_secs),
        app: a.app,
        app_idle: Duration::from_secs(a.app_idle_secs),
        interleaved_rounds: a.interleaved_rounds,
        relay_bin: std::env::current_exe().ok(),
        workdir: std::env::temp_dir().join(format!("plugboard-bench-{}", std::process::id())),
    };
    let (rows, extras) = suite::run(&cfg).await;
    let when = std::process::Command::new("date")
        .arg("-u")
        .arg("+%Y-%m-%d %H:%M UTC")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .unwrap_or_default();
    // Which code was measured: a section written by an earlier run keeps its own commit.
    let commit = std::process::Command::new("git")
        .args(["describe", "--always", "--dirty"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into());
    let report = format!(
        "Measured {} at commit {commit} on {}. Mock answer: {} reasoning + {} text chunks + {} tool call(s), usage at the end, delays {} ms / {} ms; {} requests per row (at least 4 per stream) after {} warm-up requests.\n{}",
        when.trim(), machine(), cfg.mock.reasoning_chunks, cfg.mock.text_chunks, cfg.mock.tool_calls, a.first_delay_ms, a.chunk_delay_ms, cfg.requests, cfg.warmup, plugboard_bench::report::render(&rows, &extras)
    );
    println!("{report}");
    if let Some(path) = a.write {
        let tag = a
            .section
            .as_deref()
            .map(|n| format!("bench:{n}:"))
            .unwrap_or_else(|| "bench:".into());
        plugboard_bench::report::write_section(&path, &tag, &report).expect("write the report");
        eprintln!("wrote {}", path.display());
    }
}
