//! The reads behind the usage and requests pages: the request log with its filters, tokens
//! and cost per day and provider, latency percentiles, totals and what they would have cost.

use super::UsageDb;
use crate::prices::PriceTable;
use crate::UsageError;
use plugboard_core::Outcome;
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestRow {
    pub ts_ms: i64,
    pub request_id: String,
    pub attempt: i64,
    pub route: Option<String>,
    pub model: String,
    pub provider: String,
    pub upstream_model: String,
    pub status: Outcome,
    /// An answer reached the client (see [`Outcome::answered`]): what the page marks as fine.
    pub answered: bool,
    pub error_class: Option<String>,
    pub input_tokens: i64,
    pub cached_tokens: i64,
    pub output_tokens: i64,
    pub reasoning_tokens: i64,
    pub first_event_ms: Option<f64>,
    pub total_ms: f64,
    pub cost_usd: f64,
    pub stream: bool,
    /// The provider was on this machine or the local network.
    pub local: bool,
    /// A price was known for the upstream model (the cost is not just "no price").
    pub priced: bool,
    /// A failure in a sentence a person can act on (what the window's header says of it);
    /// the caller fills it, knowing the provider's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sentence: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayRow {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    pub provider: String,
    pub requests: i64,
    pub input_tokens: i64,
    pub cached_tokens: i64,
    pub output_tokens: i64,
    pub reasoning_tokens: i64,
    pub cost_usd: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LatencyRow {
    pub provider: String,
    pub requests: usize,
    pub first_event_p50_ms: f64,
    pub first_event_p95_ms: f64,
    pub first_event_p99_ms: f64,
    pub total_p50_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub requests: i64,
    pub failed: i64,
    pub input_tokens: i64,
    pub cached_tokens: i64,
    pub output_tokens: i64,
    pub reasoning_tokens: i64,
    pub cost_usd: f64,
    /// The model the savings compare against.
    pub compare_model: String,
    /// What the same tokens would have cost on `compare_model`.
    pub cost_if_compare_usd: f64,
    pub saved_usd: f64,
}

/// Filters of the request log.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct LogFilter {
    pub status: Option<String>,
    pub provider: Option<String>,
    pub model: Option<String>,
}

impl UsageDb {
    pub fn recent(&self, limit: usize, f: &LogFilter) -> Result<Vec<RequestRow>, UsageError> {
        let mut st = self
            .conn
            .prepare_cached(&format!(
                "SELECT ts, request_id, attempt, route, model, provider, upstream_model, status, error_class, input_tokens,
                 cached_tokens, output_tokens, reasoning_tokens, first_event_ms, total_ms, cost_usd, stream, local FROM requests
                 WHERE (?1 IS NULL OR status = ?1
                        OR (?1 = 'errors' AND status NOT IN ({answered}))
                        OR (?1 = '4xx' AND status LIKE 'error_4%') OR (?1 = '5xx' AND status LIKE 'error_5%')) AND (?2 IS NULL OR provider = ?2) AND (?3 IS NULL OR model = ?3 OR upstream_model = ?3)
                 ORDER BY ts DESC, id DESC LIMIT ?4",
                answered = answered_list()
            ))
            .map_err(self.sql())?;
        let rows = st
            .query_map(params![f.status, f.provider, f.model, limit as i64], |r| {
                let status = Outcome::parse(&r.get::<_, String>(7)?);
                Ok(RequestRow {
                    answered: status.answered(),
                    ts_ms: r.get(0)?,
                    request_id: r.get(1)?,
                    attempt: r.get(2)?,
                    route: r.get(3)?,
                    model: r.get(4)?,
                    provider: r.get(5)?,
                    upstream_model: r.get(6)?,
                    status,
                    error_class: r.get(8)?,
                    input_tokens: r.get(9)?,
                    cached_tokens: r.get(10)?,
                    output_tokens: r.get(11)?,
                    reasoning_tokens: r.get(12)?,
                    first_event_ms: r.get(13)?,
                    total_ms: r.get(14)?,
                    cost_usd: r.get(15)?,
                    stream: r.get(16)?,
                    local: r.get(17)?,
                    // What the caller's price table says; the row alone cannot tell.
                    priced: true,
                    sentence: None,
                })
            })
            .map_err(self.sql())?;
        rows.collect::<Result<_, _>>().map_err(self.sql())
    }

