//! The headless proxy with keys in the OS keyring, where the desktop app keeps them: a
//! provider without `api_key_env` gets its key from the keyring (gnome-keyring in the test
//! session), read once at start; `--no-keyring` leaves it alone. The key shows nowhere in
//! the output.

mod common;
use common::{free_port, read_until};
use std::io::BufReader;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

/// An upstream that answers "hi" and keeps each request's Authorization header.
async fn upstream() -> (String, Arc<Mutex<Vec<String>>>) {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let keep = seen.clone();
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(move |headers: axum::http::HeaderMap| async move {
            keep.lock().unwrap().push(
                headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string(),
            );
            let body = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\ndata: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";
            ([("content-type", "text/event-stream")], body)
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (format!("http://{addr}/v1"), seen)
}

/// Serves `config` until the proxy prints its Codex snippet; returns the child and the
/// status and body of one request.
async fn serve_once(config: &std::path::Path, extra: &[&str]) -> (u16, String, String) {
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_plugboard-proxy"))
        .args([
            "serve",
            "--no-usage",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--config",
        ])
        .arg(config)
        .args(extra)
        .env_remove("PLUGBOARD_NO_KEYRING")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let _ =
        tokio::task::spawn_blocking(move || read_until(&mut stdout, "wire_api = \"responses\""))
            .await
            .unwrap();
    let r = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(format!("http://127.0.0.1:{port}/v1/responses"))
        .json(&serde_json::json!({"model": "deepseek-chat", "input": "hello", "stream": true}))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body = r.text().await.unwrap();
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let out = child.wait_with_output().unwrap();
    (
        status,
        body,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_reads_a_key_from_the_os_keyring() {
    let id = format!("headless-{}", std::process::id());
    let key = format!("sk-keyring-{}-0123456789", std::process::id());
    plugboard_keys::set_key(&id, &key)
        .expect("the OS keyring is reachable (run the tests through scripts/test.sh)");
    let (url, seen) = upstream().await;
    let dir = std::env::temp_dir().join(format!("plugboard-cli-keyring-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("settings.toml");
    // As the desktop app writes it: a preset provider, its key in the keyring, no variable.
    std::fs::write(
        &config,
        format!("active_provider = \"{id}\"\n\n[[provider]]\nid = \"{id}\"\npreset = \"deepseek\"\nbase_url = \"{url}\"\ndefault_model = \"deepseek-chat\"\n"),
    )
    .unwrap();

    let (status, body, logs) = serve_once(&config, &[]).await;
    assert_eq!(status, 200, "{body}\n{logs}");
    assert_eq!(seen.lock().unwrap().as_slice(), [format!("Bearer {key}")]);
    assert!(logs.contains("key read from the OS keyring"), "{logs}");
    assert!(!logs.contains(&key) && !body.contains(&key));

    // Told to leave the keyring alone, it sends the request without a key (as for a
    // server that needs none); the provider decides.
    let (status, body, logs) = serve_once(&config, &["--no-keyring"]).await;
    assert_eq!(status, 200, "{body}\n{logs}");
    assert_eq!(seen.lock().unwrap().len(), 2);
    assert_eq!(seen.lock().unwrap()[1], "", "no key without the keyring");
    assert!(!logs.contains("OS keyring"), "{logs}");

    plugboard_keys::delete_key(&id).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
