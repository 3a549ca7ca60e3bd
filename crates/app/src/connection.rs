//! "Test connection" and the model list, as the settings window shows them: the provider's
//! own error text on failure, the latency on success.

use plugboard_config::{Provider, WireApi};
use serde::Serialize;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ConnectionReport {
    pub ok: bool,
    pub models: Vec<String>,
    /// Time of the 1-token request, in milliseconds.
    pub latency_ms: Option<u64>,
    /// What went wrong, with the provider's words kept.
    pub error: Option<String>,
    pub model_tried: Option<String>,
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

/// `GET {base_url}/models`, sorted ids.
pub async fn list_models(p: &Provider, key: Option<&str>) -> Result<Vec<String>, String> {
    let url = format!("{}/models", p.base_url.trim_end_matches('/'));
    let resp = with_key(client().get(&url), key)
        .send()
        .await
        .map_err(|e| scrub(format!("{url}: {e}"), key))?;
    let status = resp.status();
    let body = resp.text().await.unwrap_or_default();
    if !status.is_success() {
        return Err(scrub(
            format!(
                "{url} answered HTTP {}: {}",
                status.as_u16(),
                body.chars().take(600).collect::<String>()
            ),
            key,
        ));
    }
    let v: serde_json::Value = serde_json::from_str(&body)
        .map_err(|e| format!("{url} did not answer a model list: {e}"))?;
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

/// Lists the models, then sends a 1-token request to `model` (or the default model).
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
        error: models.err(),
        model_tried: model.clone(),
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
    let url = format!("{}/{path}", p.base_url.trim_end_matches('/'));
    let started = Instant::now();
    let mut req = with_key(client().post(&url), key).json(&body);
    for (k, v) in &p.headers {
        req = req.header(k, v);
    }
    match req.send().await {
        Err(e) => report.error = Some(scrub(format!("{url}: {e}"), key)),
        Ok(resp) => {
            let status = resp.status();
            let text = resp.text().await.unwrap_or_default();
            report.latency_ms = Some(started.elapsed().as_millis() as u64);
            if status.is_success() {
                report.ok = true;
                report.error = None;
            } else {
                report.error = Some(scrub(
                    format!(
                        "HTTP {}: {}",
                        status.as_u16(),
                        text.chars().take(800).collect::<String>()
                    ),
                    key,
                ));
            }
        }
    }
    report
}
