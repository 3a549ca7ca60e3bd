//! `GET /v1/responses` as a WebSocket (the Open Responses WebSocket mode), driven by a real
//! WebSocket client against the proxy in front of a scripted chat upstream: one response,
//! several in order, continuation with `store: false`, recovery after a reconnect, a missing
//! previous response, a failed continuation that evicts, compaction starting a new chain,
//! Codex's prewarm, the listener's limits (access token, message size, a flood, a slow
//! reader) and a stop in the middle of a stream.
//!
//! (Over 400 lines: one test per behaviour of the specification's WebSocket mode, each a
//! whole conversation on the socket.)

use futures_util::{SinkExt, StreamExt};
use plugboard_e2e::socket_client::*;
use plugboard_e2e::*;
use plugboard_server::ServeOptions;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// A chat upstream answering "Answer N." to the n-th request.
async fn numbered() -> MockUpstream {
    MockUpstream::start(|body, n| {
        reply_as_asked(body, text_chunks(&["Answer ", &format!("{}.", n + 1)]))
    })
    .await
}

#[tokio::test]
async fn one_response_then_another_on_the_same_socket() {
    let up = numbered().await;
    let proxy = start_proxy(one_provider(&up.base_url()), "k").await;
    let mut ws = open(&proxy).await;
    let first = turn(&mut ws, json!({"model": "gpt-5.5", "input": "hi"})).await;
    assert_eq!(first[0]["type"], "response.created");
    assert_eq!(last(&first)["type"], "response.completed");
    assert!(last(&first)["response"]["id"].is_string());
    assert_eq!(text_of(&first), "Answer 1.");
    // Sequence numbers grow within a response.
    let seqs: Vec<u64> = first
        .iter()
        .filter_map(|e| e["sequence_number"].as_u64())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    let second = turn(&mut ws, json!({"model": "gpt-5.5", "input": "again"})).await;
    assert_eq!(text_of(&second), "Answer 2.");
    // `stream` is the transport's business: the upstream was asked for a stream.
    assert!(up.requests().iter().all(|r| r.body["stream"] == true));
    proxy.stop().await;
}

