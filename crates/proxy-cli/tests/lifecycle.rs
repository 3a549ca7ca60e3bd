//! `plugboard-proxy` as a service manager and a terminal treat it: SIGTERM with a stream
//! that never ends, a second signal, and a start under the common open-files limit of
//! 1,024 with more idle connections than that.

mod common;
use common::{free_port, read_until};
use std::io::BufReader;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

use futures_util::StreamExt;

/// Starts the proxy through `sh` (so that a ulimit can come first) and waits until it
/// listens; its stderr is collected in the background.
fn spawn_proxy(ulimit: &str, port: u16, upstream: &str, extra: &[&str]) -> (Child, Logs) {
    let bin = env!("CARGO_BIN_EXE_plugboard-proxy");
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("{ulimit} exec \"$0\" \"$@\""))
        .arg(bin)
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--upstream",
            upstream,
            "--preset",
            "deepseek",
            "--api-key-env",
            "LIFECYCLE_TEST_KEY",
        ])
        // No usage history unless the test names a database.
        .args((!extra.contains(&"--usage-db")).then_some("--no-usage"))
        .args(extra)
        .env("PLUGBOARD_LOG", "info")
        .env("LIFECYCLE_TEST_KEY", "sk-lifecycle-test")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    read_until(&mut stdout, "listening on");
    // Keep draining stdout so the proxy never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let logs = Logs(common::collect(child.stderr.take().unwrap()));
    (child, logs)
}

#[derive(Clone)]
struct Logs(std::sync::Arc<std::sync::Mutex<String>>);

impl Logs {
    fn text(&self) -> String {
        self.0.lock().unwrap().clone()
    }
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(child.id().to_string())
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{sig}");
}

/// Waits for the child to exit, up to `limit`.
fn wait_exit(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let t = Instant::now();
    while t.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    None
}

