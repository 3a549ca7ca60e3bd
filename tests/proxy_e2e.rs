//! The proxy in process between a reqwest client and a scripted mock upstream on loopback.
//!
//! (Over 400 lines: the translation end to end, one client-visible behaviour per test.)

use plugboard_config::{Provider, WireApi};
use plugboard_e2e::*;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

async fn post(url: &str, body: Value) -> reqwest::Response {
    client()
        .post(format!("{url}/responses"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

fn codex_like(input: Value) -> Value {
    json!({
        "model": "gpt-5.5",
        "stream": true,
        "store": true,
        "input": input,
        "tools": [
            {"type": "function", "name": "exec_command", "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}}},
            {"type": "custom", "name": "apply_patch", "description": "Edit files", "format": {"type": "grammar", "syntax": "lark", "definition": "start: x"}},
            {"type": "web_search"}
        ],
        "reasoning": {"effort": "medium"},
        "include": ["reasoning.encrypted_content"],
        "prompt_cache_key": "k"
    })
}

#[tokio::test]
async fn streams_text_and_sends_the_translated_request_with_the_key() {
    let mock = MockUpstream::start(|_, _| Reply::Sse(text_chunks(&["Hel", "lo", " world"]))).await;
    let proxy = start_proxy(one_provider(&mock.base_url()), "sk-test-key-1234").await;
    let resp = post(&proxy.base_url(), codex_like(json!("say hello"))).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    assert!(resp.headers().contains_key("x-request-id"));
    let events = read_sse(resp).await;
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        &names[..4],
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added"
        ]
    );
    assert_eq!(
        names
            .iter()
            .filter(|n| **n == "response.output_text.delta")
            .count(),
        3
    );
    let r = terminal(&events);
    assert_eq!(r["status"], "completed");
    assert_eq!(r["model"], "gpt-5.5");
    assert_eq!(r["output"][0]["content"][0]["text"], "Hello world");
    assert_eq!(
        r["usage"],
        json!({"input_tokens": 11, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 7, "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 18})
    );
    for (i, (_, d)) in events.iter().enumerate() {
        assert_eq!(d["sequence_number"], i as u64);
    }

    let reqs = mock.requests();
    assert_eq!(reqs.len(), 1);
    let sent = &reqs[0];
    assert_eq!(sent.path, "/v1/chat/completions");
    assert_eq!(sent.headers["authorization"], "Bearer sk-test-key-1234");
    assert_eq!(sent.body["model"], "mock-model");
    assert_eq!(sent.body["stream_options"], json!({"include_usage": true}));
    assert_eq!(
        sent.body["messages"],
        json!([{"role": "user", "content": "say hello"}])
    );
    let tool_names: Vec<&str> = sent.body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        tool_names,
        ["exec_command", "apply_patch"],
        "web_search has no chat equivalent and is dropped"
    );
    assert!(sent.body.get("prompt_cache_key").is_none() && sent.body.get("include").is_none());
    proxy.stop().await;
}

#[tokio::test]
async fn a_tool_loop_with_previous_response_id_keeps_reasoning_and_pairs_calls() {
    let mock = MockUpstream::start(|_, n| match n {
        0 => Reply::Sse(tool_call_chunks(
            Some("Need to list files."),
            "call_1",
            "exec_command",
            r#"{"cmd":"ls"}"#,
        )),
        _ => Reply::Sse(text_chunks(&["Two files."])),
    })
    .await;
    let proxy = start_proxy(one_provider(&mock.base_url()), "k").await;

    let first = read_sse(post(&proxy.base_url(), codex_like(json!("list files"))).await).await;
    let r1 = terminal(&first).clone();
    assert_eq!(r1["output"][0]["type"], "reasoning");
    assert_eq!(r1["output"][1]["type"], "function_call");
    assert_eq!(r1["output"][1]["call_id"], "call_1");
    assert_eq!(r1["output"][1]["arguments"], r#"{"cmd":"ls"}"#);
    assert_eq!(r1["usage"]["input_tokens_details"]["cached_tokens"], 64);

    let mut second = codex_like(
        json!([{"type": "function_call_output", "call_id": "call_1", "output": "a.txt\nb.txt"}]),
    );
    second["previous_response_id"] = r1["id"].clone();
    let events = read_sse(post(&proxy.base_url(), second).await).await;
    assert_eq!(
        terminal(&events)["output"][0]["content"][0]["text"],
        "Two files."
    );

    let sent = &mock.requests()[1].body["messages"];
    assert_eq!(sent[0], json!({"role": "user", "content": "list files"}));
    assert_eq!(sent[1]["role"], "assistant");
    assert_eq!(
        sent[1]["reasoning_content"], "Need to list files.",
        "DeepSeek needs its reasoning back"
    );
    assert_eq!(sent[1]["tool_calls"][0]["id"], "call_1");
    assert_eq!(
        sent[2],
        json!({"role": "tool", "tool_call_id": "call_1", "content": "a.txt\nb.txt"})
    );
    proxy.stop().await;
}

#[tokio::test]
async fn freeform_apply_patch_calls_come_back_as_custom_tool_calls() {
    let patch = "*** Begin Patch\n*** Add File: a.txt\n+hi\n*** End Patch\n";
    let args = json!({"input": patch}).to_string();
    let mock = MockUpstream::start(move |_, _| {
        Reply::Sse(tool_call_chunks(None, "call_p", "apply_patch", &args))
    })
    .await;
    let proxy = start_proxy(one_provider(&mock.base_url()), "k").await;
    let events = read_sse(post(&proxy.base_url(), codex_like(json!("patch it"))).await).await;
    let done: Vec<&Value> = events
        .iter()
        .filter(|(n, _)| n == "response.output_item.done")
        .map(|(_, d)| &d["item"])
        .collect();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0]["type"], "custom_tool_call");
    assert_eq!(done[0]["name"], "apply_patch");
    assert_eq!(done[0]["input"], patch);
    assert!(events
        .iter()
        .any(|(n, _)| n == "response.custom_tool_call_input.done"));
    proxy.stop().await;
}

#[tokio::test]
async fn non_streaming_requests_get_a_whole_response_object() {
    let mock = MockUpstream::start(|body, _| {
        assert_eq!(body["stream"], false);
        Reply::Raw {
            status: 200,
            headers: vec![("content-type", "application/json".into())],
            body: json!({"id": "c", "choices": [{"index": 0, "message": {"role": "assistant", "content": "whole", "tool_calls": [{"id": "call_9", "type": "function", "function": {"name": "exec_command", "arguments": "{\"cmd\":\"pwd\"}"}}]}, "finish_reason": "tool_calls"}], "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}).to_string(),
        }
    })
    .await;
    let proxy = start_proxy(one_provider(&mock.base_url()), "k").await;
    let mut body = codex_like(json!("x"));
    body["stream"] = json!(false);
    let resp = post(&proxy.base_url(), body).await;
    assert_eq!(resp.status(), 200);
    let r: Value = resp.json().await.unwrap();
    assert_eq!(r["object"], "response");
    assert_eq!(r["status"], "completed");
    assert_eq!(r["output"][0]["content"][0]["text"], "whole");
    assert_eq!(r["output"][1]["call_id"], "call_9");
    assert_eq!(r["usage"]["total_tokens"], 5);
    proxy.stop().await;
}

#[tokio::test]
async fn the_first_event_leaves_before_the_upstream_finishes() {
    let gate = Arc::new(Notify::new());
    let g = gate.clone();
    let mock = MockUpstream::start(move |_, _| Reply::GatedSse {
        events: text_chunks(&["first", " second"]),
        before_gate: 2,
        gate: g.clone(),
    })
    .await;
    let proxy = start_proxy(one_provider(&mock.base_url()), "k").await;
    let resp = post(&proxy.base_url(), codex_like(json!("x"))).await;
    use eventsource_stream::Eventsource;
    use futures_util::StreamExt;
    let mut stream = resp.bytes_stream().eventsource();
    // The mock holds back everything after "first" until the client has seen "first".
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("first delta arrives while the upstream is still open")
            .unwrap()
            .unwrap();
        if ev.event == "response.output_text.delta" {
            assert!(ev.data.contains("\"first\""));
            break;
        }
    }
    gate.notify_one();
    let mut rest = Vec::new();
    while let Some(ev) = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .unwrap()
    {
        rest.push(ev.unwrap().event);
    }
    assert_eq!(rest.last().unwrap(), "response.completed");
    proxy.stop().await;
}

#[tokio::test]
async fn upstream_http_errors_keep_status_shape_and_retry_after() {
    let mock = MockUpstream::start(|_, n| match n {
        0 => Reply::Raw { status: 429, headers: vec![("retry-after", "7".into()), ("content-type", "application/json".into())], body: json!({"error": {"message": "Rate limit reached", "type": "rate_limit_error", "code": "rate_limit_exceeded"}}).to_string() },
        1 => Reply::Raw { status: 401, headers: vec![], body: json!({"error": {"message": "Authentication Fails, key sk-secret-abcdef is invalid", "type": "authentication_error"}}).to_string() },
        2 => Reply::Raw { status: 503, headers: vec![("content-type", "text/html".into())], body: "<html><title>503 Service Unavailable</title></html>".into() },
        _ => Reply::Raw { status: 400, headers: vec![], body: json!({"error": {"message": "This model's maximum context length is 65536 tokens", "type": "invalid_request_error"}}).to_string() },
    })
    .await;
    let proxy = start_proxy(one_provider(&mock.base_url()), "sk-secret-abcdef").await;

    let r = post(&proxy.base_url(), codex_like(json!("x"))).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "7");
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "rate_limit_exceeded");
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Rate limit reached"));

    let r = post(&proxy.base_url(), codex_like(json!("x"))).await;
    assert_eq!(r.status(), 401);
    let text = r.text().await.unwrap();
    assert!(
        !text.contains("sk-secret-abcdef"),
        "the key is scrubbed: {text}"
    );
    assert!(text.contains("Authentication Fails"));

    let r = post(&proxy.base_url(), codex_like(json!("x"))).await;
    assert_eq!(r.status(), 502);
    let e: Value = r.json().await.unwrap();
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("503 Service Unavailable"),
        "{e}"
    );
    assert_eq!(e["error"]["code"], "server_is_overloaded");

    let r = post(&proxy.base_url(), codex_like(json!("x"))).await;
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "context_length_exceeded");
    proxy.stop().await;
}

