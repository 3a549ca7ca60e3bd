//! The gateway benchmark runs and reports every figure: a smoke run (a few rounds, a debug
//! build) against a `redis-server` from Debian, which `scripts/test.sh` installs
//! (`PLUGBOARD_REDIS_SERVER`). The figures worth writing down come from `scripts/bench.sh`.

#[test]
fn the_gateway_bench_reports_latency_cpu_and_throughput() {
    let Ok(redis) = std::env::var("PLUGBOARD_REDIS_SERVER") else {
        assert!(
            std::env::var("PLUGBOARD_SKIP_EXTERNAL").as_deref() == Ok("1"),
            "PLUGBOARD_REDIS_SERVER is not set: run the tests through scripts/test.sh, or set PLUGBOARD_SKIP_EXTERNAL=1"
        );
        return;
    };
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_plugboard-gateway-bench"))
        .args([
            "--rounds",
            "5",
            "--concurrency",
            "2",
            "--seconds",
            "1",
            "--redis-server",
            &redis,
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for row in [
        "| memory (the default) |",
        "| Redis, the other replica (turn loaded from Redis) |",
        "| Redis, alternating replicas |",
        "| two replicas |",
        "| one replica, memory |",
    ] {
        assert!(text.contains(row), "no `{row}` in:\n{text}");
    }
    let rate = |name: &str| -> f64 {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("| {name} |")))
            .unwrap();
        line.split('|').nth(2).unwrap().trim().parse().unwrap()
    };
    assert!(
        rate("one replica") > 0.0 && rate("two replicas") > 0.0,
        "{text}"
    );
}
