//! The load generator: N requests at a given concurrency, every SSE event read, per request
//! the time to the first event, to the first text delta, to the end, bytes and events.

use bytes::Bytes;
use futures_util::StreamExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Which API the target speaks decides what marks text and the end of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Chat,
    Responses,
}

impl Api {
    fn text_marker(self) -> &'static [u8] {
        match self {
            Api::Chat => b"\"content\":\"token",
            Api::Responses => b"response.output_text.delta",
        }
    }
    fn end_marker(self) -> &'static [u8] {
        match self {
            Api::Chat => b"[DONE]",
            Api::Responses => b"response.completed",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Target {
    pub url: String,
    pub body: Bytes,
    pub api: Api,
    /// `Authorization` header value, where the system under test wants one.
    pub auth: Option<String>,
}

#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub first_event: Duration,
    pub first_text: Option<Duration>,
    /// The upstream's own time to its first text chunk (from the mock's stamp): what the
    /// first text took minus this is time spent outside the upstream.
    pub upstream_think: Option<Duration>,
    pub total: Duration,
    pub bytes: usize,
    pub events: usize,
    pub ok: bool,
}

#[derive(Debug, Clone)]
pub struct RunResult {
    pub samples: Vec<Sample>,
    pub wall: Duration,
}

fn find(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

async fn one(client: &reqwest::Client, t: &Target) -> Sample {
    let start = Instant::now();
    let failed = |start: Instant| Sample {
        first_event: start.elapsed(),
        first_text: None,
        upstream_think: None,
        total: start.elapsed(),
        bytes: 0,
        events: 0,
        ok: false,
    };
    let mut req = client
        .post(&t.url)
        .header("content-type", "application/json")
        .body(t.body.clone());
    if let Some(a) = &t.auth {
        req = req.header("authorization", a);
    }
    let resp = match req.send().await {
        Ok(r) if r.status().is_success() => r,
        _ => return failed(start),
    };
    let mut stream = resp.bytes_stream();
    let (mut first_event, mut first_text, mut think) = (None, None, None);
    let (mut bytes, mut events, mut ended) = (0usize, 0usize, false);
    // The last bytes of the previous chunk, so that markers split across reads are found.
    let mut tail: Vec<u8> = Vec::new();
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else {
            return failed(start);
        };
        let now = start.elapsed();
        bytes += chunk.len();
        let mut window = std::mem::take(&mut tail);
        let carried = window.len();
        window.extend_from_slice(&chunk);
        events += window[carried.saturating_sub(1)..]
            .windows(2)
            .filter(|w| w == b"\n\n")
            .count();
        if first_event.is_none() && find(&window, b"data:") {
            first_event = Some(now);
        }
        if first_text.is_none() && find(&window, t.api.text_marker()) {
            first_text = Some(now);
        }
        if first_text.is_some() && think.is_none() {
            think = crate::clock::read_stamp(&window)
                .map(|(received, sent)| Duration::from_nanos(sent.saturating_sub(received)));
        }
        ended |= find(&window, t.api.end_marker());
        let keep = window.len().min(64);
        tail = window[window.len() - keep..].to_vec();
    }
    let total = start.elapsed();
    Sample {
        first_event: first_event.unwrap_or(total),
        first_text,
        upstream_think: think,
        total,
        bytes,
        events,
        ok: ended,
    }
}

/// Sends `count` requests, `concurrency` at a time.
pub async fn run(
    client: &reqwest::Client,
    target: &Target,
    concurrency: usize,
    count: usize,
) -> RunResult {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency.max(1))
        .map(|_| {
            let (client, target, next) = (client.clone(), target.clone(), next.clone());
            tokio::spawn(async move {
                let mut out = Vec::new();
                while next.fetch_add(1, Ordering::Relaxed) < count {
                    out.push(one(&client, &target).await);
                }
                out
            })
        })
        .collect();
    let mut samples = Vec::with_capacity(count);
    for w in workers {
        samples.extend(w.await.expect("load worker"));
    }
    RunResult {
        samples,
        wall: started.elapsed(),
    }
}

pub fn client(concurrency: usize) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(concurrency.max(1))
        .tcp_nodelay(true)
        .build()
        .expect("client")
}
