//! Relaying a chat provider's stream: its SSE read into events (bounded lines, idle and
//! whole-stream deadlines, a stop cutting it short), each chunk translated and written as
//! Responses events, the log and the stored turn finished however the stream ends.

use super::{finish_log, Keep};
use crate::lifecycle;
use crate::request_log::RequestLog;
use crate::routing::Target;
use crate::state::ProxyState;
use axum::body::{Body, Bytes};
use axum::http::{header, StatusCode};
use axum::response::Response;
use futures_util::{FutureExt, Stream, StreamExt};
use plugboard_translate::Translation;
use plugboard_translate::{SseReader, SseWriter, StreamEnd, StreamTranslator};
use plugboard_wire::chat::{ChatChunk, ChatCompletion};
use plugboard_wire::responses::ResponseError;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;
use tokio_util::sync::WaitForCancellationFutureOwned;

/// `stream: true`: the provider's events relayed as Responses events as they arrive. A
/// provider that ignores `stream` and answers one JSON body has it translated whole.
pub(super) async fn stream(
    state: &Arc<ProxyState>,
    target: &Target<'_>,
    resp: reqwest::Response,
    translation: Translation,
    log: Option<RequestLog>,
    keep: Keep,
) -> Response {
    let timeouts = target.provider.timeouts;
    let is_sse = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/event-stream"));
    let (upstream, preloaded): (Upstream, _) = if is_sse {
        (Box::pin(upstream_events(resp, state.max_event_bytes)), None)
    } else {
        // Some servers ignore `stream: true` and answer one JSON body: translate it whole.
        match whole_body(&crate::upstream::read_limited(resp, state.max_event_bytes).await) {
            Ok(chunk) => (Box::pin(futures_util::stream::empty()), Some(chunk)),
            Err(e) => (Box::pin(futures_util::stream::iter([Err(e)])), None),
        }
    };
    let now = tokio::time::Instant::now();
    let idle = Duration::from_secs(timeouts.idle_secs.max(1));
    let deadline = now + Duration::from_secs(timeouts.max_stream_secs.max(1));
    let bridge = Bridge {
        upstream,
        translator: StreamTranslator::new(translation.context),
        writer: SseWriter::default(),
        idle,
        deadline,
        last_read: now,
        timer: Box::pin(tokio::time::sleep_until((now + idle).min(deadline))),
        preloaded,
        started: false,
        stopping: Box::pin(state.life.abort.clone().cancelled_owned()),
        log,
        keep: Some(keep),
    };
    let body = futures_util::stream::unfold(bridge, |mut b| async move {
        b.next_bytes()
            .await
            .map(|bytes| (Ok::<_, std::convert::Infallible>(bytes), b))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from_stream(body))
        .expect("static headers are valid")
}

/// The `data` of one upstream event, or why reading stopped.
type UpstreamItem = Result<Vec<u8>, ReadError>;
type Upstream = Pin<Box<dyn Stream<Item = UpstreamItem> + Send>>;

enum Expired {
    Idle,
    Deadline,
    /// The proxy is stopping and the grace period is over.
    Stopping,
}

/// Why reading the upstream body stopped.
#[derive(Debug)]
enum ReadError {
    Upstream(reqwest::Error),
    LineTooLong(usize),
    NotSse(String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Upstream(e) => write!(f, "{e}"),
            ReadError::LineTooLong(max) => {
                write!(f, "a line of the stream is longer than {max} bytes")
            }
            ReadError::NotSse(what) => f.write_str(what),
        }
    }
}

impl std::error::Error for ReadError {}

