//! The listener under hostile peers, and a stop while streams are under way: header
//! trickles and silent connections closed by the header timeout, an idle flood past the
//! connection cap, redirects to other hosts refused, streams cut with `response.failed`.
//!
//! (Over 400 lines: each listener limit is tested by driving real sockets at it, one scenario
//! per test.)

use axum::http::StatusCode;
use plugboard_e2e::*;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use plugboard_e2e::hello_body as body;
use plugboard_e2e::http_client as client;

/// A plain request through the proxy; its status and how long it took.
async fn normal_request(base: &str) -> (u16, Duration) {
    let t = Instant::now();
    let r = client()
        .post(format!("{base}/responses"))
        .json(&body())
        .send()
        .await
        .expect("the proxy answers");
    let status = r.status().as_u16();
    let events = read_sse(r).await;
    assert_eq!(terminal(&events)["status"], "completed");
    (status, t.elapsed())
}

/// Reads until the server closes; what it sent.
async fn read_until_closed(s: &mut TcpStream, limit: Duration) -> Option<String> {
    let mut out = Vec::new();
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(String::from_utf8_lossy(&out).into_owned()),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_trickles_and_silent_peers_are_closed_while_requests_are_served() {
    let mock = MockUpstream::start(|_, _| Reply::Sse(text_chunks(&["ok"]))).await;
    let mut settings = one_provider(&mock.base_url());
    settings.server.header_timeout_secs = 2;
    let proxy = start_proxy(settings, "k").await;
    let addr = proxy.addr();

    // 300 peers sending a request head one byte a second, 50 sending nothing at all.
    const TRICKLE: usize = 300;
    const SILENT: usize = 50;
    let head = format!("POST /v1/responses HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{{}}", addr.port());
    let started = Instant::now();
    let mut peers = Vec::new();
    for i in 0..TRICKLE + SILENT {
        let head = head.clone();
        peers.push(tokio::spawn(async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            let trickle = i < TRICKLE;
            if trickle {
                // Writes go on until the server closes; then the answer is read.
                for b in head.bytes() {
                    if s.write_all(&[b]).await.is_err() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    if started.elapsed() > Duration::from_secs(20) {
                        break;
                    }
                }
            }
            let answer = read_until_closed(&mut s, Duration::from_secs(20)).await;
            (trickle, answer, started.elapsed())
        }));
    }
    // Normal requests keep being served meanwhile.
    let base = proxy.base_url();
    let mut latencies = Vec::new();
    for _ in 0..20 {
        let (status, took) = normal_request(&base).await;
        assert_eq!(status, 200);
        latencies.push(took);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut closed_after = Duration::ZERO;
    for p in peers {
        let (trickle, answer, at) = p.await.unwrap();
        let answer = answer.expect("the server closes every slow or silent peer");
        if trickle {
            assert!(
                answer.starts_with("HTTP/1.1 408"),
                "a peer that sent part of a head gets a 408: {answer:?}"
            );
            assert!(answer.contains("request_timeout"), "{answer}");
        } else {
            assert!(
                answer.is_empty(),
                "a silent peer is just closed: {answer:?}"
            );
        }
        closed_after = closed_after.max(at);
    }
    latencies.sort();
    println!(
        "normal requests during the trickle: p50 {:?}, max {:?}; last slow peer closed after {:?}",
        latencies[latencies.len() / 2],
        latencies.last().unwrap(),
        closed_after
    );
    // Nothing is left open once the peers are gone.
    wait_for(|| proxy.open_connections() == 0).await;
    proxy.stop().await;
}

/// Polls `f` until it holds (up to 10 s).
async fn wait_for(f: impl Fn() -> bool) {
    for _ in 0..200 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("condition not reached within 10 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_flood_past_the_cap_makes_room_and_busy_connections_refuse_fast() {
    let dropped = Arc::new(AtomicBool::new(false));
    let hang = dropped.clone();
    let mock = MockUpstream::start(move |body, _| {
        if body["messages"].to_string().contains("hang") {
            Reply::Hang {
                events: text_chunks(&["partial"])[..2].to_vec(),
                dropped: hang.clone(),
            }
        } else {
            Reply::Sse(text_chunks(&["ok"]))
        }
    })
    .await;
    let mut settings = one_provider(&mock.base_url());
    settings.server.max_connections = 50;
    settings.server.header_timeout_secs = 60;
    let proxy = start_proxy(settings, "k").await;
    let addr = proxy.addr();

    // 80 idle connections: past the cap, the oldest idle ones are closed to make room.
    let mut idle = Vec::new();
    for _ in 0..80 {
        idle.push(TcpStream::connect(addr).await.unwrap());
    }
    wait_for(|| proxy.open_connections() == 50).await;
    let (status, _) = normal_request(&proxy.base_url()).await;
    assert_eq!(status, 200, "a real request is served through the flood");
    let mut closed = 0;
    for s in idle.iter_mut() {
        if read_until_closed(s, Duration::from_millis(50))
            .await
            .is_some()
        {
            closed += 1;
        }
    }
    assert!(
        closed >= 30,
        "the oldest idle connections made room: {closed} closed"
    );
    drop(idle);
    proxy.stop().await;

    // Every connection busy: the next one is refused at once with a 503.
    let mut settings = one_provider(&mock.base_url());
    settings.server.max_connections = 4;
    let proxy = start_proxy(settings, "k").await;
    let base = proxy.base_url();
    let mut streams = Vec::new();
    for _ in 0..4 {
        let r = client()
            .post(format!("{base}/responses"))
            .json(&json!({"model": "gpt-5.5", "input": "hang", "stream": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        streams.push(r);
    }
    let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
    s.write_all(
        "POST /v1/responses HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n{}".as_bytes(),
    )
    .await
    .unwrap();
    let answer = read_until_closed(&mut s, Duration::from_secs(5))
        .await
        .expect("refused at once, not left waiting");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("too_many_connections"), "{answer}");
    assert!(answer.contains("Retry-After: 1"), "{answer}");
    drop(streams);
    wait_for(|| dropped.load(Ordering::SeqCst)).await;
    proxy.stop().await;
}

#[tokio::test]
async fn redirects_are_followed_only_to_the_same_host() {
    // Where a cross-host redirect points: it must never see a request.
    let elsewhere_hits = Arc::new(AtomicUsize::new(0));
    let hits = elsewhere_hits.clone();
    let elsewhere = axum::Router::new().fallback(move || {
        hits.fetch_add(1, Ordering::SeqCst);
        async { "stolen" }
    });
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let elsewhere_addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, elsewhere).await.unwrap() });

    let target = format!(
        "http://localhost:{}/v1/chat/completions",
        elsewhere_addr.port()
    );
    let answer = text_chunks(&["moved"])
        .iter()
        .map(|e| format!("data: {e}\n\n"))
        .collect::<String>();
    let provider = axum::Router::new()
        .route(
            "/same/v1/chat/completions",
            axum::routing::post(|| async {
                (
                    StatusCode::TEMPORARY_REDIRECT,
                    [("location", "/moved/v1/chat/completions")],
                )
            }),
        )
        .route(
            "/moved/v1/chat/completions",
            axum::routing::post(move || {
                let answer = answer.clone();
                async move { ([("content-type", "text/event-stream")], answer) }
            }),
        )
        .route(
            "/cross/v1/chat/completions",
            axum::routing::post(move || {
                let target = target.clone();
                async move { (StatusCode::TEMPORARY_REDIRECT, [("location", target)]) }
            }),
        );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let provider_addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, provider).await.unwrap() });

    let same = start_proxy(
        one_provider(&format!("http://{provider_addr}/same/v1")),
        "k",
    )
    .await;
    let (status, _) = normal_request(&same.base_url()).await;
    assert_eq!(status, 200, "a same-host redirect is followed");
    same.stop().await;

    let cross = start_proxy(
        one_provider(&format!("http://{provider_addr}/cross/v1")),
        "k",
    )
    .await;
    let r = client()
        .post(format!("{}/responses", cross.base_url()))
        .json(&body())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "upstream_redirect_refused", "{e}");
    let message = e["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("provider `mock`")
            && message.contains(&format!("http://localhost:{}", elsewhere_addr.port())),
        "the message names the provider and the target host: {message}"
    );
    assert_eq!(
        elsewhere_hits.load(Ordering::SeqCst),
        0,
        "nothing reached the other host"
    );
    cross.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_ends_streams_after_the_grace_period_with_response_failed() {
    let dropped = Arc::new(AtomicBool::new(false));
    let hang = dropped.clone();
    let mock = MockUpstream::start(move |_, _| Reply::Hang {
        events: text_chunks(&["partial"])[..2].to_vec(),
        dropped: hang.clone(),
    })
    .await;
    let proxy = start_proxy(one_provider(&mock.base_url()), "k").await;
    let base = proxy.base_url();
    let addr = proxy.addr();
    let r = client()
        .post(format!("{base}/responses"))
        .json(&body())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let reader = tokio::spawn(read_sse(r));
    // A request still waiting for its provider's headers is answered too.
    let stalled = MockUpstream::start(|_, _| Reply::Stall).await;
    let mut settings = one_provider(&mock.base_url());
    settings.providers[0].base_url = stalled.base_url();
    let waiting_proxy = start_proxy(settings, "k").await;
    let waiting_base = waiting_proxy.base_url();
    let waiting = tokio::spawn(async move {
        client()
            .post(format!("{waiting_base}/responses"))
            .json(&body())
            .send()
            .await
            .unwrap()
    });
    // The request has reached the provider (a poll, not a sleep).
    let deadline = Instant::now() + Duration::from_secs(10);
    while stalled.requests().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(stalled.requests().len(), 1);

    let t = Instant::now();
    let report = proxy
        .begin_stop()
        .await
        .finish_within(Duration::from_secs(1))
        .await;
    let took = t.elapsed();
    assert_eq!(report.cut, 1, "one stream was under way");
    assert!(
        took < Duration::from_secs(10),
        "stop returned after {took:?}"
    );
    let events = reader.await.unwrap();
    let end = terminal(&events);
    assert_eq!(end["status"], "failed");
    assert_eq!(end["error"]["code"], "server_is_overloaded", "{end}");
    assert!(
        events.iter().any(|(_, d)| d["delta"] == "partial"),
        "what streamed before the stop arrived"
    );
    wait_for(|| dropped.load(Ordering::SeqCst)).await;
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "the port no longer accepts"
    );

    waiting_proxy
        .begin_stop()
        .await
        .finish_within(Duration::from_millis(300))
        .await;
    let r = waiting.await.unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "1");
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "server_is_overloaded", "{e}");
    println!("stop with a stream under way returned after {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_cuts_a_passed_through_stream_with_a_whole_failed_event() {
    let dropped = Arc::new(AtomicBool::new(false));
    let hang = dropped.clone();
    let created = json!({"type": "response.created", "sequence_number": 0,
        "response": {"id": "resp_up", "object": "response", "status": "in_progress", "output": []}});
    let delta = json!({"type": "response.output_text.delta", "sequence_number": 1, "item_id": "m", "output_index": 0, "content_index": 0, "delta": "Hel"});
    let mock = MockUpstream::start(move |_, _| Reply::Hang {
        events: vec![created.to_string(), delta.to_string()],
        dropped: hang.clone(),
    })
    .await;
    let mut settings = one_provider(&mock.base_url());
    settings.providers[0].wire_api = plugboard_config::WireApi::Responses;
    let proxy = start_proxy(settings, "k").await;
    let r = post_responses(&proxy.base_url(), &body()).await;
    assert_eq!(r.status(), 200);
    let reader = tokio::spawn(read_sse(r));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let report = proxy
        .begin_stop()
        .await
        .finish_within(Duration::from_millis(300))
        .await;
    assert_eq!(report.cut, 1);
    let events = reader.await.unwrap();
    assert_eq!(events.len(), 3, "{events:?}");
    let (name, failed) = &events[2];
    assert_eq!(name, "response.failed");
    assert_eq!(
        failed["sequence_number"], 2,
        "numbered after the relayed events"
    );
    assert_eq!(failed["response"]["error"]["code"], "server_is_overloaded");
    assert_eq!(
        failed["response"]["truncation"], "disabled",
        "a whole response object"
    );
    assert_eq!(failed["response"]["model"], "gpt-5.5");
    wait_for(|| dropped.load(Ordering::SeqCst)).await;
}
