//! Codex honours `HTTP_PROXY`/`HTTPS_PROXY`: without a `NO_PROXY` that covers the loopback
//! address, its requests to Plugboard go to the corporate proxy and fail.

/// A warning for the UI when the proxy variables would catch requests to `127.0.0.1`.
pub fn proxy_env_warning(get: impl Fn(&str) -> Option<String>) -> Option<String> {
    let var = [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ]
    .into_iter()
    .find(|v| get(v).is_some_and(|x| !x.trim().is_empty()))?;
    let no_proxy = get("NO_PROXY")
        .or_else(|| get("no_proxy"))
        .unwrap_or_default();
    let covered = no_proxy.split(',').map(str::trim).any(|e| {
        matches!(
            e,
            "*" | "127.0.0.1" | "localhost" | "127.0.0.0/8" | "::1" | ".localhost"
        )
    });
    (!covered).then(|| {
        format!("{var} is set but NO_PROXY does not cover 127.0.0.1: Codex would send its requests to that proxy instead of Plugboard. Add 127.0.0.1,localhost to NO_PROXY.")
    })
}

#[cfg(test)]
mod tests {
    use super::proxy_env_warning;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn warns_only_when_loopback_is_not_excluded() {
        assert!(proxy_env_warning(env(&[])).is_none());
        assert!(
            proxy_env_warning(env(&[("HTTPS_PROXY", "http://corp:3128")]))
                .unwrap()
                .contains("HTTPS_PROXY")
        );
        assert!(proxy_env_warning(env(&[
            ("http_proxy", "http://corp:3128"),
            ("no_proxy", "example.com")
        ]))
        .is_some());
        assert!(proxy_env_warning(env(&[
            ("HTTP_PROXY", "http://corp:3128"),
            ("NO_PROXY", "example.com, 127.0.0.1")
        ]))
        .is_none());
        assert!(proxy_env_warning(env(&[
            ("HTTP_PROXY", "http://corp:3128"),
            ("NO_PROXY", "localhost")
        ]))
        .is_none());
    }
}
