//! WebSocket turns relayed over the provider's own WebSocket (OpenAI's, the ChatGPT
//! backend's), against a scripted provider that serves the Responses API over both
//! transports and keeps only each connection's last response, as OpenAI does under
//! `store: false`: one upstream socket for the session, continuations sent as new items only,
//! the whole history when the provider lost the response or another provider answered in
//! between, HTTP for a provider that serves no socket, and the ChatGPT login on the backend's
//! socket only.

use plugboard_config::{Provider, Route, Settings};
use plugboard_e2e::scripted_responses::ScriptedResponses;
use plugboard_e2e::socket_client::*;
use plugboard_e2e::*;
use serde_json::{json, Value};
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const KEY: &str = "sk-relay-0123456789abcdef";

fn openai_at(id: &str, up: &ScriptedResponses) -> Provider {
    let mut p = Provider::from_preset(id, "openai").unwrap();
    p.base_url = up.base_url();
    p.timeouts.idle_secs = 5;
    p
}

fn settings(providers: Vec<Provider>, routes: Vec<Route>) -> Settings {
    Settings {
        listen: "127.0.0.1:0".into(),
        active_provider: Some(providers[0].id.clone()),
        providers,
        routes,
        ..Settings::default()
    }
}

fn user(text: &str) -> Value {
    json!({"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]})
}

fn completed(events: &[Value]) -> &Value {
    let end = last(events);
    assert_eq!(end["type"], "response.completed", "{events:?}");
    &end["response"]
}

/// The call the response made (its `call_id`).
fn call_of(response: &Value) -> String {
    response["output"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["type"] == "function_call")
        .and_then(|i| i["call_id"].as_str())
        .expect("a tool call")
        .to_string()
}

fn output_for(call: &str) -> Value {
    json!({"type": "function_call_output", "call_id": call, "output": "ran"})
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The proxy with `up` as its one provider, an OpenAI one.
async fn proxy_for(up: &ScriptedResponses) -> plugboard_server::ProxyHandle {
    start_proxy(settings(vec![openai_at("oai", up)], vec![]), KEY).await
}

/// A user turn that gets a tool call, then the call's output continuing it: the first
/// response, and the second turn's messages.
async fn call_then_answer(proxy: &plugboard_server::ProxyHandle) -> (Ws, Value, Vec<Value>) {
    let mut ws = open(proxy).await;
    let first = turn(
        &mut ws,
        json!({"model": "gpt-5.5", "store": false, "input": [user("list the files")]}),
    )
    .await;
    let r1 = completed(&first).clone();
    let second = turn(
        &mut ws,
        json!({"model": "gpt-5.5", "store": false, "previous_response_id": r1["id"],
            "input": [output_for(&call_of(&r1))]}),
    )
    .await;
    (ws, r1, second)
}

#[tokio::test]
async fn a_session_rides_one_provider_socket_and_continues_with_new_items_only() {
    let up = ScriptedResponses::start("oai").await;
    let proxy = proxy_for(&up).await;
    let (mut ws, r1, second) = call_then_answer(&proxy).await;
    let r2 = completed(&second).clone();
    assert_eq!(
        r2["output"][0]["content"][0]["text"], "oai finished step 2.",
        "{r2}"
    );
    let third = turn(
        &mut ws,
        json!({"model": "gpt-5.5", "store": false, "previous_response_id": r2["id"],
            "input": [user("now the tests")]}),
    )
    .await;
    completed(&third);

    assert_eq!(up.refusals(), Vec::<String>::new());
    assert_eq!(up.transports(), ["websocket"; 3]);
    assert_eq!(
        up.sockets_opened(),
        1,
        "one upstream socket for the session"
    );
    let sent = up.requests();
    // The first turn whole, as a WebSocket message (no HTTP-only fields).
    assert_eq!(sent[0]["type"], "response.create");
    assert!(sent[0].get("stream").is_none(), "{}", sent[0]);
    assert!(sent[0].get("previous_response_id").is_none());
    // Then only what is new, after the response the provider holds in the connection.
    for (i, prev) in [(1, &r1), (2, &r2)] {
        assert_eq!(sent[i]["previous_response_id"], prev["id"], "{}", sent[i]);
        assert_eq!(sent[i]["input"].as_array().unwrap().len(), 1, "{}", sent[i]);
    }
    let handshake = &up.headers()[0];
    assert_eq!(
        header(handshake, "authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert!(
        header(handshake, "openai-beta").is_some_and(|b| b.starts_with("responses_websockets="))
    );
    proxy.stop().await;
}

#[tokio::test]
async fn a_response_the_provider_let_go_of_is_sent_again_as_history() {
    let up = ScriptedResponses::start("oai").await;
    up.forget_responses();
    let proxy = proxy_for(&up).await;
    let (_, r1, second) = call_then_answer(&proxy).await;
    // The client never sees the provider's `previous_response_not_found`.
    assert_eq!(
        completed(&second)["output"][0]["content"][0]["text"],
        "oai finished step 2."
    );
    let sent = up.requests();
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert_eq!(sent[1]["previous_response_id"], r1["id"]);
    assert!(sent[2].get("previous_response_id").is_none(), "{}", sent[2]);
    // user message, reasoning, call, output
    assert_eq!(sent[2]["input"].as_array().unwrap().len(), 4, "{}", sent[2]);
    assert_eq!(up.refusals(), Vec::<String>::new());
    assert_eq!(up.sockets_opened(), 1);
    proxy.stop().await;
}

#[tokio::test]
async fn a_provider_that_serves_no_socket_gets_the_turns_over_http() {
    let up = ScriptedResponses::start("oai").await;
    up.refuse_websockets();
    let proxy = proxy_for(&up).await;
    let (_, _, second) = call_then_answer(&proxy).await;
    completed(&second);
    assert_eq!(up.transports(), ["http", "http"]);
    assert_eq!(up.sockets_opened(), 0);
    // Over HTTP the session's own history is sent whole.
    assert_eq!(up.requests()[1]["input"].as_array().unwrap().len(), 4);
    proxy.stop().await;
}

#[tokio::test]
async fn a_turn_answered_elsewhere_in_between_sends_the_whole_history_back() {
    let oai = ScriptedResponses::start("oai").await;
    let other = ScriptedResponses::start("other").await;
    let mut second = openai_at("other", &other);
    second.websocket = Some(false);
    let proxy = start_proxy(
        settings(
            vec![openai_at("oai", &oai), second],
            vec![Route::new("other-*", "other")],
        ),
        KEY,
    )
    .await;
    let mut ws = open(&proxy).await;
    let r1 = completed(
        &turn(
            &mut ws,
            json!({"model": "gpt-5.5", "store": false, "input": [user("plan it")]}),
        )
        .await,
    )
    .clone();
    let r2 = completed(
        &turn(
            &mut ws,
            json!({"model": "other-model", "store": false, "previous_response_id": r1["id"],
                "input": [output_for(&call_of(&r1))]}),
        )
        .await,
    )
    .clone();
    let r3 = completed(
        &turn(
            &mut ws,
            json!({"model": "gpt-5.5", "store": false, "previous_response_id": r2["id"],
                "input": [user("review it")]}),
        )
        .await,
    )
    .clone();
    assert_eq!(other.transports(), ["http"]);
    assert_eq!(oai.transports(), ["websocket", "websocket"]);
    assert_eq!(oai.sockets_opened(), 1);
    let back = &oai.requests()[1];
    assert!(back.get("previous_response_id").is_none(), "{back}");
    // Both providers' items, each as its issuer can read them.
    assert_eq!(back["input"].as_array().unwrap().len(), 6, "{back}");
    assert_eq!(oai.refusals(), Vec::<String>::new());
    assert_eq!(other.refusals(), Vec::<String>::new());
    assert!(r3["id"].as_str().unwrap().starts_with("resp_oai"));
    proxy.stop().await;
}

#[tokio::test]
async fn the_chatgpt_login_rides_the_backends_socket_only() {
    let backend = ScriptedResponses::start_at("chatgpt", "/backend-api/codex", Value::Null).await;
    let other = ScriptedResponses::start("other").await;
    let mut plan = Provider::from_preset("plan", "chatgpt").unwrap();
    plan.base_url = format!("http://{}/backend-api/codex", backend.addr);
    let proxy = start_proxy(
        settings(
            vec![plan, openai_at("other", &other)],
            vec![Route::new("other-*", "other")],
        ),
        KEY,
    )
    .await;
    let login = "eyJ.chatgpt-login.sig";
    let mut req = format!("ws://{}/codex/responses", proxy.addr())
        .into_client_request()
        .unwrap();
    let h = req.headers_mut();
    h.insert("authorization", format!("Bearer {login}").parse().unwrap());
    h.insert("chatgpt-account-id", "acct-relay".parse().unwrap());
    h.insert(
        "openai-beta",
        "responses_websockets=2026-02-06".parse().unwrap(),
    );
    let mut ws = connect_async(req).await.expect("handshake").0;
    let r1 = completed(
        &turn(
            &mut ws,
            json!({"model": "gpt-5.5", "store": false, "input": [user("plan it")]}),
        )
        .await,
    )
    .clone();
    completed(
        &turn(
            &mut ws,
            json!({"model": "other-model", "store": false, "previous_response_id": r1["id"],
                "input": [output_for(&call_of(&r1))]}),
        )
        .await,
    );
    assert_eq!(backend.transports(), ["websocket"]);
    let handshake = &backend.headers()[0];
    assert_eq!(
        header(handshake, "authorization"),
        Some(format!("Bearer {login}").as_str())
    );
    assert_eq!(header(handshake, "chatgpt-account-id"), Some("acct-relay"));
    // The other provider: its own key over its own socket, nothing of the login.
    assert_eq!(other.transports(), ["websocket"]);
    let theirs = &other.headers()[0];
    assert_eq!(
        header(theirs, "authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    let all = format!("{theirs:?}{:?}", other.requests());
    assert!(!all.contains(login) && !all.contains("acct-relay"), "{all}");
    proxy.stop().await;
}
