//! Requests for providers that speak the Responses API themselves (OpenAI, vLLM, ...): the
//! body goes through untouched (the model renamed if mapped), the key is injected, and the
//! answer is copied back byte for byte.

mod body;

pub(crate) use body::{body_for, Asked, Prepared};

use crate::codex_login;
use crate::error::ProxyError;
use crate::lifecycle;
use crate::request_log::RequestLog;
use crate::routing::Target;
use crate::state::{Incoming, ProxyState};
use crate::stateless::{self, Keep};
use crate::upstream;
use crate::upstream_socket;
use axum::body::Body;
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use plugboard_core::{ApiKey, Outcome};
use plugboard_translate::compaction;
use plugboard_translate::relay_watch::RelayWatch;
use plugboard_translate::responses_repair::custom_tools::restore_output;
use plugboard_translate::responses_repair::ResponsesRepair;
use plugboard_wire::responses::{
    Input, RequestEcho, ResponseError, ResponseObject, ResponseStatus, ResponsesRequest,
    StreamEvent,
};
use std::collections::HashSet;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::WaitForCancellationFutureOwned;

/// Client headers worth keeping for OpenAI (session affinity, tracing, betas).
const FORWARDED: &[&str] = &[
    "openai-beta",
    "session_id",
    "session-id",
    "originator",
    "x-client-request-id",
    "x-codex-turn-metadata",
];

pub async fn forward(
    state: &Arc<ProxyState>,
    inc: &Incoming,
    target: &Target<'_>,
    key: Option<ApiKey>,
    log_slot: &mut Option<RequestLog>,
) -> Result<Response, ProxyError> {
    // Codex's `compaction_trigger` at a provider without compaction: the routed model writes
    // the summary, as for a chat provider.
    if !target.responses_dialect.compaction {
        if let Input::Items(items) = &inc.req.input {
            if items.last().is_some_and(|raw| compaction::is_trigger(raw)) {
                return crate::compact::answer_trigger(state, inc, target, key, log_slot).await;
            }
        }
    }
    let (key, forwarded) = credentials(target.provider, key, &inc.headers)?;
    if let Some((events, custom_tools)) =
        upstream_socket::forward(state, inc, target, key.as_ref(), &forwarded).await?
    {
        let sse = HeaderValue::from_static("text/event-stream");
        return Ok(relayed(
            state,
            inc,
            target,
            log_slot,
            Upstream {
                status: StatusCode::OK,
                content_type: Some(sse),
                hints: Vec::new(),
                body: events,
                custom_tools,
                keep: None,
            },
        ));
    }
    let Prepared {
        body,
        custom_tools,
        keep,
    } = body_for(state, target, inc.asked(), &inc.body)?;
    let accept = if inc.req.stream {
        "text/event-stream"
    } else {
        "application/json"
    };
    let resp = upstream::post(
        target.client,
        target.provider,
        "responses",
        key.as_ref(),
        body,
        accept,
        &forwarded,
    )
    .await?;
    let status = StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::OK);
    let content_type = resp.headers().get(header::CONTENT_TYPE).cloned();
    // The backend's routing and model hints, for Codex (its turn state is echoed within a
    // turn); from any other provider they are not passed on.
    let hints = if target.provider.relays_codex_login() {
        codex_login::answer_hints(resp.headers())
    } else {
        Vec::new()
    };
    let body: ByteStream = Box::pin(
        resp.bytes_stream()
            .map(|r| r.map_err(|e| Box::new(e) as StreamError)),
    );
    Ok(relayed(
        state,
        inc,
        target,
        log_slot,
        Upstream {
            status,
            content_type,
            hints,
            body,
            custom_tools,
            keep,
        },
    ))
}

/// An error that cut an upstream stream.
pub(crate) type StreamError = Box<dyn std::error::Error + Send + Sync>;

/// An upstream answer's bytes as they come: an HTTP body, or a WebSocket's messages as SSE.
pub(crate) type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, StreamError>> + Send>>;

/// A provider's answer, before it is relayed.
struct Upstream {
    status: StatusCode,
    content_type: Option<HeaderValue>,
    hints: Vec<(HeaderName, HeaderValue)>,
    body: ByteStream,
    /// Freeform tools the request declared as functions, whose calls are turned back.
    custom_tools: HashSet<String>,
    /// For a stateless provider, the turn to store once answered.
    keep: Option<Keep>,
}

