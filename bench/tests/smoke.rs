//! The harness itself, on a tiny load, so that it never rots: every run completes and the
//! report has every row. (The full benchmark is `scripts/bench.sh`, not part of CI.)

use plugboard_bench::mock::MockConfig;
use plugboard_bench::suite::{self, SuiteConfig};
use plugboard_bench::workload::Size;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tiny_run_completes_every_row() {
    let cfg = SuiteConfig {
        plugboard_bin: None,
        litellm: None,
        concurrency: vec![1, 4],
        requests: 8,
        warmup: 2,
        sizes: vec![Size::Small, Size::Large],
        mock: MockConfig {
            text_chunks: 5,
            reasoning_chunks: 2,
            tool_calls: 1,
            ..Default::default()
        },
        soak: Duration::ZERO,
        app: None,
        app_idle: Duration::ZERO,
        interleaved_rounds: 3,
        relay_bin: Some(env!("CARGO_BIN_EXE_plugboard-bench").into()),
        workdir: std::env::temp_dir().join(format!("plugboard-bench-smoke-{}", std::process::id())),
    };
    let (rows, extras) = suite::run(&cfg).await;
    assert_eq!(
        rows.len(),
        2 * 2 * 2,
        "sizes × concurrency × (direct, plugboard)"
    );
    for r in &rows {
        assert_eq!(
            r.stats.ok, r.stats.n,
            "{} at {} streams: every request completed",
            r.system, r.concurrency
        );
        assert!(r.stats.n >= 8);
        assert!(r.stats.first_event_p50 > 0.0 && r.stats.rps > 0.0);
        // The mock's stamp made it through (through Plugboard too): time outside the
        // upstream is measured, and is never more than the whole time to first text.
        assert!(
            r.stats.outside_p50.is_finite() && r.stats.outside_p50 <= r.stats.first_text_p50,
            "{} at {} streams: {:?}",
            r.system,
            r.concurrency,
            r.stats
        );
    }
    let interleaved = extras
        .interleaved
        .as_ref()
        .expect("the sequential check ran");
    assert!(
        interleaved.plugboard_ms.is_some_and(f64::is_finite)
            && interleaved.relay_ms.is_some_and(f64::is_finite)
            && interleaved
                .plugboard_over_relay_ms
                .is_some_and(f64::is_finite),
        "{interleaved:?}"
    );
    let report = plugboard_bench::report::render(&rows, &extras);
    for needle in [
        "interleaved with direct (median of 3 rounds)",
        "a relay that does nothing",
        "Input small (4 KB)",
        "Input large (300 KB)",
        "| 4 | plugboard |",
        "| 1 | direct |",
    ] {
        assert!(report.contains(needle), "{needle} in\n{report}");
    }
}