#[tokio::test]
async fn a_store_false_continuation_sends_only_new_input_and_the_model_sees_it_all() {
    let up = numbered().await;
    let proxy = start_proxy(one_provider(&up.base_url()), "k").await;
    let mut ws = open(&proxy).await;
    let first = turn(
        &mut ws,
        json!({"model": "gpt-5.5", "store": false, "input": "remember the word kiwi"}),
    )
    .await;
    let id = last(&first)["response"]["id"].as_str().unwrap().to_string();
    let second = turn(
        &mut ws,
        json!({"model": "gpt-5.5", "store": false, "previous_response_id": id, "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "which word?"}]}]}),
    )
    .await;
    assert_eq!(last(&second)["type"], "response.completed");
    let sent = up.requests()[1].body["messages"].to_string();
    for earlier in ["remember the word kiwi", "Answer 1.", "which word?"] {
        assert!(sent.contains(earlier), "{earlier} in {sent}");
    }
    proxy.stop().await;
}

#[tokio::test]
async fn after_a_reconnect_a_store_false_response_is_not_found_and_a_fresh_one_works() {
    let up = numbered().await;
    let proxy = start_proxy(one_provider(&up.base_url()), "k").await;
    let mut ws = open(&proxy).await;
    let first = turn(
        &mut ws,
        json!({"model": "gpt-5.5", "store": false, "input": "hi"}),
    )
    .await;
    let id = last(&first)["response"]["id"].as_str().unwrap().to_string();
    drop(ws);
    let mut ws = open(&proxy).await;
    let refused = turn(
        &mut ws,
        json!({"model": "gpt-5.5", "store": false, "previous_response_id": id, "input": "more"}),
    )
    .await;
    assert_eq!(last(&refused)["type"], "error");
    assert_eq!(last(&refused)["status"], 400);
    assert_eq!(
        last(&refused)["error"]["code"],
        "previous_response_not_found"
    );
    let fresh = turn(
        &mut ws,
        json!({"model": "gpt-5.5", "store": false, "input": "start over"}),
    )
    .await;
    assert_eq!(last(&fresh)["type"], "response.completed");
    proxy.stop().await;
}

#[tokio::test]
async fn an_unknown_previous_response_is_refused_by_its_code() {
    let up = numbered().await;
    let proxy = start_proxy(one_provider(&up.base_url()), "k").await;
    let mut ws = open(&proxy).await;
    let refused = turn(
        &mut ws,
        json!({"model": "gpt-5.5", "previous_response_id": "resp_nobody", "input": "x"}),
    )
    .await;
    assert_eq!(
        last(&refused)["error"]["code"],
        "previous_response_not_found"
    );
    assert_eq!(up.requests().len(), 0, "nothing reached the provider");
    proxy.stop().await;
}

#[tokio::test]
async fn a_failed_continuation_evicts_the_response_it_continued() {
    let up = numbered().await;
    let proxy = start_proxy(one_provider(&up.base_url()), "k").await;
    let mut ws = open(&proxy).await;
    // Stored too: eviction must win over the proxy's own store.
    let first = turn(&mut ws, json!({"model": "gpt-5.5", "input": "hi"})).await;
    let id = last(&first)["response"]["id"].as_str().unwrap().to_string();
    let failed = turn(
        &mut ws,
        json!({"model": "gpt-5.5", "previous_response_id": id, "input": [
            {"type": "function_call_output", "call_id": "call_nobody", "output": "x"}]}),
    )
    .await;
    assert_eq!(last(&failed)["type"], "error");
    assert_eq!(last(&failed)["status"], 400);
    let again = turn(
        &mut ws,
        json!({"model": "gpt-5.5", "previous_response_id": id, "input": "retry"}),
    )
    .await;
    assert_eq!(last(&again)["error"]["code"], "previous_response_not_found");
    proxy.stop().await;
}

#[tokio::test]
async fn compaction_starts_a_new_chain_on_the_socket() {
    let up = MockUpstream::start(|body, _| {
        reply_as_asked(body, text_chunks(&["We said hi; the user likes kiwi."]))
    })
    .await;
    let proxy = start_proxy(one_provider(&up.base_url()), "k").await;
    let compacted: Value = http_client()
        .post(format!("{}/responses/compact", proxy.base_url()))
        .json(&json!({"model": "gpt-5.5", "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "I like kiwi"}]},
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Noted."}]}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut input = compacted["output"].as_array().unwrap().clone();
    input.push(json!({"type": "message", "role": "user", "content": [{"type": "input_text", "text": "what do I like?"}]}));
    let mut ws = open(&proxy).await;
    let done = turn(
        &mut ws,
        json!({"model": "gpt-5.5", "store": false, "input": input}),
    )
    .await;
    assert_eq!(last(&done)["type"], "response.completed");
    let sent = up.requests().last().unwrap().body["messages"].to_string();
    assert!(
        sent.contains("the user likes kiwi"),
        "the summary reached the model: {sent}"
    );
    proxy.stop().await;
}

#[tokio::test]
async fn codex_prewarm_is_answered_without_the_model_and_continued_from() {
    let up = numbered().await;
    let proxy = start_proxy(one_provider(&up.base_url()), "k").await;
    let mut ws = open(&proxy).await;
    let warm = turn(
        &mut ws,
        json!({"model": "gpt-5.5", "store": false, "stream": true, "generate": false, "input": [
            {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "You are Codex."}]}]}),
    )
    .await;
    assert_eq!(last(&warm)["type"], "response.completed");
    assert_eq!(up.requests().len(), 0, "a prewarm asks no model");
    let id = last(&warm)["response"]["id"].as_str().unwrap().to_string();
    let real = turn(
        &mut ws,
        json!({"model": "gpt-5.5", "store": false, "stream": true, "previous_response_id": id, "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hello"}]}]}),
    )
    .await;
    assert_eq!(text_of(&real), "Answer 1.");
    let sent = up.requests()[0].body["messages"].to_string();
    assert!(
        sent.contains("You are Codex.") && sent.contains("hello"),
        "{sent}"
    );
    // Messages of kinds it does not act on are passed over (Codex's `response.processed`).
    ws.send(Message::text(
        json!({"type": "response.processed", "response_id": id}).to_string(),
    ))
    .await
    .unwrap();
    let after = turn(
        &mut ws,
        json!({"model": "gpt-5.5", "input": "still there?"}),
    )
    .await;
    assert_eq!(last(&after)["type"], "response.completed");
    proxy.stop().await;
}

#[tokio::test]
async fn bad_messages_get_error_messages_and_the_socket_stays_open() {
    let up = numbered().await;
    let proxy = start_proxy(one_provider(&up.base_url()), "k").await;
    let mut ws = open(&proxy).await;
    ws.send(Message::text("not json")).await.unwrap();
    let e = read_turn(&mut ws).await;
    assert_eq!(last(&e)["error"]["code"], "invalid_json");
    ws.send(Message::binary(vec![1u8, 2, 3])).await.unwrap();
    let e = read_turn(&mut ws).await;
    assert_eq!(last(&e)["error"]["code"], "invalid_message");
    let e = turn(&mut ws, json!({"model": "gpt-5.5", "input": 7})).await;
    assert_eq!(last(&e)["status"], 400);
    assert_eq!(last(&e)["error"]["param"], "input");
    let ok = turn(&mut ws, json!({"model": "gpt-5.5", "input": "fine"})).await;
    assert_eq!(last(&ok)["type"], "response.completed");
    proxy.stop().await;
}

