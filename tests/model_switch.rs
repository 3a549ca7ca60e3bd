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

fn settings(openai: &str, deepseek: &str) -> Settings {
    let mut o = Provider::from_preset("openai", "openai").unwrap();
    o.base_url = openai.into();
    let mut d = Provider::from_preset("deepseek", "deepseek").unwrap();
    d.base_url = deepseek.into();
    Settings {
        listen: "127.0.0.1:0".into(),
        active_provider: Some("openai".into()),
        providers: vec![o, d],
        routes: vec![
            Route::new("gpt-*", "openai"),
            Route::new("deepseek-*", "deepseek"),
        ],
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

/// Hybrid routing by what Codex says of a request: with `codex apply --hybrid gpt-5.5
/// deepseek-chat`'s route, a request marked as a subagent's (`x-openai-subagent`, as Codex
/// sends for spawned agents) goes to the executor whatever model it names; the same model
/// without the mark goes to the planner's provider. Usage rows carry the session Codex
/// names (`session-id`), the subagent's under its parent session.
#[tokio::test]
async fn subagent_requests_go_to_the_executor() {
    let planner = MockUpstream::start(|_, _| Reply::Sse(text_chunks(&["planned"]))).await;
    let executor = MockUpstream::start(|_, _| Reply::Sse(text_chunks(&["executed"]))).await;
    let mut s = settings(&planner.base_url(), &executor.base_url());
    s.providers[0].wire_api = plugboard_config::WireApi::Chat;
    s.set_hybrid("gpt-5.5", "deepseek-chat").unwrap();
    let records = std::sync::Arc::new(RecordedRows::default());
    let proxy = start_proxy_with(
        s,
        "k",
        plugboard_server::ServeOptions {
            usage: Some(records.clone()),
            ..Default::default()
        },
    )
    .await;
    let ask = |subagent: bool| {
        let mut req = http_client()
            .post(format!("{}/responses", proxy.base_url()))
            .header("session-id", "thread-root-1")
            .json(&serde_json::json!({"model": "gpt-5.5", "stream": true, "input": "go"}));
        if subagent {
            req = req
                .header("x-openai-subagent", "collab_spawn")
                .header("x-codex-parent-thread-id", "thread-root-1");
        }
        req.send()
    };
    let main = read_sse(ask(false).await.unwrap()).await;
    assert_eq!(
        terminal(&main)["output"][0]["content"][0]["text"],
        "planned"
    );
    let sub = read_sse(ask(true).await.unwrap()).await;
    assert_eq!(
        terminal(&sub)["output"][0]["content"][0]["text"],
        "executed"
    );
    assert_eq!(planner.requests().len(), 1);
    assert_eq!(executor.requests().len(), 1);
    assert_eq!(executor.requests()[0].body["model"], "deepseek-chat");
    proxy.stop().await;
    let rows = records.0.lock().unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows
        .iter()
        .all(|r| r.session.as_deref() == Some("thread-root-1")));
    assert_eq!(rows[1].provider, "deepseek");
}

/// Usage rows as the proxy hands them over.
#[derive(Default)]
struct RecordedRows(std::sync::Mutex<Vec<plugboard_server::RequestRecord>>);

impl plugboard_server::UsageSink for RecordedRows {
    fn record(&self, r: plugboard_server::RequestRecord) {
        self.0.lock().unwrap().push(r);
    }
}