#[tokio::test]
async fn an_unreachable_provider_is_a_clear_502() {
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let proxy = start_proxy(one_provider(&format!("http://{dead}/v1")), "k").await;
    let r = post(&proxy.base_url(), codex_like(json!("x"))).await;
    assert_eq!(r.status(), 502);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "upstream_unreachable");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("could not connect to provider `mock`"),
        "{e}"
    );
    proxy.stop().await;
}

#[tokio::test]
async fn a_stream_that_breaks_ends_in_response_failed() {
    let mock = MockUpstream::start(|_, n| match n {
        // Body ends without finish_reason or [DONE].
        0 => Reply::Sse(vec![
            json!({"choices": [{"index": 0, "delta": {"content": "par"}}]}).to_string(),
        ]),
        // A chunk that is not JSON.
        _ => Reply::Sse(vec![
            json!({"choices": [{"index": 0, "delta": {"content": "a"}}]}).to_string(),
            "{not json".into(),
        ]),
    })
    .await;
    let proxy = start_proxy(one_provider(&mock.base_url()), "k").await;
    for code in ["stream_interrupted", "bad_upstream_response"] {
        let events = read_sse(post(&proxy.base_url(), codex_like(json!("x"))).await).await;
        let r = terminal(&events);
        assert_eq!(r["status"], "failed");
        assert_eq!(r["error"]["code"], code);
    }
    proxy.stop().await;
}

