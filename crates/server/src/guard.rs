//! The local port must not be usable by web pages or through DNS rebinding: a request with
//! a browser `Origin` is refused, and while bound to loopback the `Host` must be a loopback
//! name.

use crate::error::ProxyError;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

pub struct GuardConfig {
    pub loopback_only: bool,
    pub access_token: Option<String>,
}

/// Compares in constant time (the `subtle` crate), so timing tells nothing of the token.
fn same(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.ct_eq(b).into()
}

fn token_of(req: &Request) -> Option<&[u8]> {
    let h = req.headers();
    if let Some(t) = h.get("x-plugboard-token") {
        return Some(t.as_bytes());
    }
    h.get(header::AUTHORIZATION)?
        .as_bytes()
        .strip_prefix(b"Bearer ")
}

pub async fn guard(State(cfg): State<Arc<GuardConfig>>, req: Request, next: Next) -> Response {
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("?");
        tracing::warn!(origin, "refused a request sent by a web page");
        return ProxyError::ForbiddenOrigin {
            origin: origin.to_string(),
        }
        .into_response();
    }
    if cfg.loopback_only {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        if !is_loopback_host(host) {
            tracing::warn!(host, "refused a request for a non-loopback host name");
            return ProxyError::ForbiddenHost {
                host: host.to_string(),
            }
            .into_response();
        }
    }
    if let Some(expected) = &cfg.access_token {
        if !token_of(&req).is_some_and(|t| same(t, expected.as_bytes())) {
            return ProxyError::AccessToken.into_response();
        }
    }
    next.run(req).await
}

pub fn is_loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host)
    };
    let name = name.to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name == "::1"
        || name
            .parse::<std::net::Ipv4Addr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::is_loopback_host;

    #[test]
    fn loopback_names() {
        for ok in [
            "localhost",
            "localhost:15731",
            "127.0.0.1:1",
            "127.5.5.5",
            "[::1]:80",
            "LOCALHOST",
            "app.localhost:9",
        ] {
            assert!(is_loopback_host(ok), "{ok}");
        }
        for bad in [
            "",
            "evil.com",
            "evil.com:15731",
            "192.168.1.2:15731",
            "localhost.evil.com",
            "[::2]:1",
        ] {
            assert!(!is_loopback_host(bad), "{bad}");
        }
    }
}
