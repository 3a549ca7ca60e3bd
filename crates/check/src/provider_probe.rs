//! "Test connection" and the model list, as the settings window shows them: the provider's
//! own error text on failure, the latency on success.

use plugboard_config::{ListedModels, Provider, Settings, WireApi};
use serde::Serialize;
use std::time::{Duration, Instant};

/// Why a provider's model list could not be had, in a sentence a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    /// No answer at all: refused, DNS, TLS, a timeout.
    #[error("{0}")]
    Unreachable(String),
    /// An HTTP failure, with the provider's own words kept in the sentence.
    #[error("{sentence}")]
    Refused { status: u16, sentence: String },
    #[error("{url} did not answer a model list: {reason}")]
    NotAList { url: String, reason: String },
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ConnectionReport {
    pub ok: bool,
    pub models: Vec<String>,
    /// Time of the 1-token request, in milliseconds.
    pub latency_ms: Option<u64>,
    /// What went wrong, with the provider's words kept.
    pub error: Option<String>,
    pub model_tried: Option<String>,
    /// For a chat provider: it answered a Responses request too, so pass-through is open.
    pub native_responses: bool,
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .build()
        .expect("a plain client builds")
}

fn with_key(req: reqwest::RequestBuilder, key: Option<&str>) -> reqwest::RequestBuilder {
    match key {
        Some(k) => req.bearer_auth(k),
        None => req,
    }
}

fn scrub(text: String, key: Option<&str>) -> String {
    match key {
        Some(k) if k.len() >= 8 => text.replace(k, "***"),
        _ => text,
    }
}

/// Every message in an error's chain, joined: reqwest's own text ("error sending request")
/// hides the cause a person can act on.
fn chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(c) = cur {
        parts.push(c.to_string());
        cur = c.source();
    }
    parts.join(": ")
}

/// Why a request never got an answer, in words: refused, DNS, TLS, timeout.
pub fn describe_send_error(url: &str, e: &reqwest::Error) -> String {
    let (host, port) = reqwest::Url::parse(url)
        .map(|u| {
            (
                u.host_str().unwrap_or_default().to_string(),
                u.port_or_known_default().unwrap_or_default(),
            )
        })
        .unwrap_or_default();
    let detail = chain(e);
    let lower = detail.to_ascii_lowercase();
    if e.is_timeout() {
        format!("{host} did not answer in time (timeout)")
    } else if lower.contains("dns error") || lower.contains("failed to lookup address") {
        format!("the name {host} could not be found (DNS): check the base URL")
    } else if lower.contains("connection refused") {
        format!("nothing is listening at {host}:{port} (connection refused): is the server running, on this port?")
    } else if lower.contains("corrupt message") && url.starts_with("https:") {
        format!("the secure connection to {host} failed (TLS): the server does not speak TLS; is it an http:// address?")
    } else if lower.contains("certificate")
        || lower.contains("tls")
        || lower.contains("handshake")
        || (e.is_connect() && url.starts_with("https:"))
    {
        format!(
            "the secure connection to {host} failed (TLS): {}",
            last_cause(&detail)
        )
    } else if e.is_connect() {
        format!(
            "could not connect to {host}:{port}: {}",
            last_cause(&detail)
        )
    } else {
        detail
    }
}

fn last_cause(detail: &str) -> &str {
    detail.rsplit(": ").next().unwrap_or(detail)
}

/// The provider's own message from an error body, read the way the proxy reads provider
/// errors (OpenAI's shape and its variants, an HTML gateway page, plain text); nothing for
/// an empty body.
fn provider_message(body: &str) -> String {
    if body.trim().is_empty() {
        return String::new();
    }
    plugboard_translate::errors::parse_error_body(body.as_bytes(), "")
        .message
        .trim()
        .trim_end_matches('.')
        .to_string()
}

/// An HTTP failure in a sentence.
fn describe_status(status: u16, body: &str, what: &str) -> String {
    let msg = provider_message(body);
    let said = if msg.is_empty() {
        String::new()
    } else {
        format!(": \"{msg}\"")
    };
    match status {
        401 | 403 => format!("the provider rejected the key ({status}){said}"),
        404 => format!("{what} was not found (404){said}"),
        429 => format!("the provider is limiting requests (429){said}"),
        s if s >= 500 => format!("the provider had a server error ({s}){said}"),
        s => format!("the provider refused the request ({s}){said}"),
    }
}