#[tokio::test]
async fn a_client_that_goes_away_cancels_the_upstream_request() {
    let dropped = Arc::new(AtomicBool::new(false));
    let d = dropped.clone();
    let mock = MockUpstream::start(move |_, _| Reply::Hang {
        events: vec![
            json!({"choices": [{"index": 0, "delta": {"content": "thinking..."}}]}).to_string(),
        ],
        dropped: d.clone(),
    })
    .await;
    let proxy = start_proxy(one_provider(&mock.base_url()), "k").await;
    let resp = post(&proxy.base_url(), codex_like(json!("x"))).await;
    use futures_util::StreamExt;
    let mut body = resp.bytes_stream();
    let mut seen = String::new();
    while !seen.contains("thinking...") {
        seen.push_str(&String::from_utf8_lossy(
            &body.next().await.unwrap().unwrap(),
        ));
    }
    drop(body);
    for _ in 0..100 {
        if dropped.load(Ordering::SeqCst) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        dropped.load(Ordering::SeqCst),
        "the upstream connection was closed after the client left"
    );
    proxy.stop().await;
}

#[tokio::test]
async fn bad_input_gets_openai_shaped_4xx_naming_the_field() {
    let mock = MockUpstream::start(|_, _| Reply::Sse(text_chunks(&["ok"]))).await;
    let proxy = start_proxy(one_provider(&mock.base_url()), "k").await;
    let url = format!("{}/responses", proxy.base_url());
    let c = client();
    let cases: Vec<(reqwest::RequestBuilder, u16, &str)> = vec![
        (c.post(&url).body("{not json"), 400, "invalid request body"),
        (c.post(&url).body(vec![0xff, 0xfe]), 400, "invalid"),
        (c.post(&url).json(&json!({"input": "x"})), 400, "missing field `model`"),
        (c.post(&url).json(&json!({"model": 5, "input": "x"})), 400, "`model`"),
        (c.post(&url).json(&json!({"model": "m"})), 400, "`input` is required"),
        (c.post(&url).json(&json!({"model": "m", "input": [{"type": "function_call", "call_id": 3, "name": "f"}]})), 400, "input[0]"),
        (c.post(&url).json(&json!({"model": "m", "input": "x", "previous_response_id": "resp_nope"})), 400, "resp_nope"),
        (c.post(&url).header("origin", "https://evil.example").json(&json!({"model": "m", "input": "x"})), 403, "web pages"),
        (c.post(&url).header("host", "evil.example:80").json(&json!({"model": "m", "input": "x"})), 403, "localhost"),
        (c.get(format!("{}/nope", proxy.base_url())), 404, "POST /v1/responses"),
    ];
    for (req, status, needle) in cases {
        let r = req.send().await.unwrap();
        assert_eq!(r.status().as_u16(), status, "{needle}");
        let e: Value = r.json().await.unwrap();
        let msg = e["error"]["message"]
            .as_str()
            .unwrap_or_else(|| panic!("OpenAI error shape: {e}"));
        assert!(msg.contains(needle), "{msg} should contain {needle}");
    }
    // Unknown item and tool types are skipped, not rejected.
    let r = post(&proxy.base_url(), json!({"model": "m", "stream": true, "input": [{"type": "brand_new_item"}, {"role": "user", "content": "hi"}], "tools": [{"type": "brand_new_tool"}]})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(terminal(&read_sse(r).await)["status"], "completed");
    assert_eq!(
        mock.requests().len(),
        1,
        "only the valid request reached the upstream"
    );
    proxy.stop().await;
}

#[tokio::test]
async fn responses_providers_are_passed_through_with_the_key_and_mapped_model() {
    let upstream_body = "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_up\"}}\n\nevent: response.completed\ndata: {\"type\":\"response.completed\",\"sequence_number\":1,\"response\":{\"id\":\"resp_up\",\"output\":[]}}\n\n";
    let body = upstream_body.to_string();
    let mock = MockUpstream::start(move |_, _| Reply::Raw {
        status: 200,
        headers: vec![("content-type", "text/event-stream".into())],
        body: body.clone(),
    })
    .await;
    let mut p = Provider::from_preset("oa", "openai").unwrap();
    p.base_url = mock.base_url();
    p.model_map.insert("plan".into(), "gpt-5.5".into());
    assert_eq!(p.wire_api, WireApi::Responses);
    let settings = plugboard_config::Settings {
        listen: "127.0.0.1:0".into(),
        active_provider: Some("oa".into()),
        providers: vec![p],
        ..Default::default()
    };
    let proxy = start_proxy(settings, "sk-oa").await;
    let resp = client()
        .post(format!("{}/responses", proxy.base_url()))
        .header("session_id", "s-1")
        .json(&json!({"model": "plan", "input": "hi", "stream": true, "store": false, "unknown_new_field": {"x": 1}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.text().await.unwrap(),
        upstream_body,
        "copied byte for byte"
    );
    let sent = &mock.requests()[0];
    assert_eq!(sent.path, "/v1/responses");
    assert_eq!(sent.headers["authorization"], "Bearer sk-oa");
    assert_eq!(sent.headers["session_id"], "s-1");
    assert_eq!(sent.body["model"], "gpt-5.5");
    assert_eq!(
        sent.body["unknown_new_field"],
        json!({"x": 1}),
        "unknown fields pass through"
    );
    proxy.stop().await;
}

#[tokio::test]
async fn models_health_and_live_settings_switch() {
    let a = MockUpstream::start(|_, _| Reply::Sse(text_chunks(&["from A"]))).await;
    let b = MockUpstream::start(|_, _| Reply::Sse(text_chunks(&["from B"]))).await;
    let mut settings = one_provider(&a.base_url());
    let mut pb = Provider::from_preset("other", "ollama").unwrap();
    pb.base_url = b.base_url();
    settings.providers.push(pb);
    settings.routes.push(plugboard_config::Route {
        model: "local-coder".into(),
        provider: "other".into(),
        upstream_model: Some("qwen3".into()),
        fallbacks: Vec::new(),
        context_window: None,
        subagent: false,
    });
    let proxy = start_proxy(settings.clone(), "k").await;

    let models: Value = client()
        .get(format!("{}/models", proxy.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = models["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"local-coder"), "{ids:?}");
    let health: Value = client()
        .get(format!("http://{}/health", proxy.addr()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["active_provider"], "mock");

    let text = |events: Vec<(String, Value)>| {
        terminal(&events)["output"][0]["content"][0]["text"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        text(read_sse(post(&proxy.base_url(), codex_like(json!("x"))).await).await),
        "from A"
    );
    let mut routed = codex_like(json!("x"));
    routed["model"] = json!("local-coder");
    assert_eq!(
        text(read_sse(post(&proxy.base_url(), routed).await).await),
        "from B"
    );
    assert_eq!(b.requests()[0].body["model"], "qwen3");

    // Switching the active provider applies to the next request, with no restart.
    settings.active_provider = Some("other".into());
    proxy.update_settings(settings).unwrap();
    assert_eq!(
        text(read_sse(post(&proxy.base_url(), codex_like(json!("x"))).await).await),
        "from B"
    );
    assert!(b.requests()[1].headers.get("authorization").is_some());
    proxy.stop().await;
}
