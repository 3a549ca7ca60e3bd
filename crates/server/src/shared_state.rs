//! State shared by the replicas of a gateway: the turns behind `previous_response_id` and
//! `item_reference`, and which provider issued which item. Each replica keeps its own copy in
//! memory ([`ResponseStore`], [`Issuers`]) and the request path only ever reads that copy:
//! what a replica produces is written behind to the shared store (a task fed by a channel),
//! and before a request is handled whatever it names that this replica lacks is loaded
//! (`hydrate`). The store itself (Redis) lives in `plugboard-state-redis`.

use crate::response_store::Entry;
use crate::state::ProxyState;
use futures_util::future::BoxFuture;
use serde_json::value::RawValue;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// One stored turn as the shared store keeps it: the turn it follows and its own items.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTurn {
    pub parent: Option<String>,
    pub items: Vec<Value>,
    /// The gateway user whose conversation it is.
    pub owner: Option<String>,
    /// The turns before it that this replica knows, nearest first (not stored: their expiry
    /// is renewed with this turn's, so that a conversation lives as long as it goes on).
    pub earlier: Vec<String>,
}

/// How many earlier turns a saved turn renews at most.
const RENEWED: usize = 256;

#[derive(Debug, thiserror::Error)]
#[error("shared state store: {0}")]
pub struct StateError(pub String);

pub trait SharedState: Send + Sync + 'static {
    fn save_turn<'a>(
        &'a self,
        id: &'a str,
        turn: StoredTurn,
    ) -> BoxFuture<'a, Result<(), StateError>>;
    fn load_turn<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<StoredTurn>, StateError>>;
    /// The id of the turn holding the item `item_id`.
    fn item_owner<'a>(
        &'a self,
        item_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<String>, StateError>>;
    fn save_issuers<'a>(
        &'a self,
        provider: &'a str,
        keys: Vec<u64>,
    ) -> BoxFuture<'a, Result<(), StateError>>;
    /// The issuing provider of each key, in order.
    fn load_issuers<'a>(
        &'a self,
        keys: &'a [u64],
    ) -> BoxFuture<'a, Result<Vec<Option<String>>, StateError>>;
    /// Whether the store answers (`/ready`).
    fn ping(&self) -> BoxFuture<'_, Result<(), StateError>>;
}

/// What a replica hands to the write-behind task.
pub(crate) enum Write {
    /// A turn, and who waits until it is written (or failed).
    Turn(Arc<Entry>, Option<tokio::sync::oneshot::Sender<()>>),
    Issuers(Arc<str>, Vec<u64>),
}

/// Writes under way at once: the connection multiplexes them, so a burst of finished turns
/// does not queue behind one round trip each.
const CONCURRENT_WRITES: usize = 64;

/// How long a stream's end waits for its turn to reach the shared store.
pub(crate) const WRITE_WAIT: Duration = Duration::from_secs(1);

/// Resolves when a kept turn is in the shared store (or could not be written).
pub struct Written(Option<tokio::sync::oneshot::Receiver<()>>);

impl Written {
    pub(crate) fn none() -> Self {
        Written(None)
    }

    /// Waits at most [`WRITE_WAIT`]; nothing to wait for without a shared store.
    pub(crate) async fn wait(self) {
        if let Some(rx) = self.0 {
            let _ = tokio::time::timeout(WRITE_WAIT, rx).await;
        }
    }
}

/// The sending side, held by the response store and the issuers.
#[derive(Clone)]
pub(crate) struct WriteBehind(mpsc::Sender<Write>);

/// Writes waiting for the shared store at most; beyond, they are dropped (the store is slow
/// or down, and each holds a conversation in memory).
const QUEUED_WRITES: usize = 4096;

impl WriteBehind {
    pub(crate) fn send(&self, w: Write) {
        if self.0.try_send(w).is_err() {
            tracing::warn!("the shared state store is behind: a write was dropped");
        }
    }

    /// Sends a turn and returns what resolves once it is written.
    pub(crate) fn send_turn(&self, entry: Arc<Entry>) -> Written {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.send(Write::Turn(entry, Some(tx)));
        Written(Some(rx))
    }
}

/// Starts the task that writes what this replica produces to the shared store, in order.
/// A failed write is logged and dropped: this replica still has it, another replica would
/// answer a follow-up with "not found" (the documented degradation while the store is down).
pub(crate) fn start_writer(shared: Arc<dyn SharedState>) -> WriteBehind {
    use futures_util::StreamExt;
    let (tx, rx) = mpsc::channel::<Write>(QUEUED_WRITES);
    let writes =
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|w| (w, rx)) });
    tokio::spawn(writes.for_each_concurrent(CONCURRENT_WRITES, move |w| {
        let shared = shared.clone();
        async move {
            let (result, ack) = match w {
                Write::Turn(entry, ack) => {
                    let turn = StoredTurn {
                        parent: entry.parent_id().map(str::to_string),
                        items: entry.items().to_vec(),
                        owner: entry.owner().map(str::to_string),
                        earlier: entry.earlier_ids(RENEWED),
                    };
                    (shared.save_turn(entry.id(), turn).await, ack)
                }
                Write::Issuers(provider, keys) => (shared.save_issuers(&provider, keys).await, None),
            };
            if let Err(e) = result {
                tracing::warn!(error = %e, "not written to the shared state store: other replicas will not find it");
            }
            if let Some(ack) = ack {
                let _ = ack.send(());
            }
        }
    }));
    WriteBehind(tx)
}

