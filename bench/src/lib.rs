//! Plugboard's benchmark harness: a mock Chat Completions upstream, a load generator that
//! reads every SSE event, the workloads (Codex-like requests), process sampling, and the
//! report. `plugboard-bench run` (via `scripts/bench.sh`) puts it together.

pub mod clock;
pub mod load;
pub mod mock;
pub mod null_relay;
pub mod procstat;
pub mod report;
pub mod runner;
pub mod suite;
pub mod tray;
pub mod workload;
