//! Provider errors read and mapped onto the codes clients act on (`response.error.code`):
//! `context_length_exceeded` (Codex compacts and retries), `insufficient_quota`,
//! `rate_limit_exceeded` (retried after the wait the message names), `server_is_overloaded`;
//! anything else keeps the provider's code. Providers word these their own way, so the
//! mapping is a table of rules, tried in order, each backed by a recorded wording
//! (`tests/errors/`).

use serde_json::Value;

/// A provider's error answer, read from whatever shape it came in.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProviderError {
    pub message: String,
    /// `type` in OpenAI's shape (Kimi puts its signal here).
    pub kind: Option<String>,
    pub code: Option<String>,
    pub param: Option<String>,
}

/// One mapping: it applies when the HTTP status, the provider's code or type, or a phrase
/// of the message (lower-cased) matches.
struct Rule {
    to: &'static str,
    statuses: &'static [u16],
    codes: &'static [&'static str],
    phrases: &'static [&'static str],
}

/// Quota before rate limits: Kimi reports an exhausted account with a 429.
const RULES: &[Rule] = &[
    Rule {
        to: "context_length_exceeded",
        statuses: &[],
        // GLM's 1261 is "Prompt 超长"; llama.cpp's server names its type.
        codes: &[
            "context_length_exceeded",
            "1261",
            "exceed_context_size_error",
        ],
        phrases: &[
            "context length",             // OpenAI, DeepSeek, vLLM, OpenRouter, LM Studio
            "context_length",             //
            "maximum context",            //
            "context window",             //
            "context size",               // llama.cpp
            "exceeds the context",        // Ollama
            "exceeds context length",     // Ollama
            "range of input length",      // Qwen on DashScope
            "exceeded model token limit", // Kimi
            "input token count",          // Gemini's OpenAI endpoint
            "prompt is too long",         // Anthropic models via OpenRouter
            "too many tokens",            //
            "reduce the length",          //
            "prompt 超长",                // GLM
        ],
    },
    Rule {
        to: "insufficient_quota",
        statuses: &[402],
        codes: &[
            "insufficient_quota",
            "exceeded_current_quota_error", // Kimi
            "arrearage",                    // DashScope
            "1113",                         // GLM: account in arrears
        ],
        phrases: &[
            "insufficient balance", // DeepSeek
            "insufficient_balance", //
            "insufficient credits", // OpenRouter
            "more credits",         // OpenRouter
            "exceeded your current quota",
            "quota exceeded",
            "check your plan and billing",
            "account is in good standing", // DashScope
            "欠费",                        // GLM
        ],
    },
    Rule {
        to: "rate_limit_exceeded",
        statuses: &[429],
        codes: &[
            "rate_limit_exceeded",
            "rate_limit_reached_error", // Kimi
            "throttling",               // DashScope
            "throttling.ratequota",     //
            "1302",                     // GLM: too many concurrent requests
            "1303",                     // GLM: too frequent
            "1305",                     // GLM: too many requests
        ],
        phrases: &[
            "rate limit",
            "rate_limit",
            "too many requests",
            "max rpm",
            "max tpm",
        ],
    },
    Rule {
        to: "server_is_overloaded",
        statuses: &[503, 529],
        codes: &["server_is_overloaded", "overloaded_error"],
        phrases: &["overloaded", "server is busy", "at capacity", "服务繁忙"],
    },
];

/// The Responses error code for a provider error and the HTTP status it came with.
pub fn classify(e: &ProviderError, status: Option<u16>) -> String {
    let message = e.message.to_lowercase();
    let signals: Vec<String> = [&e.code, &e.kind]
        .into_iter()
        .flatten()
        .map(|s| s.to_ascii_lowercase())
        .collect();
    for rule in RULES {
        if status.is_some_and(|s| rule.statuses.contains(&s))
            || signals.iter().any(|s| rule.codes.contains(&s.as_str()))
            || rule.phrases.iter().any(|p| message.contains(p))
        {
            return rule.to.into();
        }
    }
    e.code
        .clone()
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "upstream_error".into())
}

/// The message a client reads, with the wait a rate limit asks for in the words clients
/// parse ("try again in 20s"): from `Retry-After`, or from the provider's own wording
/// ("try again after 1 seconds", "retry after 20s").
pub fn with_wait(code: &str, message: &str, retry_after: Option<&str>) -> String {
    if code != "rate_limit_exceeded" || message.to_lowercase().contains("try again in") {
        return message.to_string();
    }
    let wait = retry_after
        .and_then(|v| v.trim().parse::<f64>().ok())
        .or_else(|| seconds_after(message));
    match wait {
        Some(s) => format!("{} Please try again in {}s.", message.trim_end(), s),
        None => message.to_string(),
    }
}

