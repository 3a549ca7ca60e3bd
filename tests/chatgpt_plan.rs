//! A ChatGPT Plus user's Codex through Plugboard: the real Codex CLI logged in with ChatGPT
//! (a locally made `auth.json`, unsigned tokens with a future expiry, accepted offline),
//! Plugboard's Apply pointing Codex's own `openai` provider at the relay, a scripted ChatGPT
//! backend on loopback as strict as OpenAI about whose reasoning it is sent, and DeepSeek (a
//! scripted chat provider) behind `deepseek-*`. One session: GPT plans on the plan, DeepSeek
//! executes with its own key, GPT reviews. The user's login reaches the backend and nothing
//! else: not DeepSeek, not a log line, not a usage row, not a file.
//!
//! `CODEX_BIN` names the binary (the project's test script installs it).

use base64::Engine;
use plugboard_config::{ListedModels, Provider, Route, Settings};
use plugboard_e2e::codex::*;
use plugboard_e2e::scripted_model::{Quirks, ScriptedModel};
use plugboard_e2e::scripted_responses::ScriptedResponses;
use plugboard_e2e::*;
use plugboard_server::ServeOptions;
use plugboard_usage::{PriceTable, UsageRecorder};
use serde_json::{json, Value};
use std::path::Path;

const ACCOUNT: &str = "acct-plus-4711";
const DEEPSEEK_KEY: &str = "sk-deepseek-own-key-0042";

/// An unsigned JWT with the claims Codex reads, valid for a month.
fn token(kind: &str) -> String {
    let b64 = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 30 * 86_400;
    format!(
        "{}.{}.sig-{kind}",
        b64(json!({"alg": "none", "typ": "JWT"})),
        b64(
            json!({"https://api.openai.com/auth": {"chatgpt_account_id": ACCOUNT, "chatgpt_plan_type": "plus", "chatgpt_user_id": "user-1"},
            "email": "plus@example.com", "exp": exp, "iat": exp - 30 * 86_400, "kind": kind})
        )
    )
}

fn settings(backend: &str, deepseek: &str) -> Settings {
    let mut plan = Provider::from_preset("plan", "chatgpt").unwrap();
    plan.base_url = format!("{backend}/backend-api/codex");
    let mut ds = Provider::from_preset("deepseek", "deepseek").unwrap();
    ds.base_url = deepseek.into();
    Settings {
        listen: "127.0.0.1:0".into(),
        active_provider: Some("plan".into()),
        providers: vec![plan, ds],
        routes: vec![Route::new("deepseek-*", "deepseek")],
        ..Settings::default()
    }
}

