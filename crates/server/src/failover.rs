//! Trying a route's providers in order: a provider that just failed is skipped while it
//! cools down (unless it is the last one left); connect errors, timeouts before the first
//! byte, 5xx and 429 move on to the next one; anything else (a bad request, a bad key)
//! would fail there too and is answered at once.

use crate::error::ProxyError;
use crate::request_log::{LogStart, RequestLog};
use crate::routing::{RouteTable, Target};
use crate::state::ProxyState;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use plugboard_core::{ApiKey, Outcome};
use std::sync::Arc;
use std::time::Instant;

/// What the attempts' log records need to know of the request.
pub struct RequestFacts<'a> {
    pub model: &'a str,
    pub stream: bool,
    pub request_id: &'a str,
    pub started: Instant,
    /// The client's session, when it names one.
    pub session: Option<&'a str>,
    /// The gateway user it is attributed to.
    pub user: Option<&'a str>,
    pub signals: crate::routing::Signals,
}

/// One endpoint's work at one provider.
pub trait Attempt {
    /// Answers through `target` with its key; a stream takes `log` along.
    fn attempt<'a>(
        &'a self,
        target: &'a Target<'a>,
        key: Option<ApiKey>,
        log: &'a mut Option<RequestLog>,
    ) -> impl std::future::Future<Output = Result<Response, ProxyError>> + Send + 'a;
}

/// Runs `work` on the route's providers until one answers or none is left. Each attempt
/// gets the provider's key and its own log record (a stream takes the record along; an
/// error before streaming ends it here).
pub async fn serve(
    state: &Arc<ProxyState>,
    routes: &RouteTable,
    facts: RequestFacts<'_>,
    work: &impl Attempt,
) -> Response {
    let chain = routes.resolve_chain(facts.model, facts.signals);
    if chain.is_empty() {
        let e = ProxyError::NoProvider;
        tracing::info!(model = %facts.model, code = e.code(), "request refused");
        return e.into_response();
    }
    let mut last_error = None;
    for (i, target) in chain.iter().enumerate() {
        let is_last = i + 1 == chain.len();
        if !is_last && state.cooldowns.is_cooling(&target.provider.id) {
            tracing::debug!(provider = %target.provider.id, "skipping a provider that is cooling down");
            continue;
        }
        tracing::debug!(model = %facts.model, provider = %target.provider.id, upstream_model = %target.upstream_model, route = ?target.route, attempt = i + 1, "routed");
        let mut log = Some(RequestLog::new(
            LogStart {
                abort: state.life.abort.clone(),
                request_id: facts.request_id,
                attempt: i as u32 + 1,
                route: target.route,
                model: facts.model,
                provider: &target.provider.id,
                upstream_model: &target.upstream_model,
                stream: facts.stream,
                started: facts.started,
                session: facts.session,
                user: facts.user,
            },
            state.usage.clone(),
        ));
        if routes.settings().local_only {
            if let Err(e) = crate::local_only::check(target.provider, &*state.resolver).await {
                tracing::warn!(provider = %target.provider.id, "local-only: refused before connecting");
                if let Some(mut log) = log.take() {
                    log.finish(Outcome::Http(403), Some(e.code()));
                }
                last_error = Some(e);
                continue;
            }
            if let Some(l) = log.as_mut() {
                l.mark_local();
            }
        } else if target.local {
            if let Some(l) = log.as_mut() {
                l.mark_local();
            }
        }
        let result = match state.keys.key(target.provider) {
            Err(e) => Err(ProxyError::MissingKey {
                message: e.to_string(),
            }),
            Ok(key) => work.attempt(target, key, &mut log).await,
        };
        match result {
            Ok(mut resp) => {
                state.note_served(&target.provider.id);
                if let Ok(v) = HeaderValue::from_str(&target.provider.id) {
                    resp.headers_mut().insert("x-plugboard-provider", v);
                }
                return resp;
            }
            Err(e) => {
                if let Some(mut log) = log {
                    log.finish(Outcome::Http(e.status().as_u16()), Some(e.code()));
                }
                tracing::debug!(message = %e.message(), "attempt failed");
                if !failover_worthy(&e) {
                    return e.into_response();
                }
                state.cooldowns.failed(&target.provider.id);
                if !is_last {
                    tracing::info!(provider = %target.provider.id, code = e.code(), "failing over to the next provider");
                }
                last_error = Some(e);
            }
        }
    }
    last_error
        .map(IntoResponse::into_response)
        .unwrap_or_else(|| StatusCode::SERVICE_UNAVAILABLE.into_response())
}

fn failover_worthy(e: &ProxyError) -> bool {
    e.status() == StatusCode::TOO_MANY_REQUESTS || e.status().is_server_error()
}
