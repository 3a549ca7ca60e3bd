//! The real Codex CLI (`@openai/codex`, `codex exec`) pointed at the proxy, with a scripted
//! chat upstream that answers with tool calls. Codex runs the tools for real in a temporary
//! workspace; the test checks the files and every request the upstream received.
//!
//! `CODEX_BIN` names the binary (the project's test script installs it); without it the test
//! fails, unless `PLUGBOARD_SKIP_EXTERNAL=1` says external clients are knowingly skipped.
//!
//! (Over 400 lines: each test is a whole Codex session (config, scripted turns, what Codex did
//! on disk).)

use plugboard_e2e::codex::*;
use plugboard_e2e::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

fn tmp(name: &str) -> PathBuf {
    codex_dir(Path::new(env!("CARGO_TARGET_TMPDIR")), name)
}

fn messages(body: &Value) -> &Vec<Value> {
    body["messages"].as_array().expect("chat messages")
}

fn tool_results(body: &Value) -> Vec<&Value> {
    messages(body)
        .iter()
        .filter(|m| m["role"] == "tool")
        .collect()
}

#[tokio::test]
async fn codex_exec_gets_a_plain_answer() {
    let Some(bin) = codex_bin() else { return };
    let mock =
        MockUpstream::start(|_, _| Reply::Sse(text_chunks(&["All ", "DONE", " here."]))).await;
    let proxy = start_proxy(one_provider(&mock.base_url()), "sk-codex-plain").await;
    let dir = tmp("plain");
    write_config(&dir.join("codex-home"), &proxy.base_url(), "");
    let run = codex_exec(&bin, &dir, &dir.join("work"), &["say DONE"]).await;
    assert!(
        run.ok,
        "codex failed\nstdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    assert!(
        run.stdout.contains("All DONE here."),
        "stdout:\n{}\nstderr:\n{}",
        run.stdout,
        run.stderr
    );
    let chats: Vec<Recorded> = mock
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/chat/completions"))
        .collect();
    assert!(!chats.is_empty());
    let body = &chats[0].body;
    assert_eq!(body["model"], "mock-model");
    assert_eq!(chats[0].headers["authorization"], "Bearer sk-codex-plain");
    let last_user = messages(body)
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .unwrap();
    assert!(last_user["content"].as_str().unwrap().contains("say DONE"));
    assert!(
        messages(body).iter().all(|m| m["role"] != "developer"),
        "developer became system for this dialect"
    );
    proxy.stop().await;
}

