//! The local proxy: an axum server on loopback that takes Responses API requests, routes them
//! by model name to a provider, and either translates them to Chat Completions or passes
//! them through, streaming every event as soon as the upstream sends it.

mod chat_bridge;
mod codex_login;
mod compact;
mod connections;
mod cooldown;
mod endpoint;
pub mod error;
mod failover;
mod guard;
mod handlers;
mod issuers;
pub mod lifecycle;
pub mod listener;
pub mod local_only;
mod passthrough;
mod references;
mod request_log;
pub mod response_store;
pub mod routing;
mod server;
pub mod shared_state;
mod state;
mod stateless;
mod upstream;
mod upstream_socket;
mod websocket;

pub use lifecycle::STOPPING_CODE;
pub use local_only::{HostResolver, StaticHosts, SystemResolver};
pub use plugboard_core::{keys, ApiKey, EnvKeys, KeyError, KeySource, Outcome};
pub use plugboard_core::{
    Accounts, BudgetSpent, Caller, MetricsExport, Refusal, RequestRecord, UsageSink,
};
pub use routing::{RouteTable, SettingsError, Target};
pub use server::{start, ProxyHandle, ServeOptions, StartError, StopReport, Stopping};
pub use shared_state::{SharedState, StateError, StoredTurn};