#[tokio::test]
async fn a_chatgpt_plan_session_plans_on_gpt_executes_on_deepseek_and_keeps_the_login_private() {
    let Some(bin) = codex_bin() else { return };
    let logs = Captured::install();

    // The backend lists gpt-5.5 as Codex's own catalog has it.
    let bundled = plugboard_codex::bundled_catalog(&bin).unwrap();
    let gpt = bundled["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["slug"] == "gpt-5.5")
        .unwrap()
        .clone();
    let backend =
        ScriptedResponses::start_at("chatgpt", "/backend-api/codex", json!({"models": [gpt]}))
            .await;
    let backend_url = format!("http://{}", backend.addr);
    let deepseek = ScriptedModel::start(Quirks {
        thinks: true,
        needs_reasoning_back: true,
        ..Quirks::default()
    })
    .await;
    let dir = codex_dir(Path::new(env!("CARGO_TARGET_TMPDIR")), "chatgpt-plan");
    let recorder = UsageRecorder::open(&dir.join("usage.db"), PriceTable::default()).unwrap();
    let settings = settings(&backend_url, &deepseek.base_url());
    let proxy = start_proxy_with(
        settings.clone(),
        DEEPSEEK_KEY,
        ServeOptions {
            usage: Some(recorder.clone()),
            ..ServeOptions::default()
        },
    )
    .await;

    // Codex logged in with ChatGPT; the account checks and plugins go to the scripted
    // backend too (404s Codex shrugs off); then Plugboard's Apply.
    let codex_home = dir.join("codex-home");
    std::fs::create_dir_all(&codex_home).unwrap();
    let access = token("access");
    std::fs::write(
        codex_home.join("auth.json"),
        json!({"OPENAI_API_KEY": null, "tokens": {"id_token": token("id"), "access_token": access,
            "refresh_token": "rt-local", "account_id": ACCOUNT}, "last_refresh": "2026-12-01T00:00:00Z"})
        .to_string(),
    )
    .unwrap();
    let user_config = format!(
        "model = \"gpt-5.5\"\napproval_policy = \"never\"\nsandbox_mode = \"danger-full-access\"\nchatgpt_base_url = \"{backend_url}/backend-api\"\n\n[analytics]\nenabled = false\n"
    );
    std::fs::write(codex_home.join("config.toml"), &user_config).unwrap();
    let opts = plugboard_codex::AttachOptions {
        base_url: proxy.base_url(),
        make_default: true,
        model: Some("gpt-5.5".into()),
        model_catalog: None,
        chatgpt_relay: false,
        subagent_model: None,
    };
    plugboard_codex::apply(
        &codex_home,
        &opts,
        &settings,
        &ListedModels::new(),
        Some(&bin),
    )
    .unwrap();
    let applied = std::fs::read_to_string(codex_home.join("config.toml")).unwrap();
    assert!(
        applied.contains(&format!(
            "openai_base_url = \"http://{}/codex\"",
            proxy.addr()
        )),
        "{applied}"
    );
    assert!(
        !applied.contains("model_provider"),
        "Codex keeps its own provider: {applied}"
    );

    let work = dir.join("work");
    let turns: [&[&str]; 3] = [
        &["-m", "gpt-5.5", "Plan: use exec_command to look around."],
        &[
            "resume",
            "--last",
            "-m",
            "deepseek-chat",
            "Do it: run exec_command now.",
        ],
        &[
            "resume",
            "--last",
            "-m",
            "gpt-5.5",
            "Review: use exec_command to check.",
        ],
    ];
    for (i, args) in turns.iter().enumerate() {
        let run = codex_exec(&bin, &dir, &work, args).await;
        assert!(
            run.ok,
            "turn {} failed\nstdout:\n{}\nstderr:\n{}",
            i + 1,
            run.stdout,
            run.stderr
        );
        for warning in [
            "Reconnecting",
            "Falling back from WebSockets",
            "could not be verified",
        ] {
            assert!(
                !run.stderr.contains(warning),
                "turn {}: {warning}\n{}",
                i + 1,
                run.stderr
            );
        }
        if i == 2 {
            assert!(
                run.stdout.contains("chatgpt finished step"),
                "{}",
                run.stdout
            );
        }
    }

    // The backend: every request with the user's own login, none refused.
    assert_eq!(backend.refusals(), Vec::<String>::new());
    let responses: Vec<Value> = backend.requests();
    assert_eq!(responses.len(), 4, "two requests for each GPT turn");
    // Over the backend's own WebSocket, a turn's second request carrying only what is new.
    assert_eq!(backend.transports(), ["websocket"; 4]);
    for second in [&responses[1], &responses[3]] {
        assert!(second["previous_response_id"].is_string(), "{second}");
        assert_eq!(
            second["input"].as_array().map(Vec::len),
            Some(1),
            "{second}"
        );
    }
    let header = |h: &Vec<(String, String)>, name: &str| {
        h.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    };
    for h in backend.headers() {
        assert_eq!(
            header(&h, "authorization"),
            Some(format!("Bearer {access}"))
        );
        assert_eq!(header(&h, "chatgpt-account-id").as_deref(), Some(ACCOUNT));
    }
    // DeepSeek: its own key, none of the login.
    let chats = deepseek.request_headers();
    assert_eq!(chats.len(), 2);
    for h in &chats {
        assert!(
            h.contains(&format!("authorization: Bearer {DEEPSEEK_KEY}")),
            "{h}"
        );
        assert!(
            !h.contains(&access) && !h.contains(ACCOUNT) && !h.contains("chatgpt"),
            "{h}"
        );
    }
    for body in deepseek.requests() {
        assert!(!body.to_string().contains(&access));
    }

    // Codex's picker: the plan's models and Plugboard's routed names, in Codex's shape.
    let list: Value = http_client()
        .get(format!(
            "http://{}/codex/models?client_version=0.169.0",
            proxy.addr()
        ))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let slugs: Vec<&str> = list["models"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["slug"].as_str())
        .collect();
    assert!(
        slugs.contains(&"gpt-5.5") && slugs.contains(&"deepseek-chat"),
        "{slugs:?}"
    );

    // Remote compaction with the session's model on the chat provider: DeepSeek summarises.
    let before = backend.requests().len();
    let compacted = http_client()
        .post(format!("http://{}/codex/responses/compact", proxy.addr()))
        .bearer_auth(&access)
        .header("chatgpt-account-id", ACCOUNT)
        .json(&json!({"model": "deepseek-chat", "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "We listed the files and found a.txt."}]}]}))
        .send()
        .await
        .unwrap();
    let status = compacted.status();
    let compacted: Value = compacted.json().await.unwrap();
    assert_eq!(status, 200, "{compacted}");
    assert_eq!(compacted["object"], "response.compaction");
    assert_eq!(
        backend.requests().len(),
        before,
        "the backend was not asked"
    );

    // Remote compaction v2: Codex's `compaction_trigger` at the end of an ordinary request
    // whose model is routed to the chat provider gets exactly one `compaction` item back,
    // and that item, sent to the ChatGPT backend on a later turn, arrives as plain context.
    let triggered = http_client()
        .post(format!("http://{}/codex/responses", proxy.addr()))
        .bearer_auth(&access)
        .json(&json!({"model": "deepseek-chat", "stream": true, "store": false, "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "We renamed parse_args to parse_cli."}]},
            {"type": "compaction_trigger"}]}))
        .send()
        .await
        .unwrap();
    let events = read_sse(triggered).await;
    let done = done_items(&events);
    assert_eq!(done.len(), 1, "{events:?}");
    assert_eq!(done[0]["type"], "compaction");
    assert_eq!(terminal(&events)["status"], "completed");
    let item = done[0].clone();
    let next = http_client()
        .post(format!("http://{}/codex/responses", proxy.addr()))
        .bearer_auth(&access)
        .header("chatgpt-account-id", ACCOUNT)
        .json(&json!({"model": "gpt-5.5", "stream": true, "store": false, "input": [item,
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Use exec_command to go on."}]}]}))
        .send()
        .await
        .unwrap();
    assert!(
        next.headers()
            .get("x-codex-turn-state")
            .is_some_and(|v| v.to_str().unwrap().starts_with("turn-state-chatgpt-")),
        "the backend's turn state reaches Codex: {:?}",
        next.headers()
    );
    read_sse(next).await;
    let sent = backend.requests().last().unwrap().to_string();
    assert!(sent.contains("Summary of the conversation"), "{sent}");
    assert!(
        !sent.contains("plugboard.compaction"),
        "no blob only Plugboard reads: {sent}"
    );
    assert_eq!(backend.refusals(), Vec::<String>::new());

    proxy.stop().await;
    recorder.flush();
    // The login appears nowhere Plugboard writes or logs: the usage database, the log at
    // trace level, Codex's config as Apply left it, the work folder. (Codex's own files
    // under its home are Codex's business.)
    let codex_home_files = codex_home.display().to_string();
    for secret in [access.as_str(), ACCOUNT] {
        assert!(!logs.contains(secret), "{secret} in the log");
        let mut files: Vec<String> = files_containing(&dir, secret.as_bytes())
            .into_iter()
            .filter(|f| !f.starts_with(&codex_home_files))
            .collect();
        files.extend(files_containing(
            &codex_home.join("config.toml"),
            secret.as_bytes(),
        ));
        assert!(files.is_empty(), "{secret} in {files:?}");
    }
    assert!(
        std::fs::metadata(dir.join("usage.db")).is_ok_and(|m| m.len() > 0),
        "the usage rows were written"
    );
}