#[tokio::test]
async fn codex_exec_runs_a_shell_command_then_apply_patch_then_finishes() {
    let Some(bin) = codex_bin() else { return };
    let patch = "*** Begin Patch\n*** Add File: a.txt\n+hello from patch\n*** End Patch\n";
    let patch_args = json!({"input": patch}).to_string();
    let mock = MockUpstream::start(move |body, _| match tool_results(body).len() {
        0 => Reply::Sse(tool_call_chunks(
            Some("I will run a command."),
            "call_1",
            "exec_command",
            r#"{"cmd": "echo hi > hi.txt && echo ok"}"#,
        )),
        1 => Reply::Sse(tool_call_chunks(None, "call_2", "apply_patch", &patch_args)),
        _ => Reply::Sse(text_chunks(&["DONE"])),
    })
    .await;
    let proxy = start_proxy(one_provider(&mock.base_url()), "k").await;
    let dir = tmp("tools");
    let work = dir.join("work");
    write_config(&dir.join("codex-home"), &proxy.base_url(), "");
    let run = codex_exec(&bin, &dir, &work, &["make the files"]).await;
    eprintln!(
        "codex stdout:\n{}\ncodex stderr:\n{}",
        run.stdout, run.stderr
    );
    assert!(
        run.ok,
        "codex failed\nstdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );

    // What Codex did with the tool calls.
    assert_eq!(
        std::fs::read_to_string(work.join("hi.txt"))
            .expect("the shell command ran")
            .trim(),
        "hi"
    );
    assert_eq!(
        std::fs::read_to_string(work.join("a.txt")).expect("apply_patch ran"),
        "hello from patch\n"
    );
    assert!(run.stdout.contains("DONE"), "stdout:\n{}", run.stdout);

    // What the upstream saw: three turns of one tool loop.
    let chats: Vec<Recorded> = mock
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/chat/completions"))
        .collect();
    assert_eq!(
        chats.len(),
        3,
        "{:#?}",
        chats
            .iter()
            .map(|c| tool_results(&c.body).len())
            .collect::<Vec<_>>()
    );
    let first = &chats[0].body;
    let tools: Vec<&str> = first["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    assert!(
        tools.contains(&"exec_command") && tools.contains(&"apply_patch"),
        "{tools:?}"
    );

    let second = &chats[1].body;
    let msgs = messages(second);
    let call_msg = msgs
        .iter()
        .find(|m| m["tool_calls"].is_array())
        .expect("the assistant's call is in the history");
    assert_eq!(call_msg["tool_calls"][0]["id"], "call_1");
    assert_eq!(
        call_msg["reasoning_content"], "I will run a command.",
        "reasoning round-trips for DeepSeek"
    );
    let out1 = &tool_results(second)[0];
    assert_eq!(out1["tool_call_id"], "call_1");
    assert!(out1["content"].as_str().unwrap().contains("ok"), "{out1}");

    let third = &chats[2].body;
    let results = tool_results(third);
    assert_eq!(results.len(), 2);
    assert_eq!(results[1]["tool_call_id"], "call_2");
    let patch_call = messages(third)
        .iter()
        .filter(|m| m["tool_calls"].is_array())
        .nth(1)
        .unwrap();
    assert_eq!(
        patch_call["tool_calls"][0]["function"]["name"],
        "apply_patch"
    );
    assert_eq!(
        serde_json::from_str::<Value>(
            patch_call["tool_calls"][0]["function"]["arguments"]
                .as_str()
                .unwrap()
        )
        .unwrap()["input"],
        patch
    );
    assert!(
        results[1]["content"].as_str().unwrap().contains("a.txt"),
        "{}",
        results[1]
    );
    proxy.stop().await;
}

/// What Plugboard's Codex writer produces is what this Codex reads: the provider table in
/// config.toml (the user's default provider untouched) and a `NAME.config.toml` profile
/// selected with `-p NAME`, whose model name a route sends to another provider.
#[tokio::test]
async fn codex_exec_with_a_plugboard_profile_reaches_the_routed_provider() {
    let Some(bin) = codex_bin() else { return };
    let active = MockUpstream::start(|_, _| Reply::Sse(text_chunks(&["wrong provider"]))).await;
    let routed = MockUpstream::start(|_, _| Reply::Sse(text_chunks(&["EXECUTED"]))).await;
    let mut settings = one_provider(&active.base_url());
    let mut local = plugboard_config::Provider::from_preset("local", "ollama").unwrap();
    local.base_url = routed.base_url();
    settings.providers.push(local);
    settings.routes.push(plugboard_config::Route {
        model: "local-coder".into(),
        provider: "local".into(),
        upstream_model: Some("qwen3-coder:30b".into()),
        fallbacks: Vec::new(),
        context_window: None,
        subagent: false,
    });
    let proxy = start_proxy(settings, "k").await;

    let dir = tmp("profile");
    let codex_home = dir.join("codex-home");
    std::fs::create_dir_all(&codex_home).unwrap();
    let user = "# my settings\napproval_policy = \"never\"  # no questions\nsandbox_mode = \"danger-full-access\"\n";
    std::fs::write(codex_home.join("config.toml"), user).unwrap();
    plugboard_codex::attach(
        &codex_home,
        &plugboard_codex::AttachOptions {
            base_url: proxy.base_url(),
            make_default: false,
            model: None,
            model_catalog: None,
            chatgpt_relay: false,
            subagent_model: None,
        },
    )
    .unwrap();
    plugboard_codex::write_profile(&codex_home, "execute", "local-coder", Some(32_000)).unwrap();

    let run = codex_exec(&bin, &dir, &dir.join("work"), &["-p", "execute", "run it"]).await;
    assert!(
        run.ok,
        "codex failed\nstdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    assert!(
        run.stdout.contains("EXECUTED"),
        "stdout:\n{}\nstderr:\n{}",
        run.stdout,
        run.stderr
    );
    assert!(
        active.requests().is_empty(),
        "the route, not the active provider, answered"
    );
    let sent = &routed.requests()[0];
    assert_eq!(sent.body["model"], "qwen3-coder:30b");
    assert!(
        sent.headers.get("authorization").is_none() || sent.headers["authorization"] == "Bearer k"
    );
    let config = std::fs::read_to_string(codex_home.join("config.toml")).unwrap();
    assert!(config.starts_with(user), "the user's lines are untouched");
    proxy.stop().await;
}

/// Chat chunks of a local model that thinks inline and prints its answer (or call) as text.
fn local_model_chunks(content: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    // Cut into small pieces, tags included, as a local runtime streams them.
    let chars: Vec<char> = content.chars().collect();
    for piece in chars.chunks(7) {
        let text: String = piece.iter().collect();
        out.push(json!({"choices": [{"index": 0, "delta": {"content": text}}]}).to_string());
    }
    out.push(json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70}}).to_string());
    out.push("[DONE]".into());
    out
}

