//! "Test connection" as a user meets its failures: each names the cause in words a person
//! can act on, with the provider's own message where it gave one, never the key.

use plugboard_check::provider_probe::test_connection;
use plugboard_config::Provider;

const KEY: &str = "sk-connection-test-0123456789";

/// A chat upstream answering every request with `status` and `body`.
async fn upstream(status: u16, body: &'static str) -> String {
    let app = axum::Router::new().fallback(move || async move {
        (
            axum::http::StatusCode::from_u16(status).unwrap(),
            [("content-type", "application/json")],
            body,
        )
    });
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    format!("http://{addr}/v1")
}

fn provider(url: &str) -> Provider {
    let mut p = Provider::from_preset("ds", "deepseek").unwrap();
    p.base_url = url.into();
    p
}

async fn error_for(url: &str) -> String {
    let r = test_connection(&provider(url), Some(KEY), Some("deepseek-chat")).await;
    assert!(!r.ok);
    let e = r.error.expect("a reason");
    assert!(!e.contains(KEY), "{e}");
    e
}

#[tokio::test]
async fn each_failure_names_its_cause() {
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let e = error_for(&format!("http://127.0.0.1:{free}/v1")).await;
    assert!(
        e.contains("connection refused") && e.contains(&format!("127.0.0.1:{free}")),
        "{e}"
    );

    let plain = upstream(200, "{}").await;
    let e = error_for(&plain.replace("http://", "https://")).await;
    assert!(e.contains("(TLS)"), "{e}");

    let rejected = upstream(
        401,
        r#"{"error":{"message":"Authentication Fails, Your api key: sk-connection-test-0123456789 is invalid","type":"authentication_error"}}"#,
    )
    .await;
    let e = error_for(&rejected).await;
    assert!(
        e.starts_with("the provider rejected the key (401): \"Authentication Fails"),
        "{e}"
    );

    let missing = upstream(
        404,
        r#"{"error":{"message":"Model Not Exist","type":"invalid_request_error"}}"#,
    )
    .await;
    let e = error_for(&missing).await;
    assert!(
        e.contains("deepseek-chat was not found (404): \"Model Not Exist\""),
        "{e}"
    );
}

#[tokio::test]
async fn a_working_provider_reports_its_models_and_latency() {
    let ok = upstream(
        200,
        r#"{"data":[{"id":"deepseek-chat"}],"choices":[{"index":0,"message":{"role":"assistant","content":"pong"},"finish_reason":"stop"}]}"#,
    )
    .await;
    let r = test_connection(&provider(&ok), Some(KEY), None).await;
    assert!(r.ok, "{:?}", r.error);
    assert_eq!(r.models, ["deepseek-chat"]);
    assert!(r.latency_ms.is_some());
}

/// An upstream whose `/v1/responses` answers with `responses` (status, body); everything
/// else gets a chat completion.
async fn upstream_with_responses(status: u16, body: &'static str) -> String {
    let chat = r#"{"data":[{"id":"m"}],"choices":[{"index":0,"message":{"role":"assistant","content":"pong"},"finish_reason":"stop"}]}"#;
    let app = axum::Router::new()
        .route(
            "/v1/responses",
            axum::routing::post(move || async move {
                (
                    axum::http::StatusCode::from_u16(status).unwrap(),
                    [("content-type", "application/json")],
                    body,
                )
            }),
        )
        .fallback(move || async move { ([("content-type", "application/json")], chat) });
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    format!("http://{addr}/v1")
}

#[tokio::test]
async fn a_provider_that_speaks_responses_is_recognised() {
    let native = upstream_with_responses(
        200,
        r#"{"id":"resp_1","object":"response","status":"completed","output":[]}"#,
    )
    .await;
    let r = test_connection(&provider(&native), Some(KEY), Some("m")).await;
    assert!(r.ok && r.native_responses, "{r:?}");

    let chat_only = upstream_with_responses(404, r#"{"error":{"message":"Not Found"}}"#).await;
    let r = test_connection(&provider(&chat_only), Some(KEY), Some("m")).await;
    assert!(r.ok && !r.native_responses, "{r:?}");
    // A gateway answering any path with a chat completion is not taken for Responses.
    let r = test_connection(
        &provider(
            &upstream(
                200,
                r#"{"choices":[{"index":0,"message":{"role":"assistant","content":"x"}}]}"#,
            )
            .await,
        ),
        Some(KEY),
        Some("m"),
    )
    .await;
    assert!(!r.native_responses, "{r:?}");
}
