//! Where provider keys come from: each binary plugs in its own source (the app its keys
//! read from the OS keyring, `plugboard-proxy` environment variables first, then the
//! keyring). A key is wrapped so that it never prints.

use plugboard_config::Provider;

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

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("no key for provider `{provider}`: {reason}")]
    Missing { provider: String, reason: String },
    #[error("the key store could not be read for provider `{provider}`: {reason}")]
    Store { provider: String, reason: String },
}

pub trait KeySource: Send + Sync + 'static {
    /// The key to send to `provider`, `None` when it needs none.
    fn key(&self, provider: &Provider) -> Result<Option<ApiKey>, KeyError>;
}

/// Keys from the environment variable each provider names in `api_key_env`.
#[derive(Debug, Default, Clone, Copy)]
pub struct EnvKeys;

impl KeySource for EnvKeys {
    fn key(&self, provider: &Provider) -> Result<Option<ApiKey>, KeyError> {
        let Some(var) = provider.api_key_env.as_deref().filter(|v| !v.is_empty()) else {
            return Ok(None);
        };
        match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => Ok(Some(ApiKey::new(v.trim()))),
            _ => Err(KeyError::Missing {
                provider: provider.id.clone(),
                reason: format!("the environment variable {var} is not set"),
            }),
        }
    }
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
}
