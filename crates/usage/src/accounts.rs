//! The proxy's view of a team gateway's users ([`Accounts`]): tokens and budgets from the
//! usage database, kept in memory and read again every few seconds on a thread of its own,
//! so that a request never waits on the database and every replica sharing the database
//! sees users added, budgets changed and the month's spend within that period.

use crate::db::{AccountsSnapshot, UsageDb};
use crate::store::UsageStore;
use crate::UsageError;
use plugboard_core::{Accounts, BudgetSpent, Caller, Refusal};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

/// How old the users and spend may be before budgets fail closed (the store has not
/// answered for this long: many reads missed).
const STALE: Duration = Duration::from_secs(30);
/// The least time between two reads of the users and spend.
const MIN_READ_GAP: Duration = Duration::from_millis(500);

/// A new user token: 24 bytes from the OS's generator, URL-safe, with a prefix that says
/// what it is (as secret scanners expect of API tokens).
pub fn new_token() -> Result<String, getrandom::Error> {
    use base64::Engine;
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes)?;
    Ok(format!(
        "pbu_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

/// What the database keeps of a token. Tokens are random and long, so a plain SHA-256
/// cannot be reversed; a slow hash would only slow every request.
pub fn token_hash(token: &[u8]) -> [u8; 32] {
    Sha256::digest(token).into()
}

struct Known {
    /// When the store last answered.
    read_at: Instant,
    /// The users defined now.
    names: std::collections::HashSet<Caller>,
    by_hash: HashMap<[u8; 32], Caller>,
    budgets: HashMap<Caller, f64>,
    spent: HashMap<Caller, f64>,
    renews: String,
}

impl Known {
    fn from(s: AccountsSnapshot) -> Self {
        let mut k = Known {
            read_at: Instant::now(),
            names: Default::default(),
            by_hash: HashMap::new(),
            budgets: HashMap::new(),
            spent: HashMap::new(),
            renews: s.renews,
        };
        for (name, hash, budget) in s.users {
            let caller = Caller(Arc::from(name.as_str()));
            if let Some(b) = budget {
                k.budgets.insert(caller.clone(), b);
            }
            if let Some(spent) = s.spent.get(&name) {
                k.spent.insert(caller.clone(), *spent);
            }
            k.names.insert(caller.clone());
            k.by_hash.insert(hash, caller);
        }
        k
    }
}

pub struct TeamAccounts {
    known: Arc<RwLock<Known>>,
    /// Wakes the reader before its period is up (this replica just wrote spend).
    poke: Mutex<Sender<()>>,
}

impl TeamAccounts {
    /// Reads the users once now (an error here stops the start: a gateway must not run
    /// open by accident), then every `every` until dropped. A failed later read keeps the
    /// last users and spend, and is logged.
    pub fn open(path: &Path, every: Duration) -> Result<Arc<TeamAccounts>, UsageError> {
        Self::with_store(Box::new(UsageDb::open(path)?), every)
    }

    /// The same on any usage store (a gateway's PostgreSQL).
    pub fn with_store(
        mut db: Box<dyn UsageStore>,
        every: Duration,
    ) -> Result<Arc<TeamAccounts>, UsageError> {
        let known = Arc::new(RwLock::new(Known::from(db.accounts_snapshot()?)));
        let weak = Arc::downgrade(&known);
        let (poke, woken) = channel();
        std::thread::Builder::new()
            .name("plugboard-accounts".into())
            .spawn(move || refresh(db, weak, woken, every))
            .expect("spawn the accounts reader");
        Ok(Arc::new(TeamAccounts {
            known,
            poke: Mutex::new(poke),
        }))
    }

    /// Reads users and spend again now, not at the end of the period: called once this
    /// replica's usage rows are written, so that its own users' budgets hold at once.
    pub fn refresh_now(&self) {
        let _ = self.poke.lock().unwrap_or_else(|e| e.into_inner()).send(());
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Known> {
        self.known.read().unwrap_or_else(|e| e.into_inner())
    }
}

fn refresh(
    mut db: Box<dyn UsageStore>,
    known: Weak<RwLock<Known>>,
    woken: Receiver<()>,
    every: Duration,
) {
    loop {
        if let Err(RecvTimeoutError::Disconnected) = woken.recv_timeout(every) {
            return;
        }
        // Under load rows are written every 200 ms: one read per half second is enough.
        std::thread::sleep(MIN_READ_GAP);
        // Several pokes in a row make one read.
        while woken.try_recv().is_ok() {}
        let Some(known) = known.upgrade() else {
            return;
        };
        match db.accounts_snapshot() {
            Ok(s) => *known.write().unwrap_or_else(|e| e.into_inner()) = Known::from(s),
            Err(e) => {
                tracing::warn!(error = %e, "users and budgets not read again: keeping the last ones")
            }
        }
    }
}

impl Accounts for TeamAccounts {
    fn enabled(&self) -> bool {
        !self.read().by_hash.is_empty()
    }

    fn identify(&self, token: &[u8]) -> Option<Caller> {
        let hash = token_hash(token);
        self.read().by_hash.get(&hash).cloned()
    }

    fn refusal(&self, caller: &Caller) -> Option<Refusal> {
        let k = self.read();
        if !k.names.contains(caller) {
            return Some(Refusal::Removed);
        }
        let budget = *k.budgets.get(caller)?;
        let stale = k.read_at.elapsed();
        if stale > STALE {
            return Some(Refusal::Unverifiable {
                stale_secs: stale.as_secs(),
            });
        }
        let spent = k.spent.get(caller).copied().unwrap_or(0.0);
        (spent >= budget).then(|| {
            Refusal::Spent(BudgetSpent {
                budget_usd: budget,
                spent_usd: spent,
                renews: k.renews.clone(),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accounts(spent: f64, read_ago: Duration) -> (TeamAccounts, Caller) {
        let mut known = Known::from(AccountsSnapshot {
            users: vec![("ann".into(), token_hash(b"t"), Some(1.0))],
            spent: [("ann".to_string(), spent)].into(),
            renews: "2027-01-01".into(),
        });
        known.read_at = Instant::now().checked_sub(read_ago).unwrap();
        let (poke, _) = channel();
        let a = TeamAccounts {
            known: Arc::new(RwLock::new(known)),
            poke: Mutex::new(poke),
        };
        let caller = a.identify(b"t").expect("the token is ann's");
        (a, caller)
    }

    #[test]
    fn a_budget_is_refused_when_spent_and_when_it_cannot_be_checked() {
        let (a, ann) = accounts(0.5, Duration::ZERO);
        assert_eq!(a.refusal(&ann), None);
        assert!(a.identify(b"other").is_none());
        let (a, ann) = accounts(1.0, Duration::ZERO);
        assert!(matches!(a.refusal(&ann), Some(Refusal::Spent(s)) if s.renews == "2027-01-01"));
        // The store silent for longer than STALE: fail closed.
        let (a, ann) = accounts(0.5, STALE + Duration::from_secs(1));
        assert!(
            matches!(a.refusal(&ann), Some(Refusal::Unverifiable { stale_secs }) if stale_secs > 30)
        );
    }

    #[test]
    fn tokens_are_long_random_and_prefixed() {
        let (a, b) = (new_token().unwrap(), new_token().unwrap());
        assert_ne!(a, b);
        assert!(a.starts_with("pbu_") && a.len() == 36, "{a}");
        assert_ne!(token_hash(a.as_bytes()), token_hash(b.as_bytes()));
    }
}
