//! The app state and what the tray and the window ask of it. One lock guards the settings
//! and the running proxy, so a tray click and a window save never interleave.

mod codex_ops;
mod provider_ops;
mod proxy_control;
mod usage_pages;

pub use usage_pages::UsageOverview;

use crate::check_history::CheckHistory;
use crate::providers::{KeyPlan, KeyValue};
use crate::settings_file;
use crate::status::{LastRequest, TrayState};
use crate::AppError;
use plugboard_config::Settings;
use plugboard_keys::cache as key_cache;
use plugboard_keys::{CachedKey, CachedKeys, KeyCache, KeyVault, KEYRING_WAIT};
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
    Running {
        addr: String,
    },
    Stopped,
    Error {
        message: String,
    },
    /// Quit was chosen: requests under way finish (or are recorded as cut), usage rows are
    /// written, then the process exits. Nothing starts the proxy again.
    Quitting,
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

    /// Saves new settings and applies them to the running proxy at once (the next request
    /// uses them; Codex needs no restart).
    async fn commit(&self, inner: &mut Inner, next: Settings) -> Result<(), AppError> {
        let problems = next.validate();
        if !problems.is_empty() {
            return Err(AppError::InvalidSettings(problems));
        }
        // Under the lock on purpose: the file and the settings in memory change together or
        // not at all. The worker hands its other tasks over while it writes.
        blocking_io(|| plugboard_config::save(&self.paths.settings_file, &next))?;
        if let Some(h) = &inner.proxy {
            h.update_settings(next.clone())?;
        }
        if let Some(u) = &self.usage {
            u.set_prices(plugboard_usage::PriceTable::with_overrides(&next.prices));
        }
        inner.settings = next;
        self.changed();
        Ok(())
    }

    pub async fn dismiss_warnings(&self) {
        self.inner.lock().await.warnings.clear();
        self.changed();
    }
}

fn tray_state(inner: &Inner, last: Option<&LastRequest>, keys_waiting: bool) -> TrayState {
    match &inner.status {
        _ if inner.settings.providers.is_empty() => TrayState::Setup,
        ProxyStatus::Error { .. } => TrayState::Error,
        ProxyStatus::Stopped | ProxyStatus::Quitting => TrayState::Stopped,
        ProxyStatus::Running { .. } if keys_waiting || last.is_some_and(|l| !l.ok) => {
            TrayState::Error
        }
        ProxyStatus::Running { .. } if inner.settings.local_only => TrayState::LocalOnly,
        ProxyStatus::Running { .. } => TrayState::Running,
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

/// Runs short file I/O that must happen where it is (under the app's lock): on the
/// multi-threaded runtime the worker first hands its other tasks to the rest
/// (`block_in_place`), so nothing else waits on the disk; a single-threaded runtime (some
/// tests) just runs it.
fn blocking_io<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}
