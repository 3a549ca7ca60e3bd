//! Usage and cost history: one SQLite row per request attempt (WAL, migrations by
//! `user_version`), a price table, and the summaries the usage page and
//! `plugboard-proxy usage` show.

pub mod accounts;
pub mod db;
pub mod metrics;
pub mod prices;
pub mod recorder;
pub mod store;

pub use accounts::{new_token, token_hash, TeamAccounts};
pub use db::{
    AccountsSnapshot, DayRow, LatencyRow, RequestRow, SessionPart, SessionRow, Summary, UsageDb,
    UsageError, UserRow, UserSpend, UsersError,
};
pub use metrics::{MeteredSink, Metrics};
pub use prices::{Price, PriceTable};
pub use recorder::UsageRecorder;
pub use store::UsageStore;

/// `<OS data dir>/plugboard/usage.sqlite`, shared by the desktop app and the headless proxy.
pub fn default_db_path() -> Option<std::path::PathBuf> {
    directories::ProjectDirs::from("", "", "plugboard").map(|d| d.data_dir().join("usage.sqlite"))
}
