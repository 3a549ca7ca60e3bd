//! The local port must not be usable by web pages or through DNS rebinding: a request with
//! a browser `Origin` is refused, and while bound to loopback the `Host` must be a loopback
//! name.

use crate::error::ProxyError;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use plugboard_core::{Accounts, Caller, Refusal};
use std::sync::Arc;

pub struct GuardConfig {
    pub loopback_only: bool,
    pub access_token: Option<String>,
    /// A team gateway's users: their tokens are accepted and their requests attributed.
    pub accounts: Option<Arc<dyn Accounts>>,
    /// Reachable from other machines on users' tokens alone: with no user left, every
    /// request is refused rather than the gateway turning open.
    pub users_required: bool,
}

/// Compares in constant time (the `subtle` crate), so timing tells nothing of the token.
fn same(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.ct_eq(b).into()
}

/// The token a request carries, and whether it came in `Authorization`.
fn token_of(req: &Request) -> Option<(&[u8], bool)> {
    let h = req.headers();
    if let Some(t) = h.get("x-plugboard-token") {
        return Some((t.as_bytes(), false));
    }
    let bearer = h
        .get(header::AUTHORIZATION)?
        .as_bytes()
        .strip_prefix(b"Bearer ")?;
    Some((bearer, true))
}

/// Probes a load balancer sends without credentials; they tell nothing about the gateway.
fn is_probe(req: &Request) -> bool {
    matches!(req.uri().path(), "/health" | "/ready")
}

/// Requests that spend a user's budget: responses, compactions, and the WebSocket that
/// carries responses.
fn spends(req: &Request) -> bool {
    let p = req.uri().path();
    p.ends_with("/responses") || p.ends_with("/compact")
}

/// Who may use the proxy: the shared access token, a user's token, or (on loopback, with
/// neither configured) anyone on this machine.
enum Admitted {
    Anyone,
    Shared {
        in_authorization: bool,
    },
    User {
        caller: Caller,
        in_authorization: bool,
    },
}

fn admit(cfg: &GuardConfig, req: &Request) -> Option<Admitted> {
    let token = token_of(req);
    if let (Some(expected), Some((t, in_authorization))) = (&cfg.access_token, token) {
        if same(t, expected.as_bytes()) {
            return Some(Admitted::Shared { in_authorization });
        }
    }
    if let (Some(accounts), Some((t, in_authorization))) = (&cfg.accounts, token) {
        if let Some(caller) = accounts.identify(t) {
            return Some(Admitted::User {
                caller,
                in_authorization,
            });
        }
    }
    let users = cfg.users_required || cfg.accounts.as_ref().is_some_and(|a| a.enabled());
    (!users && cfg.access_token.is_none()).then_some(Admitted::Anyone)
}

/// The answer refusing `caller` now, if they may not spend: checked as a request is admitted
/// and again for each response a WebSocket carries.
pub(crate) fn refused(accounts: &dyn Accounts, caller: &Caller) -> Option<Response> {
    let user = caller.name();
    match accounts.refusal(caller)? {
        Refusal::Removed => {
            tracing::warn!(user, "refused: the user was removed");
            Some(ProxyError::AccessToken.into_response())
        }
        Refusal::Unverifiable { stale_secs } => {
            tracing::warn!(
                user,
                stale_secs,
                "refused: the user's budget cannot be checked"
            );
            Some(
                ProxyError::BudgetsUnavailable {
                    message: format!(
                        "{user}'s monthly budget cannot be checked: the gateway's usage database has not answered for {stale_secs} s. Requests of users with a budget resume once it does."
                    ),
                }
                .into_response(),
            )
        }
        Refusal::Spent(s) => {
            tracing::warn!(
                user,
                budget_usd = s.budget_usd,
                spent_usd = s.spent_usd,
                "refused: the user's monthly budget is spent"
            );
            Some(
                ProxyError::BudgetSpent {
                    message: format!(
                        "{user}'s monthly budget of ${:.2} is spent (${:.2} this month). It renews on {}; a gateway admin can raise it with `plugboard-proxy users budget {user} USD`.",
                        s.budget_usd, s.spent_usd, s.renews
                    ),
                }
                .into_response(),
            )
        }
    }
}

pub async fn guard(State(cfg): State<Arc<GuardConfig>>, mut req: Request, next: Next) -> Response {
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
    if is_probe(&req) {
        return next.run(req).await;
    }
    let in_authorization = match admit(&cfg, &req) {
        None => return ProxyError::AccessToken.into_response(),
        Some(Admitted::Anyone) => false,
        Some(Admitted::Shared { in_authorization }) => in_authorization,
        Some(Admitted::User {
            caller,
            in_authorization,
        }) => {
            let refusal = cfg
                .accounts
                .as_deref()
                .filter(|_| spends(&req))
                .and_then(|a| refused(a, &caller));
            if let Some(r) = refusal {
                return r;
            }
            req.extensions_mut().insert(caller);
            in_authorization
        }
    };
    // The token is Plugboard's: it goes no further (a provider relaying `Authorization`,
    // such as the ChatGPT plan's, must never see it).
    if in_authorization {
        req.headers_mut().remove(header::AUTHORIZATION);
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