#[tokio::test]
async fn the_access_token_guards_the_handshake() {
    let up = numbered().await;
    let opts = ServeOptions {
        access_token: Some("tok-0123456789abcdef".into()),
        ..ServeOptions::default()
    };
    let proxy = start_proxy_with(one_provider(&up.base_url()), "k", opts).await;
    let refused = connect_async(ws_url(&proxy)).await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status(), 401)
        }
        other => panic!("a handshake without the token must be refused: {other:?}"),
    }
    let mut req = ws_url(&proxy).into_client_request().unwrap();
    req.headers_mut().insert(
        "authorization",
        "Bearer tok-0123456789abcdef".parse().unwrap(),
    );
    let (mut ws, _) = connect_async(req).await.expect("with the token");
    let ok = turn(&mut ws, json!({"model": "gpt-5.5", "input": "hi"})).await;
    assert_eq!(last(&ok)["type"], "response.completed");
    // A plain GET is told what the endpoint is for.
    let plain = http_client()
        .get(format!("{}/responses", proxy.base_url()))
        .header("authorization", "Bearer tok-0123456789abcdef")
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 400);
    proxy.stop().await;
}

#[tokio::test]
async fn a_message_over_the_size_limit_closes_the_socket_and_others_go_on() {
    let up = numbered().await;
    let opts = ServeOptions {
        body_limit: 64 * 1024,
        ..ServeOptions::default()
    };
    let proxy = start_proxy_with(one_provider(&up.base_url()), "k", opts).await;
    let mut big = open(&proxy).await;
    let huge = "x".repeat(200 * 1024);
    let _ = big
        .send(Message::text(
            json!({"type": "response.create", "model": "gpt-5.5", "input": huge}).to_string(),
        ))
        .await;
    let end = tokio::time::timeout(Duration::from_secs(10), big.next())
        .await
        .expect("the proxy ends it");
    assert!(
        !matches!(end, Some(Ok(Message::Text(_)))),
        "no answer to an oversized message: {end:?}"
    );
    assert_eq!(up.requests().len(), 0);
    let mut ws = open(&proxy).await;
    let ok = turn(&mut ws, json!({"model": "gpt-5.5", "input": "small"})).await;
    assert_eq!(last(&ok)["type"], "response.completed");
    proxy.stop().await;
}

#[tokio::test]
async fn a_flood_on_one_socket_is_answered_in_order_and_a_slow_reader_loses_nothing() {
    let up = numbered().await;
    let proxy = start_proxy(one_provider(&up.base_url()), "k").await;
    let mut ws = open(&proxy).await;
    const N: usize = 40;
    for i in 0..N {
        let msg = json!({"type": "response.create", "model": "gpt-5.5", "input": format!("q{i}")});
        ws.send(Message::text(msg.to_string())).await.unwrap();
    }
    // Nothing read for a while: the proxy waits on the socket rather than dropping events.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut answers = Vec::new();
    for _ in 0..N {
        let events = read_turn(&mut ws).await;
        assert_eq!(last(&events)["type"], "response.completed");
        answers.push(text_of(&events));
    }
    let expected: Vec<String> = (1..=N).map(|n| format!("Answer {n}.")).collect();
    assert_eq!(answers, expected, "one at a time, in the order sent");
    proxy.stop().await;
}

#[tokio::test]
async fn a_stop_mid_stream_ends_the_turn_with_a_terminal_event_then_closes() {
    let gate = Arc::new(tokio::sync::Notify::new());
    let g = gate.clone();
    let up = MockUpstream::start(move |_, _| Reply::GatedSse {
        events: text_chunks(&["partial ", "never"]),
        before_gate: 2,
        gate: g.clone(),
    })
    .await;
    let proxy = start_proxy(one_provider(&up.base_url()), "k").await;
    let mut ws = open(&proxy).await;
    ws.send(Message::text(
        json!({"type": "response.create", "model": "gpt-5.5", "input": "go"}).to_string(),
    ))
    .await
    .unwrap();
    // Wait for the first text, then stop the proxy while the upstream holds the rest.
    loop {
        let m = ws.next().await.unwrap().unwrap();
        if m.to_text()
            .unwrap_or_default()
            .contains("output_text.delta")
        {
            break;
        }
    }
    let stopping = tokio::spawn(proxy.stop());
    let rest = read_turn(&mut ws).await;
    assert_eq!(last(&rest)["type"], "response.failed");
    assert_eq!(
        last(&rest)["response"]["error"]["code"],
        "server_is_overloaded"
    );
    let closed = tokio::time::timeout(Duration::from_secs(10), ws.next())
        .await
        .expect("closed after the turn");
    assert!(
        matches!(closed, Some(Ok(Message::Close(_))) | None | Some(Err(_))),
        "{closed:?}"
    );
    stopping.await.unwrap();
}
