//! Commands the settings window invokes. Each calls into `plugboard-app`, whose changes the
//! tray and the window follow (`tray::follow_changes`); errors reach the page as readable
//! sentences.

use plugboard_app::codex_view::CodexChange;
use plugboard_app::providers::{self, PresetView, ProviderInput, ProviderView};
use plugboard_app::{App, AppError, Snapshot};
use plugboard_config::Route;
use serde::Serialize;
use std::sync::Arc;
use tauri::{AppHandle, State};

type Shared<'a> = State<'a, Arc<App>>;

#[derive(Serialize)]
pub struct UiState {
    snapshot: Snapshot,
    /// The same line the tray shows.
    status_line: String,
    providers: Vec<ProviderView>,
    presets: Vec<PresetView>,
    codex_home: String,
}

#[tauri::command]
pub async fn get_state(app: Shared<'_>) -> Result<UiState, AppError> {
    let snapshot = app.snapshot().await;
    Ok(UiState {
        status_line: plugboard_app::tray_model::status_line(&snapshot),
        snapshot,
        providers: app.providers().await,
        presets: providers::presets(),
        codex_home: app.paths().codex_home.display().to_string(),
    })
}

#[tauri::command]
pub async fn save_provider(app: Shared<'_>, input: ProviderInput) -> Result<String, AppError> {
    let id = app.save_provider(input).await?;
    Ok(id)
}

#[tauri::command]
pub async fn delete_provider(app: Shared<'_>, id: String) -> Result<(), AppError> {
    app.delete_provider(&id).await?;
    Ok(())
}

#[tauri::command]
pub async fn duplicate_provider(
    app: Shared<'_>,
    id: String,
    copy_key: bool,
) -> Result<String, AppError> {
    let new_id = app.duplicate_provider(&id, copy_key).await?;
    Ok(new_id)
}

#[tauri::command]
pub async fn set_active(app: Shared<'_>, id: String) -> Result<(), AppError> {
    app.set_active(&id).await?;
    Ok(())
}

#[tauri::command]
pub async fn list_models(app: Shared<'_>, input: ProviderInput) -> Result<Vec<String>, AppError> {
    app.list_models(&input).await
}

#[tauri::command]
pub async fn test_connection(
    app: Shared<'_>,
    input: ProviderInput,
) -> Result<plugboard_check::provider_probe::ConnectionReport, AppError> {
    app.test_connection(&input).await
}

/// The Codex check of a saved provider; the window shows each step as it comes back.
#[tauri::command]
pub async fn codex_check(
    app: Shared<'_>,
    id: String,
    model: Option<String>,
) -> Result<plugboard_check::CheckReport, AppError> {
    app.codex_check(&id, model).await
}

#[tauri::command]
pub async fn last_codex_check(
    app: Shared<'_>,
    id: String,
) -> Result<Option<plugboard_check::CheckReport>, AppError> {
    Ok(app.last_codex_check(&id))
}

#[tauri::command]
pub async fn apply_check_fix(
    app: Shared<'_>,
    id: String,
    fix: plugboard_check::Fix,
) -> Result<(), AppError> {
    app.apply_check_fix(&id, fix).await?;
    Ok(())
}

#[tauri::command]
pub async fn set_port(app: Shared<'_>, port: u16) -> Result<(), AppError> {
    app.set_port(port).await?;
    Ok(())
}

#[tauri::command]
pub async fn proxy_start(app: Shared<'_>) -> Result<(), AppError> {
    app.start().await;
    Ok(())
}

#[tauri::command]
pub async fn proxy_stop(app: Shared<'_>) -> Result<(), AppError> {
    app.stop().await;
    Ok(())
}

#[tauri::command]
pub async fn set_autostart(
    handle: AppHandle,
    app: Shared<'_>,
    enabled: bool,
) -> Result<(), AppError> {
    crate::autostart::apply(&handle, &app, enabled)?;
    Ok(())
}

#[tauri::command]
pub async fn set_routes(app: Shared<'_>, routes: Vec<Route>) -> Result<(), AppError> {
    app.set_routes(routes).await?;
    Ok(())
}

#[tauri::command]
pub async fn codex_preview(
    app: Shared<'_>,
    make_default: bool,
    model: Option<String>,
) -> Result<CodexChange, AppError> {
    Ok(app.codex_preview(make_default, model).await?.into())
}

#[tauri::command]
pub async fn codex_apply(
    app: Shared<'_>,
    make_default: bool,
    model: Option<String>,
) -> Result<CodexChange, AppError> {
    let p = app.codex_apply(make_default, model).await?;
    Ok(p.into())
}

#[tauri::command]
pub async fn codex_hybrid(
    app: Shared<'_>,
    planner: String,
    executor: String,
) -> Result<CodexChange, AppError> {
    Ok(app.codex_hybrid(planner, executor).await?.into())
}

#[tauri::command]
pub async fn codex_detach(app: Shared<'_>) -> Result<(), AppError> {
    app.codex_detach().await?;
    Ok(())
}

/// Writes the providers file (no keys) to the user's Downloads folder, else home; returns
/// its path.
#[tauri::command]
pub async fn export_providers(app: Shared<'_>) -> Result<String, AppError> {
    let dir = directories::UserDirs::new().map(|d| {
        d.download_dir()
            .unwrap_or_else(|| d.home_dir())
            .to_path_buf()
    });
    Ok(app.export_providers_to(dir).await?.display().to_string())
}

/// Adds the providers of a file the page read (the keys are asked for afterwards).
#[tauri::command]
pub async fn import_providers(
    app: Shared<'_>,
    text: String,
) -> Result<plugboard_app::share::ImportReport, AppError> {
    let report = app.import_providers(&text).await?;
    Ok(report)
}

#[tauri::command]
pub async fn set_local_only(app: Shared<'_>, on: bool) -> Result<(), AppError> {
    app.set_local_only(on).await?;
    Ok(())
}

/// Esc or Ctrl+W: the window goes away (and its webview with it); Plugboard stays in the
/// tray.
#[tauri::command]
pub fn hide_window(handle: AppHandle) {
    crate::window::close_settings(&handle);
}

#[tauri::command]
pub async fn dismiss_warnings(app: Shared<'_>) -> Result<(), AppError> {
    app.dismiss_warnings().await;
    Ok(())
}

#[tauri::command]
pub async fn usage_overview(
    app: Shared<'_>,
    days: u32,
) -> Result<plugboard_app::controller::UsageOverview, AppError> {
    app.usage_overview(days).await
}

#[tauri::command]
pub async fn request_log(
    app: Shared<'_>,
    limit: usize,
    filter: plugboard_usage::db::LogFilter,
) -> Result<Vec<plugboard_usage::RequestRow>, AppError> {
    app.request_log(limit, filter).await
}

#[tauri::command]
pub async fn set_usage_settings(
    app: Shared<'_>,
    compare_model: String,
    retention_days: u32,
) -> Result<(), AppError> {
    app.set_usage_settings(compare_model, retention_days)
        .await?;
    Ok(())
}
