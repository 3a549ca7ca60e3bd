//! The best path for a provider that serves both APIs: Codex's requests translated to Chat
//! Completions, or passed through to its own Responses API with the repairs its dialect
//! names. The check runs every step on both and says which serves Codex better: fewer steps
//! failing for good, then fewer repairs needed, then the clearly quicker run.

use crate::fix::{Fix, FixChange};
use crate::report::{CheckReport, Status, StepId, StepReport};
use plugboard_config::{Provider, WireApi};
use std::time::Duration;

/// One path's run.
pub struct PathRun<'a> {
    pub provider: &'a Provider,
    pub report: &'a CheckReport,
    pub took: Duration,
}

/// (steps failing with no fix, steps failing with a fix): lower is better.
fn score(r: &CheckReport) -> (usize, usize) {
    let failed: Vec<_> = r.failed().collect();
    let unfixable = failed.iter().filter(|s| s.fix.is_none()).count();
    (unfixable, failed.len() - unfixable)
}

fn name(wire: WireApi) -> &'static str {
    match wire {
        WireApi::Chat => "Chat Completions (translated)",
        WireApi::Responses => "Responses (native)",
    }
}

fn said(run: &PathRun) -> String {
    let (unfixable, fixable) = score(run.report);
    let passed = run
        .report
        .steps
        .iter()
        .filter(|s| s.status == Status::Passed)
        .count();
    let mut parts = vec![format!("{passed} steps pass")];
    if fixable > 0 {
        parts.push(format!(
            "{fixable} need{} a repair",
            if fixable == 1 { "s" } else { "" }
        ));
    }
    if unfixable > 0 {
        let first = run
            .report
            .failed()
            .find(|s| s.fix.is_none())
            .map(|s| s.title.as_str())
            .unwrap_or_default();
        parts.push(format!(
            "{unfixable} fail{} ({first})",
            if unfixable == 1 { "s" } else { "" }
        ));
    }
    format!(
        "{}: {} in {:.1} s",
        name(run.provider.wire_api),
        parts.join(", "),
        run.took.as_secs_f64()
    )
}

/// The step that names the better path; with the switch as its fix when that is not the
/// path the provider uses now.
pub fn best_path(current: &PathRun, other: &PathRun) -> StepReport {
    let id = StepId::BestPath;
    let (c, o) = (score(current.report), score(other.report));
    // On a tie the other path must be clearly quicker (a fifth) to be worth a switch: one
    // run's timings are noisy.
    let other_better = o < c || (o == c && other.took * 5 < current.took * 4);
    let both = format!("{}; {}", said(current), said(other));
    if !other_better {
        return StepReport::new(
            id,
            Status::Info,
            format!(
                "{both}. Plugboard keeps {}",
                name(current.provider.wire_api)
            ),
        );
    }
    let fix = match other.provider.wire_api {
        WireApi::Responses => Fix {
            label: "Use Responses (native)".into(),
            change: FixChange::PassThrough,
        },
        WireApi::Chat => Fix {
            label: "Use Chat Completions (translated)".into(),
            change: FixChange::Translate,
        },
    };
    StepReport::new(
        id,
        Status::Warning,
        format!(
            "{both}. {} serves Codex better",
            name(other.provider.wire_api)
        ),
    )
    .with_fix(Some(fix))
}
