//! Recent responses, for `previous_response_id`, and their items by id, for
//! `item_reference` inputs. Each entry holds only its own turn (input and output items) and
//! points at its parent, so a long chain costs no copies; the item index points into the
//! entries.

use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

pub struct Entry {
    id: String,
    parent: Option<Arc<Entry>>,
    items: Vec<Value>,
    /// The gateway user whose conversation this is: only they can continue it.
    owner: Option<Arc<str>>,
}

impl Entry {
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn owner(&self) -> Option<&str> {
        self.owner.as_deref()
    }

    /// Whether `who` (the request's gateway user, if any) may use this turn.
    pub fn open_to(&self, who: Option<&str>) -> bool {
        self.owner.is_none() || self.owner.as_deref() == who
    }

    /// The ids of up to `n` turns before this one, nearest first.
    pub fn earlier_ids(&self, n: usize) -> Vec<String> {
        let mut ids = Vec::new();
        let mut cur = self.parent.as_deref();
        while let (Some(e), true) = (cur, ids.len() < n) {
            ids.push(e.id.clone());
            cur = e.parent.as_deref();
        }
        ids
    }

    pub fn parent_id(&self) -> Option<&str> {
        self.parent.as_ref().map(|p| p.id.as_str())
    }

    /// This turn's own items (input and output).
    pub fn items(&self) -> &[Value] {
        &self.items
    }

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
    /// A gateway's shared store, written behind each kept turn.
    shared: Option<crate::shared_state::WriteBehind>,
}

#[derive(Default)]
struct Inner {
    by_id: HashMap<String, Arc<Entry>>,
    order: VecDeque<String>,
    /// Item id → the entry holding it and its place there.
    items: HashMap<String, (Arc<Entry>, usize)>,
}

fn item_id(item: &Value) -> Option<&str> {
    item.get("id").and_then(Value::as_str)
}

impl ResponseStore {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            inner: Mutex::new(Inner::default()),
            shared: None,
        }
    }

    /// Every kept turn is also written to a gateway's shared store.
    pub(crate) fn writing_behind(mut self, w: crate::shared_state::WriteBehind) -> Self {
        self.shared = Some(w);
        self
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn get(&self, id: &str) -> Option<Arc<Entry>> {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .by_id
            .get(id)
            .cloned()
    }

    /// A stored item by its id (an output item Plugboard produced, or an input item the
    /// client sent with an id).
    pub fn item(&self, id: &str) -> Option<Value> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (entry, i) = inner.items.get(id)?;
        entry.items.get(*i).cloned()
    }

    /// The response `id`, if `who` may continue it (another user's is as good as unknown).
    pub fn get_for(&self, id: &str, who: Option<&str>) -> Option<Arc<Entry>> {
        self.get(id).filter(|e| e.open_to(who))
    }

    /// The item `id`, if `who` may use it.
    pub fn item_for(&self, id: &str, who: Option<&str>) -> Option<Value> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (entry, i) = inner.items.get(id)?;
        if !entry.open_to(who) {
            return None;
        }
        entry.items.get(*i).cloned()
    }

    /// Keeps a finished turn; the oldest entries go when the store is full (a child keeps
    /// its evicted parents alive through its own chain, but their items can no longer be
    /// named by id).
    /// With a gateway's shared store, the turn is also written there; the answer resolves
    /// once it is (a stream's last events wait for it, so that a follow-up on another replica
    /// finds the turn).
    pub fn put(
        &self,
        id: String,
        parent: Option<Arc<Entry>>,
        items: Vec<Value>,
    ) -> crate::shared_state::Written {
        self.put_owned(id, parent, items, None)
    }

    /// The same, for `owner`'s conversation.
    pub fn put_owned(
        &self,
        id: String,
        parent: Option<Arc<Entry>>,
        items: Vec<Value>,
        owner: Option<Arc<str>>,
    ) -> crate::shared_state::Written {
        let entry = self.insert_loaded(id, parent, items, owner);
        match &self.shared {
            Some(w) => w.send_turn(entry),
            None => crate::shared_state::Written::none(),
        }
    }

    /// Keeps a turn read from the shared store (not written back).
    pub(crate) fn insert_loaded(
        &self,
        id: String,
        parent: Option<Arc<Entry>>,
        items: Vec<Value>,
        owner: Option<Arc<str>>,
    ) -> Arc<Entry> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let entry = Arc::new(Entry {
            id: id.clone(),
            parent,
            items,
            owner,
        });
        let kept = entry.clone();
        for (i, item) in entry.items.iter().enumerate() {
            if let Some(item_id) = item_id(item) {
                inner.items.insert(item_id.to_string(), (entry.clone(), i));
            }
        }
        inner.by_id.insert(id.clone(), entry);
        inner.order.push_back(id);
        Self::evict(&mut inner, self.capacity);
        kept
    }

    fn evict(inner: &mut Inner, capacity: usize) {
        while inner.order.len() > capacity {
            let Some(old) = inner.order.pop_front() else {
                break;
            };
            let Some(gone) = inner.by_id.remove(&old) else {
                continue;
            };
            for item in &gone.items {
                // Only if the id still points into this entry (a later turn may repeat it).
                if let Some(item_id) = item_id(item) {
                    if inner
                        .items
                        .get(item_id)
                        .is_some_and(|(e, _)| Arc::ptr_eq(e, &gone))
                    {
                        inner.items.remove(item_id);
                    }
                }
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

    #[test]
    fn earlier_turns_nearest_first_up_to_a_limit() {
        let s = ResponseStore::new(8);
        let _ = s.put("a".into(), None, vec![]);
        let _ = s.put("b".into(), s.get("a"), vec![]);
        let _ = s.put("c".into(), s.get("b"), vec![]);
        let c = s.get("c").unwrap();
        assert_eq!(c.earlier_ids(10), ["b", "a"]);
        assert_eq!(c.earlier_ids(1), ["b"]);
        assert!(s.get("a").unwrap().earlier_ids(10).is_empty());
    }

    #[test]
    fn items_by_id_until_their_response_goes() {
        let s = ResponseStore::new(1);
        s.put(
            "r1".into(),
            None,
            vec![
                json!({"type": "message", "id": "msg_1", "content": "hi"}),
                json!({"no": "id"}),
            ],
        );
        assert_eq!(s.item("msg_1").unwrap()["content"], "hi");
        assert!(s.item("nope").is_none());
        // A later turn repeating the item keeps it reachable after the first turn goes.
        s.put(
            "r2".into(),
            None,
            vec![json!({"type": "message", "id": "msg_1", "content": "again"})],
        );
        assert_eq!(s.item("msg_1").unwrap()["content"], "again");
        s.put("r3".into(), None, vec![]);
        assert!(s.item("msg_1").is_none(), "evicted with its response");
    }
}
