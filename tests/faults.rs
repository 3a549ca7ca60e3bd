//! Upstream faults and hostile input, each ending in a clean, specific result for the client:
//! an OpenAI-shaped HTTP error before streaming, `response.failed` after, never a hang.

use plugboard_e2e::*;
use plugboard_server::ServeOptions;
use serde_json::{json, Value};
use std::time::Duration;

use plugboard_e2e::hello_body as body;
use plugboard_e2e::http_client as client;

async fn post(base: &str, body: &Value) -> reqwest::Response {
    client()
        .post(format!("{base}/responses"))
        .json(body)
        .send()
        .await
        .expect("the proxy answers")
}

async fn error_of(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    (status, r.json().await.expect("an OpenAI-shaped error body"))
}

/// Settings with timeouts short enough for tests.
fn quick(
    base_url: &str,
    tweak: impl FnOnce(&mut plugboard_config::Timeouts),
) -> plugboard_config::Settings {
    let mut s = one_provider(base_url);
    let t = &mut s.providers[0].timeouts;
    t.connect_secs = 3;
    t.first_byte_secs = 2;
    t.idle_secs = 2;
    tweak(t);
    s
}

#[tokio::test]
async fn dns_failure_is_a_502_naming_the_provider() {
    let proxy = start_proxy(quick("http://no-such-host.invalid/v1", |_| {}), "k").await;
    let (status, e) = error_of(post(&proxy.base_url(), &body()).await).await;
    assert!(status == 502 || status == 504, "{status} {e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("provider `mock`"),
        "{e}"
    );
    proxy.stop().await;
}

#[tokio::test]
async fn tls_failure_is_a_502() {
    let mock = MockUpstream::start(|_, _| Reply::Sse(text_chunks(&["x"]))).await;
    let https = format!("https://{}/v1", mock.addr);
    let proxy = start_proxy(quick(&https, |_| {}), "k").await;
    let (status, e) = error_of(post(&proxy.base_url(), &body()).await).await;
    assert_eq!(status, 502, "{e}");
    assert_eq!(e["error"]["code"], "upstream_unreachable");
    proxy.stop().await;
}

#[tokio::test]
async fn provider_statuses_are_kept_and_5xx_become_502() {
    let mock = MockUpstream::start(|_, n| {
        let status = [403, 404, 500][n.min(2)];
        Reply::Raw {
            status,
            headers: vec![("content-type", "application/json".into())],
            body: json!({"error": {"message": format!("status {status}"), "type": "x"}})
                .to_string(),
        }
    })
    .await;
    let proxy = start_proxy(quick(&mock.base_url(), |_| {}), "k").await;
    for want in [403, 404, 502] {
        let (status, e) = error_of(post(&proxy.base_url(), &body()).await).await;
        assert_eq!(status, want, "{e}");
        assert!(
            e["error"]["message"].as_str().unwrap().contains("status"),
            "{e}"
        );
    }
    proxy.stop().await;
}

#[tokio::test]
async fn a_stall_before_headers_is_a_504() {
    let mock = MockUpstream::start(|_, _| Reply::Stall).await;
    let proxy = start_proxy(quick(&mock.base_url(), |t| t.first_byte_secs = 1), "k").await;
    let (status, e) = error_of(post(&proxy.base_url(), &body()).await).await;
    assert_eq!(status, 504, "{e}");
    assert_eq!(e["error"]["code"], "upstream_timeout");
    proxy.stop().await;
}

#[tokio::test]
async fn a_stall_mid_stream_ends_in_response_failed() {
    let dropped = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let d = dropped.clone();
    let mock = MockUpstream::start(move |_, _| Reply::Hang {
        events: vec![json!({"choices": [{"index": 0, "delta": {"content": "a"}}]}).to_string()],
        dropped: d.clone(),
    })
    .await;
    let proxy = start_proxy(quick(&mock.base_url(), |t| t.idle_secs = 1), "k").await;
    let events = read_sse(post(&proxy.base_url(), &body()).await).await;
    let r = terminal(&events);
    assert_eq!(r["status"], "failed");
    assert_eq!(r["error"]["code"], "upstream_timeout");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("sent nothing for 1s"),
        "{r}"
    );
    proxy.stop().await;
}