/// `GET {base_url}/models`, sorted ids.
pub async fn list_models(p: &Provider, key: Option<&str>) -> Result<Vec<String>, ProbeError> {
    let url = format!("{}/models", p.base_url.trim_end_matches('/'));
    let resp = with_key(client().get(&url), key)
        .send()
        .await
        .map_err(|e| ProbeError::Unreachable(scrub(describe_send_error(&url, &e), key)))?;
    let status = resp.status();
    let body = resp.text().await.unwrap_or_default();
    if !status.is_success() {
        return Err(ProbeError::Refused {
            status: status.as_u16(),
            sentence: scrub(
                describe_status(
                    status.as_u16(),
                    &body,
                    &format!("{url} (the model list; does the base URL end in /v1?)"),
                ),
                key,
            ),
        });
    }
    let v: serde_json::Value = serde_json::from_str(&body).map_err(|e| ProbeError::NotAList {
        url: url.clone(),
        reason: e.to_string(),
    })?;
    let list = v
        .get("data")
        .or_else(|| v.get("models"))
        .and_then(|d| d.as_array())
        .cloned()
        .unwrap_or_default();
    let mut ids: Vec<String> = list
        .iter()
        .filter_map(|m| {
            m.get("id")
                .or_else(|| m.get("name"))
                .and_then(|i| i.as_str())
                .map(str::to_string)
        })
        .collect();
    ids.sort();
    Ok(ids)
}

/// Lists the models, then sends a 1-token request to `model` (or the default model); a
/// chat provider is also asked whether it speaks the Responses API.
pub async fn test_connection(
    p: &Provider,
    key: Option<&str>,
    model: Option<&str>,
) -> ConnectionReport {
    let models = list_models(p, key).await;
    let model = model
        .map(str::to_string)
        .or_else(|| p.default_model.clone())
        .or_else(|| models.as_ref().ok().and_then(|m| m.first().cloned()));
    let mut report = ConnectionReport {
        ok: false,
        models: models.clone().unwrap_or_default(),
        latency_ms: None,
        error: models.err().map(|e| e.to_string()),
        model_tried: model.clone(),
        native_responses: false,
    };
    let Some(model) = model else {
        report
            .error
            .get_or_insert_with(|| "no model to try: set a default model".into());
        return report;
    };
    let (path, body) = match p.wire_api {
        WireApi::Chat => (
            "chat/completions",
            serde_json::json!({"model": model, "messages": [{"role": "user", "content": "ping"}], "max_tokens": 1, "stream": false}),
        ),
        WireApi::Responses => (
            "responses",
            serde_json::json!({"model": model, "input": "ping", "max_output_tokens": 16, "store": false}),
        ),
    };
    if p.wire_api == WireApi::Chat {
        report.native_responses = crate::speaks_responses(&client(), p, key, &model).await;
    }
    let url = format!("{}/{path}", p.base_url.trim_end_matches('/'));
    let started = Instant::now();
    let mut req = with_key(client().post(&url), key).json(&body);
    for (k, v) in &p.headers {
        req = req.header(k, v);
    }
    match req.send().await {
        Err(e) => report.error = Some(scrub(describe_send_error(&url, &e), key)),
        Ok(resp) => {
            let status = resp.status();
            let text = resp.text().await.unwrap_or_default();
            report.latency_ms = Some(started.elapsed().as_millis() as u64);
            if status.is_success() {
                report.ok = true;
                report.error = None;
            } else {
                report.error = Some(scrub(
                    describe_status(status.as_u16(), &text, &format!("the model {model}")),
                    key,
                ));
            }
        }
    }
    report
}

/// How long Apply waits for a provider's model list before writing the catalog without it.
const LIST_WAIT: Duration = Duration::from_secs(5);

/// The model lists of the providers glob routes send to, for Codex's catalog (each asked
/// once, all at the same time, for at most a few seconds; one that fails or is slow is left
/// out, and its route gets the names Plugboard knows). With local-only on, only providers on
/// this machine are asked.
pub async fn listed_for_glob_routes(
    settings: &Settings,
    keys: &dyn plugboard_server::KeySource,
) -> ListedModels {
    let mut asks = tokio::task::JoinSet::new();
    for p in &settings.providers {
        let globbed = settings
            .routes
            .iter()
            .any(|r| r.provider == p.id && plugboard_config::is_glob(&r.model));
        if !globbed || (settings.local_only && !p.address_is_local()) {
            continue;
        }
        let key = keys.key(p).ok().flatten();
        let p = p.clone();
        asks.spawn(async move {
            let key = key.as_ref().map(|k| k.expose());
            let listed = tokio::time::timeout(LIST_WAIT, list_models(&p, key)).await;
            (p.id, listed)
        });
    }
    let mut out = ListedModels::new();
    while let Some(done) = asks.join_next().await {
        match done {
            Ok((id, Ok(Ok(names)))) => {
                out.insert(id, names);
            }
            Ok((id, Ok(Err(e)))) => {
                tracing::info!(provider = %id, error = %e, "no model list for Codex's catalog")
            }
            Ok((id, Err(_))) => {
                tracing::info!(provider = %id, "the model list took too long; the catalog is written without it")
            }
            Err(e) => tracing::warn!(error = %e, "a model list task failed"),
        }
    }
    out
}
