//! The real Codex CLI over Plugboard's WebSocket: a provider marked `supports_websockets`,
//! a tool loop (a shell call, its result, the answer) through a scripted chat upstream. A tap
//! between Codex and the proxy records each connection's request line, so the test knows
//! the turn went over the socket (no `POST /v1/responses`, no reconnect, no fallback).
//!
//! `CODEX_BIN` names the binary (the project's test script installs it).

use plugboard_e2e::codex::*;
use plugboard_e2e::scripted_model::{Quirks, ScriptedModel};
use plugboard_e2e::*;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A TCP relay in front of `to` that keeps the first line of each connection's first
/// request (and whether it asked for a WebSocket).
struct Tap {
    addr: SocketAddr,
    heads: Arc<Mutex<Vec<String>>>,
}

impl Tap {
    async fn start(to: SocketAddr) -> Tap {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let heads: Arc<Mutex<Vec<String>>> = Arc::default();
        let keep = heads.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let keep = keep.clone();
                tokio::spawn(async move {
                    let mut first = vec![0u8; 8192];
                    let n = client.read(&mut first).await.unwrap_or(0);
                    let head = String::from_utf8_lossy(&first[..n]).to_string();
                    let line = head.lines().next().unwrap_or_default().to_string();
                    let ws = head.to_ascii_lowercase().contains("upgrade: websocket");
                    keep.lock()
                        .unwrap()
                        .push(format!("{line}{}", if ws { " [websocket]" } else { "" }));
                    let Ok(mut server) = TcpStream::connect(to).await else {
                        return;
                    };
                    if server.write_all(&first[..n]).await.is_err() {
                        return;
                    }
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                });
            }
        });
        Tap { addr, heads }
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

#[tokio::test]
async fn codex_runs_a_tool_loop_over_plugboards_websocket() {
    let Some(bin) = codex_bin() else { return };
    let model = ScriptedModel::start(Quirks::default()).await;
    let proxy = start_proxy(one_provider(&model.base_url()), "k").await;
    let tap = Tap::start(proxy.addr()).await;
    let dir = codex_dir(Path::new(env!("CARGO_TARGET_TMPDIR")), "websocket");
    write_config(
        &dir.join("codex-home"),
        &format!("http://{}/v1", tap.addr),
        "supports_websockets = true\n",
    );
    let run = codex_exec(
        &bin,
        &dir,
        &dir.join("work"),
        &["Use exec_command to say hello."],
    )
    .await;
    assert!(
        run.ok,
        "codex over the websocket\nstdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    assert!(
        run.stdout.contains("The command printed: plugboard"),
        "the tool ran and its result came back: {}",
        run.stdout
    );
    for warning in ["Reconnecting", "Falling back from WebSockets"] {
        assert!(!run.stderr.contains(warning), "{warning}:\n{}", run.stderr);
    }
    let heads = tap.heads();
    assert!(
        heads
            .iter()
            .any(|h| h.starts_with("GET /v1/responses") && h.ends_with("[websocket]")),
        "{heads:?}"
    );
    assert!(
        !heads.iter().any(|h| h.starts_with("POST /v1/responses")),
        "no turn went over HTTP: {heads:?}"
    );
    let chats = model.requests();
    assert_eq!(chats.len(), 2, "the call, then the answer to its result");
    assert_eq!(
        chats[1]["messages"].as_array().unwrap().last().unwrap()["role"],
        "tool"
    );
    proxy.stop().await;
}
