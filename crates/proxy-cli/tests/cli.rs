//! The headless binary as a user runs it: `serve --upstream ...` in front of a scripted chat
//! upstream, the Codex snippet it prints, one log line per request without the key, then
//! `usage` reading the history it recorded.
//!
//! (Over 400 lines: each test runs the binary as a user would and reads what it printed and
//! wrote.)

mod common;
use common::{codex_through_serve, free_port, read_until};
use std::io::BufReader;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const KEY: &str = "sk-cli-canary-0123456789";

async fn upstream() -> String {
    recording_upstream().await.0
}

/// An upstream that answers "hi" and keeps every request body.
async fn recording_upstream() -> (String, Arc<Mutex<Vec<serde_json::Value>>>) {
    let seen: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    let keep = seen.clone();
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(move |body: axum::Json<serde_json::Value>| async move {
            keep.lock().unwrap().push(body.0);
            let body = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\ndata: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":3,\"total_tokens\":10}}\n\ndata: [DONE]\n\n";
            ([("content-type", "text/event-stream")], body)
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (format!("http://{addr}/v1"), seen)
}

#[tokio::test]
async fn serve_logs_each_request_and_usage_reports_them() {
    let upstream = upstream().await;
    let dir = std::env::temp_dir().join(format!("plugboard-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("usage.sqlite");
    let port = free_port();
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
    let printed = read_until(&mut stdout, "wire_api = \"responses\"");
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
    // Both requests are in the history before the proxy is stopped (a poll, not a sleep).
    let usage = || {
        Command::new(bin)
            .args(["usage", "--since-days", "1", "--db"])
            .arg(&db)
            .arg("--config")
            .arg(dir.join("none.toml"))
            .output()
            .unwrap()
    };
    let recorded = || String::from_utf8_lossy(&usage().stdout).contains("requests        2");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !recorded() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
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

    let report = usage();
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

/// `codex apply` then `codex detach` on a user's own config: Plugboard's provider added as
/// Codex's default (every other line and comment kept), a profile per exact route, and the
/// file given back byte for byte.
#[test]
fn codex_apply_then_detach_gives_the_users_config_back_exactly() {
    let dir = std::env::temp_dir().join(format!("plugboard-cli-codex-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let home = dir.join("codex-home");
    std::fs::create_dir_all(&home).unwrap();
    let original = "# my settings\nmodel = \"o3\"   # the one I like\nmodel_provider = \"openai\"\n\n[model_providers.closet]\n# the box in the closet\nname = \"Closet\"\nbase_url = \"http://closet:11434/v1\"\n";
    std::fs::write(home.join("config.toml"), original).unwrap();
    let settings = dir.join("settings.toml");
    std::fs::write(
        &settings,
        "listen = \"127.0.0.1:15999\"\nactive_provider = \"ds\"\n\n[[provider]]\nid = \"ds\"\npreset = \"deepseek\"\nbase_url = \"http://127.0.0.1:1/v1\"\n\n[[route]]\nmodel = \"plan\"\nprovider = \"ds\"\n\n[[route]]\nmodel = \"local-*\"\nprovider = \"ds\"\n",
    )
    .unwrap();
    // A stand-in for the Codex CLI, answering as Codex 0.169 does.
    let fake_codex = dir.join("codex");
    std::fs::write(
        &fake_codex,
        "#!/bin/sh\n[ \"$1\" = --version ] && { echo 'codex-cli 0.169.0'; exit 0; }\n\
         echo '{\"models\":[{\"slug\":\"gpt-5.5\",\"visibility\":\"list\",\"priority\":1,\"base_instructions\":\"b\"}]}'\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake_codex, std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = env!("CARGO_BIN_EXE_plugboard-proxy");
    let run = |args: &[&str]| {
        let out = Command::new(bin)
            .args(args)
            .env("CODEX_HOME", &home)
            .env("PLUGBOARD_CODEX_BIN", &fake_codex)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let printed = run(&["codex", "apply", "--config", settings.to_str().unwrap()]);
    assert!(
        printed.contains("+base_url = \"http://127.0.0.1:15999/v1\""),
        "the change is shown: {printed}"
    );
    assert!(
        printed.contains("(from Codex 0.169.0): Codex now knows plan"),
        "the catalog is reported: {printed}"
    );
    let applied = std::fs::read_to_string(home.join("config.toml")).unwrap();
    for line in [
        "model_provider = \"plugboard\"",
        "model = \"gpt-5.5\"   # the one I like",
        "[model_providers.plugboard]",
        "base_url = \"http://127.0.0.1:15999/v1\"",
        "wire_api = \"responses\"",
        "# the box in the closet",
        "model_catalog_json = ",
    ] {
        assert!(applied.contains(line), "{line} in:\n{applied}");
    }
    let profile = std::fs::read_to_string(home.join("plan.config.toml"))
        .expect("a profile for the exact route");
    assert!(profile.contains("model = \"plan\""), "{profile}");
    assert!(
        !home.join("local-.config.toml").exists() && std::fs::read_dir(&home).unwrap().count() == 4,
        "no profile for a glob"
    );
    let catalog = std::fs::read_to_string(home.join("plugboard-models.json")).unwrap();
    assert!(catalog.contains("\"slug\":\"plan\""), "{catalog}");
    // Applying twice changes nothing.
    assert!(
        run(&["codex", "apply", "--config", settings.to_str().unwrap()])
            .contains("already points at Plugboard")
    );
    run(&["codex", "detach"]);
    assert_eq!(
        std::fs::read_to_string(home.join("config.toml")).unwrap(),
        original
    );
    assert!(
        !home.join("config.toml.plugboard-backup").exists()
            && !home.join("plugboard-models.json").exists(),
        "the backup and the catalog are removed"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The real Codex CLI after `plugboard-proxy codex apply`: it reaches the headless proxy and
/// the provider behind it with nothing else configured, and `-m deepseek-chat` (the
/// upstream's own model name) gets Codex's full tool set from the catalog Apply wrote. `CODEX_BIN` comes from the project's
/// test script; without it the test fails, unless `PLUGBOARD_SKIP_EXTERNAL=1`.
#[tokio::test]
async fn the_real_codex_cli_runs_through_the_proxy_after_codex_apply() {
    let Some(bin_codex) = plugboard_e2e::codex::codex_bin() else {
        return;
    };
    let (upstream, seen) = recording_upstream().await;
    // Not under /tmp: Codex refuses to set up its helper binaries there.
    let dir = plugboard_e2e::codex::codex_dir(
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")),
        "cli-codex-apply",
    );
    let home = dir.join("codex-home");
    let port = free_port();
    let settings = dir.join("settings.toml");
    std::fs::write(
        &settings,
        format!("listen = \"127.0.0.1:{port}\"\nactive_provider = \"ds\"\n\n[[provider]]\nid = \"ds\"\npreset = \"deepseek\"\nbase_url = \"{upstream}\"\napi_key_env = \"CLI_APPLY_KEY\"\nmodel_map = {{ \"gpt-*\" = \"deepseek-chat\" }}\n"),
    )
    .unwrap();
    let proxy = env!("CARGO_BIN_EXE_plugboard-proxy");
    let applied = Command::new(proxy)
        .args(["codex", "apply", "--config"])
        .arg(&settings)
        .arg("--codex")
        .arg(&bin_codex)
        .env("CODEX_HOME", &home)
        .output()
        .unwrap();
    assert!(
        applied.status.success(),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );
    let (ok, so, se) = codex_through_serve(
        &settings,
        &[("CLI_APPLY_KEY", KEY)],
        &bin_codex,
        &dir,
        &home,
        "deepseek-chat",
        "say hi",
    )
    .await;
    assert!(
        ok && so.trim() == "hi",
        "codex through the applied config\nstdout:\n{so}\nstderr:\n{se}"
    );
    assert!(se.contains("provider: plugboard"), "{se}");
    let first = seen.lock().unwrap()[0].clone();
    assert_eq!(first["model"], "deepseek-chat");
    let tools: Vec<&str> = first["tools"]
        .as_array()
        .expect("tools declared")
        .iter()
        .filter_map(|t| t["function"]["name"].as_str())
        .collect();
    assert!(tools.contains(&"apply_patch"), "{tools:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `serve --local-only` in front of a provider at a public address: refused before any
/// connection, in OpenAI's error shape, and the start-up says local-only is on.
#[tokio::test]
async fn serve_local_only_refuses_a_public_provider() {
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_plugboard-proxy"))
        .args([
            "serve",
            "--no-usage",
            "--local-only",
            "--listen",
            &format!("127.0.0.1:{port}"),
            // TEST-NET-3: public by the rules, never routed.
            "--upstream",
            "https://203.0.113.9/v1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    read_until(&mut stdout, "Local only");
    let r = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
        .post(format!("http://127.0.0.1:{port}/v1/responses"))
        .json(&serde_json::json!({"model": "gpt-5.5", "input": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "local_only_refused");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("203.0.113.9 is a public address"));
    let _ = child.kill();
    let _ = child.wait();
}

/// A settings file from before the schema was versioned (`default_provider`), served by
/// `plugboard-proxy serve --config`: migrated on read, the provider it named answers.
#[tokio::test]
async fn serve_reads_a_version_0_settings_file() {
    let upstream = upstream().await;
    let dir = std::env::temp_dir().join(format!("plugboard-cli-v0-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let file = dir.join("settings.toml");
    let v0 = format!(
        "listen = \"127.0.0.1:{port}\"\ndefault_provider = \"old\"\n\n[[provider]]\nid = \"old\"\npreset = \"ollama\"\nbase_url = \"{upstream}\"\n"
    );
    std::fs::write(&file, &v0).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_plugboard-proxy"))
        .args(["serve", "--no-usage", "--config"])
        .arg(&file)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    read_until(&mut stdout, "listening on");
    let r = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(format!("http://127.0.0.1:{port}/v1/responses"))
        .json(&serde_json::json!({"model": "gpt-5.5", "input": "hi", "stream": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().await.unwrap().contains("response.completed"));
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        v0,
        "reading never rewrites the file"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Listening beyond loopback without a token: one is made from the OS's random generator,
/// printed once, and every request needs it.
#[tokio::test]
async fn a_generated_access_token_guards_a_non_loopback_listener() {
    let upstream = upstream().await;
    let port = std::net::TcpListener::bind("0.0.0.0:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_plugboard-proxy"))
        .args([
            "serve",
            "--no-usage",
            "--listen",
            &format!("0.0.0.0:{port}"),
            "--upstream",
            &upstream,
        ])
        .env_remove("PLUGBOARD_ACCESS_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let printed = read_until(&mut stdout, "listening on");
    let token = printed
        .lines()
        .skip_while(|l| !l.contains("access token"))
        .nth(1)
        .expect("the token is printed")
        .trim()
        .to_string();
    assert_eq!(token.len(), 32, "{token}");
    assert!(token
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let url = format!("http://127.0.0.1:{port}/v1/responses");
    let body = serde_json::json!({"model": "gpt-5.5", "input": "hi", "stream": true});
    let without = http.post(&url).json(&body).send().await.unwrap();
    assert_eq!(without.status().as_u16(), 401);
    let wrong = http
        .post(&url)
        .bearer_auth(format!(
            "{}{}",
            &token[..31],
            if token.ends_with('x') { 'y' } else { 'x' }
        ))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    let with = http
        .post(&url)
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(with.status().as_u16(), 200);
    let _ = child.kill();
    let _ = child.wait();
}
