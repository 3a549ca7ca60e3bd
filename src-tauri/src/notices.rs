//! What the tray has to tell the user, said in the window: a failed tray action, or the
//! Codex change to review. The window may not exist yet when the tray acts (a closed window
//! is destroyed), so notices wait here until the page takes them.

use serde::Serialize;
use std::sync::Mutex;
use tauri::{AppHandle, Emitter, Manager};

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", content = "text", rename_all = "snake_case")]
pub enum Notice {
    Error(String),
    /// Show the Codex tab with the change Apply would make.
    CodexReview,
    /// Open the provider form filled from a `plugboard://add-provider` link.
    AddProvider(plugboard_app::share::LinkedProvider),
}

#[derive(Default)]
pub struct Notices(Mutex<Vec<Notice>>);

/// Queues `notice`, opens the window and tells the page to take it.
pub fn post(handle: &AppHandle, notice: Notice) {
    if let Some(n) = handle.try_state::<Notices>() {
        n.0.lock().unwrap_or_else(|e| e.into_inner()).push(notice);
    }
    crate::window::show_settings(handle);
    let _ = handle.emit("notice", ());
}

/// The page takes what waits for it (when it loads, and on each `notice` event).
#[tauri::command]
pub fn take_notices(notices: tauri::State<'_, Notices>) -> Vec<Notice> {
    std::mem::take(&mut *notices.0.lock().unwrap_or_else(|e| e.into_inner()))
}
