//! The tray icon: its menu is rebuilt from `plugboard_app::tray_model` on every change.

use plugboard_app::tray_model::{self, MenuItem as Model, TrayAction};
use plugboard_app::App;
use std::sync::Arc;
use tauri::image::Image;
use tauri::menu::{CheckMenuItem, IsMenuItem, Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Emitter, Manager, Wry};
use tauri_plugin_autostart::ManagerExt;
use tauri_plugin_clipboard_manager::ClipboardExt;
use tauri_plugin_opener::OpenerExt;

const TRAY_ID: &str = "plugboard";

pub fn create(handle: &AppHandle) -> tauri::Result<()> {
    let icon = Image::from_bytes(include_bytes!("../../icons/tray.png"))?;
    let snapshot = tauri::async_runtime::block_on(app(handle).snapshot());
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon)
        .tooltip(tray_model::tooltip(&snapshot))
        .menu(&build_menu(handle, &tray_model::menu(&snapshot))?)
        .show_menu_on_left_click(true)
        .on_menu_event(|handle, event| {
            if let Some(action) = TrayAction::from_id(event.id().as_ref()) {
                let handle = handle.clone();
                tauri::async_runtime::spawn(async move { act(&handle, action).await });
            }
        })
        .build(handle)?;
    Ok(())
}

fn app(handle: &AppHandle) -> Arc<App> {
    handle.state::<Arc<App>>().inner().clone()
}

fn build_menu(handle: &AppHandle, items: &[Model]) -> tauri::Result<Menu<Wry>> {
    let menu = Menu::new(handle)?;
    for item in items {
        menu.append(&*native(handle, item)?)?;
    }
    Ok(menu)
}

fn native(handle: &AppHandle, item: &Model) -> tauri::Result<Box<dyn IsMenuItem<Wry>>> {
    Ok(match item {
        Model::Text { id, label, enabled } => Box::new(MenuItem::with_id(
            handle,
            id,
            label,
            *enabled,
            None::<&str>,
        )?),
        Model::Check {
            id,
            label,
            checked,
            enabled,
        } => Box::new(CheckMenuItem::with_id(
            handle,
            id,
            label,
            *enabled,
            *checked,
            None::<&str>,
        )?),
        Model::Separator => Box::new(PredefinedMenuItem::separator(handle)?),
        Model::Submenu { label, items } => {
            let sub = Submenu::new(handle, label, true)?;
            for i in items {
                sub.append(&*native(handle, i)?)?;
            }
            Box::new(sub)
        }
    })
}

/// Rebuilds the menu and tooltip, and tells the window to reload its state.
pub async fn refresh(handle: &AppHandle) {
    update(handle).await;
    let _ = handle.emit("state-changed", ());
}

/// Keeps the status line ("last answer: …") current while requests come and go.
pub async fn follow_last_served(handle: AppHandle) {
    let mut shown = None;
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        let now = app(&handle).snapshot().await.last_served;
        if now != shown {
            update(&handle).await;
            shown = now;
        }
    }
}

/// Rebuilds the menu and tooltip from the current state.
async fn update(handle: &AppHandle) {
    let snapshot = app(handle).snapshot().await;
    if let Some(tray) = handle.tray_by_id(TRAY_ID) {
        match build_menu(handle, &tray_model::menu(&snapshot)) {
            Ok(menu) => {
                let _ = tray.set_menu(Some(menu));
            }
            Err(e) => tracing::warn!(error = %e, "tray menu rebuild failed"),
        }
        let _ = tray.set_tooltip(Some(tray_model::tooltip(&snapshot)));
    }
}

async fn act(handle: &AppHandle, action: TrayAction) {
    let app = app(handle);
    let result: Result<(), String> = match action {
        TrayAction::ActivateProvider(id) => app.set_active(&id).await.map_err(|e| e.to_string()),
        TrayAction::ToggleProxy => {
            app.toggle().await;
            Ok(())
        }
        TrayAction::CopyBaseUrl => {
            let url = app.snapshot().await.base_url;
            handle
                .clipboard()
                .write_text(url)
                .map_err(|e| e.to_string())
        }
        TrayAction::ApplyToCodex => app
            .codex_apply(true, Some("gpt-5.5".into()))
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
        TrayAction::OpenSettings => {
            crate::show_settings(handle);
            Ok(())
        }
        TrayAction::OpenLog => match plugboard_app::logging::latest_log(&app.paths().log_dir) {
            Some(path) => handle
                .opener()
                .open_path(path.to_string_lossy(), None::<&str>)
                .map_err(|e| e.to_string()),
            None => Err("no log file yet".into()),
        },
        TrayAction::ToggleAutostart => crate::commands::apply_autostart(
            handle,
            &app,
            !handle.autolaunch().is_enabled().unwrap_or(false),
        )
        .map_err(|e| e.to_string()),
        TrayAction::Quit => {
            app.stop().await;
            handle.exit(0);
            Ok(())
        }
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, "tray action failed");
    }
    refresh(handle).await;
}