/// The answer relayed to the client as it comes, read on the way for the log and usage.
fn relayed(
    state: &Arc<ProxyState>,
    inc: &Incoming,
    target: &Target<'_>,
    log_slot: &mut Option<RequestLog>,
    up: Upstream,
) -> Response {
    let is_sse = up
        .content_type
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/event-stream"));
    let idle = Duration::from_secs(target.provider.timeouts.idle_secs.max(1));
    let relay = Relay {
        upstream: up.body,
        log: log_slot.take(),
        stopping: Box::pin(state.life.abort.clone().cancelled_owned()),
        idle,
        is_sse,
        watch: if is_sse && up.keep.is_some() {
            RelayWatch::stream_keeping(state.max_event_bytes)
        } else if is_sse {
            RelayWatch::stream(state.max_event_bytes)
        } else {
            RelayWatch::whole(WHOLE_ANSWER_CAP)
        },
        request: inc.body.clone(),
        done: false,
        keep: up.keep,
        gathered: (!is_sse && !up.custom_tools.is_empty())
            .then(|| (Vec::new(), up.custom_tools.clone())),
        repair: is_sse
            .then(|| {
                let dialect = target.responses_dialect;
                let limit = inc
                    .req
                    .max_output_tokens
                    .filter(|_| dialect.completed_at_limit);
                ResponsesRepair::new(
                    state.max_event_bytes,
                    dialect.lifecycle_events,
                    up.custom_tools,
                )
                .with_output_limit(limit)
            })
            // An answer no stage touches is relayed as it came, not read.
            .filter(|r| !r.is_idle()),
        state: state.clone(),
        provider: target.provider.id.clone(),
    };
    let body = futures_util::stream::unfold(relay, |mut r| async move {
        r.next()
            .await
            .map(|bytes| (Ok::<_, std::io::Error>(bytes), r))
    });
    let mut builder = Response::builder().status(up.status);
    if let Some(ct) = up.content_type {
        builder = builder.header(header::CONTENT_TYPE, ct);
    }
    for (name, value) in up.hints {
        builder = builder.header(name, value);
    }
    builder
        .body(Body::from_stream(body))
        .expect("headers copied from a valid response")
}

/// Client headers sent on to a provider, as (name, value).
pub(crate) type Forwarded = Vec<(String, String)>;

/// The key and client headers a Responses provider gets: for the ChatGPT backend the
/// caller's own login and Codex's headers (see `codex_login`), for any other provider its
/// own key and the few client headers worth keeping.
pub(crate) fn credentials(
    provider: &plugboard_config::Provider,
    key: Option<ApiKey>,
    headers: &axum::http::HeaderMap,
) -> Result<(Option<ApiKey>, Forwarded), ProxyError> {
    if provider.relays_codex_login() {
        return Ok((
            Some(codex_login::caller_login(headers)?),
            codex_login::relayed_headers(headers),
        ));
    }
    let forwarded = FORWARDED
        .iter()
        .filter_map(|name| {
            headers
                .get(*name)
                .and_then(|v| v.to_str().ok())
                .map(|v| (name.to_string(), v.to_string()))
        })
        .collect();
    Ok((key, forwarded))
}

/// The most of a whole (non-streamed) answer kept to read its usage.
const WHOLE_ANSWER_CAP: usize = 16 * 1024 * 1024;

/// The provider's body relayed as it comes, ended cleanly when it goes idle or the proxy
/// stops.
struct Relay {
    upstream: ByteStream,
    log: Option<RequestLog>,
    stopping: Pin<Box<WaitForCancellationFutureOwned>>,
    idle: Duration,
    is_sse: bool,
    /// Reads the relayed bytes for the answer's end: status, usage (so that pass-through
    /// requests are priced like translated ones) and the events counted.
    watch: RelayWatch,
    /// The client's request, read again only to write a cut stream's last event.
    request: Bytes,
    done: bool,
    /// The stream's missing lifecycle events written back (a provider whose dialect says its
    /// streams have gaps).
    repair: Option<ResponsesRepair>,
    /// For a stateless provider, the turn to store once answered.
    keep: Option<Keep>,
    /// A whole (not streamed) answer gathered to turn stand-in calls back into the freeform
    /// tool calls they stand for, and those tools' names.
    gathered: Option<(Vec<u8>, HashSet<String>)>,
    /// Where the answer's items are remembered as this provider's.
    state: Arc<ProxyState>,
    provider: String,
}