/// A number of seconds named after "after" or "in" near "second"/"s" in a message.
fn seconds_after(message: &str) -> Option<f64> {
    let lower = message.to_lowercase();
    for key in ["after ", "again in ", "retry in "] {
        if let Some(i) = lower.find(key) {
            let rest = &lower[i + key.len()..];
            let number: String = rest
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            let unit = rest[number.len()..].trim_start();
            if !number.is_empty() && (unit.starts_with('s') || unit.starts_with("second")) {
                return number.parse().ok();
            }
        }
    }
    None
}

/// OpenAI's shape, the common variants (`{"error": "text"}`, `{"message"}`, `{"detail"}`,
/// a bare code number), an HTML gateway page, or plain text.
pub fn parse_error_body(body: &[u8], content_type: &str) -> ProviderError {
    let text = String::from_utf8_lossy(body);
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        return from_value(&v);
    }
    if content_type.contains("html") || text.trim_start().starts_with('<') {
        let title = text
            .split_once("<title>")
            .and_then(|(_, rest)| rest.split_once("</title>"))
            .map(|(t, _)| t.trim().to_string())
            .unwrap_or_default();
        let message = if title.is_empty() {
            "an HTML page instead of an API answer".to_string()
        } else {
            format!("an HTML page instead of an API answer ({title})")
        };
        return ProviderError {
            message,
            ..Default::default()
        };
    }
    let t: String = text.trim().chars().take(500).collect();
    ProviderError {
        message: if t.is_empty() {
            "(empty body)".into()
        } else {
            t
        },
        ..Default::default()
    }
}

/// An error object (a body, or one inside a stream chunk).
pub fn from_value(v: &Value) -> ProviderError {
    let e = v.get("error").unwrap_or(v);
    let s = |k: &str| {
        e.get(k).and_then(|x| {
            x.as_str()
                .map(str::to_string)
                .or_else(|| x.as_i64().map(|n| n.to_string()))
        })
    };
    let message = match e {
        Value::String(s) => Some(s.clone()),
        _ => s("message")
            .or_else(|| s("detail"))
            .or_else(|| v.get("message").and_then(Value::as_str).map(str::to_string)),
    };
    ProviderError {
        message: message.unwrap_or_else(|| v.to_string()),
        kind: s("type"),
        code: s("code"),
        param: s("param"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(code: Option<&str>, message: &str) -> ProviderError {
        ProviderError {
            message: message.into(),
            code: code.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn codes_clients_know() {
        let ctx = err(None, "This model's maximum context length is 65536 tokens");
        assert_eq!(classify(&ctx, Some(400)), "context_length_exceeded");
        assert_eq!(
            classify(
                &err(Some("invalid_request_error"), "Insufficient Balance"),
                Some(402)
            ),
            "insufficient_quota"
        );
        assert_eq!(
            classify(&err(None, "slow down"), Some(429)),
            "rate_limit_exceeded"
        );
        assert_eq!(
            classify(&err(None, "The server is overloaded"), Some(500)),
            "server_is_overloaded"
        );
        assert_eq!(classify(&err(Some("weird"), "x"), Some(500)), "weird");
        assert_eq!(classify(&err(None, "x"), None), "upstream_error");
    }

    #[test]
    fn the_wait_is_worded_as_clients_parse_it() {
        let m = with_wait("rate_limit_exceeded", "Rate Limit Reached", Some("20"));
        assert_eq!(m, "Rate Limit Reached Please try again in 20s.");
        let kimi = "request reached organization max RPM: 3, please try again after 1 seconds";
        assert!(with_wait("rate_limit_exceeded", kimi, None).ends_with("Please try again in 1s."));
        let openai = "Rate limit reached. Please try again in 7.5s.";
        assert_eq!(with_wait("rate_limit_exceeded", openai, Some("8")), openai);
        assert_eq!(with_wait("insufficient_quota", "x", Some("8")), "x");
        assert_eq!(with_wait("rate_limit_exceeded", "busy", None), "busy");
    }

    #[test]
    fn body_variants() {
        let e = parse_error_body(br#"{"error":{"message":"bad key","type":"authentication_error","code":"invalid_api_key"}}"#, "application/json");
        assert_eq!(
            (e.message.as_str(), e.kind.as_deref(), e.code.as_deref()),
            (
                "bad key",
                Some("authentication_error"),
                Some("invalid_api_key")
            )
        );
        assert_eq!(
            parse_error_body(br#"{"error":"model not found"}"#, "").message,
            "model not found"
        );
        assert_eq!(
            parse_error_body(br#"{"detail":"Not Found"}"#, "").message,
            "Not Found"
        );
        assert_eq!(
            parse_error_body(
                r#"{"error":{"code":1261,"message":"Prompt 超长"}}"#.as_bytes(),
                ""
            )
            .code
            .as_deref(),
            Some("1261")
        );
        let html = parse_error_body(
            b"<html><head><title>502 Bad Gateway</title></head></html>",
            "text/html",
        );
        assert!(
            html.message.contains("HTML") && html.message.contains("502 Bad Gateway"),
            "{}",
            html.message
        );
        assert_eq!(parse_error_body(b"", "").message, "(empty body)");
    }
}
