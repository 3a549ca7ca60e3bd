//! Provider keys held in memory for a proxy. The OS keyring is read once at start and
//! written when the user saves a key; requests only look here. A keyring call is a
//! D-Bus round trip that can wait on an unlock prompt nobody answers, so it never runs on
//! the request path or on an async worker, and the app never waits for it unbounded.

use crate::os_keyring::KeyStoreError;
use crate::vault::KeyVault;
use crate::ApiKey;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// How long the app waits for the keyring before it goes on without it.
pub const KEYRING_WAIT: Duration = Duration::from_secs(3);

/// What the app knows of one provider's key.
#[derive(Clone, PartialEq, Eq)]
pub enum CachedKey {
    Stored(ApiKey),
    /// The keyring holds none.
    Missing,
    /// The keyring could not be read.
    Unreadable(Unreadable),
}

/// Why a key could not be read: the locked state is a state of its own (it passes when the
/// user unlocks), not a sentence to search.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unreadable {
    /// The keyring is locked, or did not answer in time (an unlock prompt nobody answers).
    Locked,
    /// Anything else (no keyring on this machine, a D-Bus failure), in the keyring's words.
    Failed(String),
}

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unreadable::Locked => f.write_str(
                "the OS keyring did not answer (it is probably locked): unlock it and Plugboard \
                 picks the key up",
            ),
            Unreadable::Failed(reason) => f.write_str(reason),
        }
    }
}

impl std::fmt::Debug for CachedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CachedKey::Stored(_) => f.write_str("Stored(***)"),
            CachedKey::Missing => f.write_str("Missing"),
            CachedKey::Unreadable(r) => write!(f, "Unreadable({r})"),
        }
    }
}

impl CachedKey {
    fn from_read(r: Result<Option<String>, KeyStoreError>) -> CachedKey {
        match r {
            Ok(Some(k)) => CachedKey::Stored(ApiKey::new(k)),
            Ok(None) => CachedKey::Missing,
            // Where no prompt can be shown the keyring refuses at once: the same situation
            // as a prompt nobody answers.
            Err(KeyStoreError::Locked { .. }) => CachedKey::Unreadable(Unreadable::Locked),
            Err(e) => CachedKey::Unreadable(Unreadable::Failed(e.to_string())),
        }
    }
}

