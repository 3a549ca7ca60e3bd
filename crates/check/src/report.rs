//! What a check found, step by step, as data the window, the CLI and the badge share.

use crate::fix::Fix;
use plugboard_config::Provider;
use serde::{Deserialize, Serialize};

/// The steps, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepId {
    StreamedText,
    ShellCall,
    ToolResult,
    ApplyPatch,
    Usage,
    /// A follow-up by `previous_response_id` (providers reached over Responses only).
    Continuation,
    ContextWindow,
    NativeResponses,
    /// Which of the two APIs serves Codex better, for a provider that serves both.
    BestPath,
}

impl StepId {
    pub fn title(self) -> &'static str {
        match self {
            StepId::StreamedText => "Streamed text",
            StepId::ShellCall => "Shell call (exec_command, valid JSON)",
            StepId::ToolResult => "Tool result round trip",
            StepId::ApplyPatch => "apply_patch (freeform patch)",
            StepId::Usage => "Usage reported",
            StepId::Continuation => "Continuation (previous_response_id)",
            StepId::ContextWindow => "Context window",
            StepId::NativeResponses => "Responses API",
            StepId::BestPath => "Best path",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Passed,
    /// Codex works, but not the way it should (e.g. edits through the shell): said, not failed.
    Warning,
    Failed,
    /// Not run, because a step it needs failed.
    Skipped,
    /// Nothing to pass or fail: something worth knowing (the provider also speaks Responses).
    Info,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepReport {
    pub id: StepId,
    pub title: String,
    pub status: Status,
    /// What happened, in a sentence; a failure keeps the provider's own words.
    pub detail: String,
    /// The switch Plugboard has for this failure, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
}

impl StepReport {
    pub fn new(id: StepId, status: Status, detail: impl Into<String>) -> Self {
        Self {
            id,
            title: id.title().to_string(),
            status,
            detail: detail.into(),
            fix: None,
        }
    }

    pub fn with_fix(mut self, fix: Option<Fix>) -> Self {
        self.fix = fix;
        self
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckReport {
    pub provider_id: String,
    pub provider_name: String,
    /// The upstream model checked.
    pub model: String,
    /// Seconds since the Unix epoch, when the check ended.
    pub checked_at: u64,
    /// The provider's settings the check ran with (see [`fingerprint`]): a badge for other
    /// settings is out of date.
    pub fingerprint: String,
    pub steps: Vec<StepReport>,
}

impl CheckReport {
    /// No step failed (warnings and notes do not count).
    pub fn passed(&self) -> bool {
        !self.steps.iter().any(|s| s.status == Status::Failed)
    }

    pub fn step(&self, id: StepId) -> Option<&StepReport> {
        self.steps.iter().find(|s| s.id == id)
    }

    pub fn failed(&self) -> impl Iterator<Item = &StepReport> {
        self.steps.iter().filter(|s| s.status == Status::Failed)
    }

    /// The fixes offered, one per failed step that has one.
    pub fn fixes(&self) -> Vec<Fix> {
        let mut out: Vec<Fix> = Vec::new();
        for f in self.failed().filter_map(|s| s.fix.clone()) {
            if !out.contains(&f) {
                out.push(f);
            }
        }
        out
    }

    /// One line for a badge: "Codex check passed" or "2 of 6 steps failed".
    pub fn summary(&self) -> String {
        let ran = self
            .steps
            .iter()
            .filter(|s| !matches!(s.status, Status::Info))
            .count();
        let failed = self.failed().count();
        let skipped = self
            .steps
            .iter()
            .filter(|s| s.status == Status::Skipped)
            .count();
        match (failed, skipped) {
            (0, 0) => "Codex check passed".to_string(),
            (0, s) => format!("Codex check passed ({s} skipped)"),
            (f, _) => format!("{f} of {ran} Codex check steps failed"),
        }
    }
}

/// What of a provider's settings changes a check's outcome (address, API, dialect, headers,
/// window), as a short stable text; its name and model map do not. Keys are not in it.
pub fn fingerprint(p: &Provider) -> String {
    let basis = serde_json::json!({
        "base_url": p.base_url,
        "wire_api": p.wire_api,
        "preset": p.preset,
        "dialect": p.dialect().ok(),
        "headers": p.headers,
        "context_window": p.context_window,
    })
    .to_string();
    // FNV-1a: stable across builds and platforms, unlike std's hasher.
    let mut h: u64 = 0xcbf29ce484222325;
    for b in basis.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_follows_what_changes_the_outcome() {
        let p = Provider::from_preset("ds", "deepseek").unwrap();
        let mut renamed = p.clone();
        renamed.name = "Mine".into();
        renamed.model_map.clear();
        assert_eq!(fingerprint(&p), fingerprint(&renamed));
        let mut fixed = p.clone();
        fixed.dialect.insert("text_tool_calls".into(), true.into());
        assert_ne!(fingerprint(&p), fingerprint(&fixed));
        let mut moved = p.clone();
        moved.base_url = "http://127.0.0.1:1/v1".into();
        assert_ne!(fingerprint(&p), fingerprint(&moved));
    }

    #[test]
    fn summary_counts_failures_not_notes() {
        let mut r = CheckReport {
            provider_id: "p".into(),
            provider_name: "P".into(),
            model: "m".into(),
            checked_at: 0,
            fingerprint: String::new(),
            steps: vec![
                StepReport::new(StepId::StreamedText, Status::Passed, "ok"),
                StepReport::new(StepId::NativeResponses, Status::Info, "chat only"),
            ],
        };
        assert!(r.passed());
        assert_eq!(r.summary(), "Codex check passed");
        r.steps
            .push(StepReport::new(StepId::Usage, Status::Failed, "no usage"));
        assert!(!r.passed());
        assert_eq!(r.summary(), "1 of 2 Codex check steps failed");
    }
}