#[tokio::test]
async fn a_stream_that_never_ends_is_cut_at_max_duration() {
    let mock = MockUpstream::start(|_, _| Reply::Trickle {
        every: Duration::from_millis(100),
    })
    .await;
    let proxy = start_proxy(quick(&mock.base_url(), |t| t.max_stream_secs = 1), "k").await;
    let events = read_sse(post(&proxy.base_url(), &body()).await).await;
    let r = terminal(&events);
    assert_eq!(r["status"], "failed");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("max_stream_secs"),
        "{r}"
    );
    assert!(
        events
            .iter()
            .filter(|(n, _)| n == "response.output_text.delta")
            .count()
            >= 3,
        "it streamed until the cut"
    );
    proxy.stop().await;
}

#[tokio::test]
async fn a_line_larger_than_the_limit_fails_the_stream() {
    let huge = format!(
        "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{}\"}}}}]}}",
        "x".repeat(200_000)
    );
    let mock = MockUpstream::start(move |_, _| Reply::Raw {
        status: 200,
        headers: vec![("content-type", "text/event-stream".into())],
        body: huge.clone(),
    })
    .await;
    let proxy = start_proxy_with(
        quick(&mock.base_url(), |_| {}),
        "k",
        ServeOptions {
            max_event_bytes: 64 * 1024,
            ..Default::default()
        },
    )
    .await;
    let events = read_sse(post(&proxy.base_url(), &body()).await).await;
    let r = terminal(&events);
    assert_eq!(r["status"], "failed");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("longer than 65536 bytes"),
        "{r}"
    );
    proxy.stop().await;
}

