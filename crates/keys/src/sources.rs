//! Where a proxy's keys come from. Each binary plugs in its own [`KeySource`]: the app
//! [`CachedKeys`] (read from the OS keyring into memory), `plugboard-proxy` [`HeadlessKeys`]
//! (an environment variable first, then the keyring), tests [`EnvKeys`].

use crate::cache::{self, CachedKey, KeyCache, Unreadable, KEYRING_WAIT};
use crate::vault::{KeyVault, OsKeyring};
use crate::ApiKey;
use plugboard_config::{Provider, Settings};
use std::sync::Arc;

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

/// The app's key source: memory only (the keyring is read into it at start and on save).
pub struct CachedKeys(pub Arc<KeyCache>);

impl KeySource for CachedKeys {
    fn key(&self, p: &Provider) -> Result<Option<ApiKey>, KeyError> {
        match self.0.get(&p.id) {
            Some(CachedKey::Stored(k)) => Ok(Some(k)),
            // A local server needs no key: without a keyring (or with it locked) it is still
            // asked, keyless.
            Some(CachedKey::Unreadable(_)) if !p.needs_key() => Ok(None),
            Some(CachedKey::Unreadable(why)) => Err(KeyError::Store {
                provider: p.id.clone(),
                reason: why.to_string(),
            }),
            // Headless habits: a provider naming an environment variable still gets it.
            Some(CachedKey::Missing) | None => EnvKeys.key(p).or(Ok(None)),
        }
    }
}

/// The key from the environment variable the provider names, when that variable is set.
fn from_env(p: &Provider) -> Option<String> {
    let var = p.api_key_env.as_deref().filter(|v| !v.is_empty())?;
    // Trimmed as `EnvKeys` reads it: a variable of only spaces is not a key.
    std::env::var(var).ok().filter(|v| !v.trim().is_empty())
}

/// The headless proxy's keys: the environment variable a provider names in `api_key_env`
/// when it is set (servers, CI), else the OS keyring, where the desktop app keeps them. The
/// keyring is read once at start, each key on a thread of its own and waited for at most a
/// few seconds; requests never touch it.
pub struct HeadlessKeys {
    /// `None` with `--no-keyring`, or when no provider needs it.
    keyring: Option<Arc<KeyCache>>,
}

impl KeySource for HeadlessKeys {
    fn key(&self, p: &Provider) -> Result<Option<ApiKey>, KeyError> {
        if from_env(p).is_some() {
            return EnvKeys.key(p);
        }
        match self.keyring.as_ref().and_then(|k| k.get(&p.id)) {
            Some(CachedKey::Stored(k)) => Ok(Some(k)),
            // A locked keyring: the key exists but is not handed over; say so.
            Some(CachedKey::Unreadable(why @ Unreadable::Locked)) => Err(KeyError::Store {
                provider: p.id.clone(),
                reason: why.to_string(),
            }),
            // No key there, or no keyring on this machine (a server without a desktop
            // session): as before the keyring was asked, keyless or the variable's reason.
            _ => EnvKeys.key(p),
        }
    }
}

impl HeadlessKeys {
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
        cache::load(&cache, &vault, ids.clone(), KEYRING_WAIT).await;
        for id in &ids {
            match cache.get(id) {
                Some(CachedKey::Stored(_)) => {
                    tracing::info!(provider = %id, "key read from the OS keyring")
                }
                Some(CachedKey::Unreadable(reason)) => {
                    tracing::warn!(provider = %id, %reason, "no key from the OS keyring")
                }
                _ => {
                    tracing::info!(provider = %id, "the OS keyring holds no key for this provider")
                }
            }
        }
        HeadlessKeys {
            keyring: Some(cache),
        }
    }
}

/// Keys that can be replaced while requests run: `plugboard-proxy serve` reads the keys of a
/// reloaded settings file (a provider added, a key stored) and swaps them in; a request
/// takes whichever set is current when it asks.
pub struct SwappableKeys(std::sync::RwLock<Arc<dyn KeySource>>);

impl SwappableKeys {
    pub fn new(keys: Arc<dyn KeySource>) -> Self {
        Self(std::sync::RwLock::new(keys))
    }

    /// The set in force now.
    pub fn current(&self) -> Arc<dyn KeySource> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn swap(&self, keys: Arc<dyn KeySource>) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = keys;
    }
}

impl KeySource for SwappableKeys {
    fn key(&self, p: &Provider) -> Result<Option<ApiKey>, KeyError> {
        self.current().key(p)
    }
}
