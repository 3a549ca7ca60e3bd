//! Providers as the window edits them: saved with their keys, deleted, duplicated,
//! shared, made active, tested, checked with Codex's tools.

use super::App;
use crate::providers::{self, KeyPlan, KeyValue, ProviderInput, ProviderView};
use crate::AppError;
use plugboard_check::provider_probe::{self as connection, ConnectionReport};
use plugboard_config::Route;
use plugboard_keys::{CachedKey, CachedKeys};
use std::sync::Arc;

impl App {
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

    /// Writes the providers file (no keys) into `dir` (the window passes the user's
    /// Downloads folder, else home) and returns its path.
    pub async fn export_providers_to(
        &self,
        dir: Option<std::path::PathBuf>,
    ) -> Result<std::path::PathBuf, AppError> {
        const NAME: &str = "plugboard-providers.toml";
        let dir = dir.ok_or_else(|| AppError::Write {
            path: NAME.into(),
            reason: "there is no home folder to write it to".into(),
        })?;
        let text = self.export_providers().await;
        let path = dir.join(NAME);
        let p = path.clone();
        tokio::task::spawn_blocking(move || std::fs::write(&p, text))
            .await
            .map_err(|_| AppError::Task("export"))?
            .map_err(|e| AppError::Write {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
        Ok(path)
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

    /// The provider a form describes (saved or not) and the key to try it with: the typed
    /// one, else the one stored for the provider being edited.
    async fn draft_and_key(
        &self,
        input: &ProviderInput,
    ) -> Result<(plugboard_config::Provider, Option<String>), AppError> {
        self.ensure_keys().await;
        let p = providers::draft(&self.inner.lock().await.settings, input)?;
        if !(p.base_url.starts_with("http://") || p.base_url.starts_with("https://")) {
            return Err(AppError::BaseUrl(p.base_url));
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
                return Err(AppError::KeyUnreadable {
                    provider: p.display_name().to_string(),
                    reason: reason.to_string(),
                })
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
            .map_err(|e| AppError::Connection(e.to_string()))
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
        let keys = Arc::new(CachedKeys(self.keys.clone()));
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
        fix.apply(p)?;
        self.commit(&mut inner, next).await?;
        tracing::info!(provider = id, fix = %fix.label, "check fix applied");
        Ok(())
    }
}