    pub fn daily(&self, since_ms: i64) -> Result<Vec<DayRow>, UsageError> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT date(ts / 1000, 'unixepoch') AS day, provider, COUNT(*), SUM(input_tokens), SUM(cached_tokens),
                 SUM(output_tokens), SUM(reasoning_tokens), SUM(cost_usd) FROM requests WHERE ts >= ?1
                 GROUP BY day, provider ORDER BY day, provider",
            )
            .map_err(self.sql())?;
        let rows = st
            .query_map([since_ms], |r| {
                Ok(DayRow {
                    day: r.get(0)?,
                    provider: r.get(1)?,
                    requests: r.get(2)?,
                    input_tokens: r.get(3)?,
                    cached_tokens: r.get(4)?,
                    output_tokens: r.get(5)?,
                    reasoning_tokens: r.get(6)?,
                    cost_usd: r.get(7)?,
                })
            })
            .map_err(self.sql())?;
        rows.collect::<Result<_, _>>().map_err(self.sql())
    }

    pub fn latency(&self, since_ms: i64) -> Result<Vec<LatencyRow>, UsageError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT provider, first_event_ms, total_ms FROM requests WHERE ts >= ?1 AND first_event_ms IS NOT NULL ORDER BY provider")
            .map_err(self.sql())?;
        let rows = st
            .query_map([since_ms], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, f64>(1)?,
                    r.get::<_, f64>(2)?,
                ))
            })
            .map_err(self.sql())?;
        let samples = rows.collect::<Result<Vec<_>, _>>().map_err(self.sql())?;
        Ok(latency_from_samples(samples))
    }

    /// Totals since `since_ms`, and what the same tokens would have cost on `compare_model`.
    pub fn summary(
        &self,
        since_ms: i64,
        prices: &PriceTable,
        compare_model: &str,
    ) -> Result<Summary, UsageError> {
        let (requests, failed, input, cached, output, reasoning, cost): (i64, i64, i64, i64, i64, i64, f64) = self
            .conn
            .query_row(
                &format!("SELECT COUNT(*), COALESCE(SUM(status NOT IN ({})), 0),
                 COALESCE(SUM(input_tokens), 0), COALESCE(SUM(cached_tokens), 0), COALESCE(SUM(output_tokens), 0),
                 COALESCE(SUM(reasoning_tokens), 0), COALESCE(SUM(cost_usd), 0) FROM requests WHERE ts >= ?1", answered_list()),
                [since_ms],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)),
            )
            .optional()
            .map_err(self.sql())?
            .unwrap_or_default();
        let cost_if = prices.cost(compare_model, input as u64, cached as u64, output as u64);
        Ok(Summary {
            requests,
            failed,
            input_tokens: input,
            cached_tokens: cached,
            output_tokens: output,
            reasoning_tokens: reasoning,
            cost_usd: cost,
            compare_model: compare_model.to_string(),
            cost_if_compare_usd: cost_if,
            saved_usd: cost_if - cost,
        })
    }
}

/// Percentiles per provider from (provider, first event ms, total ms) samples.
pub fn latency_from_samples(samples: Vec<(String, f64, f64)>) -> Vec<LatencyRow> {
    let mut by: std::collections::BTreeMap<String, (Vec<f64>, Vec<f64>)> = Default::default();
    for (p, fe, tot) in samples {
        let e = by.entry(p).or_default();
        e.0.push(fe);
        e.1.push(tot);
    }
    by.into_iter()
        .map(|(provider, (mut fe, mut tot))| {
            fe.sort_by(f64::total_cmp);
            tot.sort_by(f64::total_cmp);
            let pct = |v: &[f64], p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
            LatencyRow {
                provider,
                requests: fe.len(),
                first_event_p50_ms: pct(&fe, 0.5),
                first_event_p95_ms: pct(&fe, 0.95),
                first_event_p99_ms: pct(&fe, 0.99),
                total_p50_ms: pct(&tot, 0.5),
            }
        })
        .collect()
}

/// The statuses that are an answer, as an SQL list: `'completed', 'incomplete', ...`.
pub fn answered_list() -> &'static str {
    static LIST: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    LIST.get_or_init(|| {
        Outcome::ANSWERED
            .iter()
            .map(|o| format!("'{o}'"))
            .collect::<Vec<_>>()
            .join(", ")
    })
}
