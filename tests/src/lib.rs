//! The test kit every test crate shares: scripted upstreams on loopback (`upstream`, and
//! `scripted_model`, one that answers like a coding model with chosen quirks), the proxy in
//! process (`proxy`), clients and SSE reading (`client`), free ports and temp homes removed on
//! drop (`home`), the Codex CLI (`codex`), WebDriver (`webdriver`) and the desktop app under it (`desktop`).

pub mod check_report;
pub mod client;
pub mod codex;
pub mod desktop;
pub mod gateway;
pub mod home;
pub mod leak;
pub mod llama_server;
pub mod proxy;
pub mod scripted_model;
pub mod scripted_responses;
mod scripted_socket;
pub mod socket_client;
pub mod two_paths;
pub mod upstream;
pub mod webdriver;

pub use client::*;
pub use home::*;
pub use leak::*;
pub use proxy::*;
pub use upstream::*;
