//! The proxy's usage sink: records go over a channel to one writer thread, so a request
//! never waits on the database; queued records are written in one transaction. When the
//! database cannot be written (PostgreSQL down, a full disk) the rows wait in memory, up to
//! a cap, and are written once it answers again.

use crate::db::UsageDb;
use crate::prices::PriceTable;
use crate::store::UsageStore;
use plugboard_core::{RequestRecord, UsageSink};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// Called after each batch of rows is written.
pub type AfterWrite = Arc<dyn Fn() + Send + Sync>;

pub struct UsageRecorder {
    tx: Mutex<Sender<Msg>>,
    /// The last write's error, until a write succeeds (`/ready`).
    failing: Arc<Mutex<Option<String>>>,
    after_write: Arc<RwLock<Option<AfterWrite>>>,
    prices: Arc<RwLock<PriceTable>>,
    path: PathBuf,
}

enum Msg {
    Record(Box<RequestRecord>),
    /// Answered with whether every row sent before it is written.
    Flush(Sender<bool>),
}

/// How long the writer gathers records before one transaction: under load a few hundred rows
/// per commit instead of one, at the cost of history lagging by this much.
const LINGER: Duration = Duration::from_millis(200);
/// How often rows that could not be written are tried again.
const RETRY: Duration = Duration::from_secs(1);
/// The most rows kept while the database is unreachable (the oldest go first beyond it).
const MAX_WAITING: usize = 100_000;

impl UsageRecorder {
    /// A recorder on the SQLite file at `path`.
    pub fn open(path: &Path, prices: PriceTable) -> Result<Arc<UsageRecorder>, crate::UsageError> {
        let db = UsageDb::open(path)?;
        Ok(Self::with_store(Box::new(db), prices))
    }

    /// A recorder on any usage store (a gateway's PostgreSQL).
    pub fn with_store(store: Box<dyn UsageStore>, prices: PriceTable) -> Arc<UsageRecorder> {
        let path = PathBuf::from(store.describe());
        let prices = Arc::new(RwLock::new(prices));
        let (tx, rx) = channel();
        let shared = Shared {
            prices: prices.clone(),
            after: Arc::default(),
            failing: Arc::default(),
        };
        let (after_write, failing) = (shared.after.clone(), shared.failing.clone());
        std::thread::Builder::new()
            .name("plugboard-usage".into())
            .spawn(move || writer(store, rx, shared))
            .expect("spawn the usage writer");
        Arc::new(UsageRecorder {
            tx: Mutex::new(tx),
            failing,
            after_write,
            prices,
            path,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on the writer's thread after each batch is written (a gateway's budgets
    /// read the new spend at once).
    pub fn after_write(&self, f: AfterWrite) {
        *self.after_write.write().unwrap_or_else(|e| e.into_inner()) = Some(f);
    }

    pub fn set_prices(&self, prices: PriceTable) {
        *self.prices.write().unwrap_or_else(|e| e.into_inner()) = prices;
    }

    pub fn prices(&self) -> PriceTable {
        self.prices
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Waits until every record sent so far is in the database (or could not be written).
    pub fn flush(&self) {
        if let Some(rx) = self.ask_flush() {
            let _ = rx.recv();
        }
    }

    /// The same, waiting at most `limit` (before the process exits: a stuck disk must not
    /// hold up Quit); whether everything was written.
    pub fn flush_within(&self, limit: Duration) -> bool {
        self.ask_flush()
            .is_some_and(|rx| rx.recv_timeout(limit) == Ok(true))
    }

    fn ask_flush(&self) -> Option<Receiver<bool>> {
        let (tx, rx) = channel();
        self.tx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(Msg::Flush(tx))
            .ok()
            .map(|_| rx)
    }
}

impl UsageSink for UsageRecorder {
    fn record(&self, r: RequestRecord) {
        let _ = self
            .tx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(Msg::Record(Box::new(r)));
    }

    fn ready(&self) -> Result<(), String> {
        match &*self.failing.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }
}

/// What the writer shares with the recorder.
struct Shared {
    prices: Arc<RwLock<PriceTable>>,
    after: Arc<RwLock<Option<AfterWrite>>>,
    failing: Arc<Mutex<Option<String>>>,
}

fn writer(mut store: Box<dyn UsageStore>, rx: Receiver<Msg>, shared: Shared) {
    // Rows not written yet: the next batch, or what the database refused last time.
    let mut waiting: Vec<RequestRecord> = Vec::new();
    let mut open = true;
    while open {
        let first = if waiting.is_empty() {
            rx.recv().ok()
        } else {
            match rx.recv_timeout(RETRY) {
                Ok(m) => Some(m),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => {
                    open = false;
                    None
                }
            }
        };
        if first.is_none() && waiting.is_empty() {
            return;
        }
        let mut flushes = Vec::new();
        let deadline = Instant::now() + LINGER;
        let mut next = first;
        while let Some(msg) = next.take() {
            match msg {
                Msg::Record(r) => waiting.push(*r),
                // A flush is answered once what came before it is written.
                Msg::Flush(done) => {
                    flushes.push(done);
                    break;
                }
            }
            next = rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .ok();
        }
        if !waiting.is_empty() {
            write(&mut *store, &mut waiting, &shared);
        }
        for f in flushes {
            let _ = f.send(waiting.is_empty());
        }
    }
}

/// After a batch was refused: writes the rows one by one. When some go in, the database is
/// there and the rest it refused for what they hold (one bad row must not hold up every row
/// after it): those are dropped and logged. Whether that was the case.
fn isolate_refused(
    store: &mut dyn UsageStore,
    waiting: &mut Vec<RequestRecord>,
    prices: &PriceTable,
) -> bool {
    let mut refused = Vec::new();
    let mut written = 0;
    for r in waiting.drain(..) {
        match store.insert(std::slice::from_ref(&r), prices) {
            Ok(()) => written += 1,
            Err(e) => refused.push((r, e)),
        }
    }
    if written == 0 {
        waiting.extend(refused.into_iter().map(|(r, _)| r));
        return false;
    }
    for (r, e) in refused {
        tracing::error!(request_id = %r.request_id, error = %e, "a usage row the database refuses was dropped");
    }
    true
}

fn write(store: &mut dyn UsageStore, waiting: &mut Vec<RequestRecord>, shared: &Shared) {
    let prices = shared
        .prices
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    match store.insert(waiting, &prices) {
        Ok(()) => {
            let was_failing = shared
                .failing
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take();
            if was_failing.is_some() {
                tracing::info!(
                    rows = waiting.len(),
                    "usage rows written again after a failure"
                );
            }
            waiting.clear();
            let f = shared
                .after
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            if let Some(f) = f {
                f();
            }
        }
        Err(e) if waiting.len() > 1 && isolate_refused(store, waiting, &prices) => {
            tracing::debug!(error = %e, "a batch was refused for some of its rows only");
        }
        Err(e) => {
            if waiting.len() > MAX_WAITING {
                let dropped = waiting.len() - MAX_WAITING;
                waiting.drain(..dropped);
                tracing::error!(
                    dropped,
                    "usage rows dropped: the database has been unreachable too long"
                );
            }
            let mut failing = shared.failing.lock().unwrap_or_else(|e| e.into_inner());
            if failing.is_none() {
                tracing::warn!(error = %e, rows = waiting.len(), "usage rows not written: kept in memory and tried again every second");
            }
            *failing = Some(e.to_string());
        }
    }
}
