//! Start at login: the OS entry (an XDG autostart file on Linux) written or removed, and
//! the state the tray's check item shows.

use plugboard_app::{App, AppError};
use tauri::AppHandle;
use tauri_plugin_autostart::ManagerExt;

/// Writes or removes the OS login entry and remembers the state for the tray check.
pub fn apply(handle: &AppHandle, app: &App, enabled: bool) -> Result<(), AppError> {
    let launcher = handle.autolaunch();
    let result = if enabled {
        launcher.enable()
    } else {
        launcher.disable()
    };
    result.map_err(|e| AppError::Autostart(e.to_string()))?;
    app.set_autostart_flag(launcher.is_enabled().unwrap_or(enabled));
    Ok(())
}
