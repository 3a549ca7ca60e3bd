//! The OS keyring calls: service `plugboard`, account = provider id. When they happen (once
//! at start, on save, never per request) is [`crate::cache`]'s business.

pub const SERVICE: &str = "plugboard";

#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
    #[error("the OS keyring is not available: {0}")]
    Unavailable(String),
    /// The keyring holds the key but will not hand it over: its collection is locked, the
    /// unlock prompt was dismissed or cannot be shown (no desktop session).
    #[error("the OS keyring is locked (it would not {action} the key of `{provider}`: {reason})")]
    Locked {
        action: &'static str,
        provider: String,
        reason: String,
    },
    #[error("the OS keyring refused to {action} the key of `{provider}`: {reason}")]
    Failed {
        action: &'static str,
        provider: String,
        reason: String,
    },
}

/// Sorts a keyring error: a refusal of access is the locked state, anything else a failure.
/// Only here is an error's text read: gnome-keyring refuses a write to a locked collection
/// with a D-Bus error (`IsLocked`, "Cannot create an item in a locked collection") that the
/// keyring crate passes on as a platform failure.
fn refused(action: &'static str, provider: &str, e: keyring::Error) -> KeyStoreError {
    let (provider, reason) = (provider.to_string(), e.to_string());
    let locked = match &e {
        keyring::Error::NoStorageAccess(_) => true,
        keyring::Error::PlatformFailure(inner) => {
            let text = inner.to_string().to_ascii_lowercase();
            text.contains("islocked") || text.contains("locked collection")
        }
        _ => false,
    };
    if locked {
        KeyStoreError::Locked {
            action,
            provider,
            reason,
        }
    } else {
        KeyStoreError::Failed {
            action,
            provider,
            reason,
        }
    }
}

fn entry(provider_id: &str) -> Result<keyring::Entry, KeyStoreError> {
    keyring::Entry::new(SERVICE, provider_id).map_err(|e| KeyStoreError::Unavailable(e.to_string()))
}

/// Stores (or replaces) a provider's key.
pub fn set_key(provider_id: &str, key: &str) -> Result<(), KeyStoreError> {
    entry(provider_id)?
        .set_password(key.trim())
        .map_err(|e| refused("store", provider_id, e))
}

/// The stored key, `None` when there is none.
pub fn get_key(provider_id: &str) -> Result<Option<String>, KeyStoreError> {
    match entry(provider_id)?.get_password() {
        Ok(k) => Ok(Some(k)),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(e) => Err(refused("read", provider_id, e)),
    }
}

/// Deletes a provider's key; deleting a key that is not there is not an error.
pub fn delete_key(provider_id: &str) -> Result<(), KeyStoreError> {
    match entry(provider_id)?.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(refused("delete", provider_id, e)),
    }
}
