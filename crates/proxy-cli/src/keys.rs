//! Where the headless proxy's keys come from: the environment variable a provider names in
//! `api_key_env` when it is set (servers, CI), else the OS keyring, where the desktop app
//! keeps them. The keyring is read once at start, each key on a thread of its own and
//! waited for at most a few seconds; requests never touch it.

use plugboard_app::key_cache::{self, CachedKey, KeyCache, KEYRING_WAIT};
use plugboard_app::key_vault::{KeyVault, OsKeyring};
use plugboard_config::{Provider, Settings};
use plugboard_server::{ApiKey, EnvKeys, KeyError, KeySource};
use std::sync::Arc;

pub struct HeadlessKeys {
    /// `None` with `--no-keyring`, or when no provider needs it.
    keyring: Option<Arc<KeyCache>>,
}

/// The key from the environment variable the provider names, when that variable is set.
fn from_env(p: &Provider) -> Option<String> {
    let var = p.api_key_env.as_deref().filter(|v| !v.is_empty())?;
    std::env::var(var).ok().filter(|v| !v.is_empty())
}

impl KeySource for HeadlessKeys {
    fn key(&self, p: &Provider) -> Result<Option<ApiKey>, KeyError> {
        if from_env(p).is_some() {
            return EnvKeys.key(p);
        }
        match self.keyring.as_ref().and_then(|k| k.get(&p.id)) {
            Some(CachedKey::Stored(k)) => Ok(Some(k)),
            // A locked keyring: the key exists but is not handed over; say so.
            Some(CachedKey::Unreadable(reason)) if reason == key_cache::locked_reason() => {
                Err(KeyError::Store {
                    provider: p.id.clone(),
                    reason,
                })
            }
            // No key there, or no keyring on this machine (a server without a desktop
            // session): as before the keyring was asked, keyless or the variable's reason.
            _ => EnvKeys.key(p),
        }
    }
}

/// Reads from the keyring the keys no environment variable supplies.
pub async fn load(settings: &Settings, use_keyring: bool) -> HeadlessKeys {
    let ids: Vec<String> = settings
        .providers
        .iter()
        .filter(|p| p.needs_key() && from_env(p).is_none())
        .map(|p| p.id.clone())
        .collect();
    if !use_keyring || ids.is_empty() {
        return HeadlessKeys { keyring: None };
    }
    let cache = Arc::new(KeyCache::default());
    let vault: Arc<dyn KeyVault> = Arc::new(OsKeyring);
    key_cache::load(&cache, &vault, ids.clone(), KEYRING_WAIT).await;
    for id in &ids {
        match cache.get(id) {
            Some(CachedKey::Stored(_)) => {
                tracing::info!(provider = %id, "key read from the OS keyring")
            }
            Some(CachedKey::Unreadable(reason)) => {
                tracing::warn!(provider = %id, %reason, "no key from the OS keyring")
            }
            _ => tracing::info!(provider = %id, "the OS keyring holds no key for this provider"),
        }
    }
    HeadlessKeys {
        keyring: Some(cache),
    }
}
