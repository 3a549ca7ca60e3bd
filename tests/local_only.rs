//! Local-only mode as a user relies on it: providers on loopback or the local network
//! answer; a name that resolves to a public address, a name that does not resolve and a
//! public fallback are refused before any connection, in OpenAI's error shape. Name
//! resolution is a fixed table here: no test traffic ever leaves the machine.

use plugboard_config::{Provider, Route, Settings};
use plugboard_e2e::*;
use plugboard_server::{RequestRecord, ServeOptions, StaticHosts, UsageSink};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct Records(Mutex<Vec<RequestRecord>>);

impl UsageSink for Records {
    fn record(&self, r: RequestRecord) {
        self.0.lock().unwrap().push(r);
    }
}

fn provider(id: &str, url: &str) -> Provider {
    let mut p = Provider::from_preset(id, "custom").unwrap();
    p.name = format!("{id} provider");
    p.base_url = url.into();
    p.default_model = Some("m".into());
    p
}

/// A whole (non-streamed) chat completion.
fn completion(text: &str) -> Reply {
    Reply::Raw {
        status: 200,
        headers: vec![("content-type", "application/json".into())],
        body: json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]}).to_string(),
    }
}

async fn ask(base: &str, model: &str) -> (u16, Value) {
    let r = http_client()
        .post(format!("{base}/responses"))
        .json(&json!({"model": model, "input": "hi"}))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or_default())
}

#[tokio::test]
async fn only_local_providers_are_reached() {
    let local = MockUpstream::start(|body, _| {
        if body["model"] == "fail-me" {
            return Reply::Raw {
                status: 503,
                headers: vec![("content-type", "application/json".into())],
                body: json!({"error": {"message": "overloaded"}}).to_string(),
            };
        }
        completion("from the box")
    })
    .await;
    let port = local.addr.port();
    // `box.lan` is the user's machine on the LAN; `api.public.test` a cloud provider.
    let hosts = StaticHosts(HashMap::from([
        ("box.lan".to_string(), vec!["127.0.0.1".parse().unwrap()]),
        (
            "api.public.test".to_string(),
            vec!["203.0.113.7".parse().unwrap()],
        ),
    ]));
    let mut settings = Settings {
        listen: "127.0.0.1:0".into(),
        active_provider: Some("loopback".into()),
        local_only: true,
        providers: vec![
            provider("loopback", &local.base_url()),
            provider("lan", &format!("http://box.lan:{port}/v1")),
            provider("cloud", &format!("https://api.public.test:{port}/v1")),
            provider("nowhere", "https://no-such-host.invalid/v1"),
        ],
        ..Settings::default()
    };
    for (model, to, fallbacks) in [
        ("lan-*", "lan", vec![]),
        ("cloud-*", "cloud", vec![]),
        ("nowhere-*", "nowhere", vec![]),
        ("fail-me", "loopback", vec!["cloud".to_string()]),
    ] {
        settings.routes.push(Route {
            model: model.into(),
            provider: to.into(),
            upstream_model: None,
            fallbacks,
            context_window: None,
            subagent: false,
        });
    }
    let records = Arc::new(Records::default());
    let proxy = start_proxy_with(
        settings,
        "sk-local-only-0123456789",
        ServeOptions {
            resolver: Some(Arc::new(hosts)),
            usage: Some(records.clone()),
            ..Default::default()
        },
    )
    .await;
    let base = proxy.base_url();

    let (status, body) = ask(&base, "gpt-5.5").await;
    assert_eq!(status, 200, "{body}");
    // A LAN name resolves (through the table) to a local address, and the client connects
    // through the same resolver: the system's DNS has never heard of `box.lan`.
    let (status, body) = ask(&base, "lan-coder").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(local.requests().len(), 2);

    let (status, body) = ask(&base, "cloud-coder").await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "local_only_refused");
    assert_eq!(body["error"]["type"], "invalid_request_error");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("cloud provider")
            && message.contains("resolves to the public address 203.0.113.7"),
        "{message}"
    );
    let (status, body) = ask(&base, "nowhere-coder").await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("could not be resolved"),
        "{body}"
    );

    // The local provider fails (503) and the route's fallback is in the cloud: refused too.
    let (status, body) = ask(&base, "fail-me").await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "local_only_refused");
    assert_eq!(local.requests().len(), 3, "nothing else was contacted");

    proxy.stop().await;
    let records = records.0.lock().unwrap();
    let by_model = |m: &str| -> Vec<(String, bool)> {
        records
            .iter()
            .filter(|r| r.model == m)
            .map(|r| (r.status.to_string(), r.local))
            .collect()
    };
    assert_eq!(by_model("gpt-5.5"), [("completed".to_string(), true)]);
    assert_eq!(by_model("lan-coder"), [("completed".to_string(), true)]);
    assert_eq!(by_model("cloud-coder"), [("error_403".to_string(), false)]);
    assert_eq!(
        by_model("fail-me"),
        [
            ("error_502".to_string(), true),
            ("error_403".to_string(), false)
        ]
    );
}

/// Without local-only the same table changes nothing, and a loopback provider's requests
/// are still marked as having stayed local.
#[tokio::test]
async fn off_by_default() {
    let local = MockUpstream::start(|_, _| completion("ok")).await;
    let records = Arc::new(Records::default());
    let settings = Settings {
        listen: "127.0.0.1:0".into(),
        active_provider: Some("loopback".into()),
        providers: vec![provider("loopback", &local.base_url())],
        ..Settings::default()
    };
    let proxy = start_proxy_with(
        settings,
        "",
        ServeOptions {
            usage: Some(records.clone()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(ask(&proxy.base_url(), "gpt-5.5").await.0, 200);
    proxy.stop().await;
    assert!(records.0.lock().unwrap()[0].local);
}