#[tokio::test]
async fn codex_exec_on_a_local_model_that_thinks_in_tags_and_calls_tools_as_text() {
    let Some(bin) = codex_bin() else { return };
    let mock = MockUpstream::start(|body, _| match tool_results(body).len() {
        0 => Reply::Sse(local_model_chunks(
            "<think>\nThe user wants a file. I will use the shell.\n</think>\n\nI'll create it.\n<tool_call>\n{\"name\": \"exec_command\", \"arguments\": {\"cmd\": \"echo local > local.txt && echo ok\"}}\n</tool_call>",
        )),
        _ => Reply::Sse(local_model_chunks(
            "<think>The command printed ok.</think>\n\nCreated local.txt with the word local.",
        )),
    })
    .await;
    let mut provider = plugboard_config::Provider::from_preset("ollama", "ollama").unwrap();
    provider.base_url = mock.base_url();
    provider.model_map.insert("gpt-*".into(), "qwen3:8b".into());
    let settings = plugboard_config::Settings {
        listen: "127.0.0.1:0".into(),
        active_provider: Some("ollama".into()),
        providers: vec![provider],
        ..Default::default()
    };
    let proxy = start_proxy(settings, "").await;
    let dir = tmp("local");
    let work = dir.join("work");
    write_config(&dir.join("codex-home"), &proxy.base_url(), "");
    let run = codex_exec(&bin, &dir, &work, &["make local.txt"]).await;
    assert!(
        run.ok,
        "codex failed\nstdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(work.join("local.txt"))
            .expect("the call printed as text ran")
            .trim(),
        "local"
    );
    assert!(
        run.stdout
            .contains("Created local.txt with the word local."),
        "stdout:\n{}",
        run.stdout
    );
    for tag in ["<think>", "</think>", "<tool_call>"] {
        assert!(
            !run.stdout.contains(tag) && !run.stderr.contains(tag),
            "{tag} reached the user\nstdout:\n{}\nstderr:\n{}",
            run.stdout,
            run.stderr
        );
    }
    let chats: Vec<Recorded> = mock
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/chat/completions"))
        .collect();
    assert_eq!(chats.len(), 2);
    assert_eq!(chats[0].body["model"], "qwen3:8b");
    let second = &chats[1].body;
    let call = messages(second)
        .iter()
        .find(|m| m["tool_calls"].is_array())
        .expect("the call, as a real call, is in the history");
    assert_eq!(call["tool_calls"][0]["function"]["name"], "exec_command");
    let result = &tool_results(second)[0];
    assert_eq!(result["tool_call_id"], call["tool_calls"][0]["id"]);
    assert!(
        result["content"].as_str().unwrap().contains("ok"),
        "{result}"
    );
    proxy.stop().await;
}

