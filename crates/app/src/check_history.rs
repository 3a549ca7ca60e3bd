//! The last Codex check of each provider and model, kept in `codex-checks.json` beside the
//! settings file, and the badge the providers list shows for it.

use plugboard_check::CheckReport;
use plugboard_config::Provider;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// How many reports are kept (one per provider and model; the oldest go first).
const KEPT: usize = 64;

/// What the providers list shows of a provider's last check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckBadge {
    pub passed: bool,
    /// "Codex check passed", "2 of 6 Codex check steps failed".
    pub summary: String,
    pub model: String,
    pub checked_at: u64,
    /// The provider changed since (address, API, dialect, window): the result may not hold.
    pub stale: bool,
}

pub struct CheckHistory {
    path: PathBuf,
    reports: Mutex<Vec<CheckReport>>,
    /// Serialises writes of the file (two checks may end at once).
    writing: Arc<Mutex<()>>,
}

impl CheckHistory {
    /// Reads the file once, at start; a missing or unreadable one is an empty history (the
    /// results are a convenience, never worth refusing to start over).
    pub fn load(path: PathBuf) -> CheckHistory {
        let reports = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::warn!(path = %path.display(), error = %e, "Codex check history unreadable; starting empty");
                Vec::new()
            }),
            Err(_) => Vec::new(),
        };
        CheckHistory {
            path,
            reports: Mutex::new(reports),
            writing: Arc::default(),
        }
    }

    fn reports(&self) -> std::sync::MutexGuard<'_, Vec<CheckReport>> {
        self.reports.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The newest report for a provider, whatever the model.
    pub fn latest(&self, provider_id: &str) -> Option<CheckReport> {
        self.reports()
            .iter()
            .filter(|r| r.provider_id == provider_id)
            .max_by_key(|r| r.checked_at)
            .cloned()
    }

    pub fn badge(&self, p: &Provider) -> Option<CheckBadge> {
        self.latest(&p.id).map(|r| CheckBadge {
            passed: r.passed(),
            summary: r.summary(),
            model: r.model.clone(),
            checked_at: r.checked_at,
            stale: r.fingerprint != plugboard_check::fingerprint(p),
        })
    }

    /// Keeps `report` in place of the one for the same provider and model, then writes the
    /// file on a blocking thread.
    pub async fn record(&self, report: CheckReport) {
        let text = {
            let mut all = self.reports();
            all.retain(|r| !(r.provider_id == report.provider_id && r.model == report.model));
            all.push(report);
            if all.len() > KEPT {
                all.sort_by_key(|r| std::cmp::Reverse(r.checked_at));
                all.truncate(KEPT);
            }
            serde_json::to_vec_pretty(&*all).expect("reports serialize")
        };
        self.write(text).await;
    }

    /// Forgets a deleted provider's results.
    pub async fn forget(&self, provider_id: &str) {
        let text = {
            let mut all = self.reports();
            let before = all.len();
            all.retain(|r| r.provider_id != provider_id);
            if all.len() == before {
                return;
            }
            serde_json::to_vec_pretty(&*all).expect("reports serialize")
        };
        self.write(text).await;
    }

    async fn write(&self, text: Vec<u8>) {
        let (path, writing) = (self.path.clone(), self.writing.clone());
        let result = tokio::task::spawn_blocking(move || {
            let _one = writing.lock().unwrap_or_else(|e| e.into_inner());
            plugboard_config::atomic_file::write_atomic(
                &path,
                &text,
                plugboard_config::atomic_file::Mode::Private,
            )
        })
        .await;
        if let Ok(Err(e)) = result {
            tracing::warn!(path = %self.path.display(), error = %e, "Codex check history not saved");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plugboard_check::{Status, StepId, StepReport};

    fn report(provider: &str, model: &str, at: u64, ok: bool, p: &Provider) -> CheckReport {
        CheckReport {
            provider_id: provider.into(),
            provider_name: provider.into(),
            model: model.into(),
            checked_at: at,
            fingerprint: plugboard_check::fingerprint(p),
            steps: vec![StepReport::new(
                StepId::ShellCall,
                if ok { Status::Passed } else { Status::Failed },
                "x",
            )],
        }
    }

    #[tokio::test]
    async fn results_are_kept_per_provider_and_model_across_restarts() {
        let dir = std::env::temp_dir().join(format!("plugboard-checks-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("codex-checks.json");
        let mut p = Provider::from_preset("box", "ollama").unwrap();
        let h = CheckHistory::load(path.clone());
        assert!(h.badge(&p).is_none());
        h.record(report("box", "a", 10, false, &p)).await;
        h.record(report("box", "b", 20, true, &p)).await;
        h.record(report("box", "a", 30, true, &p)).await;
        let h = CheckHistory::load(path.clone());
        assert_eq!(h.reports().len(), 2, "one per provider and model");
        let b = h.badge(&p).unwrap();
        assert_eq!((b.passed, b.model.as_str(), b.stale), (true, "a", false));
        p.context_window = Some(8192);
        assert!(h.badge(&p).unwrap().stale, "the provider changed since");
        h.forget("box").await;
        assert!(CheckHistory::load(path.clone()).badge(&p).is_none());
        std::fs::write(&path, "not json").unwrap();
        assert!(
            CheckHistory::load(path).badge(&p).is_none(),
            "a broken file is an empty history"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
