//! A team gateway's users in the usage database: name, the SHA-256 of their token (the token
//! itself is shown once and never stored), an optional monthly budget, and what they spent.
//! Months are UTC calendar months, computed by SQLite so that every replica agrees.

use super::UsageDb;
use crate::UsageError;
use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    #[error("a user named `{0}` exists already")]
    Exists(String),
    #[error("no user named `{0}`")]
    NoSuchUser(String),
    #[error("`{0}` is not a user name: 1 to 64 letters, digits, and . _ @ -")]
    BadName(String),
    #[error("`{0}` is not a budget: a number of US dollars, 0 or more")]
    BadBudget(String),
    #[error(transparent)]
    Db(#[from] UsageError),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserRow {
    pub name: String,
    pub budget_usd: Option<f64>,
    pub created_ms: i64,
    /// Spent this UTC month.
    pub spent_month_usd: f64,
}

/// One user's use of one provider over a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserSpend {
    pub user: String,
    pub provider: String,
    pub requests: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cost_usd: f64,
}

/// What the proxy keeps in memory to authorize requests: every user's token hash and budget,
/// and the month's spend.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountsSnapshot {
    pub users: Vec<(String, [u8; 32], Option<f64>)>,
    pub spent: HashMap<String, f64>,
    /// The first day of next month, `YYYY-MM-DD` (UTC).
    pub renews: String,
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '-'))
}

/// A name `users add` accepts.
pub fn check_name(name: &str) -> Result<(), UsersError> {
    if valid_name(name) {
        Ok(())
    } else {
        Err(UsersError::BadName(name.into()))
    }
}

/// A budget `users budget` accepts (`None` lifts it).
pub fn check_budget(usd: Option<f64>) -> Result<(), UsersError> {
    match usd.filter(|v| !v.is_finite() || *v < 0.0) {
        Some(v) => Err(UsersError::BadBudget(v.to_string())),
        None => Ok(()),
    }
}

/// What a change of `rows` rows of `name` means: none changed, no such user.
pub fn one_user_changed(rows: u64, name: &str) -> Result<(), UsersError> {
    if rows == 0 {
        Err(UsersError::NoSuchUser(name.into()))
    } else {
        Ok(())
    }
}

const MONTH_START_MS: &str = "CAST(strftime('%s', 'now', 'start of month') AS INTEGER) * 1000";

impl UsageDb {
    pub fn add_user(
        &self,
        name: &str,
        token_sha256: &[u8; 32],
        now_ms: i64,
    ) -> Result<(), UsersError> {
        check_name(name)?;
        let inserted = self
            .conn
            .execute(
                "INSERT INTO users (name, token_sha256, created) VALUES (?1, ?2, ?3) ON CONFLICT(name) DO NOTHING",
                params![name, &token_sha256[..], now_ms],
            )
            .map_err(self.sql())?;
        if inserted == 0 {
            return Err(UsersError::Exists(name.into()));
        }
        Ok(())
    }

    /// Removes a user; their past rows keep their name.
    pub fn remove_user(&self, name: &str) -> Result<(), UsersError> {
        let n = self
            .conn
            .execute("DELETE FROM users WHERE name = ?1", [name])
            .map_err(self.sql())?;
        one_user_changed(n as u64, name)
    }

    /// Sets (or with `None` lifts) a user's monthly budget in US dollars.
    pub fn set_budget(&self, name: &str, usd: Option<f64>) -> Result<(), UsersError> {
        check_budget(usd)?;
        let n = self
            .conn
            .execute(
                "UPDATE users SET budget_usd = ?2 WHERE name = ?1",
                params![name, usd],
            )
            .map_err(self.sql())?;
        one_user_changed(n as u64, name)
    }

    /// Every user with their budget and this month's spend, by name.
    pub fn users(&self) -> Result<Vec<UserRow>, UsageError> {
        let spent = self.month_spend()?;
        let mut st = self
            .conn
            .prepare("SELECT name, budget_usd, created FROM users ORDER BY name")
            .map_err(self.sql())?;
        let rows = st
            .query_map([], |r| {
                Ok(UserRow {
                    name: r.get(0)?,
                    budget_usd: r.get(1)?,
                    created_ms: r.get(2)?,
                    spent_month_usd: 0.0,
                })
            })
            .map_err(self.sql())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.sql())?;
        Ok(rows
            .into_iter()
            .map(|mut u| {
                u.spent_month_usd = spent.get(&u.name).copied().unwrap_or(0.0);
                u
            })
            .collect())
    }

    fn month_spend(&self) -> Result<HashMap<String, f64>, UsageError> {
        let mut st = self
            .conn
            .prepare_cached(&format!(
                "SELECT user_name, SUM(cost_usd) FROM requests
                 WHERE user_name IS NOT NULL AND ts >= {MONTH_START_MS} GROUP BY user_name"
            ))
            .map_err(self.sql())?;
        let rows = st
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, f64>(1)?)))
            .map_err(self.sql())?
            .collect::<Result<HashMap<_, _>, _>>()
            .map_err(self.sql())?;
        Ok(rows)
    }

    /// What the proxy needs to authorize requests, read in one go.
    pub fn accounts_snapshot(&self) -> Result<AccountsSnapshot, UsageError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT name, token_sha256, budget_usd FROM users")
            .map_err(self.sql())?;
        let users = st
            .query_map([], |r| {
                let hash: Vec<u8> = r.get(1)?;
                Ok((r.get::<_, String>(0)?, hash, r.get::<_, Option<f64>>(2)?))
            })
            .map_err(self.sql())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.sql())?
            .into_iter()
            .filter_map(|(name, hash, budget)| {
                Some((name, <[u8; 32]>::try_from(hash).ok()?, budget))
            })
            .collect();
        let renews: Option<String> = self
            .conn
            .query_row(
                "SELECT date('now', 'start of month', '+1 month')",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.sql())?;
        Ok(AccountsSnapshot {
            users,
            spent: self.month_spend()?,
            renews: renews.unwrap_or_default(),
        })
    }

    /// Each user's requests, tokens and cost per provider since `since_ms`.
    pub fn spend_by_user(&self, since_ms: i64) -> Result<Vec<UserSpend>, UsageError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT user_name, provider, COUNT(*), SUM(input_tokens), SUM(output_tokens), SUM(cost_usd)
                 FROM requests WHERE user_name IS NOT NULL AND ts >= ?1
                 GROUP BY user_name, provider ORDER BY user_name, SUM(cost_usd) DESC",
            )
            .map_err(self.sql())?;
        let rows = st
            .query_map([since_ms], |r| {
                Ok(UserSpend {
                    user: r.get(0)?,
                    provider: r.get(1)?,
                    requests: r.get(2)?,
                    input_tokens: r.get(3)?,
                    output_tokens: r.get(4)?,
                    cost_usd: r.get(5)?,
                })
            })
            .map_err(self.sql())?
            .collect::<Result<Vec<_>, _>>()
            .map_err(self.sql())?;
        Ok(rows)
    }
}
