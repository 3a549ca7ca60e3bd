//! The tray icon: its menu is rebuilt from `plugboard_app::tray_model` on every change.

use plugboard_app::status::TrayState;
use plugboard_app::tray_model::{self, MenuItem as Model, TrayAction};
use plugboard_app::App;
use std::sync::Arc;
use tauri::image::Image;
use tauri::menu::{CheckMenuItem, IsMenuItem, Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Wry};
use tauri_plugin_autostart::ManagerExt;
use tauri_plugin_clipboard_manager::ClipboardExt;
use tauri_plugin_opener::OpenerExt;

const TRAY_ID: &str = "plugboard";

/// The icon for a state: a dark plug outlined in white (it reads on light and dark
/// panels) with a green, grey, red or amber dot.
fn icon(state: TrayState) -> tauri::Result<Image<'static>> {
    Image::from_bytes(match state {
        TrayState::Running => include_bytes!("../../icons/tray-running.png").as_slice(),
        TrayState::Stopped => include_bytes!("../../icons/tray-stopped.png").as_slice(),
        TrayState::Error => include_bytes!("../../icons/tray-error.png").as_slice(),
        TrayState::Setup => include_bytes!("../../icons/tray-setup.png").as_slice(),
        TrayState::LocalOnly => include_bytes!("../../icons/tray-local.png").as_slice(),
    })
}

pub fn create(handle: &AppHandle) -> tauri::Result<()> {
    let snapshot = tauri::async_runtime::block_on(app(handle).snapshot());
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon(snapshot.tray_state)?)
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
    crate::window::push_state(handle);
}

/// Follows the app's changes (requests finishing, keys arriving, settings saved) and
/// pushes them to the tray and the window; bursts are taken together, a few per second at
/// most, so a busy proxy does not keep redrawing.
pub async fn follow_changes(handle: AppHandle) {
    let mut changes = app(&handle).subscribe();
    while changes.changed().await.is_ok() {
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        changes.borrow_and_update();
        refresh(&handle).await;
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
        if let Ok(i) = icon(snapshot.tray_state) {
            let _ = tray.set_icon(Some(i));
        }
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
        // Never a silent change to the user's Codex config: the window shows the diff and
        // the user applies it there.
        TrayAction::ApplyToCodex => {
            crate::notices::post(handle, crate::notices::Notice::CodexReview);
            Ok(())
        }
        TrayAction::OpenSettings => {
            crate::window::show_settings(handle);
            Ok(())
        }
        TrayAction::OpenLog => plugboard_app::logging::log_to_open(&app.paths().log_dir)
            .and_then(|path| {
                handle
                    .opener()
                    .open_path(path.to_string_lossy(), None::<&str>)
                    .map_err(|e| plugboard_app::logging::LogFileError::NotOpened {
                        path,
                        reason: e.to_string(),
                    })
            })
            .map_err(|e| e.to_string()),
        TrayAction::ToggleLocalOnly => {
            let on = !app.snapshot().await.settings.local_only;
            app.set_local_only(on).await.map_err(|e| e.to_string())
        }
        TrayAction::ToggleAutostart => crate::autostart::apply(
            handle,
            &app,
            !handle.autolaunch().is_enabled().unwrap_or(false),
        )
        .map_err(|e| e.to_string()),
        TrayAction::Quit => {
            app.quit().await;
            handle.exit(0);
            Ok(())
        }
    };
    if let Err(e) = result {
        // Said where the user looks: the window comes up with the reason.
        tracing::warn!(error = %e, "tray action failed");
        crate::notices::post(handle, crate::notices::Notice::Error(e));
    }
    refresh(handle).await;
}