/// Tool names of a chat request.
fn tool_names(body: &Value) -> Vec<String> {
    body["tools"]
        .as_array()
        .map(|t| {
            t.iter()
                .filter_map(|t| t["function"]["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The app's "Apply to Codex" writes a model catalog built from this Codex's own, so that
/// `codex -m deepseek-chat` (a name Codex has never heard of) gets the full tool set,
/// `apply_patch` included, and the tool loop runs it. A name Plugboard does not serve still
/// gets Codex's fallback tools: the catalog, not luck, made the difference.
#[tokio::test]
async fn codex_exec_with_an_upstream_model_name_after_the_apps_apply_gets_apply_patch() {
    use plugboard_app::providers::ProviderInput;
    use plugboard_app::{App, AppPaths};
    use plugboard_keys::MemoryVault;
    let Some(bin) = codex_bin() else { return };
    let Some(codex_for_catalog) = external_tool(plugboard_codex::CODEX_BIN_ENV) else {
        return;
    };
    assert_eq!(Path::new(&codex_for_catalog), bin, "the same Codex");
    let patch = "*** Begin Patch\n*** Add File: a.txt\n+patched by deepseek-chat\n*** End Patch\n";
    let patch_args = json!({"input": patch}).to_string();
    let mock = MockUpstream::start(move |body, _| {
        if body["model"] != "deepseek-chat" {
            return Reply::Sse(text_chunks(&["FALLBACK"]));
        }
        match tool_results(body).len() {
            0 => Reply::Sse(tool_call_chunks(None, "call_p", "apply_patch", &patch_args)),
            _ => Reply::Sse(text_chunks(&["PATCHED"])),
        }
    })
    .await;

    let dir = tmp("catalog");
    let codex_home = dir.join("codex-home");
    std::fs::create_dir_all(&codex_home).unwrap();
    std::fs::write(
        codex_home.join("config.toml"),
        "approval_policy = \"never\"\nsandbox_mode = \"danger-full-access\"\n",
    )
    .unwrap();
    let paths = AppPaths {
        settings_file: dir.join("config/settings.toml"),
        log_dir: dir.join("data/logs"),
        codex_home: codex_home.clone(),
        usage_db: dir.join("data/usage.sqlite"),
    };
    std::fs::create_dir_all(dir.join("config")).unwrap();
    let port = free_port();
    std::fs::write(
        &paths.settings_file,
        format!("listen = \"127.0.0.1:{port}\"\n"),
    )
    .unwrap();
    let app = App::load(paths, std::sync::Arc::new(MemoryVault::default())).unwrap();
    app.save_provider(ProviderInput {
        original_id: None,
        id: "deepseek".into(),
        name: "DeepSeek".into(),
        preset: Some("deepseek".into()),
        base_url: mock.base_url(),
        wire_api: plugboard_config::WireApi::Chat,
        default_model: Some("deepseek-chat".into()),
        model_map: Default::default(),
        api_key: Some("sk-test".into()),
        clear_key: false,
    })
    .await
    .unwrap();
    app.start().await;
    let applied = app.codex_apply(true, Some("gpt-5.5".into())).await.unwrap();
    match &applied.catalog {
        plugboard_codex::CatalogOutcome::Written {
            models,
            codex_version,
            ..
        } => {
            assert!(models.contains(&"deepseek-chat".to_string()), "{models:?}");
            assert!(codex_version.as_deref().is_some_and(|v| v.starts_with('0')));
        }
        other => panic!("no catalog: {other:?}"),
    }

    let run = codex_exec(
        &bin,
        &dir,
        &dir.join("work"),
        &["-m", "deepseek-chat", "make a.txt"],
    )
    .await;
    assert!(
        run.ok && run.stdout.contains("PATCHED"),
        "codex failed\nstdout:\n{}\nstderr:\n{}",
        run.stdout,
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("work/a.txt")).expect("apply_patch ran"),
        "patched by deepseek-chat\n"
    );
    let first = &mock.requests()[0].body;
    assert_eq!(first["model"], "deepseek-chat");
    let tools = tool_names(first);
    assert!(
        tools.iter().any(|t| t == "apply_patch") && tools.iter().any(|t| t == "exec_command"),
        "{tools:?}"
    );

    // The control: a name neither Codex nor the catalog knows.
    let seen = mock.requests().len();
    let run = codex_exec(
        &bin,
        &dir,
        &dir.join("work"),
        &["-m", "not-in-any-catalog", "hi"],
    )
    .await;
    assert!(run.ok && run.stdout.contains("FALLBACK"), "{}", run.stderr);
    let tools = tool_names(&mock.requests()[seen].body);
    assert!(!tools.iter().any(|t| t == "apply_patch"), "{tools:?}");
    app.stop().await;
}
