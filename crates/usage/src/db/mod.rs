//! The database: schema and migrations, inserts, and the queries behind the usage page.

mod queries;
mod sessions;
mod users;

pub use queries::{
    answered_list, latency_from_samples, DayRow, LatencyRow, LogFilter, RequestRow, Summary,
};
pub use sessions::{sessions_from_parts, SessionPart, SessionRow, SESSION_PARTS_SQL};
pub use users::{
    check_budget, check_name, one_user_changed, AccountsSnapshot, UserRow, UserSpend, UsersError,
};

use crate::prices::PriceTable;
use plugboard_core::RequestRecord;
use rusqlite::{params, Connection};
use std::path::Path;
use std::time::Duration;

pub const SCHEMA_VERSION: i64 = 5;

#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    #[error("usage database {path}: {source}")]
    Sql {
        path: String,
        source: rusqlite::Error,
    },
    /// Another engine's error (PostgreSQL), as its driver words it.
    #[error("usage database {at}: {message}")]
    Store { at: String, message: String },
    #[error("usage database {path} has schema {found}, newer than this Plugboard ({supported})")]
    TooNew {
        path: String,
        found: i64,
        supported: i64,
    },
}

pub struct UsageDb {
    conn: Connection,
    path: String,
}

/// Version 1 had no cache, reasoning, cost or attempt columns.
const V1: &str = "CREATE TABLE requests (
    id INTEGER PRIMARY KEY,
    ts INTEGER NOT NULL,
    request_id TEXT NOT NULL,
    route TEXT,
    model TEXT NOT NULL,
    provider TEXT NOT NULL,
    upstream_model TEXT NOT NULL,
    status TEXT NOT NULL,
    error_class TEXT,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    first_event_ms REAL,
    total_ms REAL NOT NULL,
    stream INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX requests_ts ON requests(ts);";

const V1_TO_V2: &str = "ALTER TABLE requests ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
ALTER TABLE requests ADD COLUMN cached_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE requests ADD COLUMN reasoning_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE requests ADD COLUMN cost_usd REAL NOT NULL DEFAULT 0;
CREATE INDEX requests_provider ON requests(provider, ts);";

/// Version 3 marks the requests that stayed on this machine or the local network.
const V2_TO_V3: &str = "ALTER TABLE requests ADD COLUMN local INTEGER NOT NULL DEFAULT 0;";

/// Version 4 keeps the client's session, to price a session's mix of providers.
const V3_TO_V4: &str = "ALTER TABLE requests ADD COLUMN session TEXT;
CREATE INDEX requests_session ON requests(session, ts);";

/// Version 5 is a team gateway's: its users (a token's SHA-256, never the token; a monthly
/// budget) and the user each request is attributed to.
const V4_TO_V5: &str = "ALTER TABLE requests ADD COLUMN user_name TEXT;
CREATE INDEX requests_user ON requests(user_name, ts);
CREATE TABLE users (
    name TEXT PRIMARY KEY,
    token_sha256 BLOB NOT NULL UNIQUE,
    budget_usd REAL,
    created INTEGER NOT NULL
);";

impl UsageDb {
    /// Opens (creating or migrating) the database; WAL so that a crash loses at most the
    /// last transaction and readers never block the writer.
    pub fn open(path: &Path) -> Result<UsageDb, UsageError> {
        let p = path.display().to_string();
        let sql = |source| UsageError::Sql {
            path: p.clone(),
            source,
        };
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let conn = Connection::open(path).map_err(sql)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(sql)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sql)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(sql)?;
        let db = UsageDb {
            conn,
            path: p.clone(),
        };
        db.migrate()?;
        Ok(db)
    }

    /// The file this database is in.
    pub fn path(&self) -> &str {
        &self.path
    }

    fn sql(&self) -> impl Fn(rusqlite::Error) -> UsageError + '_ {
        move |source| UsageError::Sql {
            path: self.path.clone(),
            source,
        }
    }

    fn migrate(&self) -> Result<(), UsageError> {
        let version: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(self.sql())?;
        if version > SCHEMA_VERSION {
            return Err(UsageError::TooNew {
                path: self.path.clone(),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        // Each step in one transaction: a crash mid-migration leaves the old schema.
        let steps: [(i64, &str); 5] = [
            (1, V1),
            (2, V1_TO_V2),
            (3, V2_TO_V3),
            (4, V3_TO_V4),
            (5, V4_TO_V5),
        ];
        for (to, script) in steps.into_iter().filter(|(to, _)| *to > version) {
            let tx = self.conn.unchecked_transaction().map_err(self.sql())?;
            tx.execute_batch(script).map_err(self.sql())?;
            tx.pragma_update(None, "user_version", to)
                .map_err(self.sql())?;
            tx.commit().map_err(self.sql())?;
            tracing::info!(path = %self.path, version = to, "usage database migrated");
        }
        Ok(())
    }

    /// Creates a database at the previous schema (for the migration test).
    pub fn create_v1(path: &Path) -> rusqlite::Result<Connection> {
        let conn = Connection::open(path)?;
        conn.execute_batch(V1)?;
        conn.pragma_update(None, "user_version", 1)?;
        Ok(conn)
    }

    pub fn insert(&self, records: &[RequestRecord], prices: &PriceTable) -> Result<(), UsageError> {
        let tx = self.conn.unchecked_transaction().map_err(self.sql())?;
        {
            let mut st = tx
                .prepare_cached(
                    "INSERT INTO requests (ts, request_id, attempt, route, model, provider, upstream_model, status, error_class,
                     input_tokens, cached_tokens, output_tokens, reasoning_tokens, first_event_ms, total_ms, cost_usd, stream, local, session, user_name)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
                )
                .map_err(self.sql())?;
            for r in records {
                let cost = prices.cost(
                    &r.upstream_model,
                    r.input_tokens,
                    r.cached_tokens,
                    r.output_tokens,
                );
                st.execute(params![
                    r.ts_ms as i64,
                    r.request_id,
                    r.attempt as i64,
                    r.route,
                    r.model,
                    r.provider,
                    r.upstream_model,
                    r.status.as_str(),
                    r.error_class,
                    r.input_tokens as i64,
                    r.cached_tokens as i64,
                    r.output_tokens as i64,
                    r.reasoning_tokens as i64,
                    r.first_event_ms,
                    r.total_ms,
                    cost,
                    r.stream,
                    r.local,
                    r.session,
                    r.user,
                ])
                .map_err(self.sql())?;
            }
        }
        tx.commit().map_err(self.sql())
    }

    /// Deletes rows older than `keep_days`.
    pub fn prune(&self, keep_days: u32, now_ms: i64) -> Result<usize, UsageError> {
        let cutoff = now_ms - keep_days as i64 * 86_400_000;
        self.conn
            .execute("DELETE FROM requests WHERE ts < ?1", [cutoff])
            .map_err(self.sql())
    }
}
