//! Which provider issued which item: the keys of every answer's items (ids, encrypted
//! content) with the provider that gave them, so that a conversation moved to another
//! provider is sent only what that provider can read (`translate::provenance`). In memory
//! and bounded: the oldest keys go first; an item whose key is gone is left as it is.

use plugboard_translate::provenance::{self, Cleaned, History};
use serde_json::value::RawValue;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

pub struct Issuers {
    capacity: usize,
    inner: Mutex<Inner>,
    /// A gateway's shared store, written behind each note.
    shared: Option<crate::shared_state::WriteBehind>,
}

#[derive(Default)]
struct Inner {
    by_key: HashMap<u64, Arc<str>>,
    order: VecDeque<u64>,
}

impl Issuers {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            inner: Mutex::new(Inner::default()),
            shared: None,
        }
    }

    /// Every note is also written to a gateway's shared store.
    pub(crate) fn writing_behind(mut self, w: crate::shared_state::WriteBehind) -> Self {
        self.shared = Some(w);
        self
    }

    /// Remembers that `provider` issued the items these keys come from.
    pub fn note(&self, provider: &str, keys: impl IntoIterator<Item = u64>) {
        match &self.shared {
            None => self.remember(provider, keys),
            Some(w) => {
                let keys: Vec<u64> = keys.into_iter().collect();
                self.remember(provider, keys.iter().copied());
                if !keys.is_empty() {
                    w.send(crate::shared_state::Write::Issuers(
                        Arc::from(provider),
                        keys,
                    ));
                }
            }
        }
    }

    /// Whether the issuer of `key` is known here.
    pub(crate) fn knows(&self, key: u64) -> bool {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.by_key.contains_key(&key)
    }

    /// An issuer read from the shared store (not written back).
    pub(crate) fn learn(&self, provider: &str, key: u64) {
        self.remember(provider, [key]);
    }

    fn remember(&self, provider: &str, keys: impl IntoIterator<Item = u64>) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut name: Option<Arc<str>> = None;
        for k in keys {
            let name = name.get_or_insert_with(|| Arc::from(provider)).clone();
            if inner.by_key.insert(k, name).is_none() {
                inner.order.push_back(k);
            }
        }
        while inner.order.len() > self.capacity {
            if let Some(old) = inner.order.pop_front() {
                inner.by_key.remove(&old);
            }
        }
    }

    /// `items` as `provider`, a Responses provider, can take them (see
    /// `provenance::clean`); the lock is held only for this pure pass.
    pub fn clean(&self, items: &[Box<RawValue>], history: History, provider: &str) -> Cleaned {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let lookup = |k: u64| inner.by_key.get(&k).map(|p| &**p);
        let cleaned = provenance::clean_as(items, history, provider, &lookup);
        drop(inner);
        if cleaned.items.is_some() {
            tracing::info!(
                provider,
                dropped = cleaned.dropped,
                rewritten = cleaned.rewritten,
                "items from other providers adjusted for this one"
            );
        }
        cleaned
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.inner.lock().unwrap().by_key.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_oldest_first() {
        let i = Issuers::new(2);
        i.note("a", [1, 2]);
        i.note("b", [3]);
        assert_eq!(i.len(), 2);
        let inner = i.inner.lock().unwrap();
        assert!(!inner.by_key.contains_key(&1));
        assert_eq!(inner.by_key.get(&3).map(|p| &**p), Some("b"));
    }

    #[test]
    fn a_key_seen_again_keeps_one_place() {
        let i = Issuers::new(4);
        i.note("a", [1]);
        i.note("b", [1]);
        assert_eq!(i.inner.lock().unwrap().order.len(), 1);
        assert_eq!(
            i.inner.lock().unwrap().by_key.get(&1).map(|p| &**p),
            Some("b")
        );
    }
}
