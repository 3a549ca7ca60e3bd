//! A glob route in Codex's catalog, as a user meets it: settings with `deepseek-*` routed to a
//! provider whose model list names `deepseek-v4-pro`; `plugboard-proxy codex apply` reads
//! that list (with the provider's key) and names the models in Codex's catalog, so the real
//! Codex CLI's `-m deepseek-v4-pro` gets Codex's full tool set (`apply_patch` included)
//! instead of its fallback metadata. `CODEX_BIN` comes from the project's test script;
//! without it the test fails, unless `PLUGBOARD_SKIP_EXTERNAL=1`.

mod common;
use common::{codex_through_serve, free_port};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

const KEY: &str = "sk-glob-canary-0123456789";

#[derive(Default)]
struct Seen {
    list_auth: Vec<String>,
    chats: Vec<Value>,
}

/// A chat provider with a model list: answers "hi", keeps what it was sent.
async fn provider() -> (String, Arc<Mutex<Seen>>) {
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let (a, b) = (seen.clone(), seen.clone());
    let app = axum::Router::new()
        .route(
            "/v1/models",
            axum::routing::get(move |h: axum::http::HeaderMap| async move {
                let auth = h
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                a.lock().unwrap().list_auth.push(auth.to_string());
                axum::Json(json!({"object": "list", "data": [
                    {"id": "deepseek-v4-pro", "object": "model"},
                    {"id": "deepseek-v4-flash", "object": "model"},
                    {"id": "text-embedder", "object": "model"}
                ]}))
            }),
        )
        .route(
            "/v1/chat/completions",
            axum::routing::post(move |body: axum::Json<Value>| async move {
                b.lock().unwrap().chats.push(body.0);
                let sse = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\ndata: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":3,\"total_tokens\":10}}\n\ndata: [DONE]\n\n";
                ([("content-type", "text/event-stream")], sse)
            }),
        );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (format!("http://{addr}/v1"), seen)
}

#[tokio::test]
async fn codex_apply_names_what_a_glob_route_serves_and_codex_gets_its_tools() {
    let Some(bin_codex) = plugboard_e2e::codex::codex_bin() else {
        return;
    };
    let (upstream, seen) = provider().await;
    // Not under /tmp: Codex refuses to set up its helper binaries there.
    let dir = plugboard_e2e::codex::codex_dir(
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")),
        "cli-glob-catalog",
    );
    let home = dir.join("codex-home");
    let port = free_port();
    let settings = dir.join("settings.toml");
    std::fs::write(
        &settings,
        format!("listen = \"127.0.0.1:{port}\"\nactive_provider = \"oa\"\n\n[[provider]]\nid = \"oa\"\npreset = \"openai\"\nbase_url = \"http://127.0.0.1:1/v1\"\n\n[[provider]]\nid = \"ds\"\npreset = \"deepseek\"\nbase_url = \"{upstream}\"\napi_key_env = \"GLOB_KEY\"\n\n[[route]]\nmodel = \"deepseek-*\"\nprovider = \"ds\"\n"),
    )
    .unwrap();
    let proxy = env!("CARGO_BIN_EXE_plugboard-proxy");
    let applied = tokio::process::Command::new(proxy)
        .args(["codex", "apply", "--no-keyring", "--config"])
        .arg(&settings)
        .arg("--codex")
        .arg(&bin_codex)
        .env("CODEX_HOME", &home)
        .env("GLOB_KEY", KEY)
        .output()
        .await
        .unwrap();
    let printed = String::from_utf8_lossy(&applied.stdout);
    assert!(
        applied.status.success(),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );
    assert!(
        printed.contains(
            "Codex now knows deepseek-v4-flash, deepseek-v4-pro, deepseek-chat, deepseek-reasoner"
        ),
        "the glob route's names, the provider's list first: {printed}"
    );
    assert!(!printed.contains(KEY));
    assert_eq!(
        seen.lock().unwrap().list_auth,
        [format!("Bearer {KEY}")],
        "the model list was read once, with the provider's key"
    );

    let (ok, so, se) = codex_through_serve(
        &settings,
        &[("GLOB_KEY", KEY), ("PLUGBOARD_NO_KEYRING", "true")],
        &bin_codex,
        &dir,
        &home,
        "deepseek-v4-pro",
        "say hi",
    )
    .await;
    assert!(
        ok && so.trim() == "hi",
        "codex -m deepseek-v4-pro\nstdout:\n{so}\nstderr:\n{se}"
    );
    assert!(
        !se.contains("Defaulting to fallback metadata"),
        "Codex found the model in the catalog: {se}"
    );
    let first = seen.lock().unwrap().chats[0].clone();
    assert_eq!(first["model"], "deepseek-v4-pro");
    let tools: Vec<&str> = first["tools"]
        .as_array()
        .expect("tools declared")
        .iter()
        .filter_map(|t| t["function"]["name"].as_str())
        .collect();
    assert!(tools.contains(&"apply_patch"), "{tools:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
