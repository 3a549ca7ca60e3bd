//! Usage and cost history: one SQLite row per request attempt (WAL, migrations by
//! `user_version`), a price table, and the summaries the usage page and
//! `plugboard-proxy usage` show.

pub mod db;
pub mod prices;
pub mod recorder;

pub use db::{DayRow, LatencyRow, RequestRow, Summary, UsageDb, UsageError};
pub use prices::{Price, PriceTable};
pub use recorder::UsageRecorder;
