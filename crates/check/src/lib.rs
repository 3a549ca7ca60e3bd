//! The Codex check: before a user's first Codex session on a model, run the provider through
//! what Codex will ask of it (streamed text, a shell call with valid JSON, a tool result sent
//! back with the reasoning, a freeform `apply_patch`, usage, the context window) and say in a
//! sentence what fails, with the switch that fixes it where Plugboard has one.
//!
//! Every request goes through Plugboard's own proxy (started on a free loopback port with
//! just this provider), so the check sees what Codex would see: the same translation, the
//! same dialect, the same local-only refusal.

mod codex_tools;
mod continuation;
mod diagnose;
mod fix;
mod native;
mod patch;
mod paths;
pub mod provider_probe;
mod report;
mod run;
mod steps;
mod turn;
mod window;

pub use fix::{Fix, FixChange, FixError};
pub use native::speaks_responses;
pub use patch::{check_patch, PatchError};
pub use report::{fingerprint, CheckReport, Status, StepId, StepReport};
pub use run::{check_and_fix, check_provider, CheckError, CheckOptions};
pub use window::{window_from_error, window_from_model_list};
