//! Accepting and serving connections. hyper's HTTP/1 connection is driven here rather than
//! by `axum::serve` so that a peer can hold the listener's resources only while it is
//! useful:
//! - a request head must arrive within the header timeout, counted from the connection's
//!   start and again from the end of each response (so idle keep-alive connections close
//!   too); a peer that sent part of a head gets a 408 first;
//! - at most `max` connections are open; at the cap the oldest idle one is closed to make
//!   room, and with every one busy the newcomer gets a 503 at once;
//! - a stop drains (no new requests, connections close after their response), then ends
//!   streams, then drops what is left (see [`crate::lifecycle`]);
//! - a WebSocket handshake answered by a handler hands the connection over to its session
//!   once the `101` is written (see [`crate::websocket`]).

use crate::lifecycle::Lifecycle;
use crate::websocket::UpgradeSlot;
use axum::body::Body;
use axum::http::{Request, Response};
use axum::Router;
use bytes::Bytes;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio_util::task::TaskTracker;

/// Refusals answered at once; past this, a refused connection is closed without an answer
/// (each answer holds a descriptor for up to a second).
const MAX_REFUSING: usize = 256;

/// One open connection: busy while a request is being answered (its response body not yet
/// finished), idle otherwise.
struct Slot {
    busy: AtomicUsize,
    evict: Notify,
}

/// The open connections, oldest first.
pub struct Registry {
    max: usize,
    next_id: AtomicU64,
    slots: Mutex<BTreeMap<u64, Arc<Slot>>>,
    refusing: AtomicUsize,
}

enum Admit {
    Yes(u64, Arc<Slot>),
    Full,
}

impl Registry {
    pub fn new(max: usize) -> Self {
        Self {
            max: max.max(1),
            next_id: AtomicU64::new(0),
            slots: Mutex::new(BTreeMap::new()),
            refusing: AtomicUsize::new(0),
        }
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Arc<Slot>>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn admit(&self) -> Admit {
        let mut slots = self.lock();
        if slots.len() >= self.max {
            // An idle connection costs its peer nothing to open again; a busy one is a
            // request under way.
            let idle = slots
                .iter()
                .find(|(_, s)| s.busy.load(Ordering::Acquire) == 0)
                .map(|(id, _)| *id);
            match idle {
                Some(id) => {
                    if let Some(victim) = slots.remove(&id) {
                        victim.evict.notify_one();
                    }
                    tracing::debug!(
                        connection = id,
                        "closed the oldest idle connection to make room"
                    );
                }
                None => return Admit::Full,
            }
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let slot = Arc::new(Slot {
            busy: AtomicUsize::new(0),
            evict: Notify::new(),
        });
        slots.insert(id, slot.clone());
        Admit::Yes(id, slot)
    }

    fn release(&self, id: u64) {
        self.lock().remove(&id);
    }
}

/// Accepts until the lifecycle drains; every connection runs in `tracker`.
pub async fn accept_loop(
    listener: TcpListener,
    router: Router,
    registry: Arc<Registry>,
    header_timeout: Duration,
    life: Lifecycle,
    tracker: TaskTracker,
) {
    let mut last_warned: Option<Instant> = None;
    loop {
        let accepted = tokio::select! {
            biased;
            _ = life.draining.cancelled() => break,
            r = listener.accept() => r,
        };
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            Err(e) => {
                // A peer that reset before accept is its own problem; running out of
                // descriptors passes once connections close, so wait a little and go on.
                if !is_peer_error(&e) {
                    if last_warned.is_none_or(|t| t.elapsed() > Duration::from_secs(10)) {
                        tracing::warn!(error = %e, open = registry.open(), "accepting a connection failed");
                        last_warned = Some(Instant::now());
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                continue;
            }
        };
        // Small SSE writes must leave at once, not wait for Nagle.
        let _ = stream.set_nodelay(true);
        match registry.admit() {
            Admit::Yes(id, slot) => {
                let guard = Release {
                    registry: registry.clone(),
                    id,
                };
                tracker.spawn(serve(
                    stream,
                    slot,
                    guard,
                    router.clone(),
                    header_timeout,
                    life.clone(),
                ));
            }
            Admit::Full => {
                if registry.refusing.fetch_add(1, Ordering::AcqRel) < MAX_REFUSING {
                    let registry = registry.clone();
                    tracker.spawn(async move {
                        refuse(stream).await;
                        registry.refusing.fetch_sub(1, Ordering::AcqRel);
                    });
                } else {
                    registry.refusing.fetch_sub(1, Ordering::AcqRel);
                }
            }
        }
    }
    tracing::debug!("stopped accepting connections");
}

fn is_peer_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | ConnectionRefused
    )
}

struct Release {
    registry: Arc<Registry>,
    id: u64,
}

impl Drop for Release {
    fn drop(&mut self) {
        self.registry.release(self.id);
    }
}

async fn serve(
    stream: TcpStream,
    slot: Arc<Slot>,
    _release: Release,
    router: Router,
    header_timeout: Duration,
    life: Lifecycle,
) {
    let upgrade = UpgradeSlot::default();
    let service = ConnService {
        router,
        slot: slot.clone(),
        upgrade: upgrade.clone(),
    };
    let mut conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .serve_connection(TokioIo::new(stream), service);
    let mut draining = pin!(life.draining.cancelled());
    let mut kill = pin!(life.kill.cancelled());
    let mut evicted = pin!(slot.evict.notified());
    let mut graceful = false;
    let outcome = std::future::poll_fn(|cx| {
        if kill.as_mut().poll(cx).is_ready() || evicted.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        if !graceful && draining.as_mut().poll(cx).is_ready() {
            graceful = true;
            // Idle: closes now. Busy: closes once the response is done.
            Pin::new(&mut conn).graceful_shutdown();
        }
        conn.poll_without_shutdown(cx).map(Some)
    })
    .await;
    // Killed or evicted: dropping the connection closes the socket.
    let Some(result) = outcome else { return };
    let parts = conn.into_parts();
    let mut stream = parts.io.into_inner();
    // A handler answered a WebSocket handshake: the connection is its session's now.
    // It ends as any connection does when the proxy is killed or it is closed for room.
    if let (Ok(()), Some(handoff)) = (&result, upgrade.take()) {
        tokio::select! {
            _ = handoff(stream, parts.read_buf, Activity(slot.clone())) => {}
            _ = kill.as_mut() => {}
            _ = evicted.as_mut() => {}
        }
        return;
    }
    if let Err(e) = result {
        if e.is_timeout() && !parts.read_buf.is_empty() {
            // Part of a request head came, the rest did not: say so before closing.
            let _ = tokio::time::timeout(
                Duration::from_secs(1),
                stream.write_all(&canned(
                    408,
                    "Request Timeout",
                    "request_timeout",
                    "the request head did not arrive in time",
                )),
            )
            .await;
        }
        tracing::debug!(error = %e, "connection ended");
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.shutdown()).await;
}

/// A 503 without reading the request: every connection is busy.
async fn refuse(mut stream: TcpStream) {
    tracing::debug!("refused a connection: every connection is busy");
    let answer = canned(
        503,
        "Service Unavailable",
        "too_many_connections",
        "Plugboard has as many connections open as it allows; try again shortly",
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        stream.write_all(&answer).await?;
        stream.shutdown().await?;
        // Read what the peer sent before closing, or the close resets the connection and
        // the peer may lose the answer.
        let mut sink = [0u8; 4096];
        while stream.read(&mut sink).await? > 0 {}
        Ok::<_, std::io::Error>(())
    })
    .await;
}

