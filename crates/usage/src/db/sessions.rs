//! What each session cost: a Codex session (one thread, its subagents included) split by
//! provider and model, against the same tokens all on the session's planner, the dearest
//! model it used. This is the figure a hybrid set-up (GPT plans, an open model executes) is
//! for.

use super::UsageDb;
use crate::prices::PriceTable;
use crate::UsageError;
use serde::Serialize;

/// One provider and model's share of a session.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionPart {
    pub provider: String,
    pub upstream_model: String,
    pub requests: i64,
    pub input_tokens: i64,
    pub cached_tokens: i64,
    pub output_tokens: i64,
    pub cost_usd: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionRow {
    pub session: String,
    pub first_ts_ms: i64,
    pub last_ts_ms: i64,
    pub requests: i64,
    /// Dearest first.
    pub parts: Vec<SessionPart>,
    pub cost_usd: f64,
    /// The dearest priced model the session used; `None` when none was priced.
    pub planner_model: Option<String>,
    /// What the session's tokens would have cost all on the planner model.
    pub cost_if_planner_usd: f64,
    pub saved_usd: f64,
}

/// How dear a model is, for choosing the planner: a million tokens in and a million out.
fn dearness(prices: &PriceTable, model: &str) -> Option<f64> {
    prices.price(model).map(|p| p.input + p.output)
}

impl UsageDb {
    /// The `limit` most recent sessions active since `since_ms`, newest first.
    pub fn sessions(
        &self,
        since_ms: i64,
        limit: usize,
        prices: &PriceTable,
    ) -> Result<Vec<SessionRow>, UsageError> {
        let mut st = self
            .conn
            .prepare_cached(SESSION_PARTS_SQL)
            .map_err(self.sql())?;
        let rows = st
            .query_map(rusqlite::params![since_ms, limit as i64], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    SessionPart {
                        provider: r.get(1)?,
                        upstream_model: r.get(2)?,
                        requests: r.get(3)?,
                        input_tokens: r.get(4)?,
                        cached_tokens: r.get(5)?,
                        output_tokens: r.get(6)?,
                        cost_usd: r.get(7)?,
                    },
                    r.get::<_, i64>(8)?,
                    r.get::<_, i64>(9)?,
                ))
            })
            .map_err(self.sql())?;
        let parts = rows.collect::<Result<Vec<_>, _>>().map_err(self.sql())?;
        Ok(sessions_from_parts(parts, prices))
    }
}

/// The SQL both engines run for [`sessions_from_parts`]: each of the `$2` most recent
/// sessions since `$1`, one row per provider and model.
pub const SESSION_PARTS_SQL: &str =
    "SELECT session, provider, upstream_model, COUNT(*), SUM(input_tokens), SUM(cached_tokens),
     SUM(output_tokens), SUM(cost_usd), MIN(ts), MAX(ts) FROM requests
     WHERE session IN (SELECT session FROM requests WHERE session IS NOT NULL AND ts >= $1
                       GROUP BY session ORDER BY MAX(ts) DESC LIMIT $2)
     GROUP BY session, provider, upstream_model";

/// Sessions from their parts (session, part, first and last time), each priced against its
/// planner, the most recent first.
pub fn sessions_from_parts(
    rows: Vec<(String, SessionPart, i64, i64)>,
    prices: &PriceTable,
) -> Vec<SessionRow> {
    let mut sessions: Vec<SessionRow> = Vec::new();
    for (session, part, first, last) in rows {
        let s = match sessions.iter_mut().find(|s| s.session == session) {
            Some(s) => s,
            None => {
                sessions.push(SessionRow {
                    session,
                    first_ts_ms: first,
                    last_ts_ms: last,
                    requests: 0,
                    parts: Vec::new(),
                    cost_usd: 0.0,
                    planner_model: None,
                    cost_if_planner_usd: 0.0,
                    saved_usd: 0.0,
                });
                sessions.last_mut().expect("just pushed")
            }
        };
        s.first_ts_ms = s.first_ts_ms.min(first);
        s.last_ts_ms = s.last_ts_ms.max(last);
        s.requests += part.requests;
        s.cost_usd += part.cost_usd;
        s.parts.push(part);
    }
    for s in &mut sessions {
        price_against_planner(s, prices);
    }
    sessions.sort_by_key(|s| std::cmp::Reverse(s.last_ts_ms));
    sessions
}

/// The planner (the dearest priced model used) and what the session would have cost on it.
pub(crate) fn price_against_planner(s: &mut SessionRow, prices: &PriceTable) {
    s.parts.sort_by(|a, b| {
        let d = |p: &SessionPart| dearness(prices, &p.upstream_model).unwrap_or(0.0);
        d(b).total_cmp(&d(a))
    });
    s.planner_model = s
        .parts
        .iter()
        .find(|p| dearness(prices, &p.upstream_model).is_some())
        .map(|p| p.upstream_model.clone());
    s.cost_if_planner_usd = match &s.planner_model {
        Some(planner) => s
            .parts
            .iter()
            .map(|p| {
                prices.cost(
                    planner,
                    p.input_tokens as u64,
                    p.cached_tokens as u64,
                    p.output_tokens as u64,
                )
            })
            .sum(),
        None => s.cost_usd,
    };
    s.saved_usd = s.cost_if_planner_usd - s.cost_usd;
}
