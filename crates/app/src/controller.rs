//! The app state and what the tray and the window ask of it. One lock guards the settings
//! and the running proxy, so a tray click and a window save never interleave.

use crate::check_history::CheckHistory;
use crate::connection::{self, ConnectionReport};
use crate::key_cache::{self, CachedKey, CachedKeys, KeyCache, KEYRING_WAIT};
use crate::key_vault::KeyVault;
use crate::providers::{self, KeyPlan, KeyValue, ProviderInput, ProviderView};
use crate::settings_file;
use crate::status::{LastRequest, TrayState};
use crate::AppError;
use plugboard_codex::{Applied, AttachOptions, Preview};
use plugboard_config::{Route, Settings};
use plugboard_server::{ProxyHandle, ServeOptions};
use plugboard_server::{RequestRecord, UsageSink};
use serde::Serialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::Mutex;

#[derive(Debug, Clone)]
pub struct AppPaths {
    pub settings_file: PathBuf,
    pub log_dir: PathBuf,
    pub codex_home: PathBuf,
    pub usage_db: PathBuf,
}

impl AppPaths {
    /// The OS config and data dirs, and `$CODEX_HOME` (or `~/.codex`).
    pub fn from_os() -> Option<AppPaths> {
        let dirs = directories::ProjectDirs::from("", "", "plugboard")?;
        Some(AppPaths {
            settings_file: dirs.config_dir().join("settings.toml"),
            log_dir: dirs.data_dir().join("logs"),
            codex_home: plugboard_codex::codex_home()?,
            usage_db: plugboard_usage::default_db_path()?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ProxyStatus {
    Running { addr: String },
    Stopped,
    Error { message: String },
}

/// Everything the tray and the window show, taken at one moment.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    pub settings: Settings,
    pub status: ProxyStatus,
    pub autostart: bool,
    pub codex_attached: bool,
    pub base_url: String,
    pub warnings: Vec<String>,
    /// The last request's outcome, a failure in a sentence.
    pub last_request: Option<LastRequest>,
    pub tray_state: TrayState,
    /// Providers whose key the keyring has not handed over (it is locked), by name.
    pub keys_waiting: Vec<String>,
}

/// What the usage page shows.
#[derive(Debug, Clone, Serialize)]
pub struct UsageOverview {
    pub summary: plugboard_usage::Summary,
    pub daily: Vec<plugboard_usage::DayRow>,
    pub latency: Vec<plugboard_usage::LatencyRow>,
}

struct Inner {
    settings: Settings,
    proxy: Option<ProxyHandle>,
    status: ProxyStatus,
    warnings: Vec<String>,
}

pub struct App {
    paths: AppPaths,
    vault: Arc<dyn KeyVault>,
    /// The keys the proxy uses, read from the vault once.
    keys: Arc<KeyCache>,
    keys_loaded: AtomicBool,
    /// `None` when the usage database cannot be opened (reported in the warnings).
    usage: Option<Arc<plugboard_usage::UsageRecorder>>,
    inner: Mutex<Inner>,
    /// The last request that says something about its provider.
    last_record: Arc<std::sync::Mutex<Option<RequestRecord>>>,
    /// Bumped on every change the window and the tray show: they follow it instead of
    /// polling.
    changes: Arc<tokio::sync::watch::Sender<u64>>,
    /// Serialises edits of Codex's files, which happen outside `inner`'s lock.
    codex_files: Mutex<()>,
    autostart: AtomicBool,
    /// The last Codex check of each provider and model.
    checks: CheckHistory,
}

impl App {
    /// Loads the settings (a corrupt file is moved aside and reported in the warnings).
    pub fn load(paths: AppPaths, vault: Arc<dyn KeyVault>) -> Result<App, AppError> {
        let loaded = settings_file::load_or_recover(&paths.settings_file)?;
        let paths_checks = paths.settings_file.with_file_name("codex-checks.json");
        let mut warnings: Vec<String> = loaded.warning.into_iter().collect();
        warnings.extend(plugboard_codex::proxy_env_warning(|k| {
            std::env::var(k).ok()
        }));
        let prices = plugboard_usage::PriceTable::with_overrides(&loaded.settings.prices);
        let usage = match plugboard_usage::UsageRecorder::open(&paths.usage_db, prices) {
            Ok(r) => {
                if let Ok(db) = plugboard_usage::UsageDb::open(&paths.usage_db) {
                    let _ = db.prune(loaded.settings.usage_retention_days, now_ms());
                }
                Some(r)
            }
            Err(e) => {
                warnings.push(format!("Usage history is off: {e}"));
                None
            }
        };
        Ok(App {
            paths,
            vault,
            keys: Arc::default(),
            keys_loaded: AtomicBool::new(false),
            usage,
            inner: Mutex::new(Inner {
                settings: loaded.settings,
                proxy: None,
                status: ProxyStatus::Stopped,
                warnings,
            }),
            last_record: Arc::default(),
            changes: Arc::new(tokio::sync::watch::channel(0).0),
            codex_files: Mutex::new(()),
            autostart: AtomicBool::new(false),
            checks: CheckHistory::load(paths_checks),
        })
    }

    pub fn paths(&self) -> &AppPaths {
        &self.paths
    }

    pub fn set_autostart_flag(&self, on: bool) {
        self.autostart.store(on, Ordering::SeqCst);
        self.changed();
    }

    /// Follows changes of what [`App::snapshot`] shows.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changes.subscribe()
    }

    fn changed(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Forgets the last outcome: after the user changes a provider, an old failure is news
    /// of nothing.
    fn forget_last_request(&self) {
        *self.last_record.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    pub async fn snapshot(&self) -> Snapshot {
        let snap = {
            let inner = self.inner.lock().await;
            let keys_waiting: Vec<String> = self
                .keys
                .unreadable()
                .into_iter()
                .filter_map(|(id, _)| inner.settings.provider(&id))
                .map(|p| p.display_name().to_string())
                .collect();
            let last_request = self
                .last_record
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .as_ref()
                .map(|r| {
                    let name = inner
                        .settings
                        .provider(&r.provider)
                        .map(|p| p.display_name().to_string())
                        .unwrap_or_else(|| r.provider.clone());
                    crate::status::last_request(r, &name)
                });
            Snapshot {
                tray_state: tray_state(&inner, last_request.as_ref(), !keys_waiting.is_empty()),
                keys_waiting,
                settings: inner.settings.clone(),
                status: inner.status.clone(),
                autostart: self.autostart.load(Ordering::SeqCst),
                codex_attached: false,
                base_url: base_url(&inner),
                warnings: inner.warnings.clone(),
                last_request,
            }
        };
        // Attached means Codex's file points at this proxy's address, read now (the user
        // may have edited it), off the async workers.
        let (home, url) = (self.paths.codex_home.clone(), snap.base_url.clone());
        let codex_attached = tokio::task::spawn_blocking(move || {
            plugboard_codex::attached_url(&home).as_deref() == Some(url.as_str())
        })
        .await
        .unwrap_or(false);
        Snapshot {
            codex_attached,
            ..snap
        }
    }

    async fn launch(
        &self,
        settings: &Settings,
        listen: Option<SocketAddr>,
    ) -> Result<ProxyHandle, AppError> {
        let keys = Arc::new(CachedKeys(self.keys.clone()));
        let usage: Option<Arc<dyn UsageSink>> = Some(Arc::new(StatusSink {
            usage: self.usage.clone().map(|u| u as Arc<dyn UsageSink>),
            last: self.last_record.clone(),
            changes: self.changes.clone(),
        }));
        plugboard_server::start(
            settings.clone(),
            keys,
            ServeOptions {
                listen,
                usage,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| AppError::Proxy(e.to_string()))
    }

    /// Reads every provider's key from the keyring, once, waiting at most a few seconds;
    /// keys the keyring holds back (locked) are read again in the background until they come.
    async fn ensure_keys(&self) {
        if self.keys_loaded.swap(true, Ordering::SeqCst) {
            return;
        }
        let ids: Vec<String> = {
            let inner = self.inner.lock().await;
            inner
                .settings
                .providers
                .iter()
                .map(|p| p.id.clone())
                .collect()
        };
        key_cache::load(&self.keys, &self.vault, ids, KEYRING_WAIT).await;
        if !self.keys.unreadable().is_empty() {
            let changes = self.changes.clone();
            tokio::spawn(key_cache::retry_unreadable(
                self.keys.clone(),
                self.vault.clone(),
                std::time::Duration::from_secs(15),
                move || changes.send_modify(|n| *n = n.wrapping_add(1)),
            ));
        }
        self.changed();
    }

    /// Stores and deletes keys as a save planned, each keyring call bounded; the memory copy
    /// follows. Runs with no app lock held.
    async fn carry_out(&self, plan: KeyPlan) -> Result<(), AppError> {
        if let Some((id, value)) = plan.store {
            let key = match value {
                KeyValue::Typed(k) => Some(k.trim().to_string()),
                KeyValue::From(old) => match self.keys.get(&old) {
                    Some(CachedKey::Stored(k)) => Some(k.expose().to_string()),
                    Some(CachedKey::Unreadable(_)) => {
                        return Err(key_cache::KeyWriteError::Locked.into())
                    }
                    _ => None,
                },
            };
            if let Some(key) = key {
                let (v, i, k) = (self.vault.clone(), id.clone(), key.clone());
                key_cache::write(KEYRING_WAIT, move || v.set(&i, &k)).await?;
                self.keys
                    .set(&id, CachedKey::Stored(plugboard_server::ApiKey::new(key)));
            }
        }
        for id in plan.delete {
            let (v, i) = (self.vault.clone(), id.clone());
            key_cache::write(KEYRING_WAIT, move || v.delete(&i)).await?;
            self.keys.set(&id, CachedKey::Missing);
        }
        Ok(())
    }

    /// Starts the proxy if it is not running; the outcome is in the status.
    pub async fn start(&self) -> ProxyStatus {
        self.ensure_keys().await;
        let mut inner = self.inner.lock().await;
        if inner.proxy.is_none() {
            match self.launch(&inner.settings, None).await {
                Ok(h) => {
                    inner.status = ProxyStatus::Running {
                        addr: h.addr().to_string(),
                    };
                    inner.proxy = Some(h);
                }
                Err(e) => {
                    tracing::error!(error = %e, "proxy start failed");
                    inner.status = ProxyStatus::Error {
                        message: e.to_string(),
                    };
                }
            }
        }
        let status = inner.status.clone();
        drop(inner);
        self.changed();
        status
    }

    /// Stops the proxy: the port is free at once, streams get the configured grace period
    /// (`server.shutdown_grace_secs`), then end with `response.failed`. The app lock is not
    /// held while streams finish, so the window and the tray stay responsive.
    pub async fn stop(&self) -> ProxyStatus {
        let stopping = {
            let mut inner = self.inner.lock().await;
            inner.status = ProxyStatus::Stopped;
            match inner.proxy.take() {
                // Quick: the port is free before the lock is let go, so a Start right after
                // cannot find it taken.
                Some(h) => Some(h.begin_stop().await),
                None => None,
            }
        };
        self.changed();
        if let Some(s) = stopping {
            let report = s.finish().await;
            tracing::info!(cut = report.cut, "proxy stopped");
        }
        self.inner.lock().await.status.clone()
    }

    pub async fn toggle(&self) -> ProxyStatus {
        let running = self.inner.lock().await.proxy.is_some();
        if running {
            self.stop().await
        } else {
            self.start().await
        }
    }

    /// Saves new settings and applies them to the running proxy at once (the next request
    /// uses them; Codex needs no restart).
    async fn commit(&self, inner: &mut Inner, next: Settings) -> Result<(), AppError> {
        let problems = next.validate();
        if !problems.is_empty() {
            return Err(AppError::Invalid(problems.join("\n")));
        }
        plugboard_config::save(&self.paths.settings_file, &next)?;
        if let Some(h) = &inner.proxy {
            h.update_settings(next.clone()).map_err(AppError::Invalid)?;
        }
        if let Some(u) = &self.usage {
            u.set_prices(plugboard_usage::PriceTable::with_overrides(&next.prices));
        }
        inner.settings = next;
        self.changed();
        Ok(())
    }

    /// Runs `query` on the usage database on a blocking thread (SQLite never runs on the
    /// async workers), after the recorder has written what it holds.
    async fn with_usage_db<T: Send + 'static>(
        &self,
        query: impl FnOnce(&plugboard_usage::UsageDb) -> Result<T, plugboard_usage::UsageError>
            + Send
            + 'static,
    ) -> Result<T, AppError> {
        let Some(u) = self.usage.clone() else {
            return Err(AppError::Invalid("usage history is off".into()));
        };
        tokio::task::spawn_blocking(move || {
            u.flush();
            let db = plugboard_usage::UsageDb::open(u.path())?;
            query(&db)
        })
        .await
        .map_err(|e| AppError::Invalid(format!("the usage query failed: {e}")))?
        .map_err(|e| AppError::Invalid(e.to_string()))
    }

    /// Totals, tokens and cost per day and provider, latency per provider, over `days`.
    pub async fn usage_overview(&self, days: u32) -> Result<UsageOverview, AppError> {
        let (compare, prices) = {
            let inner = self.inner.lock().await;
            (
                inner.settings.compare_model.clone(),
                plugboard_usage::PriceTable::with_overrides(&inner.settings.prices),
            )
        };
        let since = now_ms() - days as i64 * 86_400_000;
        self.with_usage_db(move |db| {
            Ok(UsageOverview {
                summary: db.summary(since, &prices, &compare)?,
                daily: db.daily(since)?,
                latency: db.latency(since)?,
            })
        })
        .await
    }

    /// The latest request attempts, newest first. A row whose model has no known price (and
    /// did not stay local, where models cost nothing) says so instead of showing $0.
    pub async fn request_log(
        &self,
        limit: usize,
        filter: plugboard_usage::db::LogFilter,
    ) -> Result<Vec<plugboard_usage::RequestRow>, AppError> {
        let prices =
            plugboard_usage::PriceTable::with_overrides(&self.inner.lock().await.settings.prices);
        let mut rows = self
            .with_usage_db(move |db| db.recent(limit, &filter))
            .await?;
        for r in &mut rows {
            r.priced = is_priced(r, &prices);
        }
        Ok(rows)
    }

    pub async fn set_usage_settings(
        &self,
        compare_model: String,
        retention_days: u32,
    ) -> Result<(), AppError> {
        let mut inner = self.inner.lock().await;
        let mut next = inner.settings.clone();
        next.compare_model = compare_model;
        next.usage_retention_days = retention_days.max(1);
        self.commit(&mut inner, next).await
    }

    pub async fn providers(&self) -> Vec<ProviderView> {
        let inner = self.inner.lock().await;
        inner
            .settings
            .providers
            .iter()
            .map(|p| providers::view(&inner.settings, p, &self.keys, self.checks.badge(p)))
            .collect()
    }

    /// Saves a provider: validated first, then its key written to the keyring (bounded, no
    /// lock held; a locked keyring is an error and nothing is saved), then the settings.
    pub async fn save_provider(&self, input: ProviderInput) -> Result<String, AppError> {
        self.ensure_keys().await;
        let plan = {
            let inner = self.inner.lock().await;
            let mut next = inner.settings.clone();
            providers::save(&mut next, input.clone())?.1
        };
        self.carry_out(plan).await?;
        let mut inner = self.inner.lock().await;
        let mut next = inner.settings.clone();
        let (id, _) = providers::save(&mut next, input)?;
        self.forget_last_request();
        self.commit(&mut inner, next).await?;
        Ok(id)
    }

    /// Deletes a provider and its key (the key first: a locked keyring keeps both).
    pub async fn delete_provider(&self, id: &str) -> Result<(), AppError> {
        providers::delete(&mut self.inner.lock().await.settings.clone(), id)?;
        self.carry_out(KeyPlan {
            store: None,
            delete: vec![id.to_string()],
        })
        .await?;
        let mut inner = self.inner.lock().await;
        let mut next = inner.settings.clone();
        providers::delete(&mut next, id)?;
        self.commit(&mut inner, next).await?;
        drop(inner);
        self.keys.remove(id);
        self.checks.forget(id).await;
        Ok(())
    }

    /// A copy under a free id; with `copy_key` the stored key is copied too (asked in the
    /// window: keys are never copied silently).
    pub async fn duplicate_provider(&self, id: &str, copy_key: bool) -> Result<String, AppError> {
        let new_id = {
            let mut inner = self.inner.lock().await;
            let mut next = inner.settings.clone();
            let new_id = providers::duplicate(&mut next, id)?;
            self.commit(&mut inner, next).await?;
            new_id
        };
        if copy_key {
            self.carry_out(KeyPlan {
                store: Some((new_id.clone(), KeyValue::From(id.to_string()))),
                delete: Vec::new(),
            })
            .await?;
            self.changed();
        }
        Ok(new_id)
    }

    /// The providers and routes as a file's text, without keys or headers.
    pub async fn export_providers(&self) -> String {
        crate::share::export(&self.inner.lock().await.settings)
    }

    /// Adds the providers and routes of an exported file (ids already taken get free ones);
    /// the report names the providers whose keys must be typed again.
    pub async fn import_providers(
        &self,
        text: &str,
    ) -> Result<crate::share::ImportReport, AppError> {
        let mut inner = self.inner.lock().await;
        let (next, report) = crate::share::import(&inner.settings, text)?;
        self.commit(&mut inner, next).await?;
        tracing::info!(
            added = report.added.len(),
            routes = report.routes,
            "providers imported"
        );
        Ok(report)
    }

    /// Local-only mode on or off; the running proxy follows at once.
    pub async fn set_local_only(&self, on: bool) -> Result<(), AppError> {
        let mut inner = self.inner.lock().await;
        let mut next = inner.settings.clone();
        next.local_only = on;
        self.forget_last_request();
        self.commit(&mut inner, next).await?;
        tracing::info!(local_only = on, "local-only mode");
        Ok(())
    }

    /// Makes a provider active: the next request goes there.
    pub async fn set_active(&self, id: &str) -> Result<(), AppError> {
        let mut inner = self.inner.lock().await;
        if inner.settings.provider(id).is_none() {
            return Err(AppError::NoSuchProvider(id.to_string()));
        }
        let mut next = inner.settings.clone();
        next.active_provider = Some(id.to_string());
        self.forget_last_request();
        self.commit(&mut inner, next).await?;
        tracing::info!(provider = id, "active provider switched");
        Ok(())
    }

    pub async fn set_routes(&self, routes: Vec<Route>) -> Result<(), AppError> {
        let mut inner = self.inner.lock().await;
        let mut next = inner.settings.clone();
        next.routes = routes;
        self.commit(&mut inner, next).await
    }

    /// Moves the proxy to another port. The new port is bound first: a port in use is
    /// reported and the proxy stays where it was.
    /// Moves the proxy to another port; where Codex's config pointed at the old address it
    /// follows (only Plugboard's `base_url` changes).
    pub async fn set_port(&self, port: u16) -> Result<(), AppError> {
        let (old_url, new_url) = {
            let mut inner = self.inner.lock().await;
            let old_url = base_url(&inner);
            self.move_port(&mut inner, port).await?;
            (old_url, base_url(&inner))
        };
        self.changed();
        if old_url != new_url {
            let moved = self
                .with_codex_files(move |home| plugboard_codex::retarget(&home, &old_url, &new_url))
                .await?;
            if moved {
                tracing::info!(port, "Codex's config follows the new port");
                self.changed();
            }
        }
        Ok(())
    }

    async fn move_port(&self, inner: &mut Inner, port: u16) -> Result<(), AppError> {
        let mut next = inner.settings.clone();
        let ip = next
            .listen
            .parse::<SocketAddr>()
            .map(|a| a.ip())
            .unwrap_or([127, 0, 0, 1].into());
        let addr = SocketAddr::new(ip, port);
        next.listen = addr.to_string();
        if next.listen == inner.settings.listen {
            return Ok(());
        }
        if inner.proxy.is_some() {
            let fresh = self
                .launch(&next, None)
                .await
                .map_err(|e| AppError::Invalid(format!("port {port} cannot be used: {e}")))?;
            plugboard_config::save(&self.paths.settings_file, &next)?;
            if let Some(old) = inner.proxy.replace(fresh) {
                // The new port serves already; streams on the old one finish in the
                // background instead of holding the app.
                let stopping = old.begin_stop().await;
                tokio::spawn(stopping.finish());
            }
            inner.status = ProxyStatus::Running {
                addr: addr.to_string(),
            };
            inner.settings = next;
            Ok(())
        } else {
            self.commit(inner, next).await
        }
    }

    pub async fn dismiss_warnings(&self) {
        self.inner.lock().await.warnings.clear();
        self.changed();
    }

    fn attach_options(
        base_url: String,
        make_default: bool,
        model: Option<String>,
    ) -> AttachOptions {
        AttachOptions {
            base_url,
            make_default,
            model: model.filter(|m| !m.trim().is_empty()),
            model_catalog: None,
        }
    }

    /// Runs a Codex file operation on a blocking thread (it reads and writes files and may
    /// run the Codex CLI), one at a time, with no app lock held.
    async fn with_codex_files<T: Send + 'static>(
        &self,
        work: impl FnOnce(PathBuf) -> Result<T, plugboard_codex::CodexConfigError> + Send + 'static,
    ) -> Result<T, AppError> {
        let _one_at_a_time = self.codex_files.lock().await;
        let home = self.paths.codex_home.clone();
        tokio::task::spawn_blocking(move || work(home))
            .await
            .map_err(|e| AppError::Invalid(format!("the Codex config task failed: {e}")))?
            .map_err(AppError::from)
    }

    /// The exact change "Apply to Codex" would make.
    pub async fn codex_preview(
        &self,
        make_default: bool,
        model: Option<String>,
    ) -> Result<Preview, AppError> {
        let url = base_url(&*self.inner.lock().await);
        let opts = Self::attach_options(url, make_default, model);
        self.with_codex_files(move |home| {
            plugboard_codex::preview_apply(&home, &opts, plugboard_codex::find_codex().as_deref())
        })
        .await
    }

    /// Writes Plugboard's provider into Codex's config, a model catalog naming every model
    /// Plugboard serves, and one profile per exact route.
    pub async fn codex_apply(
        &self,
        make_default: bool,
        model: Option<String>,
    ) -> Result<Applied, AppError> {
        let (url, settings) = {
            let inner = self.inner.lock().await;
            (base_url(&inner), inner.settings.clone())
        };
        let opts = Self::attach_options(url, make_default, model);
        self.with_codex_files(move |home| {
            let codex = plugboard_codex::find_codex();
            plugboard_codex::apply(&home, &opts, &settings, codex.as_deref())
        })
        .await
    }

    pub async fn codex_detach(&self) -> Result<(), AppError> {
        self.with_codex_files(|home| plugboard_codex::detach(&home))
            .await
    }

    /// The provider a form describes (saved or not) and the key to try it with: the typed
    /// one, else the one stored for the provider being edited.
    async fn draft_and_key(
        &self,
        input: &ProviderInput,
    ) -> Result<(plugboard_config::Provider, Option<String>), AppError> {
        self.ensure_keys().await;
        let p = providers::draft(&self.inner.lock().await.settings, input)?;
        if !(p.base_url.starts_with("http://") || p.base_url.starts_with("https://")) {
            return Err(AppError::Invalid(format!(
                "the base URL `{}` must start with http:// or https://",
                p.base_url
            )));
        }
        if let Some(k) = input
            .api_key
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty())
        {
            return Ok((p, Some(k.to_string())));
        }
        let stored = input.original_id.as_deref().filter(|o| !o.is_empty());
        let key = match stored.and_then(|o| self.keys.get(o)) {
            Some(CachedKey::Stored(k)) => Some(k.expose().to_string()),
            Some(CachedKey::Unreadable(reason)) => {
                return Err(AppError::Invalid(format!(
                    "the key of {} cannot be read: {reason}",
                    p.display_name()
                )))
            }
            Some(CachedKey::Missing) | None => None,
        };
        Ok((p, key))
    }

    /// The provider's model list, for the form (before or after saving).
    pub async fn list_models(&self, input: &ProviderInput) -> Result<Vec<String>, AppError> {
        let (p, key) = self.draft_and_key(input).await?;
        connection::list_models(&p, key.as_deref())
            .await
            .map_err(AppError::Invalid)
    }

    /// Test connection, for the form (before or after saving).
    pub async fn test_connection(
        &self,
        input: &ProviderInput,
    ) -> Result<ConnectionReport, AppError> {
        let (p, key) = self.draft_and_key(input).await?;
        Ok(connection::test_connection(&p, key.as_deref(), p.default_model.as_deref()).await)
    }

    /// The Codex check of a saved provider (its default model unless one is named), with
    /// its stored key, honouring local-only. No lock is held while it runs (a minute or more
    /// on a slow model); the report is kept for the badge.
    pub async fn codex_check(
        &self,
        id: &str,
        model: Option<String>,
    ) -> Result<plugboard_check::CheckReport, AppError> {
        self.ensure_keys().await;
        let (p, local_only) = {
            let inner = self.inner.lock().await;
            let p = inner
                .settings
                .provider(id)
                .cloned()
                .ok_or_else(|| AppError::NoSuchProvider(id.to_string()))?;
            (p, inner.settings.local_only)
        };
        let keys = Arc::new(key_cache::CachedKeys(self.keys.clone()));
        let opts = plugboard_check::CheckOptions {
            model,
            local_only,
            resolver: None,
        };
        let report = plugboard_check::check_provider(&p, keys, opts).await?;
        self.checks.record(report.clone()).await;
        self.changed();
        Ok(report)
    }

    /// The last check of a provider, for the window to show again.
    pub fn last_codex_check(&self, id: &str) -> Option<plugboard_check::CheckReport> {
        self.checks.latest(id)
    }

    /// Turns on what a check offered for a provider, as a setting (the window re-runs the
    /// check after).
    pub async fn apply_check_fix(
        &self,
        id: &str,
        fix: plugboard_check::Fix,
    ) -> Result<(), AppError> {
        let mut inner = self.inner.lock().await;
        let mut next = inner.settings.clone();
        let p = next
            .providers
            .iter_mut()
            .find(|p| p.id == id)
            .ok_or_else(|| AppError::NoSuchProvider(id.to_string()))?;
        fix.apply(p).map_err(AppError::Invalid)?;
        self.commit(&mut inner, next).await?;
        tracing::info!(provider = id, fix = %fix.label, "check fix applied");
        Ok(())
    }
}

/// Whether a row's cost means something: its model has a price, or it stayed local (local
/// models cost nothing).
fn is_priced(r: &plugboard_usage::RequestRow, prices: &plugboard_usage::PriceTable) -> bool {
    r.local || prices.price(&r.upstream_model).is_some()
}

fn tray_state(inner: &Inner, last: Option<&LastRequest>, keys_waiting: bool) -> TrayState {
    match &inner.status {
        _ if inner.settings.providers.is_empty() => TrayState::Setup,
        ProxyStatus::Error { .. } => TrayState::Error,
        ProxyStatus::Stopped => TrayState::Stopped,
        ProxyStatus::Running { .. } if keys_waiting || last.is_some_and(|l| !l.ok) => {
            TrayState::Error
        }
        ProxyStatus::Running { .. } if inner.settings.local_only => TrayState::LocalOnly,
        ProxyStatus::Running { .. } => TrayState::Running,
    }
}

/// Passes each request record to the usage history and keeps the last one for the status
/// line, telling the window and the tray.
struct StatusSink {
    usage: Option<Arc<dyn UsageSink>>,
    last: Arc<std::sync::Mutex<Option<RequestRecord>>>,
    changes: Arc<tokio::sync::watch::Sender<u64>>,
}

impl UsageSink for StatusSink {
    fn record(&self, r: RequestRecord) {
        if crate::status::tells_about_provider(&r) {
            *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(r.clone());
            self.changes.send_modify(|n| *n = n.wrapping_add(1));
        }
        if let Some(u) = &self.usage {
            u.record(r);
        }
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn base_url(inner: &Inner) -> String {
    let addr = match &inner.status {
        ProxyStatus::Running { addr } => addr.clone(),
        _ => inner.settings.listen.clone(),
    };
    format!("http://{addr}/v1")
}

#[cfg(test)]
mod tests {
    use super::is_priced;

    #[test]
    fn an_unknown_hosted_model_is_unpriced_a_local_one_free() {
        let prices = plugboard_usage::PriceTable::with_overrides(&Default::default());
        let row = |model: &str, local: bool| plugboard_usage::RequestRow {
            ts_ms: 0,
            request_id: "r".into(),
            attempt: 1,
            route: None,
            model: "gpt-5.5".into(),
            provider: "p".into(),
            upstream_model: model.into(),
            status: plugboard_server::Outcome::Completed,
            answered: true,
            error_class: None,
            input_tokens: 1,
            cached_tokens: 0,
            output_tokens: 1,
            reasoning_tokens: 0,
            first_event_ms: None,
            total_ms: 1.0,
            cost_usd: 0.0,
            stream: true,
            local,
            priced: true,
        };
        assert!(is_priced(&row("deepseek-chat", false), &prices));
        assert!(!is_priced(&row("my-own-model", false), &prices));
        assert!(is_priced(&row("my-own-model", true), &prices));
    }
}
