//! Whether a chat provider also speaks the Responses API: then Codex's requests can pass
//! through untranslated, with the same key and model map.

use crate::fix::Fix;
use crate::report::{Status, StepId, StepReport};
use plugboard_config::Provider;

/// A request straight to the provider, as the proxy would send it: its key and its headers.
pub(crate) fn to_provider(
    req: reqwest::RequestBuilder,
    p: &Provider,
    key: Option<&str>,
) -> reqwest::RequestBuilder {
    let req = match key {
        Some(k) => req.bearer_auth(k),
        None => req,
    };
    p.headers.iter().fold(req, |req, (k, v)| req.header(k, v))
}

/// `POST {base}/{path}` with `body`: the answer's JSON when it succeeded.
async fn probe(
    client: &reqwest::Client,
    p: &Provider,
    key: Option<&str>,
    path: &str,
    body: serde_json::Value,
) -> Option<serde_json::Value> {
    let url = format!("{}/{path}", p.base_url.trim_end_matches('/'));
    let resp = to_provider(client.post(&url).json(&body), p, key)
        .send()
        .await
        .ok()?;
    if !resp.status().is_success() {
        return None;
    }
    Some(resp.json().await.unwrap_or_default())
}

/// `POST {base}/responses` with a one-token request: true when a Responses object comes
/// back. Any failure (404, refusal, another shape) means no.
pub async fn speaks_responses(
    client: &reqwest::Client,
    p: &Provider,
    key: Option<&str>,
    model: &str,
) -> bool {
    let body = serde_json::json!({"model": model, "input": "ping", "max_output_tokens": 16, "store": false});
    probe(client, p, key, "responses", body)
        .await
        .is_some_and(|v| {
            v.get("object").and_then(|o| o.as_str()) == Some("response")
                || v.get("output").is_some_and(|o| o.is_array())
        })
}

/// `POST {base}/chat/completions` with a one-token request: true when a chat completion
/// comes back (a provider reached over Responses that also serves chat).
pub async fn speaks_chat(
    client: &reqwest::Client,
    p: &Provider,
    key: Option<&str>,
    model: &str,
) -> bool {
    let body = serde_json::json!({"model": model, "max_tokens": 16,
        "messages": [{"role": "user", "content": "ping"}]});
    probe(client, p, key, "chat/completions", body)
        .await
        .is_some_and(|v| v.get("choices").is_some_and(|c| c.is_array()))
}

/// The Responses API step: said, never failed.
pub fn step(speaks: bool) -> StepReport {
    let id = StepId::NativeResponses;
    if speaks {
        StepReport::new(
            id,
            Status::Info,
            "the provider also speaks the Responses API: Plugboard can pass Codex's requests through untranslated, keeping the key and model map",
        )
        .with_fix(Some(Fix {
            label: "Use pass-through (Responses)".into(),
            change: crate::fix::FixChange::PassThrough,
        }))
    } else {
        StepReport::new(
            id,
            Status::Info,
            "the provider speaks Chat Completions only: Plugboard translates",
        )
    }
}
