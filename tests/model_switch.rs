//! One Codex session across providers, as a user drives it: `codex exec -m gpt-5.5`, then
//! `codex exec resume --last -m deepseek-chat`, then back with `-m gpt-5.5`, through the
//! proxy with routes `gpt-*` → a Responses provider as strict as OpenAI and `deepseek-*` → a
//! chat provider as strict as DeepSeek in thinking mode. Each upstream refuses what the real
//! one refuses (another provider's encrypted reasoning, ids without its prefixes, tool outputs
//! without their call; an assistant tool-call message without `reasoning_content`), so a
//! turn that reaches one with the other's items fails the session.
//!
//! `CODEX_BIN` names the binary (the project's test script installs it).

use plugboard_config::{Provider, Route, Settings};
use plugboard_e2e::codex::*;
use plugboard_e2e::scripted_model::{Quirks, ScriptedModel};
use plugboard_e2e::scripted_responses::ScriptedResponses;
use plugboard_e2e::*;
use serde_json::Value;
use std::path::Path;

fn route(model: &str, provider: &str) -> Route {
    Route {
        model: model.into(),
        provider: provider.into(),
        upstream_model: None,
        fallbacks: Vec::new(),
        context_window: None,
    }
}

fn settings(openai: &str, deepseek: &str) -> Settings {
    let mut o = Provider::from_preset("openai", "openai").unwrap();
    o.base_url = openai.into();
    let mut d = Provider::from_preset("deepseek", "deepseek").unwrap();
    d.base_url = deepseek.into();
    Settings {
        listen: "127.0.0.1:0".into(),
        active_provider: Some("openai".into()),
        providers: vec![o, d],
        routes: vec![route("gpt-*", "openai"), route("deepseek-*", "deepseek")],
        ..Settings::default()
    }
}

fn assert_ran(run: &Run, turn: &str) {
    assert!(
        run.ok,
        "{turn} failed\nstdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
}

#[tokio::test]
async fn one_codex_session_goes_from_gpt_to_deepseek_and_back() {
    let Some(bin) = codex_bin() else { return };
    let openai = ScriptedResponses::start("openai").await;
    let deepseek = ScriptedModel::start(Quirks {
        thinks: true,
        needs_reasoning_back: true,
        ..Quirks::default()
    })
    .await;
    let proxy = start_proxy(settings(&openai.base_url(), &deepseek.base_url()), "k").await;
    let dir = codex_dir(Path::new(env!("CARGO_TARGET_TMPDIR")), "model-switch");
    write_config(&dir.join("codex-home"), &proxy.base_url(), "");
    let work = dir.join("work");

    let run = codex_exec(
        &bin,
        &dir,
        &work,
        &["-m", "gpt-5.5", "Plan: use exec_command to look around."],
    )
    .await;
    assert_ran(&run, "turn 1 on gpt-5.5");
    let run = codex_exec(
        &bin,
        &dir,
        &work,
        &[
            "resume",
            "--last",
            "-m",
            "deepseek-chat",
            "Do it: run exec_command now.",
        ],
    )
    .await;
    assert_ran(&run, "turn 2 on deepseek-chat");
    let run = codex_exec(
        &bin,
        &dir,
        &work,
        &[
            "resume",
            "--last",
            "-m",
            "gpt-5.5",
            "Review: use exec_command to check.",
        ],
    )
    .await;
    assert_ran(&run, "turn 3 back on gpt-5.5");
    assert!(
        run.stdout.contains("openai finished step"),
        "the last turn ended with the planner's answer\nstdout:\n{}",
        run.stdout
    );

    assert_eq!(openai.refusals(), Vec::<String>::new(), "nothing refused");
    let gpt = openai.requests();
    assert_eq!(gpt.len(), 4, "two requests for each GPT turn");
    // Turn 3 carries the whole session: GPT's own reasoning, DeepSeek's step without the
    // reasoning only a chat provider reads, every call with its output.
    let last = gpt.last().unwrap().to_string();
    assert!(last.contains("gAAAAopenai1"), "its own reasoning went back");
    assert!(
        !last.contains("plugboard.v1:"),
        "no reasoning of DeepSeek's"
    );
    assert!(
        last.contains("call_sc1"),
        "DeepSeek's call is in the history"
    );

    let chats = deepseek.requests();
    assert_eq!(chats.len(), 2, "two requests for the DeepSeek turn");
    for chat in &chats {
        for m in chat["messages"].as_array().unwrap() {
            if m["role"] == "assistant" && m["tool_calls"].is_array() {
                assert!(
                    m["reasoning_content"]
                        .as_str()
                        .is_some_and(|r| !r.is_empty()),
                    "DeepSeek gets reasoning on every tool-call step: {m}"
                );
            }
        }
    }
    // GPT's step reaches DeepSeek with the reasoning summary GPT showed.
    let first: &Value = &chats[0];
    assert!(first.to_string().contains("openai plans step 1."));
    proxy.stop().await;
}
