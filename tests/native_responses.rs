//! Providers that serve the Responses API themselves, with gaps (../shared/DESIGN.md and the
//! issue threads named in `translate/lifecycle_repair.rs`): the real Codex CLI through the
//! proxy in front of a scripted vLLM-style upstream whose streams leave out their `*.done`
//! events. With the vLLM preset's repair Codex runs its tool and answers; with the repair
//! turned off the same session does nothing (Codex acts on `output_item.done`), which is what
//! users of plain relays see. Hosted tools such a provider cannot run are left out of the
//! request, and a request that forces one is refused in OpenAI's shape.
//!
//! `CODEX_BIN` names the binary (the project's test script installs it).

use plugboard_config::{Provider, Settings, WireApi};
use plugboard_e2e::codex::*;
use plugboard_e2e::scripted_responses::ScriptedResponses;
use plugboard_e2e::*;
use serde_json::{json, Value};
use std::path::Path;

fn vllm(up: &ScriptedResponses, repair: bool) -> Settings {
    let mut p = Provider::from_preset("vllm", "vllm").unwrap();
    p.base_url = up.base_url();
    p.wire_api = WireApi::Responses;
    p.model_map.clear();
    p.timeouts.idle_secs = 5;
    if !repair {
        p.responses_dialect
            .insert("lifecycle_events".into(), toml::Value::Boolean(false));
    }
    Settings {
        listen: "127.0.0.1:0".into(),
        active_provider: Some("vllm".into()),
        providers: vec![p],
        ..Settings::default()
    }
}

/// One `codex exec` asking for a tool, against the gappy upstream.
async fn codex_session(repair: bool) -> (Run, ScriptedResponses) {
    let bin = codex_bin().expect("checked by the caller");
    let up = ScriptedResponses::start("vllm").await;
    up.leave_out_done_events();
    let proxy = start_proxy(vllm(&up, repair), "").await;
    let name = if repair { "vllm-repaired" } else { "vllm-raw" };
    let dir = codex_dir(Path::new(env!("CARGO_TARGET_TMPDIR")), name);
    write_config(&dir.join("codex-home"), &proxy.base_url(), "");
    let run = codex_exec(
        &bin,
        &dir,
        &dir.join("work"),
        &["-m", "gpt-5.5", "Use exec_command to list the files."],
    )
    .await;
    proxy.stop().await;
    (run, up)
}

#[tokio::test]
async fn codex_runs_its_tool_on_a_stream_without_done_events_once_repaired() {
    if codex_bin().is_none() {
        return;
    }
    let (run, up) = codex_session(true).await;
    assert!(run.ok, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    // The tool ran (its output went back) and the closing answer reached the user.
    let sent = up.requests();
    assert_eq!(sent.len(), 2, "{sent:?}");
    let back = sent[1]["input"].to_string();
    assert!(back.contains("function_call_output"), "{back}");
    assert!(back.contains("vllm-ran-1"), "{back}");
    assert!(
        run.stdout.contains("vllm finished step 2"),
        "{}",
        run.stdout
    );

    // The same upstream without the repair: Codex sees no finished item and runs nothing.
    let (run, up) = codex_session(false).await;
    assert_eq!(up.requests().len(), 1, "no tool result came back");
    assert!(
        !run.stdout.contains("finished step"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
}

#[tokio::test]
async fn hosted_tools_are_left_out_and_a_forced_one_is_refused() {
    let up = ScriptedResponses::start("vllm").await;
    let proxy = start_proxy(vllm(&up, true), "").await;
    let tools = json!([
        {"type": "function", "name": "exec_command", "parameters": {"type": "object", "properties": {}}},
        {"type": "web_search"},
        {"type": "image_generation"}
    ]);
    let ask = |tool_choice: Value| {
        let url = format!("{}/responses", proxy.base_url());
        let body = json!({"model": "qwen3-coder", "stream": true, "tools": tools, "tool_choice": tool_choice,
            "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}]});
        async move { http_client().post(url).json(&body).send().await.unwrap() }
    };
    let resp = ask(json!("auto")).await;
    assert_eq!(resp.status(), 200);
    read_sse(resp).await;
    let sent = &up.requests()[0];
    assert_eq!(sent["tools"].as_array().unwrap().len(), 1, "{sent}");
    assert_eq!(sent["tools"][0]["name"], "exec_command");

    let refused = ask(json!({"type": "web_search"})).await;
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unsupported_tool");
    assert_eq!(body["error"]["param"], "tool_choice");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cannot run the hosted tool `web_search`"),
        "{body}"
    );
    assert_eq!(up.requests().len(), 1, "the refused one never left");
    proxy.stop().await;
}
