//! Failover with two (three) mock upstreams: the first refuses, answers 503 or 429, or stalls;
//! the client sees one clean answer from the next provider, and the usage history records
//! every attempt.

use plugboard_config::{Provider, Route};
use plugboard_e2e::*;
use plugboard_server::ServeOptions;
use plugboard_usage::db::LogFilter;
use plugboard_usage::{PriceTable, UsageDb, UsageRecorder};
use serde_json::json;
use std::time::Duration;

/// `mock` at `primary` serves `gpt-*`, with `backup` (mapping `gpt-*` to `backup-model`) as
/// its fallback.
fn with_backup(primary: &str, backup: &str) -> plugboard_config::Settings {
    let mut settings = one_provider(primary);
    let mut b = Provider::from_preset("backup", "deepseek").unwrap();
    b.base_url = backup.to_string();
    b.model_map.insert("gpt-*".into(), "backup-model".into());
    settings.providers.push(b);
    settings.routes.push(Route {
        model: "gpt-*".into(),
        provider: "mock".into(),
        upstream_model: None,
        fallbacks: vec!["backup".into()],
        context_window: None,
        subagent: false,
    });
    settings
}

async fn run_case(first: Reply, expect_first_status: &str) {
    let broken = MockUpstream::start({
        let first = std::sync::Mutex::new(Some(first));
        move |_, _| {
            first
                .lock()
                .unwrap()
                .take()
                .unwrap_or(Reply::Sse(text_chunks(&["should not be reached twice"])))
        }
    })
    .await;
    let backup =
        MockUpstream::start(|_, _| Reply::Sse(text_chunks(&["answer from the backup"]))).await;

    let mut settings = with_backup(&broken.base_url(), &backup.base_url());
    settings.providers[0].timeouts.first_byte_secs = 1;

    let db_path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "failover-{}-{expect_first_status}.sqlite",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&db_path);
    let recorder = UsageRecorder::open(&db_path, PriceTable::default()).unwrap();
    let proxy = start_proxy_with(
        settings,
        "k",
        ServeOptions {
            usage: Some(recorder.clone()),
            cooldown: Duration::from_secs(60),
            ..Default::default()
        },
    )
    .await;

    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let r = http
        .post(format!("{}/responses", proxy.base_url()))
        .json(&json!({"model": "gpt-5.5", "input": "hi", "stream": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{expect_first_status}");
    assert_eq!(
        r.headers()["x-plugboard-provider"],
        "backup",
        "the answer says who answered"
    );
    let events = read_sse(r).await;
    assert_eq!(
        terminal(&events)["output"][0]["content"][0]["text"],
        "answer from the backup"
    );
    assert_eq!(
        backup.requests()[0].body["model"],
        "backup-model",
        "the fallback maps the name itself"
    );
    assert_eq!(proxy.last_served().as_deref(), Some("backup"));

    // Within the cooldown the failed provider is skipped.
    let r = http
        .post(format!("{}/responses", proxy.base_url()))
        .json(&json!({"model": "gpt-5.5", "input": "again", "stream": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(terminal(&read_sse(r).await)["status"], "completed");
    assert_eq!(backup.requests().len(), 2);

    recorder.flush();
    let rows = UsageDb::open(&db_path)
        .unwrap()
        .recent(10, &LogFilter::default())
        .unwrap();
    let statuses: Vec<String> = rows.iter().map(|r| r.status.to_string()).collect();
    let mut attempts: Vec<(i64, &str, &str)> = rows
        .iter()
        .zip(&statuses)
        .map(|(r, s)| (r.attempt, r.provider.as_str(), s.as_str()))
        .collect();
    attempts.sort();
    assert_eq!(
        attempts,
        vec![
            (1, "mock", expect_first_status),
            (2, "backup", "completed"),
            (2, "backup", "completed")
        ],
        "{rows:#?}"
    );
    assert!(rows.iter().all(|r| r.route.as_deref() == Some("gpt-*")));
    proxy.stop().await;
}

#[tokio::test]
async fn a_refused_connection_fails_over() {
    // A port nobody listens on.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let backup =
        MockUpstream::start(|_, _| Reply::Sse(text_chunks(&["answer from the backup"]))).await;
    let settings = with_backup(&format!("http://{dead}/v1"), &backup.base_url());
    let proxy = start_proxy(settings, "k").await;
    let r = reqwest::Client::new()
        .post(format!("{}/responses", proxy.base_url()))
        .json(&json!({"model": "gpt-5.5", "input": "hi", "stream": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-plugboard-provider"], "backup");
    assert_eq!(
        terminal(&read_sse(r).await)["output"][0]["content"][0]["text"],
        "answer from the backup"
    );
    proxy.stop().await;
}

#[tokio::test]
async fn a_503_fails_over() {
    run_case(
        Reply::Raw {
            status: 503,
            headers: vec![],
            body: "overloaded".into(),
        },
        "error_502",
    )
    .await;
}

#[tokio::test]
async fn a_429_fails_over() {
    run_case(
        Reply::Raw {
            status: 429,
            headers: vec![("retry-after", "30".into())],
            body: "{}".into(),
        },
        "error_429",
    )
    .await;
}

#[tokio::test]
async fn a_stall_before_the_first_byte_fails_over() {
    run_case(Reply::Stall, "error_504").await;
}

#[tokio::test]
async fn a_bad_request_does_not_fail_over_and_streams_never_switch() {
    let broken = MockUpstream::start(|_, n| match n {
        0 => Reply::Raw {
            status: 400,
            headers: vec![],
            body: json!({"error": {"message": "bad tool schema"}}).to_string(),
        },
        // Starts streaming, then breaks: too late to switch providers.
        _ => Reply::Sse(vec![
            json!({"choices": [{"index": 0, "delta": {"content": "half"}}]}).to_string(),
        ]),
    })
    .await;
    let backup = MockUpstream::start(|_, _| Reply::Sse(text_chunks(&["backup"]))).await;
    let settings = with_backup(&broken.base_url(), &backup.base_url());
    let proxy = start_proxy(settings, "k").await;
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}/responses", proxy.base_url()))
        .json(&json!({"model": "gpt-5.5", "input": "hi", "stream": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = http
        .post(format!("{}/responses", proxy.base_url()))
        .json(&json!({"model": "gpt-5.5", "input": "hi", "stream": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(terminal(&read_sse(r).await)["status"], "failed");
    assert!(backup.requests().is_empty());
    proxy.stop().await;
}

/// A provider that speaks Responses itself: its answers are relayed unchanged, and the usage
/// history still gets their tokens, price, status and whole duration.
#[tokio::test]
async fn pass_through_answers_are_counted_priced_and_timed_to_their_end() {
    let usage = json!({"input_tokens": 1200, "input_tokens_details": {"cached_tokens": 1000},
        "output_tokens": 300, "output_tokens_details": {"reasoning_tokens": 120}, "total_tokens": 1500});
    let completed = json!({"type": "response.completed", "sequence_number": 2,
        "response": {"id": "resp_up", "object": "response", "status": "completed", "output": [], "usage": usage}});
    let stream_usage = completed.to_string();
    let mock = MockUpstream::start(move |body, _| {
        if body["stream"] == true {
            Reply::Paced(vec![
                (Duration::ZERO, format!("event: response.created\ndata: {}\n\n", json!({"type": "response.created", "sequence_number": 0, "response": {"id": "resp_up", "status": "in_progress"}}))),
                (Duration::from_millis(300), format!("event: response.output_text.delta\ndata: {}\n\n", json!({"type": "response.output_text.delta", "sequence_number": 1, "delta": "hi"}))),
                (Duration::from_millis(300), format!("event: response.completed\ndata: {stream_usage}\n\n")),
            ])
        } else {
            Reply::Raw {
                status: 200,
                headers: vec![("content-type", "application/json".into())],
                body: json!({"id": "resp_up2", "object": "response", "status": "incomplete", "output": [], "usage": usage}).to_string(),
            }
        }
    })
    .await;
    let mut settings = one_provider(&mock.base_url());
    let mut openai = Provider::from_preset("mock", "openai").unwrap();
    openai.base_url = mock.base_url();
    settings.providers = vec![openai];
    let db_path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("passthrough-usage-{}.sqlite", std::process::id()));
    let _ = std::fs::remove_file(&db_path);
    let recorder =
        UsageRecorder::open(&db_path, PriceTable::with_overrides(&Default::default())).unwrap();
    let proxy = start_proxy_with(
        settings,
        "k",
        ServeOptions {
            usage: Some(recorder.clone()),
            ..Default::default()
        },
    )
    .await;
    let r = post_responses(
        &proxy.base_url(),
        &json!({"model": "gpt-5.5", "input": "hi", "stream": true}),
    )
    .await;
    assert_eq!(
        terminal(&read_sse(r).await)["usage"]["input_tokens"],
        1200,
        "relayed unchanged"
    );
    let r = post_responses(
        &proxy.base_url(),
        &json!({"model": "gpt-5.5", "input": "hi"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    r.bytes().await.unwrap();
    recorder.flush();
    let mut rows = UsageDb::open(&db_path)
        .unwrap()
        .recent(10, &LogFilter::default())
        .unwrap();
    rows.sort_by_key(|r| r.stream);
    assert_eq!(rows.len(), 2);
    for row in &rows {
        assert_eq!(
            (
                row.input_tokens,
                row.cached_tokens,
                row.output_tokens,
                row.reasoning_tokens
            ),
            (1200, 1000, 300, 120),
            "{row:?}"
        );
        assert!(row.cost_usd > 0.0, "priced as gpt-5.5: {row:?}");
    }
    assert_eq!(rows[0].status, "incomplete");
    let streamed = &rows[1];
    assert_eq!(streamed.status, "completed");
    assert!(
        streamed.total_ms >= 550.0 && streamed.total_ms > streamed.first_event_ms.unwrap() + 500.0,
        "timed to the end of the stream, not its first event: {streamed:?}"
    );
    proxy.stop().await;
}

#[tokio::test]
async fn a_stream_that_comes_in_one_burst_records_its_first_event() {
    // The whole chat stream in one body chunk, as a fast provider sends a short answer.
    let mock =
        MockUpstream::start(|body, _| reply_as_asked(body, text_chunks(&["all ", "at ", "once"])))
            .await;
    let db_path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("burst-usage-{}.sqlite", std::process::id()));
    let _ = std::fs::remove_file(&db_path);
    let recorder =
        UsageRecorder::open(&db_path, PriceTable::with_overrides(&Default::default())).unwrap();
    let proxy = start_proxy_with(
        one_provider(&mock.base_url()),
        "k",
        ServeOptions {
            usage: Some(recorder.clone()),
            ..Default::default()
        },
    )
    .await;
    for _ in 0..5 {
        let r = post_responses(
            &proxy.base_url(),
            &json!({"model": "gpt-5.5", "input": "hi", "stream": true}),
        )
        .await;
        assert_eq!(terminal(&read_sse(r).await)["status"], "completed");
    }
    recorder.flush();
    let rows = UsageDb::open(&db_path)
        .unwrap()
        .recent(10, &LogFilter::default())
        .unwrap();
    assert_eq!(rows.len(), 5);
    for row in &rows {
        assert_eq!(row.status, "completed");
        let first = row.first_event_ms.expect("a time to first event");
        assert!(first <= row.total_ms, "{row:?}");
    }
    proxy.stop().await;
}
