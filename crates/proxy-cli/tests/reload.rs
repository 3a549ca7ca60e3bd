//! Settings reloaded while `plugboard-proxy serve` runs, as a headless user changes them: a
//! provider added to the file by hand, `plugboard-proxy use` switching the active one, a
//! broken save, SIGHUP. A stream begun before a switch finishes on its provider.

mod common;
use common::{free_port, read_until};
use futures_util::StreamExt;
use plugboard_e2e::{reply_as_asked, text_chunks, MockUpstream, Reply};
use std::io::BufReader;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_plugboard-proxy");

fn provider(id: &str, url: &str, key_env: Option<&str>) -> String {
    let key = key_env
        .map(|v| format!("api_key_env = \"{v}\"\n"))
        .unwrap_or_default();
    format!("\n[[provider]]\nid = \"{id}\" # {id}'s own comment\nbase_url = \"{url}\"\npreset = \"custom\"\n{key}")
}

fn serve(settings: &Path, port: u16) -> (Child, Arc<Mutex<String>>) {
    let mut child = Command::new(BIN)
        .args(["serve", "--no-usage", "--no-keyring", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--config")
        .arg(settings)
        .env("PLUGBOARD_LOG", "info")
        .env("RELOAD_B_KEY", "sk-reload-b")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    read_until(&mut stdout, "listening on");
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let logs = common::collect(child.stderr.take().unwrap());
    (child, logs)
}

async fn wait_for_log(logs: &Arc<Mutex<String>>, needle: &str, count: usize) {
    let t = Instant::now();
    while logs.lock().unwrap().matches(needle).count() < count {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "no `{needle}` (×{count}) in the proxy's log: {}",
            logs.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The text of a non-streamed answer through the proxy.
async fn ask(port: u16) -> String {
    let r = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(format!("http://127.0.0.1:{port}/v1/responses"))
        .json(&serde_json::json!({"model": "m", "input": "hi", "stream": false}))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body["output"][0]["content"][0]["text"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

/// Asks until the answer is `want` (a reload is picked up within a second or two).
async fn until_answered_by(port: u16, want: &str) {
    let t = Instant::now();
    loop {
        let got = ask(port).await;
        if got == want {
            return;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "still answered `{got}`, not `{want}`"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn use_provider(settings: &Path, id: &str) -> std::process::Output {
    Command::new(BIN)
        .args(["use", id, "--config"])
        .arg(settings)
        .env_remove("PLUGBOARD_CONFIG")
        .output()
        .unwrap()
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_proxy_follows_its_settings_file_and_plugboard_proxy_use() {
    let gate = Arc::new(tokio::sync::Notify::new());
    let g = gate.clone();
    let a = MockUpstream::start(move |body, n| {
        if n == 0 {
            return Reply::GatedSse {
                events: text_chunks(&["from-a ", "finished"]),
                before_gate: 2,
                gate: g.clone(),
            };
        }
        reply_as_asked(body, text_chunks(&["from-a"]))
    })
    .await;
    let b = MockUpstream::start(|body, _| reply_as_asked(body, text_chunks(&["from-b"]))).await;
    let dir = plugboard_e2e::TempHome::new("reload");
    let settings = dir.root.join("settings.toml");
    let head = "# The team's proxy. Hand-written: keep this line.\nactive_provider = \"a\"\n";
    std::fs::write(
        &settings,
        format!("{head}{}", provider("a", &a.base_url(), None)),
    )
    .unwrap();
    let port = free_port();
    let (mut child, logs) = serve(&settings, port);

    // A stream begins on `a` and waits there.
    let begun = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(format!("http://127.0.0.1:{port}/v1/responses"))
        .json(&serde_json::json!({"model": "m", "input": "long", "stream": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(begun.status(), 200);
    let mut stream = begun.bytes_stream();
    let mut streamed = String::new();
    while !streamed.contains("from-a ") {
        streamed.push_str(&String::from_utf8_lossy(
            &stream.next().await.unwrap().unwrap(),
        ));
    }

    // A provider added by hand, with its key in an environment variable only the proxy has.
    let text = std::fs::read_to_string(&settings).unwrap()
        + &provider("b", &b.base_url(), Some("RELOAD_B_KEY"));
    std::fs::write(&settings, text).unwrap();
    wait_for_log(&logs, "settings reloaded", 1).await;
    assert_eq!(ask(port).await, "from-a", "still the active provider");

    // An unknown provider: refused, the file untouched.
    let before = std::fs::read_to_string(&settings).unwrap();
    let out = use_provider(&settings, "nope");
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("`nope`") && said.contains("a, b"), "{said}");
    assert_eq!(std::fs::read_to_string(&settings).unwrap(), before);

    // `use b`: the next requests go to b, with b's key; the comments stay.
    let out = use_provider(&settings, "b");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    until_answered_by(port, "from-b").await;
    let sent = b.requests();
    let auth = sent.last().unwrap().headers.get("authorization").unwrap();
    assert_eq!(auth, "Bearer sk-reload-b");
    let text = std::fs::read_to_string(&settings).unwrap();
    assert!(
        text.contains("Hand-written: keep this line.") && text.contains("b's own comment"),
        "{text}"
    );

    // The stream begun before the switch finishes on a.
    gate.notify_one();
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("the old stream ends")
    {
        streamed.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
    }
    assert!(
        streamed.contains("finished") && streamed.contains("response.completed"),
        "{streamed}"
    );
    let sent_to_a: Vec<String> = a.requests().iter().map(|r| r.body.to_string()).collect();
    assert_eq!(
        sent_to_a.iter().filter(|b| b.contains("long")).count(),
        1,
        "{sent_to_a:?}"
    );

    // A broken save changes nothing: logged, and b still serves.
    std::fs::write(&settings, "active_provider = [").unwrap();
    wait_for_log(&logs, "settings file not applied", 1).await;
    assert_eq!(ask(port).await, "from-b");

    // SIGHUP reads the file again (still broken: refused again) and does not end the proxy.
    signal(&child, "HUP");
    wait_for_log(&logs, "settings file not applied", 2).await;
    assert!(
        child.try_wait().unwrap().is_none(),
        "SIGHUP ended the proxy"
    );
    assert_eq!(ask(port).await, "from-b");

    // Mended, and HUP'd: a again.
    std::fs::write(&settings, before).unwrap();
    signal(&child, "HUP");
    until_answered_by(port, "from-a").await;
    assert!(
        logs.lock().unwrap().contains("trigger=Hangup"),
        "{}",
        logs.lock().unwrap()
    );
    let logs = logs.lock().unwrap().clone();
    assert!(!logs.contains("sk-reload-b"), "a key in the log: {logs}");
    signal(&child, "TERM");
    assert!(child.wait().unwrap().success());
}

#[test]
fn sighup_does_not_end_a_proxy_started_from_flags() {
    let port = free_port();
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--no-usage",
            "--no-keyring",
            "--upstream",
            "http://127.0.0.1:9/v1",
            "--listen",
        ])
        .arg(format!("127.0.0.1:{port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    read_until(&mut stdout, "listening on");
    signal(&child, "HUP");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "SIGHUP ended the proxy"
    );
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    signal(&child, "TERM");
    assert!(child.wait().unwrap().success());
}
