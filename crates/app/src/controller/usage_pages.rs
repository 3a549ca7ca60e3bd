//! The usage and requests pages: queries on the usage database, off the async workers.

use super::{now_ms, App};
use crate::AppError;
use serde::Serialize;

/// What the usage page shows.
#[derive(Debug, Clone, Serialize)]
pub struct UsageOverview {
    pub summary: plugboard_usage::Summary,
    pub daily: Vec<plugboard_usage::DayRow>,
    pub latency: Vec<plugboard_usage::LatencyRow>,
    /// The latest sessions, each split by provider against all on its planner.
    pub sessions: Vec<plugboard_usage::SessionRow>,
}

/// The most recent sessions the usage page lists.
const SESSIONS_SHOWN: usize = 12;

impl App {
    /// Runs `query` on the usage database on a blocking thread (SQLite never runs on the
    /// async workers), after the recorder has written what it holds.
    async fn with_usage_db<T: Send + 'static>(
        &self,
        query: impl FnOnce(&plugboard_usage::UsageDb) -> Result<T, plugboard_usage::UsageError>
            + Send
            + 'static,
    ) -> Result<T, AppError> {
        let Some(u) = self.usage.clone() else {
            return Err(AppError::UsageOff);
        };
        tokio::task::spawn_blocking(move || {
            u.flush();
            let db = plugboard_usage::UsageDb::open(u.path())?;
            query(&db)
        })
        .await
        .map_err(|_| AppError::Task("usage query"))?
        .map_err(AppError::Usage)
    }

    /// Totals, tokens and cost per day and provider, latency per provider, over `days`.
    pub async fn usage_overview(&self, days: u32) -> Result<UsageOverview, AppError> {
        let (compare, prices) = {
            let inner = self.inner.lock().await;
            (
                inner.settings.compare_model.clone(),
                plugboard_usage::PriceTable::with_overrides(&inner.settings.prices),
            )
        };
        let since = now_ms() - days as i64 * 86_400_000;
        self.with_usage_db(move |db| {
            Ok(UsageOverview {
                summary: db.summary(since, &prices, &compare)?,
                daily: db.daily(since)?,
                latency: db.latency(since)?,
                sessions: db.sessions(since, SESSIONS_SHOWN, &prices)?,
            })
        })
        .await
    }

    /// The latest request attempts, newest first. A row whose model has no known price (and
    /// did not stay local, where models cost nothing) says so instead of showing $0.
    pub async fn request_log(
        &self,
        limit: usize,
        filter: plugboard_usage::db::LogFilter,
    ) -> Result<Vec<plugboard_usage::RequestRow>, AppError> {
        let settings = self.inner.lock().await.settings.clone();
        let prices = plugboard_usage::PriceTable::with_overrides(&settings.prices);
        let mut rows = self
            .with_usage_db(move |db| db.recent(limit, &filter))
            .await?;
        for r in &mut rows {
            r.priced = is_priced(r, &prices);
            if !r.answered {
                let name = settings
                    .provider(&r.provider)
                    .map_or(r.provider.as_str(), |p| p.display_name());
                r.sentence = Some(crate::status::failure_sentence(
                    &r.status,
                    r.error_class.as_deref(),
                    &r.upstream_model,
                    name,
                ));
            }
        }
        Ok(rows)
    }

    pub async fn set_usage_settings(
        &self,
        compare_model: String,
        retention_days: u32,
    ) -> Result<(), AppError> {
        let mut inner = self.inner.lock().await;
        let mut next = inner.settings.clone();
        next.compare_model = compare_model;
        next.usage_retention_days = retention_days.max(1);
        self.commit(&mut inner, next).await
    }
}

/// Whether a row's cost means something: its model has a price, or it stayed local (local
/// models cost nothing).
fn is_priced(r: &plugboard_usage::RequestRow, prices: &plugboard_usage::PriceTable) -> bool {
    r.local || prices.price(&r.upstream_model).is_some()
}

#[cfg(test)]
mod tests {
    use super::is_priced;

    #[test]
    fn an_unknown_hosted_model_is_unpriced_a_local_one_free() {
        let prices = plugboard_usage::PriceTable::with_overrides(&Default::default());
        let row = |model: &str, local: bool| plugboard_usage::RequestRow {
            ts_ms: 0,
            request_id: "r".into(),
            attempt: 1,
            route: None,
            model: "gpt-5.5".into(),
            provider: "p".into(),
            upstream_model: model.into(),
            status: plugboard_server::Outcome::Completed,
            answered: true,
            error_class: None,
            input_tokens: 1,
            cached_tokens: 0,
            output_tokens: 1,
            reasoning_tokens: 0,
            first_event_ms: None,
            total_ms: 1.0,
            cost_usd: 0.0,
            stream: true,
            local,
            priced: true,
            sentence: None,
        };
        assert!(is_priced(&row("deepseek-chat", false), &prices));
        assert!(!is_priced(&row("my-own-model", false), &prices));
        assert!(is_priced(&row("my-own-model", true), &prices));
    }
}
