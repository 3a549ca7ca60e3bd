//! The desktop shell: a tray icon with the provider switcher, a settings window, autostart
//! and a single instance. The logic lives in `plugboard-app`; this crate only wires it to
//! Tauri's windows, menus and commands.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod autostart;
mod commands;
mod idle_memory;
mod notices;
mod tray;
mod window;

use plugboard_app::{App, AppPaths};
use plugboard_keys::OsKeyring;
use std::sync::Arc;
use tauri::{Manager, RunEvent};
use tauri_plugin_autostart::{MacosLauncher, ManagerExt};

/// Started at login with this flag: stay in the tray, no window.
const MINIMIZED: &str = "--minimized";

/// `plugboard --close-settings`: the running Plugboard closes its window (scripts, the
/// benchmark); with none running, nothing starts.
const CLOSE_SETTINGS: &str = "--close-settings";

/// A `plugboard://add-provider?…` link: the window opens on the provider form, filled in;
/// nothing is saved until the user presses Save. A bad link says why.
fn open_link(handle: &tauri::AppHandle, link: &str) {
    let notice = match plugboard_app::share::parse_link(link) {
        Ok(p) => notices::Notice::AddProvider(p),
        Err(e) => notices::Notice::Error(e.to_string()),
    };
    notices::post(handle, notice);
}

fn main() {
    let Some(paths) = AppPaths::from_os() else {
        eprintln!("plugboard: no home or config directory on this system");
        std::process::exit(1);
    };
    let _log_guard = plugboard_app::logging::init(&paths.log_dir);
    let app = match App::load(paths, Arc::new(OsKeyring)) {
        Ok(a) => Arc::new(a),
        Err(e) => {
            tracing::error!(error = %e, "cannot load the settings");
            eprintln!("plugboard: {e}");
            std::process::exit(1);
        }
    };
    let minimized = std::env::args().any(|a| a == MINIMIZED);
    let close_only = std::env::args().any(|a| a == CLOSE_SETTINGS);

    tauri::Builder::default()
        // A second launch (from the menu, or the desktop opening a plugboard:// link) reaches
        // the running app instead.
        .plugin(tauri_plugin_single_instance::init(
            |handle, args, _cwd| match args.iter().find(|a| a.starts_with("plugboard://")) {
                Some(link) => open_link(handle, link),
                None if args.iter().any(|a| a == CLOSE_SETTINGS) => window::close_settings(handle),
                None => window::show_settings(handle),
            },
        ))
        // However the window goes (its close button, Esc, the tray), the web engine's
        // memory is given back once it is gone.
        .on_window_event(|window, event| {
            if matches!(event, tauri::WindowEvent::Destroyed) && window.label() == window::WINDOW {
                idle_memory::release_after_close(window.app_handle(), window::WINDOW);
            }
        })
        .plugin(tauri_plugin_autostart::init(
            MacosLauncher::LaunchAgent,
            Some(vec![MINIMIZED]),
        ))
        .plugin(tauri_plugin_clipboard_manager::init())
        .plugin(tauri_plugin_opener::init())
        .manage(app.clone())
        .manage(notices::Notices::default())
        .invoke_handler(tauri::generate_handler![
            commands::get_state,
            commands::save_provider,
            commands::delete_provider,
            commands::duplicate_provider,
            commands::set_active,
            commands::list_models,
            commands::test_connection,
            commands::codex_check,
            commands::last_codex_check,
            commands::apply_check_fix,
            commands::set_port,
            commands::proxy_start,
            commands::proxy_stop,
            commands::set_autostart,
            commands::set_routes,
            commands::codex_preview,
            commands::codex_apply,
            commands::codex_hybrid,
            commands::codex_detach,
            commands::dismiss_warnings,
            commands::hide_window,
            commands::set_local_only,
            commands::export_providers,
            commands::import_providers,
            notices::take_notices,
            commands::usage_overview,
            commands::request_log,
            commands::set_usage_settings,
        ])
        .setup(move |tauri_app| {
            if close_only {
                // Reached only when no Plugboard was running: no window to close.
                std::process::exit(0);
            }
            let handle = tauri_app.handle().clone();
            app.set_autostart_flag(handle.autolaunch().is_enabled().unwrap_or(false));
            let status = tauri::async_runtime::block_on(app.start());
            tracing::info!(?status, "Plugboard started");
            tray::create(&handle)?;
            tauri::async_runtime::spawn(tray::follow_changes(handle.clone()));
            if minimized {
                // Started into the tray: what GTK loaded at start to probe the display (the
                // GPU driver and its LLVM) is given back as after a window.
                idle_memory::release_after_close(&handle, window::WINDOW);
            } else {
                window::show_settings(&handle);
            }
            Ok(())
        })
        .build(tauri::generate_context!("../tauri.conf.json"))
        .expect("the Tauri runtime failed")
        .run(|_handle, event| {
            // Closing the window destroys it; Plugboard stays in the tray until Quit (which
            // exits with a code).
            if let RunEvent::ExitRequested { api, code, .. } = event {
                if code.is_none() {
                    api.prevent_exit();
                }
            }
        });
}
