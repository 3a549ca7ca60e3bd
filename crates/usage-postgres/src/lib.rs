//! A gateway's usage history and users in PostgreSQL ([`UsageStore`]): the same table and
//! columns as the embedded SQLite store, created (schema 5) the first time a replica
//! connects, under an advisory lock so that replicas starting together do it once. The
//! connection is made again after the server comes back; every call blocks (the recorder's
//! writer thread, the accounts reader, the command line).

use plugboard_core::RequestRecord;
use plugboard_usage::db::{
    answered_list, check_budget, check_name, latency_from_samples, one_user_changed,
    sessions_from_parts, SESSION_PARTS_SQL,
};
use plugboard_usage::{
    AccountsSnapshot, DayRow, LatencyRow, PriceTable, SessionPart, SessionRow, Summary, UsageError,
    UsageStore, UserRow, UserSpend, UsersError,
};
use postgres::{Client, NoTls};
use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

/// The schema this crate writes: the SQLite store's version with the same columns.
pub const SCHEMA_VERSION: i32 = 5;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS plugboard_schema (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS requests (
    id BIGSERIAL PRIMARY KEY,
    ts BIGINT NOT NULL,
    request_id TEXT NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 1,
    route TEXT,
    model TEXT NOT NULL,
    provider TEXT NOT NULL,
    upstream_model TEXT NOT NULL,
    status TEXT NOT NULL,
    error_class TEXT,
    input_tokens BIGINT NOT NULL DEFAULT 0,
    cached_tokens BIGINT NOT NULL DEFAULT 0,
    output_tokens BIGINT NOT NULL DEFAULT 0,
    reasoning_tokens BIGINT NOT NULL DEFAULT 0,
    first_event_ms DOUBLE PRECISION,
    total_ms DOUBLE PRECISION NOT NULL,
    cost_usd DOUBLE PRECISION NOT NULL DEFAULT 0,
    stream BOOLEAN NOT NULL DEFAULT TRUE,
    local BOOLEAN NOT NULL DEFAULT FALSE,
    session TEXT,
    user_name TEXT
);
CREATE INDEX IF NOT EXISTS requests_ts ON requests(ts);
CREATE INDEX IF NOT EXISTS requests_provider ON requests(provider, ts);
CREATE INDEX IF NOT EXISTS requests_session ON requests(session, ts);
CREATE INDEX IF NOT EXISTS requests_user ON requests(user_name, ts);
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    token_sha256 BYTEA NOT NULL UNIQUE,
    budget_usd DOUBLE PRECISION,
    created BIGINT NOT NULL
);";

/// Start of this UTC month in milliseconds, as SQL.
const MONTH_START_MS: &str =
    "(EXTRACT(EPOCH FROM date_trunc('month', now() AT TIME ZONE 'UTC')) * 1000)::BIGINT";

pub struct PgUsage {
    config: postgres::Config,
    client: Option<Client>,
    /// The URL without its password.
    shown: String,
}

impl PgUsage {
    /// Connects (at most 3 s) and creates the schema if it is not there yet.
    pub fn connect(url: &str) -> Result<PgUsage, UsageError> {
        let shown = plugboard_core::redact_url(url);
        let mut config = postgres::Config::from_str(url).map_err(|e| UsageError::Store {
            at: shown.clone(),
            message: e.to_string(),
        })?;
        config.connect_timeout(Duration::from_secs(3));
        config.application_name("plugboard-proxy");
        // A server that stops answering mid-query must not hold the writer forever.
        config.options("-c statement_timeout=10000");
        config.keepalives(true);
        config.keepalives_idle(Duration::from_secs(30));
        let mut store = PgUsage {
            config,
            client: None,
            shown,
        };
        store.client()?;
        Ok(store)
    }

    fn err(&self, e: impl std::fmt::Display) -> UsageError {
        UsageError::Store {
            at: self.shown.clone(),
            message: e.to_string(),
        }
    }

    /// The connection, made again when the last one broke.
    fn client(&mut self) -> Result<&mut Client, UsageError> {
        if self.client.as_ref().is_none_or(Client::is_closed) {
            let mut client = self.config.connect(NoTls).map_err(|e| self.err(e))?;
            migrate(&mut client).map_err(|e| self.err(e))?;
            self.client = Some(client);
        }
        Ok(self.client.as_mut().expect("just connected"))
    }

    /// Runs `f` on the connection; an error drops it so that the next call connects again.
    fn with<T>(
        &mut self,
        f: impl FnOnce(&mut Client) -> Result<T, postgres::Error>,
    ) -> Result<T, UsageError> {
        let result = f(self.client()?);
        result.map_err(|e| {
            if e.is_closed() || e.as_db_error().is_none() {
                self.client = None;
            }
            self.err(e)
        })
    }
}

