//! `plugboard-proxy usage`: totals, per day and provider, latency and savings, and each
//! session's split by provider against all on its planner, from the usage database.

use super::*;

/// The most recent sessions the report lists.
const SESSIONS_SHOWN: usize = 20;

pub(crate) fn usage_report(
    since_days: u32,
    db: Option<PathBuf>,
    config: Option<PathBuf>,
) -> ExitCode {
    let settings = match config
        .or_else(plugboard_config::default_settings_path)
        .filter(|p| p.exists())
    {
        Some(p) => match plugboard_config::load(&p) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("plugboard-proxy: {e}");
                return ExitCode::from(2);
            }
        },
        None => Settings::default(),
    };
    let Some(path) = crate::stores::usage_db_of(db, Some(&settings)) else {
        eprintln!("plugboard-proxy: no data directory on this system: pass --usage-db FILE");
        return ExitCode::from(2);
    };
    if !crate::stores::is_postgres(&path) && !path.exists() {
        eprintln!(
            "plugboard-proxy: no usage history at {} yet",
            path.display()
        );
        return ExitCode::from(2);
    }
    let prices = plugboard_usage::PriceTable::with_overrides(&settings.prices);
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
        - since_days as i64 * 86_400_000;
    let report = (|| -> Result<String, plugboard_usage::UsageError> {
        let mut db = crate::stores::open_usage_store(&path)?;
        let s = db.summary(since, &prices, &settings.compare_model)?;
        let mut out = format!(
            "Usage of the last {since_days} days ({})\n\n  requests        {} ({} failed)\n  input tokens    {} ({} cached)\n  output tokens   {} ({} reasoning)\n  cost            ${:.4}\n  on {:<12}  ${:.4}  (saved ${:.4})\n\n",
            db.describe(), s.requests, s.failed, s.input_tokens, s.cached_tokens, s.output_tokens, s.reasoning_tokens, s.cost_usd, s.compare_model, s.cost_if_compare_usd, s.saved_usd
        );
        out.push_str(&format!(
            "{:<10} {:<16} {:>8} {:>12} {:>12} {:>10}\n",
            "day", "provider", "requests", "input", "output", "cost $"
        ));
        for d in db.daily(since)? {
            out.push_str(&format!(
                "{:<10} {:<16} {:>8} {:>12} {:>12} {:>10.4}\n",
                d.day, d.provider, d.requests, d.input_tokens, d.output_tokens, d.cost_usd
            ));
        }
        out.push_str(&format!(
            "\n{:<16} {:>8} {:>14} {:>14} {:>14}\n",
            "provider", "requests", "first ev p50", "first ev p99", "total p50"
        ));
        for l in db.latency(since)? {
            out.push_str(&format!(
                "{:<16} {:>8} {:>12.1}ms {:>12.1}ms {:>12.1}ms\n",
                l.provider, l.requests, l.first_event_p50_ms, l.first_event_p99_ms, l.total_p50_ms
            ));
        }
        let by_user = db.spend_by_user(since)?;
        if !by_user.is_empty() {
            out.push_str(&format!(
                "\n{:<20} {:<16} {:>8} {:>12} {:>12} {:>10}\n",
                "user", "provider", "requests", "input", "output", "cost $"
            ));
        }
        for u in &by_user {
            out.push_str(&format!(
                "{:<20} {:<16} {:>8} {:>12} {:>12} {:>10.4}\n",
                u.user, u.provider, u.requests, u.input_tokens, u.output_tokens, u.cost_usd
            ));
        }
        let sessions = db.sessions(since, SESSIONS_SHOWN, &prices)?;
        if !sessions.is_empty() {
            out.push_str(&format!(
                "\n{:<38} {:>8} {:>10} {:>22} {:>10}  split by provider\n",
                "session", "requests", "cost $", "all on planner $", "saved $"
            ));
        }
        for s in &sessions {
            let planner = s.planner_model.as_deref().unwrap_or("-");
            let split: Vec<String> = s
                .parts
                .iter()
                .map(|p| {
                    format!(
                        "{} {} ({} req, ${:.4})",
                        p.provider, p.upstream_model, p.requests, p.cost_usd
                    )
                })
                .collect();
            out.push_str(&format!(
                "{:<38} {:>8} {:>10.4} {:>22} {:>10.4}  {}\n",
                s.session,
                s.requests,
                s.cost_usd,
                format!("{:.4} ({planner})", s.cost_if_planner_usd),
                s.saved_usd,
                split.join("; ")
            ));
        }
        Ok(out)
    })();
    match report {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("plugboard-proxy: {e}");
            ExitCode::FAILURE
        }
    }
}