#[derive(Default)]
pub struct KeyCache {
    keys: RwLock<HashMap<String, CachedKey>>,
    /// Ids with a keyring read under way: never a second one for the same id, so a keyring
    /// waiting on a prompt costs one thread, not one per retry.
    reading: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl KeyCache {
    pub fn get(&self, id: &str) -> Option<CachedKey> {
        self.keys.read().expect("key cache lock").get(id).cloned()
    }

    pub fn set(&self, id: &str, key: CachedKey) {
        self.keys
            .write()
            .expect("key cache lock")
            .insert(id.to_string(), key);
    }

    /// Sets `key` unless something is known already (a read that finished first wins).
    pub fn set_if_unknown(&self, id: &str, key: CachedKey) {
        self.keys
            .write()
            .expect("key cache lock")
            .entry(id.to_string())
            .or_insert(key);
    }

    pub fn remove(&self, id: &str) {
        self.keys.write().expect("key cache lock").remove(id);
    }

    /// Providers whose key could not be read, with the reason.
    pub fn unreadable(&self) -> Vec<(String, Unreadable)> {
        let mut out: Vec<(String, Unreadable)> = self
            .keys
            .read()
            .expect("key cache lock")
            .iter()
            .filter_map(|(id, k)| match k {
                CachedKey::Unreadable(r) => Some((id.clone(), r.clone())),
                _ => None,
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// The masked key for the window, never the key.
    pub fn mask(&self, id: &str) -> Option<String> {
        match self.get(id)? {
            CachedKey::Stored(k) => Some(crate::mask(k.expose())),
            _ => None,
        }
    }
}

/// Reads `ids` from the keyring on a blocking thread, each result going into `cache` as
/// it arrives, and waits at most `wait`. Keys not read by then are marked unreadable; the
/// thread goes on, so a keyring unlocked later still delivers them.
///
/// Each key is read on a thread of its own: a key waiting on an unlock prompt does not hold
/// up a provider that has none.
pub async fn load(
    cache: &Arc<KeyCache>,
    vault: &Arc<dyn KeyVault>,
    ids: Vec<String>,
    wait: Duration,
) {
    let deadline = tokio::time::Instant::now() + wait;
    let mut reads = Vec::new();
    for id in &ids {
        let id = id.clone();
        if !cache
            .reading
            .lock()
            .expect("key cache lock")
            .insert(id.clone())
        {
            continue;
        }
        let (c, v) = (cache.clone(), vault.clone());
        reads.push(tokio::task::spawn_blocking(move || {
            let read = CachedKey::from_read(v.get(&id));
            c.set(&id, read);
            c.reading.lock().expect("key cache lock").remove(&id);
        }));
    }
    let mut late = false;
    for r in reads {
        late |= tokio::time::timeout_at(deadline, r).await.is_err();
    }
    if late {
        let waiting: Vec<&String> = ids
            .iter()
            .filter(|id| cache.reading.lock().expect("key cache lock").contains(*id))
            .collect();
        tracing::warn!(
            providers = ?waiting,
            "the OS keyring did not answer in time; these providers wait for it"
        );
        for id in waiting {
            cache.set_if_unknown(id, CachedKey::Unreadable(Unreadable::Locked));
        }
    }
}

/// Reads again, now and then, the keys the keyring would not give, until it gives them (a
/// read still waiting on a prompt is not started twice), calling `notify` whenever what is
/// known changes. Ends when none is left.
pub async fn retry_unreadable(
    cache: Arc<KeyCache>,
    vault: Arc<dyn KeyVault>,
    every: Duration,
    notify: impl Fn() + Send + 'static,
) {
    let mut known = cache.unreadable();
    loop {
        tokio::time::sleep(every).await;
        let now = cache.unreadable();
        if now != known {
            notify();
        }
        if now.is_empty() {
            return;
        }
        load(
            &cache,
            &vault,
            now.iter().map(|(id, _)| id.clone()).collect(),
            KEYRING_WAIT,
        )
        .await;
        known = now;
    }
}

/// Runs a keyring write on a blocking thread, bounded by `wait`.
pub async fn write<T: Send + 'static>(
    wait: Duration,
    work: impl FnOnce() -> Result<T, KeyStoreError> + Send + 'static,
) -> Result<T, KeyWriteError> {
    match tokio::time::timeout(wait, tokio::task::spawn_blocking(work)).await {
        Ok(Ok(Err(KeyStoreError::Locked { .. }))) => Err(KeyWriteError::Locked),
        Ok(Ok(r)) => r.map_err(KeyWriteError::Store),
        Ok(Err(e)) => Err(KeyWriteError::Task(e.to_string())),
        Err(_) => Err(KeyWriteError::Locked),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyWriteError {
    #[error("the OS keyring is locked (it did not answer in time): unlock it, then save again")]
    Locked,
    #[error(transparent)]
    Store(KeyStoreError),
    #[error("the keyring task failed: {0}")]
    Task(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::CachedKeys;
    use crate::vault::MemoryVault;
    use crate::KeySource;
    use std::sync::mpsc;
    use std::sync::Mutex;

    /// A keyring whose reads wait (as on an unlock prompt) until the test lets them go.
    struct PromptingVault(Mutex<mpsc::Receiver<()>>);

    impl KeyVault for PromptingVault {
        fn set(&self, _: &str, _: &str) -> Result<(), KeyStoreError> {
            let _ = self.0.lock().unwrap().recv();
            Ok(())
        }
        fn get(&self, _: &str) -> Result<Option<String>, KeyStoreError> {
            let _ = self.0.lock().unwrap().recv();
            Ok(Some("sk-after-unlock-000".into()))
        }
        fn delete(&self, _: &str) -> Result<(), KeyStoreError> {
            Ok(())
        }
    }

    fn provider(id: &str) -> plugboard_config::Provider {
        let mut p = plugboard_config::Provider::from_preset(id, "deepseek").unwrap();
        p.api_key_env = None;
        p
    }

    #[tokio::test]
    async fn keys_are_read_once_into_memory() {
        let vault = MemoryVault::default();
        vault.set("ds", "sk-stored-0123456789").unwrap();
        let vault: Arc<dyn KeyVault> = Arc::new(vault);
        let cache = Arc::new(KeyCache::default());
        load(
            &cache,
            &vault,
            vec!["ds".into(), "local".into()],
            KEYRING_WAIT,
        )
        .await;
        let keys = CachedKeys(cache.clone());
        assert_eq!(
            keys.key(&provider("ds")).unwrap().unwrap().expose(),
            "sk-stored-0123456789"
        );
        assert_eq!(cache.get("local"), Some(CachedKey::Missing));
        assert!(keys.key(&provider("local")).unwrap().is_none());
        assert_eq!(cache.mask("ds").as_deref(), Some("sk-••••6789"));
        assert!(!format!("{:?}", cache.get("ds")).contains("0123456789"));
    }

    #[tokio::test]
    async fn a_keyring_waiting_on_a_prompt_is_not_waited_for_and_delivers_later() {
        let (unlock, prompt) = mpsc::channel();
        let vault: Arc<dyn KeyVault> = Arc::new(PromptingVault(Mutex::new(prompt)));
        let cache = Arc::new(KeyCache::default());
        let started = std::time::Instant::now();
        load(
            &cache,
            &vault,
            vec!["ds".into()],
            Duration::from_millis(200),
        )
        .await;
        assert!(started.elapsed() < Duration::from_secs(10));
        let err = CachedKeys(cache.clone()).key(&provider("ds")).unwrap_err();
        assert!(err.to_string().contains("locked"), "{err}");
        assert_eq!(cache.unreadable().len(), 1);

        // A save while locked gives up with a sentence and changes nothing.
        let v = vault.clone();
        let e = write(Duration::from_millis(200), move || v.set("ds", "sk-new"))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("unlock it, then save again"), "{e}");

        // The user unlocks: the waiting read finishes and the key is there.
        unlock.send(()).unwrap();
        unlock.send(()).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !matches!(cache.get("ds"), Some(CachedKey::Stored(_))) {
            assert!(
                std::time::Instant::now() < deadline,
                "the key arrives after unlock"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(cache.unreadable().is_empty());
    }
}