/// A whole HTTP/1.1 answer with an OpenAI-shaped error body, closing the connection.
fn canned(status: u16, reason: &str, code: &str, message: &str) -> Vec<u8> {
    let body = plugboard_wire::ApiError::new("server_error", Some(code), message).into_body();
    let body = serde_json::to_string(&body).unwrap_or_default();
    let retry = if status == 503 {
        "Retry-After: 1\r\n"
    } else {
        ""
    };
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{retry}Connection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The router as this connection's service, marking the connection busy from a request's
/// arrival until its response body is finished.
#[derive(Clone)]
struct ConnService {
    router: Router,
    slot: Arc<Slot>,
    upgrade: UpgradeSlot,
}

type ServiceFuture = Pin<Box<dyn Future<Output = Result<Response<BusyBody>, Infallible>> + Send>>;

impl hyper::service::Service<Request<Incoming>> for ConnService {
    type Response = Response<BusyBody>;
    type Error = Infallible;
    type Future = ServiceFuture;

    fn call(&self, mut req: Request<Incoming>) -> Self::Future {
        req.extensions_mut().insert(self.upgrade.clone());
        self.slot.busy.fetch_add(1, Ordering::AcqRel);
        let busy = Busy(self.slot.clone());
        let mut router = self.router.clone();
        Box::pin(async move {
            let resp = match tower_service::Service::call(&mut router, req).await {
                Ok(resp) => resp,
                Err(never) => match never {},
            };
            Ok(resp.map(|inner| BusyBody { inner, _busy: busy }))
        })
    }
}

struct Busy(Arc<Slot>);

/// A connection handed over to a WebSocket session: busy while a turn is under way, so that
/// only an idle one is closed to make room.
pub(crate) struct Activity(Arc<Slot>);

impl Activity {
    pub(crate) fn busy(&self) -> impl Drop {
        self.0.busy.fetch_add(1, Ordering::AcqRel);
        Busy(self.0.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body that keeps its connection marked busy until hyper drops it.
pub struct BusyBody {
    inner: Body,
    _busy: Busy,
}

impl http_body::Body for BusyBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_idle_connection_makes_room_and_busy_ones_do_not() {
        let r = Registry::new(2);
        let Admit::Yes(a, slot_a) = r.admit() else {
            panic!("room for the first")
        };
        let Admit::Yes(_b, slot_b) = r.admit() else {
            panic!("room for the second")
        };
        slot_b.busy.store(1, Ordering::Release);
        // Full: `a` is idle and goes.
        let Admit::Yes(_c, slot_c) = r.admit() else {
            panic!("room made")
        };
        assert_eq!(r.open(), 2);
        assert!(!r.lock().contains_key(&a));
        // The evicted connection is told (the permit waits for its task).
        let mut notified = pin!(slot_a.evict.notified());
        assert!(notified
            .as_mut()
            .poll(&mut Context::from_waker(std::task::Waker::noop()))
            .is_ready());
        // Both busy: the next one is refused.
        slot_c.busy.store(1, Ordering::Release);
        assert!(matches!(r.admit(), Admit::Full));
    }

    #[test]
    fn canned_answers_are_whole_http_messages() {
        let text = String::from_utf8(canned(503, "Service Unavailable", "x", "y")).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 503 "));
        assert!(head.contains(&format!("Content-Length: {}", body.len())));
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["error"]["code"], "x");
    }
}
