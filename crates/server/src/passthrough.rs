//! Requests for providers that speak the Responses API themselves (OpenAI, vLLM, ...): the
//! body goes through untouched (the model renamed if mapped), the key is injected, and the
//! answer is copied back byte for byte.

use crate::error::ProxyError;
use crate::handlers::Incoming;
use crate::keys::ApiKey;
use crate::request_log::RequestLog;
use crate::routing::Target;
use crate::upstream;
use axum::body::Body;
use axum::http::{header, StatusCode};
use axum::response::Response;
use futures_util::StreamExt;
use serde_json::Value;
use std::time::Duration;

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
    inc: &Incoming,
    target: &Target<'_>,
    key: Option<ApiKey>,
    log_slot: &mut Option<RequestLog>,
) -> Result<Response, ProxyError> {
    let body = if target.upstream_model == inc.req.model {
        inc.body.to_vec()
    } else {
        let mut v: Value = serde_json::from_slice(&inc.body)
            .map_err(|e| ProxyError::invalid_request(None, "invalid_request", e.to_string()))?;
        v["model"] = Value::String(target.upstream_model.clone());
        serde_json::to_vec(&v).expect("a JSON value always serializes")
    };
    let forwarded: Vec<(&'static str, String)> = FORWARDED
        .iter()
        .filter_map(|name| {
            inc.headers
                .get(*name)
                .and_then(|v| v.to_str().ok())
                .map(|v| (*name, v.to_string()))
        })
        .collect();
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
    let idle = Duration::from_secs(target.provider.timeouts.idle_secs.max(1));
    let upstream = resp.bytes_stream();
    let log = log_slot.take();
    let body = futures_util::stream::unfold((upstream, log), move |(mut up, mut log)| async move {
        let outcome = match tokio::time::timeout(idle, up.next()).await {
            Ok(Some(Ok(bytes))) => {
                if let Some(l) = log.as_mut() {
                    l.mark_first_event();
                }
                return Some((Ok::<_, std::io::Error>(bytes), (up, log)));
            }
            Ok(None) => "passed_through",
            Ok(Some(Err(e))) => {
                tracing::warn!(error = %e, "pass-through stream failed");
                "stream_interrupted"
            }
            Err(_) => {
                tracing::warn!("pass-through stream went idle");
                "upstream_timeout"
            }
        };
        if let Some(l) = log.as_mut() {
            let error = (outcome != "passed_through").then_some(outcome);
            l.finish(outcome, error);
        }
        None
    });
    let mut builder = Response::builder().status(status);
    if let Some(ct) = content_type {
        builder = builder.header(header::CONTENT_TYPE, ct);
    }
    Ok(builder
        .body(Body::from_stream(body))
        .expect("headers copied from a valid response"))
}
