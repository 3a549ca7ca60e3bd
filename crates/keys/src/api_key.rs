//! A key in memory: never printed, wiped when dropped, and what of it the UI may see.

/// A provider API key. `Debug` and `Display` never show it; its memory is wiped when the
/// last copy goes (copies share one allocation, so a key held for the app's lifetime and
/// handed to every request is one buffer).
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(std::sync::Arc<zeroize::Zeroizing<String>>);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        Self(std::sync::Arc::new(zeroize::Zeroizing::new(key.into())))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Removes the key from text that came back from a provider (some echo it in errors).
    pub fn scrub(&self, text: &str) -> String {
        let key = self.expose();
        if key.len() >= 8 && text.contains(key) {
            text.replace(key, "***")
        } else {
            text.to_string()
        }
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

/// What the UI may show of a key: its first 3 and last 4 characters.
pub fn mask(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 10 {
        return "•".repeat(chars.len().max(4));
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}••••{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_never_print() {
        let k = ApiKey::new("sk-secret-123456");
        assert_eq!(format!("{k:?}"), "ApiKey(***)");
        assert_eq!(
            k.scrub("bad key sk-secret-123456 given"),
            "bad key *** given"
        );
    }

    #[test]
    fn masks_show_only_the_ends() {
        assert_eq!(mask("sk-1234567890abcdef"), "sk-••••cdef");
        assert_eq!(mask("short"), "•••••");
        assert!(!mask("sk-1234567890abcdef").contains("567890"));
    }
}
