//! The client side: HTTP to the proxy, SSE read into events, external client scripts
//! (SDKs), and the schema rules strict providers enforce.

use serde_json::{json, Value};
use std::time::Duration;

/// The path an external test tool is installed at, from `var` (the project's test script
/// sets it); `None` when unset and `PLUGBOARD_SKIP_EXTERNAL=1`, a failure otherwise.
pub fn external_tool(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(p) => Some(p),
        Err(_) if std::env::var("PLUGBOARD_SKIP_EXTERNAL").as_deref() == Ok("1") => None,
        Err(_) => panic!("{var} is not set: run the tests through scripts/test.sh, or set PLUGBOARD_SKIP_EXTERNAL=1"),
    }
}

/// Runs a client script (`program script args...`, never through an environment proxy),
/// requires it to succeed within two minutes, and reads the one JSON object it prints.
pub async fn run_client_script(program: &str, script: &std::path::Path, args: &[String]) -> Value {
    let out = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new(program)
            .arg(script)
            .args(args)
            .env("NO_PROXY", "127.0.0.1,localhost")
            .kill_on_drop(true)
            .output(),
    )
    .await
    .unwrap_or_else(|_| panic!("{} did not finish", script.display()))
    .unwrap_or_else(|e| panic!("{program} cannot run: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{} failed:\n{stderr}",
        script.display()
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// An HTTP client for the proxy under test: never through an environment proxy, and never
/// waiting forever.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client")
}

/// `POST {base}/responses` with a JSON body; the proxy must answer.
pub async fn post_responses(base: &str, body: &Value) -> reqwest::Response {
    http_client()
        .post(format!("{base}/responses"))
        .json(body)
        .send()
        .await
        .expect("the proxy answers")
}

/// A small streaming request any route answers.
pub fn hello_body() -> Value {
    json!({"model": "gpt-5.5", "input": "hi", "stream": true})
}

/// Reads an SSE body into (event name, JSON data) pairs.
pub async fn read_sse(resp: reqwest::Response) -> Vec<(String, Value)> {
    use eventsource_stream::Eventsource;
    use futures_util::StreamExt;
    let mut events = Vec::new();
    let mut stream = resp.bytes_stream().eventsource();
    while let Some(ev) = tokio::time::timeout(Duration::from_secs(20), stream.next())
        .await
        .expect("stream stalled")
    {
        let ev = ev.expect("valid SSE");
        events.push((ev.event, serde_json::from_str(&ev.data).expect("JSON data")));
    }
    events
}

/// The items a stream finished (`response.output_item.done`), in order.
pub fn done_items(events: &[(String, Value)]) -> Vec<&Value> {
    events
        .iter()
        .filter(|(kind, _)| kind == "response.output_item.done")
        .map(|(_, v)| &v["item"])
        .collect()
}

/// The final response object of a stream (from its terminal event).
pub fn terminal(events: &[(String, Value)]) -> &Value {
    let (name, data) = events.last().expect("at least one event");
    assert!(
        matches!(
            name.as_str(),
            "response.completed" | "response.incomplete" | "response.failed"
        ),
        "last event is {name}"
    );
    &data["response"]
}

/// What a provider that validates tool schemas as strictly as DeepSeek, Kimi and Gemini's
/// OpenAI endpoint do finds wrong with a chat request's tools (empty: accepted).
pub fn strict_schema_problems(chat_request: &Value) -> Vec<String> {
    fn node(path: &str, v: &Value, out: &mut Vec<String>) {
        let Some(o) = v.as_object() else { return };
        for k in ["$ref", "$defs", "definitions", "$schema"] {
            if o.contains_key(k) {
                out.push(format!("{path}: `{k}` is not supported"));
            }
        }
        match o.get("type") {
            Some(Value::String(t))
                if ["object", "array", "string", "number", "integer", "boolean"]
                    .contains(&t.as_str()) => {}
            Some(other) => out.push(format!("{path}: got 'type: {other}'")),
            None if !o.contains_key("anyOf")
                && !o.contains_key("oneOf")
                && !o.contains_key("allOf") =>
            {
                out.push(format!("{path}: got 'type: null'"))
            }
            None => {}
        }
        if let Some(Value::Object(props)) = o.get("properties") {
            for (k, p) in props {
                node(&format!("{path}.properties.{k}"), p, out);
            }
        }
        if let Some(items) = o.get("items") {
            node(&format!("{path}.items"), items, out);
        }
        for key in ["anyOf", "oneOf", "allOf"] {
            for (i, b) in o
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                node(&format!("{path}.{key}[{i}]"), b, out);
            }
        }
    }
    let mut out = Vec::new();
    for t in chat_request["tools"].as_array().into_iter().flatten() {
        let name = t["function"]["name"].as_str().unwrap_or("?");
        let params = &t["function"]["parameters"];
        if params["type"] != "object" {
            out.push(format!("{name}: the parameters' root must be an object"));
        }
        node(name, params, &mut out);
    }
    out
}