/// The upstream body's events as they arrive; a line longer than `max` fails the stream, so
/// that a broken upstream cannot make the reader buffer without bound.
fn upstream_events(
    resp: reqwest::Response,
    max: usize,
) -> impl Stream<Item = UpstreamItem> + Send + 'static {
    struct State<B> {
        body: Pin<Box<B>>,
        reader: SseReader,
        ended: bool,
    }
    let state = State {
        body: Box::pin(resp.bytes_stream()),
        reader: SseReader::new(max),
        ended: false,
    };
    futures_util::stream::unfold(state, |mut st| async move {
        loop {
            if st.ended {
                return None;
            }
            match st.reader.next_event() {
                Ok(Some(data)) => return Some((Ok(data), st)),
                Err(e) => {
                    st.ended = true;
                    return Some((Err(ReadError::LineTooLong(e.0)), st));
                }
                // A keep-alive comment: no event, but the upstream is alive (an empty data
                // item translates to nothing and re-arms the idle timer).
                Ok(None) if st.reader.take_comment() => return Some((Ok(Vec::new()), st)),
                Ok(None) => {}
            }
            match st.body.next().await {
                Some(Ok(bytes)) => st.reader.push(&bytes),
                Some(Err(e)) => {
                    st.ended = true;
                    return Some((Err(ReadError::Upstream(e)), st));
                }
                None => {
                    st.ended = true;
                    return st.reader.finish().map(|data| (Ok(data), st));
                }
            }
        }
    })
}

/// A whole JSON answer to a streaming request: the one chunk it stands for, or the error
/// that ends the stream.
fn whole_body(body: &[u8]) -> Result<ChatChunk, ReadError> {
    match serde_json::from_slice::<ChatCompletion>(body) {
        Ok(c) if !c.choices.is_empty() => Ok(plugboard_translate::completion_to_chunk(c)),
        _ => {
            let snippet: String = String::from_utf8_lossy(body).chars().take(300).collect();
            Err(ReadError::NotSse(format!(
                "the provider answered a streaming request without an event stream: {snippet}"
            )))
        }
    }
}

/// Events written together at most: enough to spare most syscalls when the upstream sends
/// faster than the client reads, few enough that the first of them is not held back long.
const MAX_BATCH: usize = 16;
/// Yields in a row while waiting for the next chunk of a batch. Measured with the bench's
/// zero-delay upstream: one yield batched nothing (hyper's body channel needs its
/// connection task and the receiver to take turns), two filled every batch (about 7 writes
/// per answer instead of 70; CPU per request down by a third).
const YIELDS: usize = 2;

struct Bridge {
    upstream: Upstream,
    translator: StreamTranslator,
    writer: SseWriter,
    idle: Duration,
    /// When the whole stream must have ended.
    deadline: tokio::time::Instant,
    /// When the upstream last delivered something.
    last_read: tokio::time::Instant,
    /// Fires at the idle limit or the deadline. Re-armed only when it fires (from
    /// `last_read`), not per chunk: registering a timer for every chunk cost more than the
    /// chunk's translation.
    timer: Pin<Box<tokio::time::Sleep>>,
    /// A chunk already read (a whole-body answer), pushed before reading on.
    preloaded: Option<ChatChunk>,
    started: bool,
    /// Ready when a stop cuts the streams still under way.
    stopping: Pin<Box<WaitForCancellationFutureOwned>>,
    log: Option<RequestLog>,
    keep: Option<Keep>,
}

