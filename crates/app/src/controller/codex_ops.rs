//! Codex's files: what Apply would change, Apply, Detach. Writes are serialised and run on
//! a blocking thread, outside the app's lock.

use super::{base_url, App};
use crate::AppError;
use plugboard_check::provider_probe as connection;
use plugboard_codex::{Applied, AttachOptions, Preview};
use plugboard_keys::CachedKeys;
use std::path::PathBuf;

impl App {
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
            chatgpt_relay: false,
            subagent_model: None,
        }
    }

    /// Runs a Codex file operation on a blocking thread (it reads and writes files and may
    /// run the Codex CLI), one at a time, with no app lock held.
    pub(super) async fn with_codex_files<T: Send + 'static>(
        &self,
        work: impl FnOnce(PathBuf) -> Result<T, plugboard_codex::CodexConfigError> + Send + 'static,
    ) -> Result<T, AppError> {
        let _one_at_a_time = self.codex_files.lock().await;
        let home = self.paths.codex_home.clone();
        tokio::task::spawn_blocking(move || work(home))
            .await
            .map_err(|_| AppError::Task("Codex config"))?
            .map_err(AppError::from)
    }

    /// The exact change "Apply to Codex" would make.
    pub async fn codex_preview(
        &self,
        make_default: bool,
        model: Option<String>,
    ) -> Result<Preview, AppError> {
        let (url, settings) = {
            let inner = self.inner.lock().await;
            (base_url(&inner), inner.settings.clone())
        };
        let opts = Self::attach_options(url, make_default, model);
        self.with_codex_files(move |home| {
            let codex = plugboard_codex::find_codex();
            plugboard_codex::preview_apply(&home, &opts, &settings, codex.as_deref())
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
        self.apply_with(make_default, model, None).await
    }

    async fn apply_with(
        &self,
        make_default: bool,
        model: Option<String>,
        subagent_model: Option<String>,
    ) -> Result<Applied, AppError> {
        self.ensure_keys().await;
        let (url, settings) = {
            let inner = self.inner.lock().await;
            (base_url(&inner), inner.settings.clone())
        };
        let opts = AttachOptions {
            subagent_model,
            ..Self::attach_options(url, make_default, model)
        };
        // What glob routes can serve, from their providers' own lists (no lock held).
        let keys = CachedKeys(self.keys.clone());
        let listed = connection::listed_for_glob_routes(&settings, &keys).await;
        let applied = self
            .with_codex_files(move |home| {
                let codex = plugboard_codex::find_codex();
                plugboard_codex::apply(&home, &opts, &settings, &listed, codex.as_deref())
            })
            .await?;
        // "Attached" is read from Codex's file: the tray and the window show it next.
        self.changed();
        Ok(applied)
    }

    /// "Plan with one model, execute with another" in one step: the subagent route saved
    /// and applied to the proxy at once, then Apply with the planner as Codex's model and
    /// the executor as its subagents' model.
    pub async fn codex_hybrid(
        &self,
        planner: String,
        executor: String,
    ) -> Result<Applied, AppError> {
        let (planner, executor) = (planner.trim().to_string(), executor.trim().to_string());
        {
            let mut inner = self.inner.lock().await;
            let mut next = inner.settings.clone();
            next.set_hybrid(&planner, &executor)?;
            self.commit(&mut inner, next).await?;
        }
        tracing::info!(%planner, %executor, "plan-and-execute set up");
        self.apply_with(true, Some(planner), Some(executor)).await
    }

    pub async fn codex_detach(&self) -> Result<(), AppError> {
        self.with_codex_files(|home| plugboard_codex::detach(&home))
            .await?;
        self.changed();
        Ok(())
    }
}
