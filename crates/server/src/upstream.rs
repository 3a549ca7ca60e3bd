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
    client_with(p, dns, false)
}

/// The client for WebSocket handshakes: HTTP/1.1 only, since an `Upgrade` cannot ride an
/// HTTP/2 connection that TLS would otherwise negotiate.
pub fn websocket_client(
    p: &Provider,
    dns: Option<std::sync::Arc<crate::local_only::LocalOnlyDns>>,
) -> reqwest::Result<reqwest::Client> {
    client_with(p, dns, true)
}

fn client_with(
    p: &Provider,
    dns: Option<std::sync::Arc<crate::local_only::LocalOnlyDns>>,
    http1_only: bool,
) -> reqwest::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder();
    if http1_only {
        builder = builder.http1_only();
    }
    let builder = builder
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
    let req = client
        .post(url(p, path))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, accept)
        .body(body);
    let resp = send(p, with_credentials(req, p, key, forwarded)).await?;
    if resp.status().is_success() {
        Ok(resp)
    } else if resp.status().is_redirection() {
        Err(redirect_refused(p, &resp))
    } else {
        Err(error_response(p, key, resp).await)
    }
}

/// The request with the key, the provider's own headers and the client's forwarded ones.
pub(crate) fn with_credentials(
    mut req: reqwest::RequestBuilder,
    p: &Provider,
    key: Option<&ApiKey>,
    forwarded: &[(String, String)],
) -> reqwest::RequestBuilder {
    if let Some(k) = key {
        req = req.bearer_auth(k.expose());
    }
    for (name, value) in &p.headers {
        req = req.header(name.as_str(), value.as_str());
    }
    for (name, value) in forwarded {
        req = req.header(name.as_str(), value.as_str());
    }
    req
}

/// Sends and waits for the answer's head, bounded by the provider's first-byte timeout.
pub(crate) async fn send(
    p: &Provider,
    req: reqwest::RequestBuilder,
) -> Result<reqwest::Response, ProxyError> {
    let first_byte = Duration::from_secs(p.timeouts.first_byte_secs.max(1));
    match tokio::time::timeout(first_byte, req.send()).await {
        Err(_) => Err(no_answer_within(p, first_byte)),
        Ok(Err(e)) => Err(send_error(p, &e)),
        Ok(Ok(r)) => Ok(r),
    }
}

/// The provider said nothing within `wait`.
pub(crate) fn no_answer_within(p: &Provider, wait: Duration) -> ProxyError {
    ProxyError::Unreachable {
        timeout: true,
        message: format!(
            "provider `{}` sent no response within {}s",
            p.id,
            wait.as_secs()
        ),
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

pub(crate) fn send_error(p: &Provider, e: &reqwest::Error) -> ProxyError {
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
pub(crate) async fn error_response(
    p: &Provider,
    key: Option<&ApiKey>,
    resp: reqwest::Response,
) -> ProxyError {
    let status = resp.status();
    let retry_after = resp.headers().get(header::RETRY_AFTER).cloned();
    let content_type = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = read_limited(resp, 64 * 1024).await;
    provider_error(p, key, status, &body, &content_type, retry_after)
}

/// A provider's error, from its status and body (an HTTP answer's, or a WebSocket `error`
/// message's), worded for the client with the key scrubbed.
pub(crate) fn provider_error(
    p: &Provider,
    key: Option<&ApiKey>,
    status: StatusCode,
    body: &[u8],
    content_type: &str,
    retry_after: Option<axum::http::HeaderValue>,
) -> ProxyError {
    let parsed = errors::parse_error_body(body, content_type);
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
