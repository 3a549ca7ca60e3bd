//! The real desktop app under Xvfb, driven through tauri-driver and WebKitWebDriver: add a
//! provider from a preset, type its key, save, make it active, then a Responses request to
//! the app's own proxy reaches that provider with the key from the OS keyring. Also: start
//! at login writes and removes the autostart entry. Writes a screenshot of the window.
//!
//! Needs `PLUGBOARD_APP` (the built `plugboard` binary), `TAURI_DRIVER`, a `DISPLAY` and a
//! D-Bus session with an unlocked keyring: `scripts/test.sh` provides all of them.
//!
//! (Over 400 lines: four user paths through the real window share one launcher and one app at
//! a time; splitting them would build and link four test binaries.)

use plugboard_e2e::desktop::{end_app, env_or_skip, in_home, launch, launch_in, ONE_APP};
use plugboard_e2e::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A new user: empty settings, the window's first-run steps from a preset to "Applied to
/// Codex", each checked off; then a request through the proxy reaches the provider with
/// the key, and Codex's config points at the proxy.
#[tokio::test]
async fn first_run_goes_from_nothing_to_applied_to_codex() {
    let (Some(app), Some(driver)) = (env_or_skip("PLUGBOARD_APP"), env_or_skip("TAURI_DRIVER"))
    else {
        return;
    };
    let _one = ONE_APP.lock().await;
    end_app(&app).await;
    let key = format!("sk-first-run-{}-secret", std::process::id());
    let upstream = MockUpstream::start(|_, _| {
        Reply::Raw {
            status: 200,
            headers: vec![("content-type", "application/json".into())],
            body: json!({"data": [{"id": "deepseek-chat"}], "choices": [{"index": 0, "message": {"role": "assistant", "content": "pong"}, "finish_reason": "stop"}]}).to_string(),
        }
    })
    .await;
    let port = free_port();
    let (wd, mut driver_proc, home) = launch(
        &app,
        &driver,
        "first-run",
        &format!("listen = \"127.0.0.1:{port}\"\n"),
    )
    .await;

    // The empty state is the guide, and the header says there is no provider yet.
    wd.wait_text("#first-run", "Run Codex on your provider")
        .await;
    wd.wait_text("#status", "No provider yet").await;
    let pill = wd
        .script(
            "return document.querySelector('#status').className",
            json!([]),
        )
        .await;
    assert_eq!(pill, json!("pill setup"));
    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    std::fs::write(artifacts.join("first-run.png"), wd.screenshot().await).unwrap();

    // 1 provider (DeepSeek is preselected; its address here is the scripted one), 2 key.
    wd.script(
        "const i = document.querySelector('#fr-base-url'); i.value = arguments[0];",
        json!([upstream.base_url()]),
    )
    .await;
    wd.type_into("#fr-key", &key).await;
    // 3 test, before anything is saved.
    wd.click("#fr-test").await;
    wd.wait_text("#fr-test-result", "✓ deepseek-chat answered")
        .await;
    assert!(upstream
        .requests()
        .iter()
        .all(|r| r.headers["authorization"] == format!("Bearer {key}")));
    // 4 save (the first provider becomes active), 5 apply.
    wd.click("#fr-save").await;
    wd.wait_text("#fr-save-result", "✓ DeepSeek saved and active")
        .await;
    // The optional Codex check: this provider answers "pong" to everything, so it streams
    // text but calls no tool, and the guide says so in the step's words.
    wd.click("#fr-check").await;
    let said = wd.wait_text("#fr-check-result", "✗").await;
    assert!(
        said.contains("Shell call (exec_command, valid JSON): the model called no tool"),
        "{said}"
    );
    wd.click("#fr-apply").await;
    wd.wait_text("#fr-apply-result", "✓ Applied to Codex").await;
    let done = wd
        .script(
            "return document.querySelectorAll('#first-run li.done').length",
            json!([]),
        )
        .await;
    assert_eq!(done, json!(5), "every step is checked off");
    std::fs::write(artifacts.join("first-run-done.png"), wd.screenshot().await).unwrap();

    let codex = std::fs::read_to_string(home.join(".codex/config.toml")).unwrap();
    assert!(
        codex.contains(&format!("base_url = \"http://127.0.0.1:{port}/v1\""))
            && codex.contains("model_provider = \"plugboard\""),
        "{codex}"
    );
    let answer: Value = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(format!("http://127.0.0.1:{port}/v1/responses"))
        .json(&json!({"model": "gpt-5.5", "input": "ping"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        answer["output"][0]["content"][0]["text"], "pong",
        "{answer}"
    );
    assert_eq!(
        upstream.requests().last().unwrap().body["model"],
        "deepseek-chat"
    );
    wd.wait_text("#status", "Running on").await;
    wd.wait_text("#status", "DeepSeek").await;

    wd.quit().await;
    end_app(&app).await;
    plugboard_keys::delete_key("deepseek").unwrap();
    let _ = driver_proc.kill().await;
}

/// A week of a realistic user's history: DeepSeek for most work, its reasoner for planning,
/// a local Qwen through Ollama, and the odd rate limit.
fn seed_usage(db: &Path) {
    let usage = plugboard_usage::UsageDb::open(db).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let mut rows = Vec::new();
    for day in 0..6u64 {
        let base = now - day * 86_400_000 - 3_600_000;
        let busy = [1.0, 0.7, 1.3, 0.4, 1.1, 0.9][day as usize];
        let mut push = |n: usize,
                        model: &str,
                        provider: &str,
                        upstream: &str,
                        input: u64,
                        cached: u64,
                        output: u64,
                        ttfe: f64,
                        status: &str| {
            for i in 0..(n as f64 * busy) as usize {
                rows.push(plugboard_server::RequestRecord {
                    ts_ms: base - i as u64 * 97_000,
                    request_id: format!("seed-{day}-{provider}-{i}"),
                    attempt: 1,
                    route: None,
                    model: model.into(),
                    provider: provider.into(),
                    upstream_model: upstream.into(),
                    status: status.into(),
                    error_class: (status != "completed").then(|| "rate_limit_exceeded".into()),
                    input_tokens: input + (i as u64 * 937) % 9000,
                    cached_tokens: cached,
                    output_tokens: output + (i as u64 * 131) % 700,
                    reasoning_tokens: 0,
                    first_event_ms: Some(ttfe + (i % 7) as f64 * 41.0),
                    total_ms: ttfe * 6.0,
                    stream: true,
                    local: provider == "ollama",
                    session: None,
                    user: None,
                });
            }
        };
        push(
            60,
            "gpt-5.5",
            "deepseek",
            "deepseek-chat",
            38_000,
            30_000,
            900,
            640.0,
            "completed",
        );
        push(
            8,
            "planner",
            "deepseek",
            "deepseek-reasoner",
            52_000,
            36_000,
            2_400,
            1_900.0,
            "completed",
        );
        push(
            25,
            "local-coder",
            "ollama",
            "qwen3-coder:30b",
            21_000,
            0,
            700,
            380.0,
            "completed",
        );
        push(
            1,
            "gpt-5.5",
            "deepseek",
            "deepseek-chat",
            0,
            0,
            0,
            0.0,
            "error_429",
        );
    }
    // Two hybrid Codex sessions: GPT on the ChatGPT plan plans, DeepSeek executes.
    for (n, (session, plans, steps)) in [
        ("019a3c2e-7d41-7b55-a1f0-5c9e2b7d4a10", 3u64, 14u64),
        ("019a3b91-2c07-7f3e-9d22-8e41f6a0c355", 2, 6),
    ]
    .into_iter()
    .enumerate()
    {
        let base = now - 2_400_000 - n as u64 * 7_200_000;
        for i in 0..plans + steps {
            let (provider, upstream, input, output) = if i < plans {
                ("plan", "gpt-5.5", 42_000 + i * 3_100, 2_600)
            } else {
                ("deepseek", "deepseek-chat", 48_000 + i * 2_300, 900)
            };
            rows.push(plugboard_server::RequestRecord {
                ts_ms: base + i * 41_000,
                request_id: format!("seed-session-{n}-{i}"),
                attempt: 1,
                route: None,
                model: if i < plans {
                    "gpt-5.5"
                } else {
                    "deepseek-chat"
                }
                .into(),
                provider: provider.into(),
                upstream_model: upstream.into(),
                status: "completed".into(),
                error_class: None,
                input_tokens: input,
                cached_tokens: input / 2,
                output_tokens: output,
                reasoning_tokens: 0,
                first_event_ms: Some(700.0),
                total_ms: 4_000.0,
                stream: true,
                local: false,
                session: Some(session.into()),
                user: None,
            });
        }
    }
    usage
        .insert(
            &rows,
            &plugboard_usage::PriceTable::with_overrides(&Default::default()),
        )
        .unwrap();
}

/// The README's screenshots, from a session that looks like a user's: named providers from
/// presets (a key in the keyring, a local Ollama), routes, and a week of usage. With
/// `PLUGBOARD_UPDATE_SCREENSHOTS=1` they replace the ones in docs/.
#[tokio::test]
async fn screenshots_of_a_realistic_session() {
    let (Some(app), Some(driver)) = (env_or_skip("PLUGBOARD_APP"), env_or_skip("TAURI_DRIVER"))
    else {
        return;
    };
    let _one = ONE_APP.lock().await;
    end_app(&app).await;
    // The port users see, unless this machine uses it.
    let port = if std::net::TcpListener::bind("127.0.0.1:15731").is_ok() {
        15731
    } else {
        free_port()
    };
    let settings = format!(
        r#"listen = "127.0.0.1:{port}"
active_provider = "deepseek"

[[provider]]
id = "deepseek"
name = "DeepSeek"
preset = "deepseek"
base_url = "https://api.deepseek.com/v1"
default_model = "deepseek-chat"
model_map = {{ "gpt-*" = "deepseek-chat" }}

[[provider]]
id = "qwen"
name = "Qwen (DashScope)"
preset = "qwen"
base_url = "https://dashscope-intl.aliyuncs.com/compatible-mode/v1"
default_model = "qwen3-coder-plus"
model_map = {{ "gpt-*" = "qwen3-coder-plus" }}

[[provider]]
id = "ollama"
name = "Ollama on this machine"
preset = "ollama"
base_url = "http://127.0.0.1:11434/v1"
default_model = "qwen3-coder:30b"
model_map = {{ "gpt-*" = "qwen3-coder:30b" }}

[[provider]]
id = "plan"
name = "ChatGPT plan"
preset = "chatgpt"
wire_api = "responses"
base_url = "https://chatgpt.com/backend-api/codex"

[[route]]
model = "planner"
provider = "deepseek"
upstream_model = "deepseek-reasoner"

[[route]]
model = "local-*"
provider = "ollama"
upstream_model = "qwen3-coder:30b"
"#
    );
    plugboard_keys::set_key("deepseek", "sk-5f1c0e7a9b2d4c6e8f0a1b2c3d4e7d21").unwrap();
    let home = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("desktop-readme-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(home.join(".local/share/plugboard")).unwrap();
    seed_usage(&home.join(".local/share/plugboard/usage.sqlite"));
    let (wd, mut driver_proc, _) = launch_in(&app, &driver, &home, &settings).await;

    wd.wait_text("#provider-list", "Ollama on this machine")
        .await;
    wd.wait_text("#status", "· DeepSeek").await;
    wd.click(".provider[data-id=deepseek]").await;
    wd.wait_text("#form-title", "Edit DeepSeek").await;
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts");
    std::fs::create_dir_all(&shots).unwrap();
    let mut taken = vec![("settings-window.png", wd.screenshot().await)];
    wd.click(".tab[data-tab=usage]").await;
    wd.wait_text("#usage-summary", "saved versus").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    taken.push(("usage-page.png", wd.screenshot().await));
    // Each session's mix against all on its planner.
    let sessions = wd.wait_text("#usage-sessions tbody", "ChatGPT plan").await;
    assert!(
        sessions.contains("gpt-5.5") && sessions.contains("deepseek-chat"),
        "{sessions}"
    );
    let saved = wd
        .script(
            "return [...document.querySelectorAll('#usage-sessions td.saved')].length",
            json!([]),
        )
        .await;
    assert_eq!(
        saved,
        json!(2),
        "both hybrid sessions saved money: {sessions}"
    );
    wd.script(
        "document.querySelector('#usage-sessions').scrollIntoView()",
        json!([]),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    taken.push(("usage-sessions.png", wd.screenshot().await));
    // Plan with GPT, execute locally: one click writes the subagent route and Codex's files.
    wd.click(".tab[data-tab=codex]").await;
    wd.type_into("#hybrid-executor", "deepseek-chat").await;
    wd.click("#codex-hybrid").await;
    wd.wait_text("#toast", "same provider and model").await;
    wd.type_into("#hybrid-executor", "local-coder").await;
    wd.click("#codex-hybrid").await;
    // The toast comes once Apply has written Codex's files (the state line can change first).
    wd.wait_text("#toast", "gpt-5.5 plans; subagents run on local-coder")
        .await;
    wd.wait_text(
        "#hybrid-state",
        "Subagents run on Ollama on this machine (qwen3-coder:30b)",
    )
    .await;
    let codex_config = std::fs::read_to_string(home.join(".codex/config.toml")).unwrap();
    assert!(
        codex_config.contains("default_subagent_model = \"local-coder\"")
            && codex_config.contains("model = \"gpt-5.5\""),
        "{codex_config}"
    );
    let saved = std::fs::read_to_string(home.join(".config/plugboard/settings.toml")).unwrap();
    assert!(saved.contains("subagent = true"), "{saved}");
    // The Routes tab shows it and saving the table keeps it a subagent route.
    wd.click(".tab[data-tab=routes]").await;
    wd.wait_text("#routes tbody", "subagents only").await;
    wd.click("#save-routes").await;
    wd.wait_text("#toast", "Routes saved").await;
    let saved = std::fs::read_to_string(home.join(".config/plugboard/settings.toml")).unwrap();
    assert!(
        saved.contains("subagent = true"),
        "saving the routes kept the flag: {saved}"
    );
    wd.click(".tab[data-tab=codex]").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    taken.push(("codex-hybrid.png", wd.screenshot().await));
    wd.click(".tab[data-tab=requests]").await;
    wd.wait_text("#request-log tbody", "Ollama on this machine")
        .await;
    taken.push(("requests-page.png", wd.screenshot().await));
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
    for (name, png) in &taken {
        assert!(png.starts_with(b"\x89PNG"));
        std::fs::write(shots.join(name), png).unwrap();
        if std::env::var("PLUGBOARD_UPDATE_SCREENSHOTS").as_deref() == Ok("1") {
            std::fs::write(docs.join(name), png).unwrap();
        }
    }
    wd.quit().await;
    end_app(&app).await;
    plugboard_keys::delete_key("deepseek").unwrap();
    let _ = driver_proc.kill().await;
}

fn autostart_entries(home: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(home.join(".config/autostart"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "desktop"))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn settings_window_adds_a_provider_whose_key_reaches_the_upstream() {
    let (Some(app), Some(driver)) = (env_or_skip("PLUGBOARD_APP"), env_or_skip("TAURI_DRIVER"))
    else {
        return;
    };
    let _one = ONE_APP.lock().await;
    end_app(&app).await;
    let key = format!("sk-e2e-{}-secret", std::process::id());

    // Two upstreams: the one the settings start with, and the one added through the window.
    let first =
        MockUpstream::start(|_, _| Reply::Sse(text_chunks(&["from the first provider"]))).await;
    // It rejects requests for `reject-me` as a provider rejects a revoked key.
    let added = MockUpstream::start(|body, _| {
        if body["model"] == "reject-me" {
            return Reply::Raw {
                status: 401,
                headers: vec![("content-type", "application/json".into())],
                body: json!({"error": {"message": "Authentication Fails, Your api key is invalid", "type": "authentication_error", "code": "invalid_request_error"}}).to_string(),
            };
        }
        Reply::Sse(text_chunks(&["from the provider added in the window"]))
    })
    .await;
    // A server of the user's own, added as Custom with only a default model.
    let custom = MockUpstream::start(|_, _| Reply::Sse(text_chunks(&["from my box"]))).await;

    let proxy_port = free_port();
    let (wd, mut driver_proc, home) = launch(
        &app,
        &driver,
        "window",
        &format!("version = 1\nlisten = \"127.0.0.1:{proxy_port}\"\nactive_provider = \"first\"\n\n[[provider]]\nid = \"first\"\nname = \"First\"\npreset = \"ollama\"\nbase_url = \"{}\"\n", first.base_url()),
    )
    .await;
    let config_dir = home.join(".config/plugboard");

    // The window lists the provider from the settings file, active.
    wd.wait_text("#provider-list", "First").await;
    wd.wait_text("#status", &format!("Running on 127.0.0.1:{proxy_port}"))
        .await;

    // Add a provider from the DeepSeek preset, pointed at the mock, with a key.
    wd.click("#add-provider").await;
    wd.script("const s = document.querySelector('#f-preset'); s.value = arguments[0]; s.dispatchEvent(new Event('change'));", json!(["deepseek"])).await;
    wd.type_into("#f-id", "e2e").await;
    wd.type_into("#f-name", "E2E DeepSeek").await;
    wd.type_into("#f-base-url", &added.base_url()).await;
    wd.type_into("#f-api-key", &key).await;
    wd.click("#save-provider").await;
    // The save shows the provider in the list, or an error in the form: report the error.
    let saved = wd
        .script(
            "return new Promise(r => { const t0 = Date.now(); (function poll() { \
               const e = document.querySelector('#form-error'); \
               if (document.querySelector('.provider[data-id=e2e]')) r('saved'); \
               else if (e && !e.hidden) r('error: ' + e.textContent); \
               else if (Date.now() - t0 > 20000) r('timeout'); else setTimeout(poll, 100); })(); })",
            json!([]),
        )
        .await;
    assert_eq!(saved, "saved", "saving the provider from the window");
    let item = wd.wait_text(".provider[data-id=e2e]", "key sk-").await;
    assert!(
        !item.contains(&key),
        "the page only shows a masked key: {item}"
    );

    // Switch the active provider from the window; the proxy follows on the next request.
    wd.click(".provider[data-id=e2e] .make-active").await;
    wd.wait_text(".provider[data-id=e2e] .badges", "active")
        .await;

    let resp = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(format!("http://127.0.0.1:{proxy_port}/v1/responses"))
        .json(&json!({"model": "gpt-5.5", "input": "hello", "stream": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let events = read_sse(resp).await;
    assert_eq!(
        terminal(&events)["output"][0]["content"][0]["text"],
        "from the provider added in the window"
    );
    let sent = &added.requests()[0];
    assert_eq!(
        sent.headers["authorization"],
        format!("Bearer {key}"),
        "the key came from the keyring"
    );
    assert_eq!(
        sent.body["model"], "deepseek-chat",
        "the preset maps gpt-* to its default model"
    );
    assert!(first.requests().is_empty());

    // The key lives in the OS keyring, not in the settings file.
    assert_eq!(
        plugboard_keys::get_key("e2e").unwrap().as_deref(),
        Some(key.as_str())
    );
    let settings = std::fs::read_to_string(config_dir.join("settings.toml")).unwrap();
    assert!(
        !settings.contains(&key) && settings.contains("active_provider = \"e2e\""),
        "{settings}"
    );

    wd.script("document.querySelector('main').scrollTo(0, 0)", json!([]))
        .await;
    let shot = wd.screenshot().await;
    assert!(shot.starts_with(b"\x89PNG"), "a PNG screenshot");
    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    std::fs::write(artifacts.join("settings-window.png"), &shot).unwrap();

    // The header names the active provider; a failed request turns it into the failure,
    // in words, and a good one clears it.
    wd.wait_text("#status", "· E2E DeepSeek").await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let rejected = http
        .post(format!("http://127.0.0.1:{proxy_port}/v1/responses"))
        .json(&json!({"model": "reject-me", "input": "hello"}))
        .send()
        .await
        .unwrap();
    assert_eq!(rejected.status(), 401);
    wd.wait_text(
        "#status",
        "Last request failed: E2E DeepSeek rejected the key (401)",
    )
    .await;
    let pill = wd
        .script(
            "return document.querySelector('#status').className",
            json!([]),
        )
        .await;
    assert_eq!(pill, json!("pill error"));
    std::fs::write(artifacts.join("failed-request.png"), wd.screenshot().await).unwrap();
    let again = http
        .post(format!("http://127.0.0.1:{proxy_port}/v1/responses"))
        .json(&json!({"model": "gpt-5.5", "input": "hello", "stream": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
    read_sse(again).await;
    wd.wait_text_gone("#status", "Last request failed").await;

    // Usage history: the request is in the log, the charts draw.
    wd.click(".tab[data-tab=requests]").await;
    let log = wd.wait_text("#request-log tbody", "E2E DeepSeek").await;
    assert!(log.contains("completed"), "{log}");
    // A failure reads as the header said it, not as a status code.
    assert!(log.contains("E2E DeepSeek rejected the key (401)"), "{log}");
    // The open tab follows a request that finishes now, without Refresh.
    let count = "return document.querySelectorAll('#request-log tbody tr').length";
    let before = wd.script(count, json!([])).await.as_u64().unwrap();
    let more = http
        .post(format!("http://127.0.0.1:{proxy_port}/v1/responses"))
        .json(&json!({"model": "gpt-5.5", "input": "one more", "stream": true}))
        .send()
        .await
        .unwrap();
    read_sse(more).await;
    let mut after = before;
    for _ in 0..50 {
        after = wd.script(count, json!([])).await.as_u64().unwrap();
        if after > before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        after > before,
        "the new request appeared ({before} → {after})"
    );
    // A row opens as a readable detail.
    wd.script(
        "const r = document.querySelector('#request-log tbody tr'); r.scrollIntoView(); r.click();",
        json!([]),
    )
    .await;
    let detail = wd.wait_text("#log-detail", "Request id").await;
    assert!(
        detail.contains("Outcome") && detail.contains("first event") && !detail.contains("ts_ms"),
        "{detail}"
    );
    std::fs::write(artifacts.join("request-detail.png"), wd.screenshot().await).unwrap();
    wd.click(".tab[data-tab=usage]").await;
    wd.wait_text("#usage-summary", "saved versus").await;
    let drawn = wd
        .script("return ['#chart-tokens', '#chart-cost', '#chart-latency'].every(id => !!(window.Chart && Chart.getChart(document.querySelector(id))))", json!([]))
        .await;
    assert_eq!(drawn, json!(true), "the three charts are drawn");
    wd.script("document.querySelector('main').scrollTo(0, 0)", json!([]))
        .await;
    std::fs::write(artifacts.join("usage-page.png"), wd.screenshot().await).unwrap();

    // Start at login: the checkbox writes and removes the XDG autostart entry.
    wd.click(".tab[data-tab=settings]").await;
    assert!(autostart_entries(&home).is_empty());
    wd.click("#autostart").await;
    let mut entries = Vec::new();
    for _ in 0..40 {
        entries = autostart_entries(&home);
        if !entries.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(entries.len(), 1, "an autostart entry was written");
    let desktop = std::fs::read_to_string(&entries[0]).unwrap();
    assert!(
        desktop.contains("--minimized"),
        "starts hidden in the tray: {desktop}"
    );
    wd.click("#autostart").await;
    for _ in 0..40 {
        if autostart_entries(&home).is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(
        autostart_entries(&home).is_empty(),
        "the autostart entry was removed"
    );

    let state: Value = wd
        .script(
            "return document.querySelector('#autostart').checked",
            json!([]),
        )
        .await;
    assert_eq!(state, json!(false));
    // A Custom provider with a default model and no model map: Codex's `gpt-5.5` reaches
    // the server as that default model (not as gpt-5.5).
    wd.click(".tab[data-tab=providers]").await;
    wd.click("#add-provider").await;
    wd.script("const s = document.querySelector('#f-preset'); s.value = 'custom'; s.dispatchEvent(new Event('change'));", json!([])).await;
    wd.type_into("#f-id", "box").await;
    wd.type_into("#f-name", "My box").await;
    wd.type_into("#f-base-url", &custom.base_url()).await;
    wd.type_into("#f-default-model", "my-model").await;
    wd.script(
        "document.querySelector('#f-model-map').value = '';",
        json!([]),
    )
    .await;
    wd.click("#save-provider").await;
    wd.wait_text(".provider[data-id=box]", "My box").await;
    wd.click(".provider[data-id=box] .make-active").await;
    wd.wait_text(".provider[data-id=box] .badges", "active")
        .await;
    let resp = http
        .post(format!("http://127.0.0.1:{proxy_port}/v1/responses"))
        .json(&json!({"model": "gpt-5.5", "input": "hello", "stream": true}))
        .send()
        .await
        .unwrap();
    read_sse(resp).await;
    assert_eq!(custom.requests()[0].body["model"], "my-model");

    // Apply to Codex, then move the port: Codex's config follows and stays attached.
    wd.click(".tab[data-tab=codex]").await;
    wd.click("#codex-apply").await;
    wd.wait_text("#codex-state", "Plugboard is attached").await;
    let new_port = free_port();
    wd.click(".tab[data-tab=settings]").await;
    wd.script(
        "document.querySelector('#port').value = arguments[0];",
        json!([new_port.to_string()]),
    )
    .await;
    wd.click("#save-port").await;
    wd.wait_text("#status", &format!("Running on 127.0.0.1:{new_port}"))
        .await;
    let codex_config = home.join(".codex/config.toml");
    let mut text = String::new();
    for _ in 0..40 {
        text = std::fs::read_to_string(&codex_config).unwrap_or_default();
        if text.contains(&format!("127.0.0.1:{new_port}/v1")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(
        text.contains(&format!("base_url = \"http://127.0.0.1:{new_port}/v1\"")),
        "{text}"
    );
    wd.click(".tab[data-tab=codex]").await;
    wd.wait_text("#codex-state", "Plugboard is attached").await;

    // A plugboard:// link, opened as the desktop opens it (a second launch with the link):
    // the running app shows the form filled in and saves nothing by itself.
    let opened = in_home(&mut tokio::process::Command::new(&app), &home)
        .arg("plugboard://add-provider?preset=deepseek&name=Team%20DeepSeek&base_url=https%3A%2F%2Fgateway.example%2Fv1&default_model=deepseek-chat")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .output();
    let out = tokio::time::timeout(Duration::from_secs(30), opened)
        .await
        .expect("the second launch hands over and exits")
        .unwrap();
    assert!(
        out.status.success(),
        "the second launch: {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    wd.wait_text("#form-title", "from a link").await;
    let filled = wd
        .script(
            "return ['#f-preset', '#f-name', '#f-base-url', '#f-default-model'].map(s => document.querySelector(s).value)",
            json!([]),
        )
        .await;
    assert_eq!(
        filled,
        json!([
            "deepseek",
            "Team DeepSeek",
            "https://gateway.example/v1",
            "deepseek-chat"
        ])
    );
    assert!(
        !wd.script(
            "return document.querySelector('#provider-list').textContent",
            json!([])
        )
        .await
        .as_str()
        .unwrap()
        .contains("Team DeepSeek"),
        "nothing is saved before the user says so"
    );
    std::fs::write(artifacts.join("link-form.png"), wd.screenshot().await).unwrap();

    wd.quit().await;
    end_app(&app).await;
    plugboard_keys::delete_key("e2e").unwrap();
    let _ = driver_proc.kill().await;
}

/// "Check with Codex tools" in the window: a local runtime that serves a smaller window than
/// Codex would be told fails that step with the figures; the fix button saves the window and
/// checks again, the check passes and the provider gets its badge.
#[tokio::test]
async fn codex_check_in_the_window_fixes_a_step_and_badges_the_provider() {
    let (Some(app), Some(driver)) = (env_or_skip("PLUGBOARD_APP"), env_or_skip("TAURI_DRIVER"))
    else {
        return;
    };
    let _one = ONE_APP.lock().await;
    end_app(&app).await;
    let model = scripted_model::ScriptedModel::start(scripted_model::Quirks {
        window_in_list: Some(8192),
        ..Default::default()
    })
    .await;
    let (wd, mut driver_proc, home) = launch(
        &app,
        &driver,
        "check",
        &format!(
            "listen = \"127.0.0.1:{}\"\nactive_provider = \"box\"\n\n[[provider]]\nid = \"box\"\nname = \"My box\"\npreset = \"ollama\"\nbase_url = \"{}\"\ndefault_model = \"{}\"\n",
            free_port(),
            model.base_url(),
            scripted_model::MODEL
        ),
    )
    .await;
    wd.wait_text("#provider-list", "My box").await;
    wd.click(".provider[data-id=box]").await;
    wd.wait_text("#form-title", "Edit My box").await;
    wd.click("#codex-check").await;
    let title = wd.wait_text("#check-title", "steps failed").await;
    assert!(title.contains("1 of 6 steps failed"), "{title}");
    let step = wd.text("#check-steps li[data-step=context_window]").await;
    assert!(
        step.contains("My box serves scripted-coder with 8,192 tokens (its model list), but Codex is told 32,768"),
        "{step}"
    );
    let shell = wd.text("#check-steps li[data-step=shell_call]").await;
    assert!(shell.contains("exec_command with valid JSON"), "{shell}");
    wd.wait_text(".provider[data-id=box] .badges", "Codex ✗")
        .await;
    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = wd.screenshot().await;
    std::fs::write(artifacts.join("codex-check.png"), &shot).unwrap();
    if std::env::var("PLUGBOARD_UPDATE_SCREENSHOTS").as_deref() == Ok("1") {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
        std::fs::write(docs.join("codex-check.png"), &shot).unwrap();
    }

    wd.click("#check-steps li[data-step=context_window] .check-fix")
        .await;
    wd.wait_text("#check-title", "Codex check passed").await;
    wd.wait_text(".provider[data-id=box] .badges", "Codex ✓")
        .await;
    let settings = std::fs::read_to_string(home.join(".config/plugboard/settings.toml")).unwrap();
    assert!(settings.contains("context_window = 8192"), "{settings}");
    std::fs::write(
        artifacts.join("codex-check-fixed.png"),
        wd.screenshot().await,
    )
    .unwrap();
    // Two checks of five requests at most each, all to the scripted provider.
    assert!(model.requests().len() >= 8, "{}", model.requests().len());

    wd.quit().await;
    end_app(&app).await;
    let _ = driver_proc.kill().await;
}