impl Relay {
    async fn next(&mut self) -> Option<Bytes> {
        if self.done {
            return None;
        }
        // How the relay ended, and the error class when it did not end whole.
        let (outcome, class) = loop {
            let ended = tokio::select! {
                biased;
                item = tokio::time::timeout(self.idle, self.upstream.next()) => match item {
                    Ok(Some(Ok(bytes))) => {
                        if let Some(l) = self.log.as_mut() {
                            l.mark_first_event();
                        }
                        if let Some((body, _)) = self.gathered.as_mut() {
                            if body.len() + bytes.len() <= WHOLE_ANSWER_CAP {
                                body.extend_from_slice(&bytes);
                                continue;
                            }
                            // Too large to read: sent as it came.
                            let (mut body, _) = self.gathered.take().expect("checked above");
                            body.extend_from_slice(&bytes);
                            self.watch.push(&body);
                            return Some(Bytes::from(body));
                        }
                        let bytes = match self.repair.as_mut() {
                            None => bytes,
                            Some(r) => {
                                let mut out = Vec::with_capacity(bytes.len() + 256);
                                r.push(&bytes, &mut out);
                                if out.is_empty() {
                                    continue;
                                }
                                Bytes::from(out)
                            }
                        };
                        self.watch.push(&bytes);
                        return Some(bytes);
                    }
                    Ok(None) => (Outcome::PassedThrough, None),
                    Ok(Some(Err(e))) => {
                        tracing::warn!(error = %e, "pass-through stream failed");
                        (Outcome::StreamInterrupted, Some("stream_interrupted"))
                    }
                    Err(_) => {
                        tracing::warn!("pass-through stream went idle");
                        (Outcome::UpstreamTimeout, Some("upstream_timeout"))
                    }
                },
                _ = self.stopping.as_mut() => (Outcome::Http(503), Some(lifecycle::STOPPING_CODE)),
            };
            break ended;
        };
        self.done = true;
        let stopped = class == Some(lifecycle::STOPPING_CODE);
        // What the repair still holds, and the events the upstream never sent.
        let mut tail = Vec::new();
        if let (Some(r), false) = (self.repair.as_mut(), stopped) {
            r.finish(outcome == Outcome::PassedThrough, &mut tail);
            self.watch.push(&tail);
        }
        if let Some((body, names)) = self.gathered.take() {
            tail = match serde_json::from_slice::<serde_json::Value>(&body) {
                Ok(mut answer) if outcome == Outcome::PassedThrough => {
                    restore_output(&mut answer, &names);
                    serde_json::to_vec(&answer).expect("a JSON value serializes")
                }
                _ => body,
            };
            self.watch.push(&tail);
        }
        // The answer's own end, when it came whole; else how the relay ended.
        let end = self.watch.outcome();
        if let Some(end) = &end {
            self.state
                .issuers
                .note(&self.provider, end.issued.iter().copied());
            // An answer cut by its limit can be continued too, as OpenAI allows.
            let answered = matches!(end.status.as_str(), "completed" | "incomplete");
            if let (Some(keep), true) = (self.keep.take(), answered) {
                if let Some(answer) = self.watch.answer() {
                    stateless::keep_answer(&self.state, keep, answer);
                }
            }
        }
        if let Some(l) = self.log.as_mut() {
            match end {
                Some(end) if outcome == Outcome::PassedThrough => {
                    if let Some(u) = &end.usage {
                        l.set_usage(u);
                    }
                    let status = if end.status.is_empty() {
                        outcome
                    } else {
                        Outcome::parse(&end.status)
                    };
                    l.finish(status, end.error_code.as_deref());
                }
                _ => l.finish(outcome, class),
            }
        }
        // A cut stream still ends with a terminal event the client understands.
        if stopped && self.is_sse {
            return Some(self.failed_event());
        }
        (!tail.is_empty()).then(|| Bytes::from(tail))
    }

    /// `response.failed` with the whole response object the specification requires.
    fn failed_event(&self) -> Bytes {
        let req: ResponsesRequest = serde_json::from_slice(&self.request).unwrap_or_default();
        let response = ResponseObject {
            id: plugboard_translate::new_id("resp"),
            object: "response",
            created_at: plugboard_translate::unix_now(),
            completed_at: None,
            status: ResponseStatus::Failed,
            model: req.model.clone(),
            output: Vec::new(),
            usage: None,
            error: Some(ResponseError {
                code: lifecycle::STOPPING_CODE.into(),
                message: lifecycle::stopping_message(),
            }),
            incomplete_details: None,
            echo: Arc::new(RequestEcho::of(&req)),
        };
        let mut out = Vec::new();
        StreamEvent::Failed { response }.write_sse(self.watch.events() as u64, &mut out);
        Bytes::from(out)
    }
}
