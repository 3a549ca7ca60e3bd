//! Providers that serve the Responses API themselves, with gaps (../shared/DESIGN.md and the
//! issue threads named in `translate/responses_repair/`): the real Codex CLI through the
//! proxy in front of a scripted vLLM-style upstream whose streams leave out their `*.done`
//! events. With the vLLM preset's repair Codex runs its tool and answers; with the repair
//! turned off the same session does nothing (Codex acts on `output_item.done`), which is what
//! users of plain relays see. In front of an Ollama-style upstream that refuses freeform tools,
//! Codex's `apply_patch` goes as a function and its call comes back as Codex's own freeform
//! call: the patch is applied. Hosted tools such a provider cannot run are left out of the
//! request, and a request that forces one is refused in OpenAI's shape. A client that keeps
//! its conversation on the server (`previous_response_id`, `item_reference`) works in front of
//! a provider that keeps none: Plugboard sends the history it kept. Remote compaction
//! (`/responses/compact`, Codex's `compaction_trigger`) at a provider without it is written by
//! the routed model. A provider that serves both APIs is checked on both, and the better one
//! is chosen.
//!
//! `CODEX_BIN` names the binary (the project's test script installs it).

use plugboard_check::{check_and_fix, check_provider, CheckOptions, FixChange, Status, StepId};
use plugboard_config::{Provider, Settings, WireApi};
use plugboard_e2e::check_report::show;
use plugboard_e2e::codex::*;
use plugboard_e2e::scripted_model::{Quirks, ScriptedModel, MODEL};
use plugboard_e2e::scripted_responses::ScriptedResponses;
use plugboard_e2e::two_paths::TwoPaths;
use plugboard_e2e::*;
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Arc;

fn vllm(up: &ScriptedResponses, repair: bool) -> Settings {
    runtime("vllm", up, "lifecycle_events", repair)
}

/// The `preset` runtime reached over its Responses API at `up`, with `repair` on or off.
fn runtime(preset: &str, up: &ScriptedResponses, repair: &str, on: bool) -> Settings {
    let mut p = Provider::from_preset(preset, preset).unwrap();
    p.base_url = up.base_url();
    p.wire_api = WireApi::Responses;
    p.model_map.clear();
    p.timeouts.idle_secs = 5;
    if !on {
        p.responses_dialect
            .insert(repair.into(), toml::Value::Boolean(false));
    }
    Settings {
        listen: "127.0.0.1:0".into(),
        active_provider: Some(preset.into()),
        providers: vec![p],
        ..Settings::default()
    }
}

/// One `codex exec` with `prompt` through the proxy on `settings`; its folder too.
async fn codex_once(settings: Settings, name: &str, prompt: &str) -> (Run, std::path::PathBuf) {
    codex_with(settings, name, prompt, "").await
}

/// The same with `extra` in Codex's provider table.
async fn codex_with(
    settings: Settings,
    name: &str,
    prompt: &str,
    extra: &str,
) -> (Run, std::path::PathBuf) {
    let bin = codex_bin().expect("checked by the caller");
    let proxy = start_proxy(settings, "").await;
    let dir = codex_dir(Path::new(env!("CARGO_TARGET_TMPDIR")), name);
    write_config(&dir.join("codex-home"), &proxy.base_url(), extra);
    let run = codex_exec(&bin, &dir, &dir.join("work"), &["-m", "gpt-5.5", prompt]).await;
    proxy.stop().await;
    (run, dir)
}

