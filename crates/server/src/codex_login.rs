//! The ChatGPT plan relay. Codex logged in with ChatGPT, its `openai_base_url` pointed at
//! Plugboard's `/codex`, sends its requests here with the user's own login
//! (`authorization: Bearer <ChatGPT access token>`, `chatgpt-account-id`). A request routed
//! to a `chatgpt` provider goes on to the ChatGPT backend with that login and Codex's own
//! headers, untouched; a request routed anywhere else is sent with that provider's key only.
//! The login is never kept, logged, or sent to another provider: it lives in the request's
//! headers and in the one upstream request made from them.
//!
//! `GET /codex/models` answers the backend's model list with Plugboard's routed names added
//! in the same shape, so Codex's picker shows both and a routed name gets Codex's full tools.

use crate::error::ProxyError;
use crate::state::ProxyState;
use crate::upstream;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use plugboard_config::Provider;
use plugboard_core::ApiKey;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// Codex's headers the backend reads (session affinity, routing, betas), relayed with the
/// login and to nobody else.
const CODEX_HEADERS: &[&str] = &[
    "chatgpt-account-id",
    "originator",
    "version",
    "user-agent",
    "session-id",
    "session_id",
    "thread-id",
    "x-client-request-id",
    "openai-beta",
];

/// Header prefixes of Codex's own headers (`x-codex-turn-metadata`, `x-openai-subagent`, ...).
const CODEX_PREFIXES: &[&str] = &["x-codex-", "x-openai-"];

/// The caller's ChatGPT login, for the backend only.
pub(crate) fn caller_login(headers: &HeaderMap) -> Result<ApiKey, ProxyError> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(ApiKey::new)
        .ok_or_else(|| ProxyError::MissingKey {
            message: "the ChatGPT plan provider relays Codex's own login: sign in to Codex with ChatGPT (`codex login`) and point it at Plugboard (Apply to Codex)".into(),
        })
}

/// Codex's headers for the backend, as they came.
pub(crate) fn relayed_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(name, _)| {
            let n = name.as_str();
            CODEX_HEADERS.contains(&n) || CODEX_PREFIXES.iter().any(|p| n.starts_with(p))
        })
        .filter_map(|(name, v)| Some((name.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect()
}

/// Headers of the backend's answer Codex reads (`x-codex-turn-state`, which it echoes for the
/// rest of the turn; `x-models-etag`; `openai-model`; `x-reasoning-included`).
pub(crate) fn answer_hints(
    headers: &reqwest::header::HeaderMap,
) -> Vec<(axum::http::HeaderName, axum::http::HeaderValue)> {
    headers
        .iter()
        .filter(|(name, _)| {
            let n = name.as_str();
            n.starts_with("x-codex-")
                || ["x-models-etag", "openai-model", "x-reasoning-included"].contains(&n)
        })
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

/// The provider Codex's own model list comes from: the active one when it relays the
/// login, else the first that does.
fn login_provider(state: &ProxyState) -> Option<Provider> {
    let routes = state.routes();
    let s = routes.settings();
    s.active()
        .filter(|p| p.relays_codex_login())
        .or_else(|| s.providers.iter().find(|p| p.relays_codex_login()))
        .cloned()
}

/// How long the backend's model list may take.
const LIST_WAIT: Duration = Duration::from_secs(10);

pub async fn models(
    State(state): State<Arc<ProxyState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    match merged_models(&state, &headers, query.as_deref()).await {
        Ok(list) => axum::Json(list).into_response(),
        Err(e) => {
            tracing::info!(
                status = e.status().as_u16(),
                code = e.code(),
                "Codex's model list not served"
            );
            e.into_response()
        }
    }
}

async fn merged_models(
    state: &ProxyState,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<Value, ProxyError> {
    let p = login_provider(state).ok_or_else(|| ProxyError::NoProvider)?;
    let login = caller_login(headers)?;
    let mut url = upstream::url(&p, "models");
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        url = format!("{url}?{q}");
    }
    let routes = state.routes();
    if routes.settings().local_only && !p.address_is_local() {
        return Err(ProxyError::LocalOnlyRefused {
            message: format!(
                "local-only mode: provider `{}` is not on this machine",
                p.id
            ),
        });
    }
    let client = routes.client_for(&p.id).ok_or(ProxyError::NoProvider)?;
    let mut req = client.get(&url).bearer_auth(login.expose());
    for (name, value) in relayed_headers(headers) {
        req = req.header(name, value);
    }
    let resp = tokio::time::timeout(LIST_WAIT, req.send())
        .await
        .map_err(|_| ProxyError::Unreachable {
            timeout: true,
            message: format!(
                "provider `{}` sent no model list within {}s",
                p.id,
                LIST_WAIT.as_secs()
            ),
        })?
        .map_err(|e| ProxyError::Unreachable {
            timeout: false,
            message: login.scrub(&format!("provider `{}`: {e}", p.id)),
        })?;
    let status = resp.status();
    let body = resp.bytes().await.unwrap_or_default();
    if !status.is_success() {
        // Codex keeps its own list when this one fails.
        return Err(ProxyError::BadUpstream {
            message: format!(
                "provider `{}` answered HTTP {} for its model list",
                p.id,
                status.as_u16()
            ),
        });
    }
    let list: Value = serde_json::from_slice(&body).map_err(|e| ProxyError::BadUpstream {
        message: format!("provider `{}`: the model list is not JSON: {e}", p.id),
    })?;
    let settings = routes.settings();
    let known = plugboard_codex::catalog::slugs(&list).unwrap_or_default();
    // Names another provider serves; the backend's own names stay as the backend says.
    let cards: Vec<_> = settings
        .model_cards(|name| known.iter().any(|k| k == name))
        .into_iter()
        .filter(|c| c.provider_id != p.id)
        .collect();
    if cards.is_empty() {
        return Ok(list);
    }
    plugboard_codex::catalog::with_cards(&list, &cards, None, None).map_err(|e| {
        ProxyError::BadUpstream {
            message: format!("provider `{}`: {e}", p.id),
        }
    })
}
