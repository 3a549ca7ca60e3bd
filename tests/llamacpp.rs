//! A real local runtime, not a script: llama.cpp's own server (from the xllamacpp wheel)
//! with a 135M-parameter GGUF model, started by the test. The Codex check on it as a user
//! loads it (llama.cpp's default 2,048-token window) says the window is smaller than Codex's
//! tools need and what to do; requests go through both paths Plugboard has for it, chat
//! translated and its own Responses API with the llama.cpp repairs (numbered events, a
//! follow-up by `previous_response_id` it refuses natively, `incomplete` at the output limit).
//!
//! `PLUGBOARD_LLAMACPP_PYTHON` and `PLUGBOARD_GGUF` name what the test script installed.

use plugboard_check::{check_provider, CheckOptions, Status, StepId};
use plugboard_config::{Provider, Route, Settings, WireApi};
use plugboard_e2e::check_report::show;
use plugboard_e2e::llama_server::{LlamaServer, LLAMA_MODEL};
use plugboard_e2e::*;
use serde_json::{json, Value};
use std::sync::Arc;

fn llamacpp(id: &str, base_url: &str, wire: WireApi) -> Provider {
    let mut p = Provider::from_preset(id, "llamacpp").unwrap();
    p.base_url = base_url.into();
    p.wire_api = wire;
    p.default_model = Some(LLAMA_MODEL.into());
    p.model_map.clear();
    p
}

#[tokio::test]
async fn the_check_says_a_real_llama_server_window_is_too_small_for_codex() {
    let Some(server) = LlamaServer::start(2048, true).await else {
        return;
    };
    let p = llamacpp("llama", &server.base_url, WireApi::Chat);
    let r = check_provider(&p, Arc::new(StaticKeys::default()), CheckOptions::default())
        .await
        .unwrap();
    assert_eq!(
        r.step(StepId::StreamedText).unwrap().status,
        Status::Passed,
        "{}",
        show(&r)
    );
    let shell = r.step(StepId::ShellCall).unwrap();
    assert_eq!(shell.status, Status::Failed, "{}", show(&r));
    assert!(
        shell.detail.contains("served with a 2,048-token window"),
        "{}",
        shell.detail
    );
    assert!(shell.detail.contains("-c 32768"), "{}", shell.detail);
}

/// A streamed request through the proxy: its events.
async fn stream(proxy: &plugboard_server::ProxyHandle, body: Value) -> Vec<(String, Value)> {
    let r = post_responses(&proxy.base_url(), &body).await;
    let status = r.status();
    if status != 200 {
        panic!(
            "{status} for {body}: {}",
            r.text().await.unwrap_or_default()
        );
    }
    read_sse(r).await
}

fn text(events: &[(String, Value)]) -> String {
    events
        .iter()
        .filter(|(k, _)| k == "response.output_text.delta")
        .filter_map(|(_, v)| v["delta"].as_str())
        .collect()
}

#[tokio::test]
async fn requests_reach_a_real_llama_server_over_both_paths() {
    let Some(server) = LlamaServer::start(4096, false).await else {
        return;
    };
    // `smollm2` over chat (the preset's default), `native-smollm2` over its Responses API.
    let mut native = llamacpp("native", &server.base_url, WireApi::Responses);
    native
        .model_map
        .insert("native-*".into(), LLAMA_MODEL.into());
    let settings = Settings {
        listen: "127.0.0.1:0".into(),
        active_provider: Some("chat".into()),
        providers: vec![llamacpp("chat", &server.base_url, WireApi::Chat), native],
        routes: vec![Route::new("native-*", "native")],
        ..Settings::default()
    };
    let proxy = start_proxy(settings, "").await;
    let ask = |model: &str, extra: Value| {
        let mut body = json!({"model": model, "stream": true, "max_output_tokens": 24, "temperature": 0,
            "input": "Say hello in five words."});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };

    let chat = stream(&proxy, ask(LLAMA_MODEL, json!({}))).await;
    assert!(!text(&chat).trim().is_empty(), "{chat:?}");
    assert!(matches!(
        terminal(&chat)["status"].as_str(),
        Some("completed" | "incomplete")
    ));

    let first = stream(&proxy, ask("native-smollm2", json!({}))).await;
    assert!(!text(&first).trim().is_empty(), "{first:?}");
    // Numbered from 0 with no gap (llama.cpp's own events carry no numbers).
    for (i, (_, e)) in first.iter().enumerate() {
        assert_eq!(e["sequence_number"], i, "{first:?}");
    }
    let done = done_items(&first);
    assert_eq!(done.len(), 1, "{first:?}");
    // A follow-up by id, which llama.cpp refuses itself: Plugboard sends the history.
    let id = terminal(&first)["id"].as_str().unwrap().to_string();
    let next = stream(
        &proxy,
        ask(
            "native-smollm2",
            json!({"previous_response_id": id, "input": "Again."}),
        ),
    )
    .await;
    assert!(!text(&next).trim().is_empty(), "{next:?}");
    // Cut by the output limit: `incomplete`, as OpenAI says it (llama.cpp says `completed`).
    let cut = stream(
        &proxy,
        ask(
            "native-smollm2",
            json!({"max_output_tokens": 4, "input": "Count from one to fifty in words."}),
        ),
    )
    .await;
    let end = terminal(&cut);
    assert_eq!(end["status"], "incomplete", "{end}");
    assert_eq!(end["incomplete_details"]["reason"], "max_output_tokens");
    proxy.stop().await;
}