impl Bridge {
    /// The next piece of the client's body: the opening events at once, then whatever each
    /// upstream event translates to; `None` after the terminal event.
    async fn next_bytes(&mut self) -> Option<Bytes> {
        if !self.started {
            self.started = true;
            let mut events = self.translator.start();
            if let Some(chunk) = self.preloaded.take() {
                events.extend(self.translator.push(chunk));
            }
            return Some(Bytes::from(self.writer.to_bytes(&events)));
        }
        loop {
            if self.translator.is_finished() {
                return None;
            }
            let mut events = match self.next_upstream().await {
                Err(Expired::Deadline) => self.fail(
                    "upstream_timeout",
                    "the provider's stream went on longer than this provider's max_stream_secs"
                        .into(),
                ),
                Err(Expired::Idle) => self.fail(
                    "upstream_timeout",
                    format!("the provider sent nothing for {}s", self.idle.as_secs()),
                ),
                Err(Expired::Stopping) => {
                    self.fail(lifecycle::STOPPING_CODE, lifecycle::stopping_message())
                }
                Ok(item) => self.translate(item),
            };
            // Whatever else the upstream already delivered goes out in the same write: fewer
            // frames and syscalls when it sends fast, no waiting when it does not. hyper hands
            // the body over one HTTP chunk at a time and decodes the next only after this one
            // is taken, in its connection task: a chunk already read from the socket shows up
            // only once that task ran, hence a few yields before the batch is written.
            let mut yielded = 0;
            while !self.translator.is_finished() && events.len() < MAX_BATCH {
                match self.upstream.next().now_or_never() {
                    Some(item) => {
                        events.extend(self.translate(item));
                        yielded = 0;
                    }
                    None if yielded < YIELDS => {
                        tokio::task::yield_now().await;
                        yielded += 1;
                    }
                    None => break,
                }
            }
            // The first event is marked before a stream that came in one burst is finished
            // (and its record written), or it would be stored without one.
            if !events.is_empty() {
                if let Some(log) = self.log.as_mut() {
                    log.mark_first_event();
                }
            }
            if self.translator.is_finished() {
                self.on_finish().await;
            }
            if events.is_empty() {
                continue;
            }
            return Some(Bytes::from(self.writer.to_bytes(&events)));
        }
    }

    /// The upstream's next item, or which time limit ran out first.
    async fn next_upstream(&mut self) -> Result<Option<UpstreamItem>, Expired> {
        let item = std::future::poll_fn(|cx| {
            if let Poll::Ready(item) = self.upstream.poll_next_unpin(cx) {
                return Poll::Ready(Ok(item));
            }
            if self.stopping.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Err(Expired::Stopping));
            }
            while self.timer.as_mut().poll(cx).is_ready() {
                let now = tokio::time::Instant::now();
                if now >= self.deadline {
                    return Poll::Ready(Err(Expired::Deadline));
                }
                let idle_end = self.last_read + self.idle;
                if now >= idle_end {
                    return Poll::Ready(Err(Expired::Idle));
                }
                self.timer.as_mut().reset(idle_end.min(self.deadline));
            }
            Poll::Pending
        })
        .await;
        self.last_read = tokio::time::Instant::now();
        item
    }

    /// The events one upstream item stands for (none for keep-alive comments).
    fn translate(
        &mut self,
        item: Option<UpstreamItem>,
    ) -> Vec<plugboard_wire::responses::StreamEvent> {
        match item {
            None => self.translator.finish(StreamEnd::Eof),
            Some(Err(e)) => self.fail(
                "stream_interrupted",
                format!("reading the provider's stream failed: {e}"),
            ),
            Some(Ok(data)) => {
                let data = data.trim_ascii();
                if data.is_empty() {
                    Vec::new()
                } else if data == b"[DONE]" {
                    self.translator.finish(StreamEnd::Done)
                } else {
                    match serde_json::from_slice::<ChatChunk>(data) {
                        Ok(chunk) => self.translator.push(chunk),
                        Err(e) => self.fail("bad_upstream_response", format!("the provider sent a chunk that is not a chat completion chunk: {e}")),
                    }
                }
            }
        }
    }

    fn fail(&mut self, code: &str, message: String) -> Vec<plugboard_wire::responses::StreamEvent> {
        tracing::warn!(code, %message, "upstream stream failed");
        self.translator.finish(StreamEnd::Failed(ResponseError {
            code: code.into(),
            message,
        }))
    }

    /// Logs and keeps the finished response; with a gateway's shared store, the last events
    /// go out once the turn is written there.
    async fn on_finish(&mut self) {
        let Some(response) = self.translator.final_response() else {
            return;
        };
        if let Some(log) = self.log.as_mut() {
            finish_log(log, response);
        }
        if let Some(k) = self.keep.take() {
            if response.error.is_none() {
                k.save(response).wait().await;
            }
        }
    }
}
