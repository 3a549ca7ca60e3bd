//! The settings window: created when it opens, destroyed when it closes (so that Plugboard
//! waiting in the tray holds no web engine), and told when the app's state changed.

use tauri::{Emitter, Manager};

pub const WINDOW: &str = "main";

/// Opens the settings window, creating its webview if it is not there: a closed window is
/// destroyed, so that Plugboard waiting in the tray holds no web engine in memory.
pub fn show_settings(handle: &tauri::AppHandle) {
    let window = match handle.get_webview_window(WINDOW) {
        Some(w) => w,
        None => {
            let Some(config) = handle
                .config()
                .app
                .windows
                .iter()
                .find(|w| w.label == WINDOW)
            else {
                tracing::error!("no `main` window in tauri.conf.json");
                return;
            };
            match tauri::WebviewWindowBuilder::from_config(handle, config).and_then(|b| b.build()) {
                Ok(w) => w,
                Err(e) => {
                    tracing::error!(error = %e, "the settings window could not be created");
                    return;
                }
            }
        }
    };
    let _ = window.show();
    let _ = window.unminimize();
    let _ = window.set_focus();
}

/// Closes the settings window and frees its webview; Plugboard stays in the tray.
pub fn close_settings(handle: &tauri::AppHandle) {
    if let Some(w) = handle.get_webview_window(WINDOW) {
        let _ = w.destroy();
    }
}

/// Tells the page (when there is one) to read the app's state again.
pub fn push_state(handle: &tauri::AppHandle) {
    let _ = handle.emit("state-changed", ());
}
