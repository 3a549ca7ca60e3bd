//! Everything the desktop app does, without a GUI: the Tauri shell in `src-tauri/` only wires
//! windows, tray and commands to this crate, so all of it is tested without a display.

pub mod check_history;
pub mod codex_view;
pub mod controller;
pub mod error;
pub mod logging;
pub mod providers;
pub mod settings_file;
pub mod share;
pub mod status;
pub mod tray_model;

pub use controller::{App, AppPaths, ProxyStatus, Snapshot};
pub use error::AppError;
