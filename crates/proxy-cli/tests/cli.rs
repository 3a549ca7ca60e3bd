//! The headless binary as a user runs it: `serve --upstream ...` in front of a scripted chat
//! upstream, the Codex snippet it prints, one log line per request without the key, then
//! `usage` reading the history it recorded.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

const KEY: &str = "sk-cli-canary-0123456789";

async fn upstream() -> String {
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(|| async {
            let body = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\ndata: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":3,\"total_tokens\":10}}\n\ndata: [DONE]\n\n";
            ([("content-type", "text/event-stream")], body)
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    format!("http://{addr}/v1")
}

#[tokio::test]
async fn serve_logs_each_request_and_usage_reports_them() {
    let upstream = upstream().await;
    let dir = std::env::temp_dir().join(format!("plugboard-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("usage.sqlite");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bin = env!("CARGO_BIN_EXE_plugboard-proxy");
    let mut child = Command::new(bin)
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--upstream",
            &upstream,
            "--preset",
            "deepseek",
            "--api-key-env",
            "CLI_TEST_KEY",
            "--model-map",
            "gpt-*=deepseek-chat",
            "--usage-db",
        ])
        .arg(&db)
        .env("CLI_TEST_KEY", KEY)
        .env("PLUGBOARD_LOG", "debug")
        // The one-thread runtime: everything here must work without worker threads.
        .env("PLUGBOARD_THREADS", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut printed = String::new();
    while !printed.contains("wire_api = \"responses\"") {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "the snippet is printed: {printed}"
        );
        printed.push_str(&line);
    }
    assert!(
        printed.contains(&format!("base_url = \"http://127.0.0.1:{port}/v1\"")),
        "{printed}"
    );
    assert!(printed.contains("model_provider = \"plugboard\""));

    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    for _ in 0..2 {
        let r = http
            .post(format!("http://127.0.0.1:{port}/v1/responses"))
            .body(r#"{"model":"gpt-5.5","input":"hello","stream":true}"#)
            .header("content-type", "application/json")
            .send()
            .await
            .unwrap();
        let text = r.text().await.unwrap();
        assert!(text.contains("response.completed"), "{text}");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let out = child.wait_with_output().unwrap();
    let logs = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains(" request ") || l.contains("request:") || l.contains(": request"))
        .collect();
    assert!(
        lines
            .iter()
            .filter(|l| l.contains("status=completed") || l.contains("status=\"completed\""))
            .count()
            >= 2,
        "{logs}"
    );
    assert!(
        lines.iter().any(|l| l.contains("provider=upstream")
            && l.contains("upstream_model=deepseek-chat")
            && l.contains("first_event_ms")),
        "{logs}"
    );
    assert!(!logs.contains(KEY), "no key in the logs");

    let report = Command::new(bin)
        .args(["usage", "--since-days", "1", "--db"])
        .arg(&db)
        .arg("--config")
        .arg(dir.join("none.toml"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&report.stdout);
    assert!(
        report.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&report.stderr)
    );
    assert!(text.contains("requests        2 (0 failed)"), "{text}");
    assert!(text.contains("input tokens    14"), "{text}");
    assert!(text.contains("upstream"), "{text}");
}
