//! The proxy's usage sink: records go over a channel to one writer thread, so a request
//! never waits on the disk; queued records are written in one transaction.

use crate::db::UsageDb;
use crate::prices::PriceTable;
use plugboard_core::{RequestRecord, UsageSink};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Receiver, Sender};
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
    Flush(std::sync::mpsc::Sender<()>),
}

impl UsageRecorder {
    pub fn open(path: &Path, prices: PriceTable) -> Result<Arc<UsageRecorder>, crate::UsageError> {
        let db = UsageDb::open(path)?;
        let prices = Arc::new(RwLock::new(prices));
        let (tx, rx) = channel();
        let p = prices.clone();
        let after_write: Arc<RwLock<Option<AfterWrite>>> = Arc::default();
        let after = after_write.clone();
        let failing: Arc<Mutex<Option<String>>> = Arc::default();
        let f = failing.clone();
        std::thread::Builder::new()
            .name("plugboard-usage".into())
            .spawn(move || writer(db, rx, p, after, f))
            .expect("spawn the usage writer");
        Ok(Arc::new(UsageRecorder {
            tx: Mutex::new(tx),
            failing,
            after_write,
            prices,
            path: path.to_path_buf(),
        }))
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

    /// Waits until every record sent so far is in the database.
    pub fn flush(&self) {
        if let Some(rx) = self.ask_flush() {
            let _ = rx.recv();
        }
    }

    /// The same, waiting at most `limit` (before the process exits: a stuck disk must not
    /// hold up Quit); whether everything was written.
    pub fn flush_within(&self, limit: Duration) -> bool {
        self.ask_flush()
            .is_some_and(|rx| rx.recv_timeout(limit).is_ok())
    }

    fn ask_flush(&self) -> Option<Receiver<()>> {
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

/// How long the writer gathers records before one transaction: under load a few hundred rows
/// per commit instead of one, at the cost of history lagging by this much.
const LINGER: Duration = Duration::from_millis(200);

fn writer(
    db: UsageDb,
    rx: Receiver<Msg>,
    prices: Arc<RwLock<PriceTable>>,
    after: Arc<RwLock<Option<AfterWrite>>>,
    failing: Arc<Mutex<Option<String>>>,
) {
    while let Ok(first) = rx.recv() {
        let mut batch = Vec::new();
        let mut flushes = Vec::new();
        let deadline = Instant::now() + LINGER;
        let mut next = Some(first);
        while let Some(msg) = next.take() {
            match msg {
                Msg::Record(r) => batch.push(*r),
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
        if !batch.is_empty() {
            let prices = prices.read().unwrap_or_else(|e| e.into_inner()).clone();
            match db.insert(&batch, &prices) {
                Ok(()) => {
                    *failing.lock().unwrap_or_else(|e| e.into_inner()) = None;
                    let f = after.read().unwrap_or_else(|e| e.into_inner()).clone();
                    if let Some(f) = f {
                        f();
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, rows = batch.len(), "usage rows not written");
                    *failing.lock().unwrap_or_else(|e| e.into_inner()) = Some(e.to_string());
                }
            }
        }
        for f in flushes {
            let _ = f.send(());
        }
    }
}
