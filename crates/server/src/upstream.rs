//! Requests to providers: one reqwest client per provider, timeouts, and provider errors
//! turned into OpenAI-shaped client errors with the status kept.

use crate::error::ProxyError;
use axum::http::{header, StatusCode};
use plugboard_config::Provider;
use plugboard_core::ApiKey;
use plugboard_translate::errors;
use plugboard_wire::ApiError;
use std::time::Duration;

pub fn client(
    p: &Provider,
    dns: Option<std::sync::Arc<crate::local_only::LocalOnlyDns>>,
) -> reqwest::Result<reqwest::Client> {
    let builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(p.timeouts.connect_secs.max(1)))
        .tcp_nodelay(true)
        .pool_idle_timeout(Duration::from_secs(90))
        .user_agent(concat!("plugboard/", env!("CARGO_PKG_VERSION")))
        .redirect(redirect_policy());
    match dns {
        // Local-only: names resolve to local addresses or not at all.
        Some(d) => builder.dns_resolver(d).build(),
        None => builder.build(),
    }
}

/// Redirects at most this deep are followed.
const MAX_REDIRECTS: usize = 5;

/// A redirect is followed only to the same scheme, host and port as the provider's own
/// address: a prompt must never go to a host the user did not configure. Anything else is
/// handed back as the 3xx answer, which `post` turns into an error naming the target.
fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let same_origin = attempt
            .previous()
            .first()
            .is_some_and(|first| first.origin() == attempt.url().origin());
        if same_origin && attempt.previous().len() <= MAX_REDIRECTS {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

/// `{base_url}/{path}` with exactly one slash between.
pub fn url(p: &Provider, path: &str) -> String {
    format!("{}/{}", p.base_url.trim_end_matches('/'), path)
}

/// POSTs a JSON body and waits for the response headers (bounded by the first-byte timeout).
/// A non-2xx answer becomes a client error here, before anything was streamed.
pub async fn post(
    client: &reqwest::Client,
    p: &Provider,
    path: &str,
    key: Option<&ApiKey>,
    body: Vec<u8>,
    accept: &str,
    forwarded: &[(String, String)],
) -> Result<reqwest::Response, ProxyError> {
    let mut req = client
        .post(url(p, path))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, accept)
        .body(body);
    if let Some(k) = key {
        req = req.bearer_auth(k.expose());
    }
    for (name, value) in &p.headers {
        req = req.header(name.as_str(), value.as_str());
    }
    for (name, value) in forwarded {
        req = req.header(name.as_str(), value.as_str());
    }
    let first_byte = Duration::from_secs(p.timeouts.first_byte_secs.max(1));
    let resp = match tokio::time::timeout(first_byte, req.send()).await {
        Err(_) => {
            return Err(ProxyError::Unreachable {
                timeout: true,
                message: format!(
                    "provider `{}` sent no response within {}s",
                    p.id,
                    first_byte.as_secs()
                ),
            })
        }
        Ok(Err(e)) => return Err(send_error(p, &e)),
        Ok(Ok(r)) => r,
    };
    if resp.status().is_success() {
        Ok(resp)
    } else if resp.status().is_redirection() {
        Err(redirect_refused(p, &resp))
    } else {
        Err(error_response(p, key, resp).await)
    }
}

/// A redirect the policy did not follow: to another origin, or one too many.
fn redirect_refused(p: &Provider, resp: &reqwest::Response) -> ProxyError {
    let location = resp
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|l| resp.url().join(l).ok());
    let message = match location {
        Some(target) if target.origin() != resp.url().origin() => format!(
            "provider `{}` redirected the request (HTTP {}) to {}, a host other than its configured address {}; Plugboard does not send prompts where you did not point it. If the new address is right, put it in the provider's base URL",
            p.id,
            resp.status().as_u16(),
            origin_of(&target),
            origin_of(resp.url()),
        ),
        Some(_) => format!(
            "provider `{}` redirected the request more than {MAX_REDIRECTS} times",
            p.id
        ),
        None => format!(
            "provider `{}` answered HTTP {} without a usable Location",
            p.id,
            resp.status().as_u16()
        ),
    };
    tracing::warn!(provider = %p.id, %message, "redirect refused");
    ProxyError::RedirectRefused { message }
}

/// `scheme://host:port` of a URL, the part a redirect must keep.
fn origin_of(u: &reqwest::Url) -> String {
    u.origin().ascii_serialization()
}

fn send_error(p: &Provider, e: &reqwest::Error) -> ProxyError {
    let mut cause = String::new();
    let mut src: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = src {
        cause = s.to_string();
        src = s.source();
    }
    let what = if e.is_connect() {
        "could not connect to"
    } else if e.is_timeout() {
        "timed out talking to"
    } else {
        "failed talking to"
    };
    let host = e
        .url()
        .and_then(|u| u.host_str())
        .unwrap_or("?")
        .to_string();
    let detail = if cause.is_empty() {
        String::new()
    } else {
        format!(": {cause}")
    };
    ProxyError::Unreachable {
        timeout: e.is_timeout(),
        message: format!("{what} provider `{}` at {host}{detail}", p.id),
    }
}

/// A provider's error answer as a client error: status kept (5xx become 502), its message
/// and code kept, `retry-after` kept.
async fn error_response(p: &Provider, key: Option<&ApiKey>, resp: reqwest::Response) -> ProxyError {
    let status = resp.status();
    let retry_after = resp.headers().get(header::RETRY_AFTER).cloned();
    let content_type = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = read_limited(resp, 64 * 1024).await;
    let parsed = errors::parse_error_body(&body, &content_type);
    let code = errors::classify(&parsed, Some(status.as_u16()));
    let retry_wait = retry_after.as_ref().and_then(|v| v.to_str().ok());
    let message = errors::with_wait(&code, &parsed.message, retry_wait);
    let message = match key {
        Some(k) => k.scrub(&message),
        None => message,
    };
    let client_status = if status.is_server_error() {
        StatusCode::BAD_GATEWAY
    } else {
        status
    };
    ProxyError::Provider {
        status: client_status,
        error: Box::new(ApiError {
            message: format!(
                "provider `{}` answered HTTP {}: {message}",
                p.id,
                status.as_u16()
            ),
            kind: parsed.kind.unwrap_or_else(|| {
                if status.is_server_error() {
                    "upstream_error".into()
                } else {
                    "invalid_request_error".into()
                }
            }),
            param: parsed.param,
            code: Some(code),
        }),
        retry_after,
    }
}

/// The body, up to `limit` bytes: a broken or hostile provider must not grow a buffer
/// without bound.
pub(crate) async fn read_limited(mut resp: reqwest::Response, limit: usize) -> Vec<u8> {
    let mut out = Vec::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        out.extend_from_slice(&chunk);
        if out.len() >= limit {
            out.truncate(limit);
            break;
        }
    }
    out
}