/// What a request names that this replica may lack.
pub(crate) struct Named<'r> {
    pub previous: Option<&'r str>,
    pub items: &'r [Box<RawValue>],
    /// Plugboard keeps the conversation for the provider that would serve it (chat, or a
    /// stateless Responses provider): a turn another replica just finished may still be on
    /// its way to the store, so a miss is asked again a few times.
    pub patient: bool,
}

/// The items of an input (none for plain text).
pub(crate) fn items_of(input: &plugboard_wire::responses::Input) -> &[Box<RawValue>] {
    match input {
        plugboard_wire::responses::Input::Items(items) => items,
        plugboard_wire::responses::Input::Text(_) => &[],
    }
}

/// Whether Plugboard keeps the conversation for `target` (a chat provider, or a Responses
/// provider without a store of its own).
pub(crate) fn kept_here(target: &crate::routing::Target<'_>) -> bool {
    target.provider.wire_api == plugboard_config::WireApi::Chat
        || target.responses_dialect.stateless
}

/// How long a follow-up waits, at most, for a turn another replica is still writing.
const PATIENCE: [Duration; 5] = [
    Duration::from_millis(20),
    Duration::from_millis(40),
    Duration::from_millis(80),
    Duration::from_millis(160),
    Duration::from_millis(300),
];

/// Loads into this replica's memory what the request names and only the shared store has.
/// The store down: logged, and the request goes on with what this replica has.
pub(crate) async fn hydrate(state: &ProxyState, named: Named<'_>) {
    let Some(shared) = state.shared.as_ref() else {
        return;
    };
    if let Err(e) = load_named(state, &**shared, &named).await {
        tracing::warn!(error = %e, "the shared state store did not answer: going on with this replica's memory");
    }
}

async fn load_named(
    state: &ProxyState,
    shared: &dyn SharedState,
    named: &Named<'_>,
) -> Result<(), StateError> {
    if let Some(id) = named.previous {
        load_chain(state, shared, id, named.patient).await?;
    }
    for id in crate::references::referenced_ids(named.items) {
        if state.store.item(&id).is_some() {
            continue;
        }
        if let Some(owner) = shared.item_owner(&id).await? {
            load_chain(state, shared, &owner, false).await?;
        }
    }
    let keys: Vec<u64> = plugboard_translate::provenance::keys_of_input(named.items)
        .into_iter()
        .filter(|k| !state.issuers.knows(*k))
        .collect();
    if !keys.is_empty() {
        let found = shared.load_issuers(&keys).await?;
        for (k, provider) in keys.iter().zip(found) {
            if let Some(p) = provider {
                state.issuers.learn(&p, *k);
            }
        }
    }
    Ok(())
}

/// Loads turn `id` and the turns before it that this replica lacks, oldest kept first.
async fn load_chain(
    state: &ProxyState,
    shared: &dyn SharedState,
    id: &str,
    patient: bool,
) -> Result<(), StateError> {
    let mut missing: Vec<(String, StoredTurn)> = Vec::new();
    let mut next = Some(id.to_string());
    while let Some(id) = next.take() {
        if state.store.get(&id).is_some() {
            break;
        }
        let mut turn = shared.load_turn(&id).await?;
        if turn.is_none() && patient && missing.is_empty() {
            for wait in PATIENCE {
                tokio::time::sleep(wait).await;
                turn = shared.load_turn(&id).await?;
                if turn.is_some() {
                    break;
                }
            }
        }
        let Some(turn) = turn else {
            if !missing.is_empty() {
                // An earlier turn expired (or was never shared): a history with a hole would
                // be sent as if whole. Nothing is kept; the request is answered "not found".
                tracing::info!(missing = %id, "a conversation's earlier turn is gone from the shared store");
                return Ok(());
            }
            break;
        };
        next = turn.parent.clone();
        missing.push((id, turn));
        if missing.len() > state.store.capacity() {
            tracing::info!("a conversation longer than this replica keeps: not loaded");
            return Ok(());
        }
    }
    let loaded = missing.len();
    for (id, turn) in missing.into_iter().rev() {
        let parent = turn.parent.as_deref().and_then(|p| state.store.get(p));
        state
            .store
            .insert_loaded(id, parent, turn.items, turn.owner.as_deref().map(Arc::from));
    }
    if loaded > 0 {
        tracing::debug!(
            turns = loaded,
            "conversation loaded from the shared state store"
        );
    }
    Ok(())
}
