//! A Codex check's report as lines a failed assertion prints.

use plugboard_check::CheckReport;

/// One line per step: its id, status and sentence.
pub fn show(r: &CheckReport) -> String {
    r.steps
        .iter()
        .map(|s| format!("{:?} {:?}: {}", s.id, s.status, s.detail))
        .collect::<Vec<_>>()
        .join("\n")
}
