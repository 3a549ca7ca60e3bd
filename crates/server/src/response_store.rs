//! Recent responses, for `previous_response_id`. Each entry holds only its own turn (input
//! and output items) and points at its parent, so a long chain costs no copies.

use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

pub struct Entry {
    parent: Option<Arc<Entry>>,
    items: Vec<Value>,
}

impl Entry {
    /// Every item of the conversation up to and including this turn, oldest first.
    pub fn history(&self) -> Vec<Value> {
        let mut chain = vec![self];
        let mut cur = self;
        while let Some(p) = &cur.parent {
            chain.push(p);
            cur = p;
        }
        chain
            .iter()
            .rev()
            .flat_map(|e| e.items.iter().cloned())
            .collect()
    }
}

pub struct ResponseStore {
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    by_id: HashMap<String, Arc<Entry>>,
    order: VecDeque<String>,
}

impl ResponseStore {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            inner: Mutex::new(Inner::default()),
        }
    }

    pub fn get(&self, id: &str) -> Option<Arc<Entry>> {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .by_id
            .get(id)
            .cloned()
    }

    /// Keeps a finished turn; the oldest entries go when the store is full (a child keeps
    /// its evicted parents alive through its own chain).
    pub fn put(&self, id: String, parent: Option<Arc<Entry>>, items: Vec<Value>) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner
            .by_id
            .insert(id.clone(), Arc::new(Entry { parent, items }));
        inner.order.push_back(id);
        while inner.order.len() > self.capacity {
            if let Some(old) = inner.order.pop_front() {
                inner.by_id.remove(&old);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn chains_and_eviction() {
        let s = ResponseStore::new(2);
        s.put("a".into(), None, vec![json!(1), json!(2)]);
        s.put("b".into(), s.get("a"), vec![json!(3)]);
        assert_eq!(
            s.get("b").unwrap().history(),
            vec![json!(1), json!(2), json!(3)]
        );
        s.put("c".into(), s.get("b"), vec![json!(4)]);
        assert!(s.get("a").is_none(), "evicted");
        assert_eq!(
            s.get("c").unwrap().history().len(),
            4,
            "the chain survives eviction of its ids"
        );
    }
}