fn migrate(client: &mut Client) -> Result<(), postgres::Error> {
    let mut tx = client.transaction()?;
    // One replica at a time creates the tables.
    tx.execute("SELECT pg_advisory_xact_lock(7731580)", &[])?;
    tx.batch_execute(SCHEMA)?;
    let found: Option<i32> = tx
        .query_opt("SELECT max(version) FROM plugboard_schema", &[])?
        .and_then(|r| r.get(0));
    match found {
        None => {
            tx.execute(
                "INSERT INTO plugboard_schema (version) VALUES ($1)",
                &[&SCHEMA_VERSION],
            )?;
        }
        Some(v) if v > SCHEMA_VERSION => {
            // As the SQLite store: a newer schema is not written by an older binary.
            tx.execute(
                "DO $$ BEGIN RAISE EXCEPTION 'the usage database schema is newer than this plugboard-proxy'; END $$",
                &[],
            )?;
        }
        Some(_) => {}
    }
    tx.commit()
}

fn users_err(e: UsageError) -> UsersError {
    UsersError::Db(e)
}

impl UsageStore for PgUsage {
    fn describe(&self) -> String {
        self.shown.clone()
    }

    fn insert(&mut self, records: &[RequestRecord], prices: &PriceTable) -> Result<(), UsageError> {
        self.with(|c| {
            let mut tx = c.transaction()?;
            let st = tx.prepare(
                "INSERT INTO requests (ts, request_id, attempt, route, model, provider, upstream_model, status, error_class,
                 input_tokens, cached_tokens, output_tokens, reasoning_tokens, first_event_ms, total_ms, cost_usd, stream, local, session, user_name)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
            )?;
            // PostgreSQL's text refuses NUL, which a client's model name could carry.
            let clean = |s: &str| -> String { s.replace('\0', "") };
            let opt = |s: &Option<String>| s.as_deref().map(clean);
            for r in records {
                let cost = prices.cost(&r.upstream_model, r.input_tokens, r.cached_tokens, r.output_tokens);
                tx.execute(
                    &st,
                    &[
                        &(r.ts_ms as i64),
                        &clean(&r.request_id),
                        &(r.attempt as i32),
                        &opt(&r.route),
                        &clean(&r.model),
                        &clean(&r.provider),
                        &clean(&r.upstream_model),
                        &clean(&r.status.as_str()),
                        &opt(&r.error_class),
                        &(r.input_tokens as i64),
                        &(r.cached_tokens as i64),
                        &(r.output_tokens as i64),
                        &(r.reasoning_tokens as i64),
                        &r.first_event_ms,
                        &r.total_ms,
                        &cost,
                        &r.stream,
                        &r.local,
                        &opt(&r.session),
                        &opt(&r.user),
                    ],
                )?;
            }
            tx.commit()
        })
    }

    fn accounts_snapshot(&mut self) -> Result<AccountsSnapshot, UsageError> {
        let spent = month_spend(self)?;
        self.with(|c| {
            let users = c
                .query("SELECT name, token_sha256, budget_usd FROM users", &[])?
                .into_iter()
                .filter_map(|r| {
                    let hash: Vec<u8> = r.get(1);
                    Some((r.get::<_, String>(0), <[u8; 32]>::try_from(hash).ok()?, r.get::<_, Option<f64>>(2)))
                })
                .collect();
            let renews: String = c
                .query_one(
                    "SELECT to_char(date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month', 'YYYY-MM-DD')",
                    &[],
                )?
                .get(0);
            Ok(AccountsSnapshot { users, spent, renews })
        })
    }

    fn add_user(
        &mut self,
        name: &str,
        token_sha256: &[u8; 32],
        now_ms: i64,
    ) -> Result<(), UsersError> {
        check_name(name)?;
        let inserted = self
            .with(|c| {
                c.execute(
                    "INSERT INTO users (name, token_sha256, created) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
                    &[&name, &&token_sha256[..], &now_ms],
                )
            })
            .map_err(users_err)?;
        if inserted == 0 {
            return Err(UsersError::Exists(name.into()));
        }
        Ok(())
    }

    fn remove_user(&mut self, name: &str) -> Result<(), UsersError> {
        let n = self
            .with(|c| c.execute("DELETE FROM users WHERE name = $1", &[&name]))
            .map_err(users_err)?;
        one_user_changed(n, name)
    }

    fn set_budget(&mut self, name: &str, usd: Option<f64>) -> Result<(), UsersError> {
        check_budget(usd)?;
        let n = self
            .with(|c| {
                c.execute(
                    "UPDATE users SET budget_usd = $2 WHERE name = $1",
                    &[&name, &usd],
                )
            })
            .map_err(users_err)?;
        one_user_changed(n, name)
    }

    fn users(&mut self) -> Result<Vec<UserRow>, UsageError> {
        let spent = month_spend(self)?;
        self.with(|c| {
            Ok(c.query(
                "SELECT name, budget_usd, created FROM users ORDER BY name",
                &[],
            )?
            .into_iter()
            .map(|r| {
                let name: String = r.get(0);
                UserRow {
                    spent_month_usd: spent.get(&name).copied().unwrap_or(0.0),
                    name,
                    budget_usd: r.get(1),
                    created_ms: r.get(2),
                }
            })
            .collect())
        })
    }

    fn spend_by_user(&mut self, since_ms: i64) -> Result<Vec<UserSpend>, UsageError> {
        self.with(|c| {
            Ok(c.query(
                "SELECT user_name, provider, COUNT(*), SUM(input_tokens)::BIGINT, SUM(output_tokens)::BIGINT, SUM(cost_usd)
                 FROM requests WHERE user_name IS NOT NULL AND ts >= $1
                 GROUP BY user_name, provider ORDER BY user_name, SUM(cost_usd) DESC",
                &[&since_ms],
            )?
            .into_iter()
            .map(|r| UserSpend {
                user: r.get(0),
                provider: r.get(1),
                requests: r.get(2),
                input_tokens: r.get(3),
                output_tokens: r.get(4),
                cost_usd: r.get(5),
            })
            .collect())
        })
    }

    fn daily(&mut self, since_ms: i64) -> Result<Vec<DayRow>, UsageError> {
        self.with(|c| {
            Ok(c.query(
                "SELECT to_char(to_timestamp(ts / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, provider, COUNT(*),
                 SUM(input_tokens)::BIGINT, SUM(cached_tokens)::BIGINT, SUM(output_tokens)::BIGINT,
                 SUM(reasoning_tokens)::BIGINT, SUM(cost_usd)
                 FROM requests WHERE ts >= $1 GROUP BY day, provider ORDER BY day, provider",
                &[&since_ms],
            )?
            .into_iter()
            .map(|r| DayRow {
                day: r.get(0),
                provider: r.get(1),
                requests: r.get(2),
                input_tokens: r.get(3),
                cached_tokens: r.get(4),
                output_tokens: r.get(5),
                reasoning_tokens: r.get(6),
                cost_usd: r.get(7),
            })
            .collect())
        })
    }

    fn latency(&mut self, since_ms: i64) -> Result<Vec<LatencyRow>, UsageError> {
        let samples = self.with(|c| {
            Ok(c.query(
                "SELECT provider, first_event_ms, total_ms FROM requests
                 WHERE ts >= $1 AND first_event_ms IS NOT NULL ORDER BY provider",
                &[&since_ms],
            )?
            .into_iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect())
        })?;
        Ok(latency_from_samples(samples))
    }

    fn summary(
        &mut self,
        since_ms: i64,
        prices: &PriceTable,
        compare_model: &str,
    ) -> Result<Summary, UsageError> {
        let sql = format!(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE status NOT IN ({})),
             COALESCE(SUM(input_tokens), 0)::BIGINT, COALESCE(SUM(cached_tokens), 0)::BIGINT,
             COALESCE(SUM(output_tokens), 0)::BIGINT, COALESCE(SUM(reasoning_tokens), 0)::BIGINT,
             COALESCE(SUM(cost_usd), 0) FROM requests WHERE ts >= $1",
            answered_list()
        );
        let row = self.with(|c| c.query_one(&sql, &[&since_ms]))?;
        let (input, cached, output): (i64, i64, i64) = (row.get(2), row.get(3), row.get(4));
        let cost: f64 = row.get(6);
        let cost_if = prices.cost(compare_model, input as u64, cached as u64, output as u64);
        Ok(Summary {
            requests: row.get(0),
            failed: row.get(1),
            input_tokens: input,
            cached_tokens: cached,
            output_tokens: output,
            reasoning_tokens: row.get(5),
            cost_usd: cost,
            compare_model: compare_model.to_string(),
            cost_if_compare_usd: cost_if,
            saved_usd: cost_if - cost,
        })
    }

    fn sessions(
        &mut self,
        since_ms: i64,
        limit: usize,
        prices: &PriceTable,
    ) -> Result<Vec<SessionRow>, UsageError> {
        let sql = SESSION_PARTS_SQL
            .replace("SUM(input_tokens)", "SUM(input_tokens)::BIGINT")
            .replace("SUM(cached_tokens)", "SUM(cached_tokens)::BIGINT")
            .replace("SUM(output_tokens)", "SUM(output_tokens)::BIGINT");
        let parts = self.with(|c| {
            Ok(c.query(&sql, &[&since_ms, &(limit as i64)])?
                .into_iter()
                .map(|r| {
                    (
                        r.get::<_, String>(0),
                        SessionPart {
                            provider: r.get(1),
                            upstream_model: r.get(2),
                            requests: r.get(3),
                            input_tokens: r.get(4),
                            cached_tokens: r.get(5),
                            output_tokens: r.get(6),
                            cost_usd: r.get(7),
                        },
                        r.get::<_, i64>(8),
                        r.get::<_, i64>(9),
                    )
                })
                .collect())
        })?;
        Ok(sessions_from_parts(parts, prices))
    }
}

fn month_spend(store: &mut PgUsage) -> Result<HashMap<String, f64>, UsageError> {
    let sql = format!(
        "SELECT user_name, SUM(cost_usd) FROM requests
         WHERE user_name IS NOT NULL AND ts >= {MONTH_START_MS} GROUP BY user_name"
    );
    store.with(|c| {
        Ok(c.query(&sql, &[])?
            .into_iter()
            .map(|r| (r.get::<_, String>(0), r.get::<_, f64>(1)))
            .collect())
    })
}
