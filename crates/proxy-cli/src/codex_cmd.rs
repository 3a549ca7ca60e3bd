//! `plugboard-proxy codex apply | detach`: what the app's Apply to Codex and Detach do.

use super::*;

pub(crate) fn codex(action: CodexAction) -> ExitCode {
    let Some(home) = plugboard_codex::codex_home() else {
        eprintln!("plugboard-proxy: no home directory: set CODEX_HOME");
        return ExitCode::from(2);
    };
    let result = match action {
        CodexAction::Detach => plugboard_codex::detach(&home).map(|()| {
            format!(
                "Detached: {} is back to your own provider.",
                home.join("config.toml").display()
            )
        }),
        CodexAction::Apply {
            config,
            listen,
            model,
            not_default,
            codex,
            no_keyring,
            hybrid,
        } => {
            let path = config
                .clone()
                .or_else(plugboard_config::default_settings_path);
            let mut settings = match settings_file(config) {
                Ok(s) => s,
                Err(code) => return code,
            };
            let mut model = model;
            let mut subagent_model = None;
            if let Some([planner, executor]) = hybrid.as_deref() {
                if let Err(e) = settings.set_hybrid(planner, executor) {
                    eprintln!("plugboard-proxy: {e}");
                    return ExitCode::from(2);
                }
                let Some(path) = path else {
                    eprintln!("plugboard-proxy: no settings file to keep the route in: pass --config FILE");
                    return ExitCode::from(2);
                };
                if let Err(e) = plugboard_config::save(&path, &settings) {
                    eprintln!("plugboard-proxy: {e}");
                    return ExitCode::FAILURE;
                }
                println!(
                    "Hybrid: {planner} plans; subagents run on {executor} (route saved in {}).",
                    path.display()
                );
                model = Some(planner.clone());
                subagent_model = Some(executor.clone());
            }
            let Some(addr) = listen.or_else(|| settings.listen.parse().ok()) else {
                eprintln!(
                    "plugboard-proxy: listen `{}` is not an address",
                    settings.listen
                );
                return ExitCode::from(2);
            };
            let opts = plugboard_codex::AttachOptions {
                base_url: format!("http://{addr}/v1"),
                make_default: !not_default,
                model: Some(model.unwrap_or_else(|| model_hint(&settings))),
                model_catalog: None,
                chatgpt_relay: false,
                subagent_model,
            };
            let codex = codex.or_else(plugboard_codex::find_codex);
            let listed = listed_models(&settings, !no_keyring);
            plugboard_codex::apply(&home, &opts, &settings, &listed, codex.as_deref()).map(|a| {
                let p = &a.preview;
                let config = if p.diff.is_empty() {
                    format!("{} already points at Plugboard.", p.path.display())
                } else {
                    format!("Applied to {}:\n{}", p.path.display(), p.diff)
                };
                let found = match (&a.codex_version, &a.version_note) {
                    (Some(v), None) => format!("\nCodex {v} found."),
                    (Some(_), Some(note)) => format!("\nNote: {note}"),
                    (None, _) => String::new(),
                };
                format!("{config}\n{}{found}", catalog_line(&a.catalog))
            })
        }
    };
    match result {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("plugboard-proxy: {e}");
            ExitCode::FAILURE
        }
    }
}

pub(crate) fn catalog_line(c: &plugboard_codex::CatalogOutcome) -> String {
    match c {
        plugboard_codex::CatalogOutcome::Written {
            path,
            models,
            codex_version,
        } => format!(
            "Model catalog {} ({}): {}",
            path.display(),
            match codex_version {
                Some(v) => format!("from Codex {v}"),
                None => "from your own catalog".to_string(),
            },
            if models.is_empty() {
                "no names beyond Codex's own".to_string()
            } else {
                format!("Codex now knows {}", models.join(", "))
            }
        ),
        plugboard_codex::CatalogOutcome::Skipped { reason } => format!("Note: {reason}"),
    }
}

/// The model lists of the providers glob routes send to (keys from the environment or the
/// OS keyring, as `serve` reads them), for the catalog's names.
fn listed_models(
    settings: &plugboard_config::Settings,
    use_keyring: bool,
) -> plugboard_config::ListedModels {
    if !settings
        .routes
        .iter()
        .any(|r| plugboard_config::is_glob(&r.model))
    {
        return Default::default();
    }
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::warn!(error = %e, "no runtime to read model lists");
            return Default::default();
        }
    };
    rt.block_on(async {
        let keys = plugboard_keys::HeadlessKeys::load(settings, use_keyring).await;
        plugboard_check::provider_probe::listed_for_glob_routes(settings, &keys).await
    })
}