/// One `codex exec` asking for a tool, against the gappy upstream.
async fn codex_session(repair: bool) -> (Run, ScriptedResponses) {
    let up = ScriptedResponses::start("vllm").await;
    up.leave_out_done_events();
    let name = if repair { "vllm-repaired" } else { "vllm-raw" };
    let prompt = "Use exec_command to list the files.";
    let (run, _) = codex_once(vllm(&up, repair), name, prompt).await;
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
async fn codex_applies_a_patch_through_a_runtime_without_freeform_tools() {
    if codex_bin().is_none() {
        return;
    }
    let up = ScriptedResponses::start("ollama").await;
    up.act_like_a_local_runtime();
    let settings = runtime("ollama", &up, "custom_tools_as_functions", true);
    let prompt = "Create hello.txt with apply_patch.";
    let (run, dir) = codex_once(settings, "ollama-patch", prompt).await;
    assert!(run.ok, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    let written = std::fs::read_to_string(dir.join("work/hello.txt")).unwrap_or_default();
    assert_eq!(written.trim(), "hello from the patch", "{}", run.stderr);
    assert_eq!(up.refusals(), Vec::<String>::new());
    let sent = up.requests();
    assert_eq!(sent.len(), 2, "{sent:?}");
    let declared = sent[0]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "apply_patch")
        .expect("Codex's apply_patch declared")
        .clone();
    assert_eq!(declared["type"], "function", "{declared}");
    // The call and its result went back as the function the provider knows.
    let back = sent[1]["input"].to_string();
    assert!(!back.contains("custom_tool_call"), "{back}");
    assert!(back.contains("\"function_call_output\""), "{back}");
    assert!(
        run.stdout.contains("ollama finished step 2"),
        "{}",
        run.stdout
    );

    // Without the repair the runtime refuses Codex's request outright.
    let up = ScriptedResponses::start("ollama").await;
    up.act_like_a_local_runtime();
    let settings = runtime("ollama", &up, "custom_tools_as_functions", false);
    let (run, dir) = codex_once(settings, "ollama-raw", prompt).await;
    assert!(!dir.join("work/hello.txt").exists());
    assert_eq!(up.refusals().len(), up.requests().len(), "{}", run.stderr);
}

#[tokio::test]
async fn codex_over_a_websocket_continues_on_a_provider_that_keeps_nothing() {
    if codex_bin().is_none() {
        return;
    }
    // Codex on its WebSocket sends a turn's follow-up as `previous_response_id` and the new
    // items only; the runtime refuses `previous_response_id` and keeps nothing.
    let up = ScriptedResponses::start("ollama").await;
    up.act_like_a_local_runtime();
    let settings = runtime("ollama", &up, "stateless", true);
    let prompt = "Use exec_command to list the files.";
    let (run, _) = codex_with(
        settings,
        "ollama-ws",
        prompt,
        "supports_websockets = true\n",
    )
    .await;
    assert!(run.ok, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    assert!(!run.stderr.contains("Reconnecting"), "{}", run.stderr);
    assert!(
        run.stdout.contains("ollama finished step 2"),
        "{}",
        run.stdout
    );
    assert_eq!(up.refusals(), Vec::<String>::new());
    let sent = up.requests();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(sent[1].get("previous_response_id").is_none(), "{}", sent[1]);
    let back = sent[1]["input"].as_array().unwrap();
    let call = back.iter().position(|i| i["type"] == "function_call");
    let output = back
        .iter()
        .position(|i| i["type"] == "function_call_output");
    assert!(
        call.is_some() && call < output,
        "the whole history: {}",
        sent[1]
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

/// A streamed request through the proxy: its events.
async fn create(proxy: &plugboard_server::ProxyHandle, body: Value) -> Vec<(String, Value)> {
    let resp = http_client()
        .post(format!("{}/responses", proxy.base_url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    read_sse(resp).await
}

#[tokio::test]
async fn a_stateless_provider_gets_the_history_plugboard_kept() {
    let up = ScriptedResponses::start("ollama").await;
    let proxy = start_proxy(runtime("ollama", &up, "stateless", true), "").await;
    let first = create(
        &proxy,
        json!({"model": "qwen3-coder", "stream": true, "input": "List the files."}),
    )
    .await;
    let r1 = terminal(&first).clone();
    let call = r1["output"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["type"] == "function_call")
        .unwrap()
        .clone();
    // Continued by id, as the OpenAI SDKs and the Agents SDK do with `store` on.
    let second = create(
        &proxy,
        json!({"model": "qwen3-coder", "stream": true, "previous_response_id": r1["id"],
            "input": [{"type": "function_call_output", "call_id": call["call_id"], "output": "a.txt"}]}),
    )
    .await;
    let r2 = terminal(&second).clone();
    assert_eq!(r2["status"], "completed", "{r2}");
    // Then by reference to an earlier item, as the Vercel AI SDK does.
    let third = create(
        &proxy,
        json!({"model": "qwen3-coder", "stream": true, "previous_response_id": r2["id"],
            "input": [{"type": "item_reference", "id": call["id"]},
                {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Again."}]}]}),
    )
    .await;
    assert_eq!(terminal(&third)["status"], "completed");
    assert_eq!(up.refusals(), Vec::<String>::new());
    let sent = up.requests();
    for later in &sent[1..] {
        assert!(later.get("previous_response_id").is_none(), "{later}");
        assert_eq!(later["store"], false, "{later}");
    }
    // user, reasoning, call, output: the whole history, the call before its output.
    assert_eq!(sent[1]["input"].as_array().unwrap().len(), 4, "{}", sent[1]);
    // ... + the answer, the referenced call, the new message.
    let third_input = sent[2]["input"].as_array().unwrap();
    assert_eq!(third_input.len(), 7, "{}", sent[2]);
    assert_eq!(third_input[5]["call_id"], call["call_id"]);
    proxy.stop().await;

    // Without the repair the provider gets the output alone and refuses it.
    let up = ScriptedResponses::start("ollama").await;
    let proxy = start_proxy(runtime("ollama", &up, "stateless", false), "").await;
    let first = create(
        &proxy,
        json!({"model": "qwen3-coder", "stream": true, "input": "List the files."}),
    )
    .await;
    let r1 = terminal(&first).clone();
    let refused = http_client()
        .post(format!("{}/responses", proxy.base_url()))
        .json(&json!({"model": "qwen3-coder", "stream": true, "previous_response_id": r1["id"],
            "input": [{"type": "function_call_output", "call_id": call["call_id"], "output": "a.txt"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    proxy.stop().await;
}

#[tokio::test]
async fn the_check_finds_each_gap_of_a_native_provider_and_fix_turns_on_its_repair() {
    let up = ScriptedResponses::start("box").await;
    up.leave_out_done_events();
    up.act_like_a_local_runtime();
    let mut p = Provider::from_preset("box", "ollama").unwrap();
    p.base_url = up.base_url();
    p.wire_api = WireApi::Responses;
    p.default_model = Some("qwen3-coder".into());
    for repair in ["lifecycle_events", "custom_tools_as_functions", "stateless"] {
        p.responses_dialect
            .insert(repair.into(), toml::Value::Boolean(false));
    }
    let keys = Arc::new(StaticKeys::default());
    let r = check_provider(&p, keys.clone(), CheckOptions::default())
        .await
        .unwrap();
    let fix_of = |id: StepId| {
        let s = r.step(id).unwrap();
        assert_eq!(s.status, Status::Failed, "{}", show(&r));
        s.fix.as_ref().map(|f| f.label.clone()).unwrap_or_default()
    };
    // Each gap named in a sentence, with the repair as its fix.
    assert!(
        r.step(StepId::StreamedText)
            .unwrap()
            .detail
            .contains("output_item.done"),
        "{}",
        show(&r)
    );
    assert!(fix_of(StepId::StreamedText).contains("missing events"));
    assert!(fix_of(StepId::ShellCall).contains("freeform tools"));
    assert!(fix_of(StepId::Continuation).contains("Keep the conversation"));

    // `check --fix`: the repairs turned on, and every step Codex needs passes.
    let (fixed, reports) = check_and_fix(&p, keys, CheckOptions::default())
        .await
        .unwrap();
    let d = fixed.responses_dialect().unwrap();
    assert!(d.lifecycle_events && d.custom_tools_as_functions && d.stateless);
    let last = reports.last().unwrap();
    for id in [
        StepId::StreamedText,
        StepId::ShellCall,
        StepId::ToolResult,
        StepId::ApplyPatch,
        StepId::Usage,
        StepId::Continuation,
    ] {
        assert_eq!(
            last.step(id).unwrap().status,
            Status::Passed,
            "{}",
            show(last)
        );
    }
}

#[tokio::test]
async fn compaction_at_a_provider_without_it_is_written_by_the_routed_model() {
    let up = ScriptedResponses::start("ollama").await;
    up.act_like_a_local_runtime();
    let proxy = start_proxy(runtime("ollama", &up, "stateless", true), "").await;
    let history = json!([
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Rename parse_args to parse_cli."}]},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Done in src/cli.rs."}]}
    ]);
    let resp = http_client()
        .post(format!("{}/responses/compact", proxy.base_url()))
        .json(&json!({"model": "qwen3-coder", "input": history}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let compacted: Value = resp.json().await.unwrap();
    assert_eq!(compacted["object"], "response.compaction", "{compacted}");
    let output = compacted["output"].as_array().unwrap();
    assert_eq!(output.last().unwrap()["type"], "compaction", "{compacted}");
    // The provider was asked an ordinary question, whole, ending with the summary prompt.
    let asked = up.requests().last().unwrap().clone();
    assert_eq!(asked["stream"], false);
    let last = asked["input"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .to_string();
    assert!(last.contains("Context checkpoint"), "{asked}");

    // Codex's `compaction_trigger`: one compaction item back, streamed.
    let events = create(
        &proxy,
        json!({"model": "qwen3-coder", "stream": true, "store": false,
            "input": [history[0], history[1], {"type": "compaction_trigger"}]}),
    )
    .await;
    let done = done_items(&events);
    assert_eq!(done.len(), 1, "{events:?}");
    assert_eq!(done[0]["type"], "compaction");
    assert!(
        up.requests()
            .iter()
            .all(|r| !r.to_string().contains("compaction_trigger")),
        "the trigger never reached the provider"
    );
    proxy.stop().await;
}

#[tokio::test]
async fn a_provider_serving_both_apis_is_checked_on_both_and_moved_to_the_better() {
    // Chat: the model writes its tool calls as text and the repair is off (a step to repair
    // each time); Responses: clean.
    let chat = ScriptedModel::start(Quirks {
        text_tool_calls: true,
        window_in_list: Some(131_072),
        ..Quirks::default()
    })
    .await;
    let responses = ScriptedResponses::start("native").await;
    responses.act_like_a_local_runtime();
    let both = TwoPaths::start(chat, responses).await;
    let mut p = Provider::from_preset("both", "custom").unwrap();
    p.base_url = both.base_url();
    p.default_model = Some(MODEL.into());
    p.dialect
        .insert("text_tool_calls".into(), toml::Value::Boolean(false));
    let keys = Arc::new(StaticKeys::default());

    let r = check_provider(&p, keys.clone(), CheckOptions::default())
        .await
        .unwrap();
    let best = r.step(StepId::BestPath).expect("both paths compared");
    assert_eq!(best.status, Status::Warning, "{}", show(&r));
    assert!(
        best.detail.contains("Chat Completions (translated)"),
        "{}",
        best.detail
    );
    assert!(
        best.detail
            .contains("Responses (native) serves Codex better"),
        "{}",
        best.detail
    );
    assert_eq!(best.fix.as_ref().unwrap().change, FixChange::PassThrough);
    assert!(
        r.step(StepId::NativeResponses).unwrap().fix.is_none(),
        "offered once"
    );
    assert!(
        both.responses.requests().len() >= 4,
        "the Responses path ran its steps"
    );

    let (fixed, reports) = check_and_fix(&p, keys, CheckOptions::default())
        .await
        .unwrap();
    assert_eq!(fixed.wire_api, WireApi::Responses);
    let last = reports.last().unwrap();
    assert!(last.passed(), "{}", show(last));
    let kept = last.step(StepId::BestPath).unwrap();
    assert_eq!(kept.status, Status::Info, "{}", show(last));
    assert!(
        kept.detail.contains("Plugboard keeps Responses (native)"),
        "{}",
        kept.detail
    );
}

#[tokio::test]
async fn a_whole_answer_gets_its_freeform_call_back_too() {
    let up = ScriptedResponses::start("ollama").await;
    up.act_like_a_local_runtime();
    let proxy = start_proxy(
        runtime("ollama", &up, "custom_tools_as_functions", true),
        "",
    )
    .await;
    let answer: Value = http_client()
        .post(format!("{}/responses", proxy.base_url()))
        .json(&json!({"model": "qwen3-coder", "stream": false,
            "tools": [{"type": "custom", "name": "apply_patch", "description": "Edit files."}],
            "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Create hello.txt with apply_patch."}]}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let call = answer["output"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "apply_patch")
        .expect("the call")
        .clone();
    assert_eq!(call["type"], "custom_tool_call", "{answer}");
    assert!(
        call["input"]
            .as_str()
            .unwrap()
            .starts_with("*** Begin Patch"),
        "{call}"
    );
    assert_eq!(up.requests()[0]["tools"][0]["type"], "function");
    proxy.stop().await;
}
