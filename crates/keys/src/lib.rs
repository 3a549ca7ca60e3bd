//! Provider API keys in the OS keyring: service `plugboard`, account = provider id. These are
//! the OS calls; when they happen (once at start, on save, never per request) is the app's
//! `key_cache`. Keys never reach the settings file, a log line or the UI (which only sees
//! [`mask`]).

pub const SERVICE: &str = "plugboard";

#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
    #[error("the OS keyring is not available: {0}")]
    Unavailable(String),
    #[error("the OS keyring refused to {action} the key of `{provider}`: {reason}")]
    Failed {
        action: &'static str,
        provider: String,
        reason: String,
    },
}

fn entry(provider_id: &str) -> Result<keyring::Entry, KeyStoreError> {
    keyring::Entry::new(SERVICE, provider_id).map_err(|e| KeyStoreError::Unavailable(e.to_string()))
}

/// Stores (or replaces) a provider's key.
pub fn set_key(provider_id: &str, key: &str) -> Result<(), KeyStoreError> {
    entry(provider_id)?
        .set_password(key.trim())
        .map_err(|e| KeyStoreError::Failed {
            action: "store",
            provider: provider_id.into(),
            reason: e.to_string(),
        })
}

/// The stored key, `None` when there is none.
pub fn get_key(provider_id: &str) -> Result<Option<String>, KeyStoreError> {
    match entry(provider_id)?.get_password() {
        Ok(k) => Ok(Some(k)),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(e) => Err(KeyStoreError::Failed {
            action: "read",
            provider: provider_id.into(),
            reason: e.to_string(),
        }),
    }
}

/// Deletes a provider's key; deleting a key that is not there is not an error.
pub fn delete_key(provider_id: &str) -> Result<(), KeyStoreError> {
    match entry(provider_id)?.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(KeyStoreError::Failed {
            action: "delete",
            provider: provider_id.into(),
            reason: e.to_string(),
        }),
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
    use super::mask;

    #[test]
    fn masks_show_only_the_ends() {
        assert_eq!(mask("sk-1234567890abcdef"), "sk-••••cdef");
        assert_eq!(mask("short"), "•••••");
        assert!(!mask("sk-1234567890abcdef").contains("567890"));
    }
}
