//! Where usage rows and a gateway's users live, behind one interface: SQLite ([`UsageDb`],
//! the embedded default) or PostgreSQL (`plugboard-usage-postgres`, a gateway's replicas
//! sharing one database). The recorder's writer thread, the accounts reader and the
//! command line use only this; the desktop app's pages read SQLite directly.

use crate::db::{
    AccountsSnapshot, DayRow, LatencyRow, SessionRow, Summary, UsageDb, UserRow, UserSpend,
    UsersError,
};
use crate::prices::PriceTable;
use crate::UsageError;
use plugboard_core::RequestRecord;

/// Every call blocks: it runs on a thread of its own (the writer, the accounts reader) or in
/// a command-line tool, never on the async runtime.
pub trait UsageStore: Send + 'static {
    /// The file, or the URL without its password, for messages.
    fn describe(&self) -> String;
    fn insert(&mut self, records: &[RequestRecord], prices: &PriceTable) -> Result<(), UsageError>;
    fn accounts_snapshot(&mut self) -> Result<AccountsSnapshot, UsageError>;
    fn add_user(
        &mut self,
        name: &str,
        token_sha256: &[u8; 32],
        now_ms: i64,
    ) -> Result<(), UsersError>;
    fn remove_user(&mut self, name: &str) -> Result<(), UsersError>;
    fn set_budget(&mut self, name: &str, usd: Option<f64>) -> Result<(), UsersError>;
    fn users(&mut self) -> Result<Vec<UserRow>, UsageError>;
    fn spend_by_user(&mut self, since_ms: i64) -> Result<Vec<UserSpend>, UsageError>;
    fn daily(&mut self, since_ms: i64) -> Result<Vec<DayRow>, UsageError>;
    fn latency(&mut self, since_ms: i64) -> Result<Vec<LatencyRow>, UsageError>;
    fn summary(
        &mut self,
        since_ms: i64,
        prices: &PriceTable,
        compare_model: &str,
    ) -> Result<Summary, UsageError>;
    fn sessions(
        &mut self,
        since_ms: i64,
        limit: usize,
        prices: &PriceTable,
    ) -> Result<Vec<SessionRow>, UsageError>;
}

impl UsageStore for UsageDb {
    fn describe(&self) -> String {
        self.path().to_string()
    }
    fn insert(&mut self, records: &[RequestRecord], prices: &PriceTable) -> Result<(), UsageError> {
        UsageDb::insert(self, records, prices)
    }
    fn accounts_snapshot(&mut self) -> Result<AccountsSnapshot, UsageError> {
        UsageDb::accounts_snapshot(self)
    }
    fn add_user(
        &mut self,
        name: &str,
        token_sha256: &[u8; 32],
        now_ms: i64,
    ) -> Result<(), UsersError> {
        UsageDb::add_user(self, name, token_sha256, now_ms)
    }
    fn remove_user(&mut self, name: &str) -> Result<(), UsersError> {
        UsageDb::remove_user(self, name)
    }
    fn set_budget(&mut self, name: &str, usd: Option<f64>) -> Result<(), UsersError> {
        UsageDb::set_budget(self, name, usd)
    }
    fn users(&mut self) -> Result<Vec<UserRow>, UsageError> {
        UsageDb::users(self)
    }
    fn spend_by_user(&mut self, since_ms: i64) -> Result<Vec<UserSpend>, UsageError> {
        UsageDb::spend_by_user(self, since_ms)
    }
    fn daily(&mut self, since_ms: i64) -> Result<Vec<DayRow>, UsageError> {
        UsageDb::daily(self, since_ms)
    }
    fn latency(&mut self, since_ms: i64) -> Result<Vec<LatencyRow>, UsageError> {
        UsageDb::latency(self, since_ms)
    }
    fn summary(
        &mut self,
        since_ms: i64,
        prices: &PriceTable,
        compare_model: &str,
    ) -> Result<Summary, UsageError> {
        UsageDb::summary(self, since_ms, prices, compare_model)
    }
    fn sessions(
        &mut self,
        since_ms: i64,
        limit: usize,
        prices: &PriceTable,
    ) -> Result<Vec<SessionRow>, UsageError> {
        UsageDb::sessions(self, since_ms, limit, prices)
    }
}
