//! Settings reloaded while `serve` runs: on SIGHUP and when the settings file changes (looked
//! at twice a second, read once it holds still), without a restart and without dropping a stream (requests under way
//! keep the routes they started with). A file that fails to parse or validate changes
//! nothing: the reason is logged and the proxy serves on its last good settings.

use super::ServeArgs;
use plugboard_config::Settings;
use plugboard_keys::{HeadlessKeys, SwappableKeys};
use plugboard_server::ProxyHandle;
use plugboard_usage::{Metrics, PriceTable, UsageRecorder};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

/// What the command line sets over the file; applied again to every reloaded file.
#[derive(Clone, Copy)]
pub(crate) struct Overrides {
    local_only: bool,
    header_timeout_secs: Option<u64>,
    max_connections: Option<usize>,
    backlog: Option<u32>,
    shutdown_grace_secs: Option<u64>,
}

impl Overrides {
    pub(crate) fn of(args: &ServeArgs) -> Self {
        Self {
            local_only: args.local_only,
            header_timeout_secs: args.header_timeout_secs,
            max_connections: args.max_connections,
            backlog: args.backlog,
            shutdown_grace_secs: args.shutdown_grace_secs,
        }
    }

    pub(crate) fn apply(&self, settings: &mut Settings) {
        settings.local_only |= self.local_only;
        let limits = &mut settings.server;
        if let Some(v) = self.header_timeout_secs {
            limits.header_timeout_secs = v;
        }
        if let Some(v) = self.max_connections {
            limits.max_connections = v;
        }
        if let Some(v) = self.backlog {
            limits.backlog = v;
        }
        if let Some(v) = self.shutdown_grace_secs {
            limits.shutdown_grace_secs = v;
        }
    }
}

/// Why a reload was tried, for the log.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Trigger {
    Hangup,
    FileChanged,
}

/// The file's size and modification time: a change of either is worth reading it again.
type Stamp = (Option<SystemTime>, u64);

pub(crate) struct Reloader {
    path: PathBuf,
    overrides: Overrides,
    use_keyring: bool,
    keys: Arc<SwappableKeys>,
    usage: Option<Arc<UsageRecorder>>,
    metrics: Arc<Metrics>,
    seen: Option<Stamp>,
    /// The file changed at the last look: read once it holds still (an editor that truncates
    /// then writes must not have its empty file applied).
    settling: bool,
    /// The text of the settings in force, so that a save of the same text changes nothing.
    applied: Option<String>,
}

impl Reloader {
    pub(crate) async fn new(
        path: PathBuf,
        overrides: Overrides,
        use_keyring: bool,
        keys: Arc<SwappableKeys>,
        usage: Option<Arc<UsageRecorder>>,
        metrics: Arc<Metrics>,
    ) -> Self {
        let seen = stamp(&path).await;
        let applied = tokio::fs::read_to_string(&path).await.ok();
        Self {
            path,
            overrides,
            use_keyring,
            keys,
            usage,
            metrics,
            seen,
            settling: false,
            applied,
        }
    }

    /// Whether the file changed and has held still since the last look.
    pub(crate) async fn file_changed(&mut self) -> bool {
        let now = stamp(&self.path).await;
        if now == self.seen {
            return std::mem::take(&mut self.settling);
        }
        self.seen = now;
        self.settling = true;
        false
    }

    /// Reads the file again and, when it holds valid settings that differ from those in
    /// force (or on SIGHUP, which also reads the keys again), puts them in force.
    pub(crate) async fn reload(&mut self, proxy: &ProxyHandle, why: Trigger) {
        let text = match tokio::fs::read_to_string(&self.path).await {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(path = %self.path.display(), error = %e, trigger = ?why,
                    "settings file not readable: serving on the last good settings");
                return;
            }
        };
        if matches!(why, Trigger::FileChanged) && self.applied.as_deref() == Some(&text) {
            return;
        }
        let mut settings = match plugboard_config::store::parse(&self.path, &text) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, trigger = ?why,
                    "settings file not applied: serving on the last good settings");
                return;
            }
        };
        self.overrides.apply(&mut settings);
        let before = proxy.settings();
        let keys = HeadlessKeys::load(&settings, self.use_keyring).await;
        if let Err(e) = proxy.update_settings(settings.clone()) {
            tracing::warn!(error = %e, trigger = ?why,
                "settings file not applied: serving on the last good settings");
            return;
        }
        // Right after the routes: a provider the new settings add finds its key from its
        // next request on.
        self.keys.swap(Arc::new(keys));
        if let Some(usage) = &self.usage {
            usage.set_prices(PriceTable::with_overrides(&settings.prices));
        }
        self.metrics
            .set_prices(PriceTable::with_overrides(&settings.prices));
        self.applied = Some(text);
        if settings.listen != before.listen || settings.server != before.server {
            tracing::warn!(
                "the listen address and server limits in the file take effect at the next start"
            );
        }
        tracing::info!(
            trigger = ?why,
            active_provider = settings.active_provider.as_deref().unwrap_or("-"),
            providers = settings.providers.len(),
            routes = settings.routes.len(),
            "settings reloaded: new requests use them, requests under way finish as they began"
        );
    }
}

async fn stamp(path: &std::path::Path) -> Option<Stamp> {
    let m = tokio::fs::metadata(path).await.ok()?;
    Some((m.modified().ok(), m.len()))
}
