//! Provider errors mapped onto the codes Codex reacts to (`response.error.code`):
//! `context_length_exceeded`, `insufficient_quota`, `rate_limit_exceeded`,
//! `server_is_overloaded`; anything else keeps the provider's code.

/// The Responses error code for a provider error, from its code, message and HTTP status.
pub fn classify(code: Option<&str>, message: &str, status: Option<u16>) -> String {
    let msg = message.to_ascii_lowercase();
    let code_l = code.map(str::to_ascii_lowercase).unwrap_or_default();
    let has = |needles: &[&str]| {
        needles
            .iter()
            .any(|n| msg.contains(n) || code_l.contains(n))
    };
    if has(&[
        "context_length",
        "context length",
        "maximum context",
        "context window",
        "too many tokens",
        "prompt is too long",
        "reduce the length",
    ]) {
        "context_length_exceeded".into()
    } else if status == Some(402)
        || has(&[
            "insufficient_quota",
            "insufficient balance",
            "insufficient_balance",
            "quota exceeded",
            "billing",
        ])
    {
        "insufficient_quota".into()
    } else if status == Some(429) || has(&["rate_limit", "rate limit", "too many requests"]) {
        "rate_limit_exceeded".into()
    } else if matches!(status, Some(503) | Some(529))
        || has(&["overloaded", "server is busy", "capacity"])
    {
        "server_is_overloaded".into()
    } else {
        code.filter(|c| !c.is_empty())
            .unwrap_or("upstream_error")
            .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::classify;

    #[test]
    fn codes_codex_knows() {
        assert_eq!(
            classify(
                None,
                "This model's maximum context length is 65536 tokens",
                Some(400)
            ),
            "context_length_exceeded"
        );
        assert_eq!(
            classify(
                Some("invalid_request_error"),
                "Insufficient Balance",
                Some(402)
            ),
            "insufficient_quota"
        );
        assert_eq!(
            classify(None, "slow down", Some(429)),
            "rate_limit_exceeded"
        );
        assert_eq!(
            classify(None, "The server is overloaded", Some(500)),
            "server_is_overloaded"
        );
        assert_eq!(classify(Some("weird"), "x", Some(500)), "weird");
        assert_eq!(classify(None, "x", None), "upstream_error");
    }
}
