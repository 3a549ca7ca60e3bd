//! The app's logic end to end without a display: providers saved with keys, the proxy
//! started, switched and moved, Codex attached — against a scripted upstream on loopback.
//!
//! (Over 400 lines: each test walks one of the app's flows end to end (providers and keys,
//! port moves, Codex, stopping), and they share the helpers above.)

mod common;
use axum::routing::post;
use common::{free_port, upstream};
use plugboard_app::providers::ProviderInput;
use plugboard_app::{App, AppPaths, ProxyStatus};
use plugboard_keys::{KeyVault, MemoryVault};
use std::sync::Arc;

/// Fresh app folders whose settings file listens on a free port, then says `more`.
fn paths(name: &str, more: &str) -> AppPaths {
    let d = std::env::temp_dir().join(format!("plugboard-app-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    let paths = AppPaths {
        settings_file: d.join("config/settings.toml"),
        log_dir: d.join("logs"),
        codex_home: d.join("codex"),
        usage_db: d.join("data/usage.sqlite"),
    };
    std::fs::create_dir_all(paths.settings_file.parent().unwrap()).unwrap();
    std::fs::write(
        &paths.settings_file,
        format!("listen = \"127.0.0.1:{}\"\n{more}", free_port()),
    )
    .unwrap();
    paths
}

fn input(id: &str, base_url: &str, key: &str) -> ProviderInput {
    ProviderInput {
        original_id: None,
        id: id.into(),
        name: id.to_uppercase(),
        preset: Some("deepseek".into()),
        base_url: base_url.into(),
        wire_api: plugboard_config::WireApi::Chat,
        default_model: Some("deepseek-chat".into()),
        model_map: Default::default(),
        api_key: Some(key.into()),
        clear_key: false,
    }
}

/// A non-streamed request for `model`: the whole response.
async fn ask_for(base_url: &str, model: &str) -> serde_json::Value {
    reqwest::Client::new()
        .post(format!("{base_url}/responses"))
        .json(&serde_json::json!({"model": model, "input": "hi"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The answer's text to a request for `gpt-5.5`.
async fn ask(base_url: &str) -> String {
    let r = ask_for(base_url, "gpt-5.5").await;
    r["output"][0]["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn providers_keys_switching_ports_and_codex() {
    let (url_a, seen_a) = upstream("from A").await;
    let (url_b, seen_b) = upstream("from B").await;
    let paths = paths("flow", "");
    let vault = Arc::new(MemoryVault::default());
    let app = App::load(paths.clone(), vault.clone()).unwrap();

    app.save_provider(input("alpha", &url_a, "sk-alpha-1234567890"))
        .await
        .unwrap();
    app.save_provider(input("beta", &url_b, "sk-beta-0987654321"))
        .await
        .unwrap();
    let ProxyStatus::Running { .. } = app.start().await else {
        panic!("proxy runs")
    };
    let snap = app.snapshot().await;
    assert_eq!(snap.settings.active_provider.as_deref(), Some("alpha"));
    let base = snap.base_url.clone();

    assert_eq!(ask(&base).await, "from A");
    assert_eq!(seen_a.lock().unwrap()[0], "Bearer sk-alpha-1234567890");

    // Switch: the next request goes to B, with B's key, without a restart.
    app.set_active("beta").await.unwrap();
    assert_eq!(ask(&base).await, "from B");
    assert_eq!(seen_b.lock().unwrap()[0], "Bearer sk-beta-0987654321");

    // The settings file holds no key.
    let file = std::fs::read_to_string(&paths.settings_file).unwrap();
    assert!(
        !file.contains("sk-alpha") && !file.contains("sk-beta"),
        "{file}"
    );
    assert!(file.contains("active_provider = \"beta\""));

    // A port in use is refused and the proxy stays where it was.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let e = app
        .set_port(busy.local_addr().unwrap().port())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot be used"), "{e}");
    assert_eq!(ask(&base).await, "from B");
    let port = free_port();
    app.set_port(port).await.unwrap();
    let moved = app.snapshot().await.base_url;
    assert_eq!(moved, format!("http://127.0.0.1:{port}/v1"));
    assert_eq!(ask(&moved).await, "from B");

    // Usage history: every request is a row, with the provider that answered.
    let log = app.request_log(50, Default::default()).await.unwrap();
    assert!(log.len() >= 4, "{log:#?}");
    assert_eq!(log[0].provider, "beta");
    assert!(log.iter().all(|r| r.priced), "deepseek-chat has a price");
    // A model nobody priced, served from this machine: local, so it costs nothing.
    let r = ask_for(&moved, "mystery-model").await;
    assert_eq!(r["status"], "completed", "{r}");
    let newest = &app.request_log(1, Default::default()).await.unwrap()[0];
    assert_eq!(
        (newest.upstream_model.as_str(), newest.local, newest.priced),
        ("mystery-model", true, true)
    );
    let overview = app.usage_overview(7).await.unwrap();
    assert_eq!(overview.summary.requests as usize, log.len() + 1);
    assert!(
        overview.daily.iter().any(|d| d.provider == "alpha")
            && overview.daily.iter().any(|d| d.provider == "beta")
    );
    let last = app.snapshot().await.last_request.unwrap();
    assert_eq!((last.provider.as_str(), last.ok), ("BETA", true));

    // A failure shows in the status, in words, until a request succeeds again.
    let dead = format!("http://127.0.0.1:{}/v1", free_port());
    app.save_provider(input("gamma", &dead, "sk-gamma-1234567890"))
        .await
        .unwrap();
    app.set_active("gamma").await.unwrap();
    let mut changes = app.subscribe();
    changes.borrow_and_update();
    ask(&moved).await;
    assert!(
        changes.has_changed().unwrap(),
        "the window and tray are told"
    );
    let snap = app.snapshot().await;
    assert_eq!(
        snap.last_request
            .as_ref()
            .and_then(|l| l.sentence.as_deref()),
        Some("GAMMA could not be reached")
    );
    assert_eq!(snap.tray_state, plugboard_app::status::TrayState::Error);
    assert!(plugboard_app::tray_model::status_line(&snap)
        .ends_with("· GAMMA · Last request failed: GAMMA could not be reached"));
    app.set_active("beta").await.unwrap();
    assert_eq!(ask(&moved).await, "from B");
    assert_eq!(
        app.snapshot().await.tray_state,
        plugboard_app::status::TrayState::Running
    );
    app.delete_provider("gamma").await.unwrap();

    // Deleting a provider deletes its key.
    app.delete_provider("alpha").await.unwrap();
    assert_eq!(vault.get("alpha").unwrap(), None);

    // Codex: preview writes nothing, apply writes the table, detach restores.
    let preview = app
        .codex_preview(true, Some("gpt-5.5".into()))
        .await
        .unwrap();
    assert!(
        preview
            .diff
            .contains(&format!("base_url = \"http://127.0.0.1:{port}/v1\"")),
        "{}",
        preview.diff
    );
    assert!(!paths.codex_home.join("config.toml").exists());
    app.set_routes(vec![plugboard_config::Route {
        model: "execute".into(),
        provider: "beta".into(),
        upstream_model: None,
        fallbacks: Vec::new(),
        context_window: None,
        subagent: false,
    }])
    .await
    .unwrap();
    app.codex_apply(true, Some("gpt-5.5".into())).await.unwrap();
    assert!(app.snapshot().await.codex_attached);
    assert!(paths.codex_home.join("execute.config.toml").exists());
    // A port change while attached: Codex's config follows.
    let port2 = free_port();
    app.set_port(port2).await.unwrap();
    let config = std::fs::read_to_string(paths.codex_home.join("config.toml")).unwrap();
    assert!(
        config.contains(&format!("base_url = \"http://127.0.0.1:{port2}/v1\"")),
        "{config}"
    );
    assert!(app.snapshot().await.codex_attached);
    // Attached means pointing at this proxy: a file pointing elsewhere is not.
    std::fs::write(
        paths.codex_home.join("config.toml"),
        config.replace(&port2.to_string(), "1"),
    )
    .unwrap();
    assert!(!app.snapshot().await.codex_attached);
    app.codex_detach().await.unwrap();
    assert!(!app.snapshot().await.codex_attached);

    assert_eq!(app.stop().await, ProxyStatus::Stopped);
}

/// Counts every keyring call: the proxy must hold keys in memory, not read them per request.
#[derive(Default)]
struct SpyVault {
    inner: MemoryVault,
    reads: std::sync::atomic::AtomicUsize,
}

impl KeyVault for SpyVault {
    fn set(&self, id: &str, key: &str) -> Result<(), plugboard_keys::KeyStoreError> {
        self.inner.set(id, key)
    }
    fn get(&self, id: &str) -> Result<Option<String>, plugboard_keys::KeyStoreError> {
        self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.get(id)
    }
    fn delete(&self, id: &str) -> Result<(), plugboard_keys::KeyStoreError> {
        self.inner.delete(id)
    }
}

#[tokio::test]
async fn requests_and_the_window_read_no_key_from_the_keyring_after_start() {
    let (url, seen) = upstream("ok").await;
    let paths = paths("spy", "");
    // A key stored by an earlier run of the app.
    let spy = Arc::new(SpyVault::default());
    spy.inner.set("alpha", "sk-alpha-1234567890").unwrap();
    let app = App::load(paths.clone(), Arc::new(MemoryVault::default())).unwrap();
    let mut no_key = input("alpha", &url, "");
    no_key.api_key = None;
    app.save_provider(no_key).await.unwrap();
    drop(app);

    let app = App::load(paths, spy.clone()).unwrap();
    app.start().await;
    let at_start = spy.reads.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(at_start, 1, "one read per provider at start");
    let base = app.snapshot().await.base_url;
    for _ in 0..20 {
        assert_eq!(ask(&base).await, "ok");
    }
    for _ in 0..5 {
        let views = app.providers().await;
        assert_eq!(views[0].key_mask.as_deref(), Some("sk-••••7890"));
        app.snapshot().await;
    }
    assert_eq!(
        spy.reads.load(std::sync::atomic::Ordering::SeqCst),
        at_start,
        "no keyring read after start"
    );
    assert!(seen
        .lock()
        .unwrap()
        .iter()
        .all(|a| a == "Bearer sk-alpha-1234567890"));
    app.stop().await;
}

/// Quit while Codex is mid-stream and the provider never finishes: Stop returns within the
/// grace period, the client's stream ends with `response.failed`, the window and the tray
/// stay responsive meanwhile, and the state is Stopped.
#[tokio::test]
async fn stop_while_a_stream_hangs_returns_within_the_grace_period() {
    use futures_util::StreamExt;
    let app_up = axum::Router::new().route(
        "/v1/chat/completions",
        post(|| async {
            let first = bytes::Bytes::from_static(
                b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"thinking about it\"}}]}\n\n",
            );
            let body = futures_util::stream::once(async move { Ok::<_, std::io::Error>(first) })
                .chain(futures_util::stream::pending());
            (
                [("content-type", "text/event-stream")],
                axum::body::Body::from_stream(body),
            )
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app_up).await.unwrap() });

    let paths = paths("quit", "[server]\nshutdown_grace_secs = 1\n");
    let app = Arc::new(App::load(paths, Arc::new(MemoryVault::default())).unwrap());
    app.save_provider(input("slow", &url, "sk-slow-1234567890"))
        .await
        .unwrap();
    app.start().await;
    let base = app.snapshot().await.base_url;
    let resp = reqwest::Client::new()
        .post(format!("{base}/responses"))
        .json(&serde_json::json!({"model": "gpt-5.5", "input": "hi", "stream": true}))
        .send()
        .await
        .unwrap();
    let mut stream = resp.bytes_stream();
    let mut seen = String::new();
    while !seen.contains("thinking about it") {
        seen.push_str(&String::from_utf8_lossy(
            &stream.next().await.unwrap().unwrap(),
        ));
    }

    let started = std::time::Instant::now();
    let stopping = tokio::spawn({
        let app = app.clone();
        async move { app.stop().await }
    });
    // The window and the tray keep answering while streams finish, and say Stopped.
    loop {
        let snap = tokio::time::timeout(std::time::Duration::from_millis(500), app.snapshot())
            .await
            .expect("the app answers during a stop");
        if snap.status == ProxyStatus::Stopped {
            break;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        tokio::task::yield_now().await;
    }
    let rest = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while let Some(Ok(chunk)) = stream.next().await {
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await;
    assert!(rest.is_ok(), "the client's stream ends");
    assert!(
        seen.contains("event: response.failed") && seen.contains("server_is_overloaded"),
        "{seen}"
    );
    assert_eq!(stopping.await.unwrap(), ProxyStatus::Stopped);
    let took = started.elapsed();
    assert!(
        took < std::time::Duration::from_secs(4),
        "stop took {took:?} with a 1 s grace period"
    );
}

/// Export, delete, import: the providers and routes come back, the file holds no key, and
/// the keys are asked for again (none is in the keyring until the user types it).
#[tokio::test]
async fn export_delete_import_round_trip_asks_for_keys_again() {
    let (url, _) = upstream("ok").await;
    let paths = paths("share", "");
    let vault = Arc::new(MemoryVault::default());
    let app = App::load(paths, vault.clone()).unwrap();
    app.save_provider(input("alpha", &url, "sk-alpha-shared-0123456789"))
        .await
        .unwrap();
    app.set_routes(vec![plugboard_config::Route {
        model: "plan".into(),
        provider: "alpha".into(),
        upstream_model: Some("deepseek-reasoner".into()),
        fallbacks: Vec::new(),
        context_window: None,
        subagent: false,
    }])
    .await
    .unwrap();
    let file = app.export_providers().await;
    assert!(!file.contains("sk-alpha-shared"), "{file}");
    app.delete_provider("alpha").await.unwrap();
    assert!(vault.get("alpha").unwrap().is_none());

    let report = app.import_providers(&file).await.unwrap();
    assert_eq!(report.added, ["alpha"]);
    assert_eq!(report.need_keys, ["alpha"]);
    let snap = app.snapshot().await;
    assert_eq!(snap.settings.routes[0].provider, "alpha");
    let view = &app.providers().await[0];
    assert_eq!((view.key_mask.as_deref(), view.needs_key), (None, true));
    // The user types the key: it goes to the keyring.
    let mut with_key = plugboard_app::providers::ProviderInput::for_saved(
        snap.settings.provider("alpha").unwrap(),
    );
    with_key.api_key = Some("sk-alpha-typed-again-0000".into());
    app.save_provider(with_key).await.unwrap();
    assert_eq!(
        vault.get("alpha").unwrap().as_deref(),
        Some("sk-alpha-typed-again-0000")
    );
}

/// A streaming request through the app's proxy, read until its first text arrived.
async fn stream_in_flight(base_url: &str) -> reqwest::Response {
    let mut r = reqwest::Client::new()
        .post(format!("{base_url}/responses"))
        .json(&serde_json::json!({"model": "gpt-5.5", "input": "hi", "stream": true}))
        .send()
        .await
        .unwrap();
    let mut seen = String::new();
    while !seen.contains("partial") {
        let chunk = r.chunk().await.unwrap().expect("the stream goes on");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    r
}

#[tokio::test]
async fn requests_cut_by_a_port_move_stop_or_quit_are_all_in_the_usage_history() {
    let url = plugboard_e2e::hanging_chat_upstream().await;
    let paths = paths("cut", "[server]\nshutdown_grace_secs = 1\n");
    let app = App::load(paths.clone(), Arc::new(MemoryVault::default())).unwrap();
    app.save_provider(input("alpha", &url, "sk-alpha-1234567890"))
        .await
        .unwrap();
    app.start().await;
    let mut open = Vec::new();
    // Two cut by a port move, two by Stop, two by Quit.
    for _ in 0..2 {
        open.push(stream_in_flight(&app.snapshot().await.base_url).await);
    }
    app.set_port(free_port()).await.unwrap();
    for _ in 0..2 {
        open.push(stream_in_flight(&app.snapshot().await.base_url).await);
    }
    app.stop().await;
    app.start().await;
    for _ in 0..2 {
        open.push(stream_in_flight(&app.snapshot().await.base_url).await);
    }
    // Quit takes the grace period: meanwhile the window and the tray say so, and nothing
    // starts the proxy again.
    let app = Arc::new(app);
    let quitting = tokio::spawn({
        let app = app.clone();
        async move { app.quit().await }
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while app.snapshot().await.status != ProxyStatus::Quitting {
        assert!(
            std::time::Instant::now() < deadline,
            "Quit shows as quitting"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let line = plugboard_app::tray_model::status_line(&app.snapshot().await);
    assert!(line.starts_with("Quitting"), "{line}");
    assert_eq!(app.start().await, ProxyStatus::Quitting);
    assert_eq!(app.stop().await, ProxyStatus::Quitting);
    quitting.await.unwrap();
    drop(open);
    // Quit wrote every row before returning: read the file as the next start would.
    let rows = plugboard_usage::UsageDb::open(&paths.usage_db)
        .unwrap()
        .recent(50, &plugboard_usage::db::LogFilter::default())
        .unwrap();
    let statuses: Vec<String> = rows.iter().map(|r| r.status.to_string()).collect();
    assert_eq!(statuses, vec!["cut_by_shutdown"; 6], "{rows:?}");
}