#[tokio::test]
async fn a_200_without_an_event_stream_is_translated_whole_or_failed() {
    let mock = MockUpstream::start(|_, n| match n {
        0 => Reply::Raw {
            status: 200,
            headers: vec![("content-type", "application/json".into())],
            body: json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": "whole answer"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 2, "completion_tokens": 2, "total_tokens": 4}}).to_string(),
        },
        _ => Reply::Raw { status: 200, headers: vec![("content-type", "text/html".into())], body: "<html>captive portal</html>".into() },
    })
    .await;
    let proxy = start_proxy(quick(&mock.base_url(), |_| {}), "k").await;
    let events = read_sse(post(&proxy.base_url(), &body()).await).await;
    let r = terminal(&events);
    assert_eq!(r["status"], "completed");
    assert_eq!(r["output"][0]["content"][0]["text"], "whole answer");
    let events = read_sse(post(&proxy.base_url(), &body()).await).await;
    let r = terminal(&events);
    assert_eq!(r["status"], "failed");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("captive portal"),
        "{r}"
    );
    proxy.stop().await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413_and_the_proxy_keeps_serving() {
    let mock = MockUpstream::start(|_, _| Reply::Sse(text_chunks(&["fine"]))).await;
    let proxy = start_proxy_with(
        one_provider(&mock.base_url()),
        "k",
        ServeOptions {
            body_limit: 1024 * 1024,
            ..Default::default()
        },
    )
    .await;
    let big = json!({"model": "gpt-5.5", "input": "x".repeat(2 * 1024 * 1024), "stream": true});
    let (status, e) = error_of(post(&proxy.base_url(), &big).await).await;
    assert_eq!(status, 413, "{e}");
    assert_eq!(e["error"]["code"], "request_too_large");
    let events = read_sse(post(&proxy.base_url(), &body()).await).await;
    assert_eq!(terminal(&events)["status"], "completed");
    proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_streams_complete_with_nothing_lost() {
    let mock =
        MockUpstream::start(|_, _| Reply::Sse(text_chunks(&["one ", "two ", "three"]))).await;
    let proxy = start_proxy(one_provider(&mock.base_url()), "k").await;
    let http = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(1000)
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    let url = format!("{}/responses", proxy.base_url());
    let tasks: Vec<_> = (0..1000)
        .map(|i| {
            let (http, url) = (http.clone(), url.clone());
            tokio::spawn(async move {
                let r = http.post(&url).json(&json!({"model": "gpt-5.5", "input": format!("request {i}"), "stream": true})).send().await.unwrap();
                let events = read_sse(r).await;
                terminal(&events)["output"][0]["content"][0]["text"].as_str().unwrap().to_string()
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), "one two three");
    }
    assert_eq!(mock.requests().len(), 1000);
    proxy.stop().await;
}

#[tokio::test]
async fn a_non_loopback_address_needs_an_access_token() {
    let mock = MockUpstream::start(|_, _| Reply::Sse(text_chunks(&["ok"]))).await;
    let mut settings = one_provider(&mock.base_url());
    settings.listen = "0.0.0.0:0".into();
    let keys = std::sync::Arc::new(StaticKeys::default());
    let refused =
        plugboard_server::start(settings.clone(), keys.clone(), ServeOptions::default()).await;
    assert!(refused.err().unwrap().to_string().contains("access token"));

    let token = "a-long-enough-access-token";
    let proxy = plugboard_server::start(
        settings,
        keys,
        ServeOptions {
            access_token: Some(token.into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let url = format!("http://127.0.0.1:{}/v1/responses", proxy.addr().port());
    let c = client();
    let r = c
        .post(&url)
        .header("host", "workstation.lan")
        .json(&body())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = c
        .post(&url)
        .bearer_auth("wrong-token-wrong-token")
        .json(&body())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = c
        .post(&url)
        .header("host", "workstation.lan")
        .bearer_auth(token)
        .json(&body())
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        200,
        "another machine's host name is fine once the token is right"
    );
    assert_eq!(terminal(&read_sse(r).await)["status"], "completed");
    let r = c
        .post(&url)
        .header("x-plugboard-token", token)
        .json(&body())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .post(&url)
        .header("origin", "https://evil.example")
        .bearer_auth(token)
        .json(&body())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "web pages stay refused");
    proxy.stop().await;
}

#[tokio::test]
async fn no_cors_headers_are_ever_sent() {
    let mock = MockUpstream::start(|_, _| Reply::Sse(text_chunks(&["ok"]))).await;
    let proxy = start_proxy(one_provider(&mock.base_url()), "k").await;
    let r = client()
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/responses", proxy.base_url()),
        )
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(
        r.headers()
            .keys()
            .all(|k| !k.as_str().starts_with("access-control-")),
        "{:?}",
        r.headers()
    );
    let r = post(&proxy.base_url(), &body()).await;
    assert!(r
        .headers()
        .keys()
        .all(|k| !k.as_str().starts_with("access-control-")));
    proxy.stop().await;
}

#[tokio::test]
async fn keep_alive_comments_hold_a_waiting_stream_open_past_the_idle_limit() {
    // DeepSeek keeps a busy request's stream open with comments before the first token.
    let mut pieces = Vec::new();
    for _ in 0..6 {
        pieces.push((Duration::from_millis(400), ": keep-alive\n\n".to_string()));
    }
    for chunk in text_chunks(&["finally"]) {
        pieces.push((Duration::ZERO, format!("data: {chunk}\n\n")));
    }
    let mock = MockUpstream::start(move |_, _| Reply::Paced(pieces.clone())).await;
    let proxy = start_proxy(quick(&mock.base_url(), |t| t.idle_secs = 1), "k").await;
    let events = read_sse(post(&proxy.base_url(), &body()).await).await;
    let end = terminal(&events);
    assert_eq!(
        end["status"], "completed",
        "2.4 s of comments with a 1 s idle limit: {end}"
    );
    assert!(events.iter().any(|(_, d)| d["delta"] == "finally"));
    proxy.stop().await;
}