/// A streaming request to the proxy on `port`, answered with a 200.
async fn open_stream(port: u16) -> reqwest::Response {
    let r = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(format!("http://127.0.0.1:{port}/v1/responses"))
        .header("content-type", "application/json")
        .body(r#"{"model":"gpt-5.5","input":"hello","stream":true}"#)
        .send()
        .await
        .expect("the proxy answers");
    assert_eq!(r.status(), 200);
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_a_never_ending_stream_with_response_failed_and_exits() {
    let upstream = plugboard_e2e::hanging_chat_upstream().await;
    let port = free_port();
    let (mut child, logs) = spawn_proxy("", port, &upstream, &["--shutdown-grace-secs", "1"]);
    let mut stream = open_stream(port).await.bytes_stream();
    let mut text = String::new();
    while !text.contains("partial") {
        let chunk = stream.next().await.unwrap().unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    let t = Instant::now();
    signal(&child, "TERM");
    // New connections are refused at once.
    let mut refused = false;
    for _ in 0..50 {
        if TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(refused, "the port stops accepting right after the signal");
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("the stream ends")
    {
        text.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
    }
    let status = tokio::task::spawn_blocking(move || {
        let s = wait_exit(&mut child, Duration::from_secs(10));
        (s, child)
    })
    .await
    .unwrap()
    .0
    .expect("the process exits after the grace period");
    let took = t.elapsed();
    assert!(status.success(), "{status:?}");
    let last = text.trim_end().rsplit("\n\n").next().unwrap();
    assert!(
        last.starts_with("event: response.failed") && last.contains("server_is_overloaded"),
        "the client's last event: {last}"
    );
    let logs = logs.text();
    assert!(logs.contains("grace period over"), "{logs}");
    println!("SIGTERM with a stream open: exited after {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_stream_cut_by_sigterm_is_in_the_usage_history_after_exit() {
    let upstream = plugboard_e2e::hanging_chat_upstream().await;
    let port = free_port();
    let dir = std::env::temp_dir().join(format!("plugboard-cut-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("usage.db");
    let db_arg = db.display().to_string();
    let extra = ["--shutdown-grace-secs", "1", "--usage-db", &db_arg];
    let (mut child, _logs) = spawn_proxy("", port, &upstream, &extra);
    let mut streams = Vec::new();
    for _ in 0..5 {
        let mut s = open_stream(port).await.bytes_stream();
        let mut text = String::new();
        while !text.contains("partial") {
            text.push_str(&String::from_utf8_lossy(&s.next().await.unwrap().unwrap()));
        }
        streams.push(s);
    }
    signal(&child, "TERM");
    for mut s in streams {
        while let Some(chunk) = tokio::time::timeout(Duration::from_secs(10), s.next())
            .await
            .expect("the stream ends")
        {
            chunk.unwrap();
        }
    }
    let status =
        tokio::task::spawn_blocking(move || wait_exit(&mut child, Duration::from_secs(10)))
            .await
            .unwrap()
            .expect("the process exits");
    assert!(status.success(), "{status:?}");
    // The process is gone: what it recorded is on disk.
    let rows = plugboard_usage::UsageDb::open(&db)
        .unwrap()
        .recent(50, &plugboard_usage::db::LogFilter::default())
        .unwrap();
    let statuses: Vec<String> = rows.iter().map(|r| r.status.to_string()).collect();
    assert_eq!(statuses, vec!["cut_by_shutdown"; 5], "{rows:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_exits_at_once() {
    let upstream = plugboard_e2e::hanging_chat_upstream().await;
    let port = free_port();
    let (mut child, _logs) = spawn_proxy("", port, &upstream, &["--shutdown-grace-secs", "60"]);
    let _stream = open_stream(port).await;
    signal(&child, "INT");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        child.try_wait().unwrap().is_none(),
        "the first signal waits for the stream"
    );
    signal(&child, "INT");
    let status = tokio::task::spawn_blocking(move || wait_exit(&mut child, Duration::from_secs(5)))
        .await
        .unwrap()
        .expect("the second signal exits at once");
    assert_eq!(status.code(), Some(130));
}

/// 1,050 idle connections to a proxy started with a soft limit of 1,024 (hard limit left
/// as it is, as a login shell has it), then with 1,024 as the hard limit too: both times a
/// real request is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_past_an_open_files_limit_of_1024() {
    // This process holds the client side of every connection.
    plugboard_server::listener::raise_fd_limit();
    let hard = rlimit_hard();
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(|| async {
            let body = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\ndata: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";
            ([("content-type", "text/event-stream")], body)
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = format!("http://{}/v1", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });

    for (ulimit, raised) in [
        ("ulimit -Sn 1024;", hard > 1024),
        ("ulimit -n 1024;", false),
    ] {
        let port = free_port();
        let (mut child, logs) =
            spawn_proxy(ulimit, port, &upstream, &["--header-timeout-secs", "60"]);
        let mut idle = Vec::new();
        for _ in 0..1050 {
            idle.push(TcpStream::connect(("127.0.0.1", port)).await.unwrap());
        }
        // Served with 1,050 idle connections open.
        let r = open_stream(port).await;
        let text = tokio::time::timeout(Duration::from_secs(20), r.text())
            .await
            .expect("the answer completes")
            .unwrap();
        assert!(text.contains("response.completed"), "{text}");
        drop(idle);
        signal(&child, "TERM");
        tokio::task::spawn_blocking(move || wait_exit(&mut child, Duration::from_secs(10)))
            .await
            .unwrap()
            .expect("exits");
        let logs = logs.text();
        let start_line = logs
            .lines()
            .find(|l| l.contains("proxy listening"))
            .unwrap_or_default();
        assert!(
            start_line.contains("open_files_limit_was=1024"),
            "the start line gives the limits: {start_line}"
        );
        if raised {
            assert!(
                start_line.contains(&format!("open_files_limit={hard}")),
                "raised to the hard limit: {start_line}"
            );
        } else {
            assert!(
                start_line.contains("max_connections=448"),
                "the cap leaves room under a hard limit of 1,024: {start_line}"
            );
        }
        println!("{ulimit} {start_line}");
    }
}

fn rlimit_hard() -> u64 {
    let out = Command::new("sh")
        .arg("-c")
        .arg("ulimit -Hn")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(u64::MAX)
}
