//! The files under `$CODEX_HOME`: backup before the first change, atomic writes, undo.
//!
//! (Over 400 lines with its unit tests: attach, detach, profiles and the catalog file share
//! the backup and write rules.)

use crate::catalog::with_cards;
use crate::codex_cli::{bundled_catalog, codex_version, CODEX_BIN_ENV};
use crate::edit::{
    attach_text, detach_text, is_relay_url, profile_text, AttachOptions, CATALOG_KEY,
    OPENAI_BASE_URL_KEY,
};
use crate::{CodexConfigError, PROVIDER_ID};
use plugboard_config::{ListedModels, Settings};
use std::path::{Path, PathBuf};

const BACKUP_SUFFIX: &str = ".plugboard-backup";

/// `$CODEX_HOME`, else `~/.codex`.
pub fn codex_home() -> Option<PathBuf> {
    if let Some(h) = std::env::var_os("CODEX_HOME").filter(|h| !h.is_empty()) {
        return Some(PathBuf::from(h));
    }
    std::env::var_os("HOME")
        .or_else(|| std::env::var_os("USERPROFILE"))
        .map(|h| PathBuf::from(h).join(".codex"))
}

fn config_path(home: &Path) -> PathBuf {
    home.join("config.toml")
}

fn backup_path(home: &Path) -> PathBuf {
    home.join(format!("config.toml{BACKUP_SUFFIX}"))
}

/// The model catalog Plugboard writes for Codex.
pub fn catalog_path(home: &Path) -> PathBuf {
    home.join("plugboard-models.json")
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> CodexConfigError {
    let path = path.display().to_string();
    move |source| CodexConfigError::Io {
        action,
        path,
        source,
    }
}

fn read_or_empty(path: &Path) -> Result<String, CodexConfigError> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(io("read", path)(e)),
    }
}

/// Temp file + rename: a crash leaves the old file or the new one, never half; Codex's
/// files keep their permissions.
fn write_atomic(path: &Path, text: &str) -> Result<(), CodexConfigError> {
    plugboard_config::atomic_file::write_atomic(
        path,
        text.as_bytes(),
        plugboard_config::atomic_file::Mode::Keep,
    )
    .map_err(io("write", path))
}

/// What attaching would change, shown to the user before anything is written.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    pub path: PathBuf,
    pub before: String,
    pub after: String,
    /// A unified diff of the change, empty when there is none.
    pub diff: String,
}

pub fn preview_attach(home: &Path, opts: &AttachOptions) -> Result<Preview, CodexConfigError> {
    let path = config_path(home);
    let before = read_or_empty(&path)?;
    let after = attach_text(&path.display().to_string(), &before, opts)?;
    let diff = similar::TextDiff::from_lines(&before, &after)
        .unified_diff()
        .context_radius(2)
        .header("config.toml (now)", "config.toml (with Plugboard)")
        .to_string();
    Ok(Preview {
        path,
        before,
        after,
        diff,
    })
}

/// Writes Plugboard's table (the user's original file is backed up the first time).
pub fn attach(home: &Path, opts: &AttachOptions) -> Result<Preview, CodexConfigError> {
    let preview = preview_attach(home, opts)?;
    let backup = backup_path(home);
    if !backup.exists() {
        write_atomic(&backup, &preview.before)?;
    }
    if preview.after != preview.before {
        write_atomic(&preview.path, &preview.after)?;
    }
    tracing::info!(path = %preview.path.display(), "attached Plugboard to Codex");
    Ok(preview)
}

fn config_doc(home: &Path) -> Option<toml_edit::DocumentMut> {
    read_or_empty(&config_path(home)).ok()?.parse().ok()
}

/// Plugboard's relay address when Codex's own provider points at it (ChatGPT plan relay).
fn relay_attached(doc: &toml_edit::DocumentMut) -> Option<String> {
    doc.get(OPENAI_BASE_URL_KEY)?
        .as_str()
        .filter(|u| is_relay_url(u))
        .map(str::to_string)
}

/// Plugboard's `/v1` address in Codex's config, if Codex points at it: its provider's
/// `base_url`, or the relay its own `openai` provider uses.
pub fn attached_url(home: &Path) -> Option<String> {
    let doc = config_doc(home)?;
    let table = doc
        .get("model_providers")
        .and_then(|p| p.get(PROVIDER_ID))
        .and_then(|t| t.get("base_url"))
        .and_then(|u| u.as_str())
        .map(str::to_string);
    table.or_else(|| {
        relay_attached(&doc).map(|u| {
            let root = u.trim_end_matches('/');
            format!("{}/v1", root.strip_suffix("/codex").unwrap_or(root))
        })
    })
}

/// Whether Codex is logged in with ChatGPT: `auth.json` holds tokens. Only their presence
/// is read; nothing of them is kept.
pub fn logged_in_with_chatgpt(home: &Path) -> bool {
    std::fs::read(home.join("auth.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| {
            v.get("tokens")?
                .get("access_token")?
                .as_str()
                .map(|t| !t.is_empty())
        })
        .unwrap_or(false)
}

/// Points Plugboard's provider at `new_url` where it pointed at `old_url` (the proxy moved
/// port); anything else is left alone. True when the file changed.
pub fn retarget(home: &Path, old_url: &str, new_url: &str) -> Result<bool, CodexConfigError> {
    if attached_url(home).as_deref() != Some(old_url) {
        return Ok(false);
    }
    let relay =
        config_doc(home).and_then(|d| relay_attached(&d)).is_some() && !is_table_attached(home);
    let opts = AttachOptions {
        base_url: new_url.to_string(),
        make_default: false,
        model: None,
        model_catalog: None,
        chatgpt_relay: relay,
        subagent_model: None,
    };
    Ok(!attach(home, &opts)?.diff.is_empty())
}

fn is_table_attached(home: &Path) -> bool {
    config_doc(home).is_some_and(|d| {
        d.get("model_providers")
            .and_then(|p| p.get(PROVIDER_ID))
            .is_some()
    })
}

/// Codex points at Plugboard: its provider table, or the ChatGPT plan relay.
pub fn is_attached(home: &Path) -> bool {
    is_table_attached(home) || config_doc(home).and_then(|d| relay_attached(&d)).is_some()
}

/// Undoes [`attach`]: Plugboard's table goes, the user's provider and model come back, and
/// the backup is removed. Changes the user made since stay.
pub fn detach(home: &Path) -> Result<(), CodexConfigError> {
    let path = config_path(home);
    let backup = backup_path(home);
    let current = read_or_empty(&path)?;
    let original = read_or_empty(&backup)?;
    let catalog = catalog_path(home);
    let restored = detach_text(
        &path.display().to_string(),
        &current,
        &original,
        &catalog.display().to_string(),
    )?;
    if restored.is_empty() && original.is_empty() && backup.exists() {
        // The file did not exist before Plugboard wrote it.
        let _ = std::fs::remove_file(&path);
    } else if restored != current {
        write_atomic(&path, &restored)?;
    }
    for file in [&backup, &catalog] {
        if file.exists() {
            std::fs::remove_file(file).map_err(io("remove", file))?;
        }
    }
    tracing::info!(path = %path.display(), "detached Plugboard from Codex");
    Ok(())
}

fn profile_path(home: &Path, name: &str) -> Result<PathBuf, CodexConfigError> {
    if name.is_empty()
        || name == "config"
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(CodexConfigError::BadProfileName(name.into()));
    }
    Ok(home.join(format!("{name}.config.toml")))
}

/// `$CODEX_HOME/NAME.config.toml`, read by `codex -p NAME`.
pub fn write_profile(
    home: &Path,
    name: &str,
    model: &str,
    context_window: Option<u64>,
) -> Result<PathBuf, CodexConfigError> {
    let path = profile_path(home, name)?;
    write_atomic(&path, &profile_text(model, context_window))?;
    Ok(path)
}

/// Removes a profile Plugboard wrote; a file it did not write is left alone.
pub fn remove_profile(home: &Path, name: &str) -> Result<(), CodexConfigError> {
    let path = profile_path(home, name)?;
    if read_or_empty(&path)?.starts_with("# Written by Plugboard") {
        std::fs::remove_file(&path).map_err(io("remove", &path))?;
    }
    Ok(())
}

/// A profile name for a route's model name: what `codex -p` accepts (letters, digits, `-`
/// and `_`), anything else turned into `-`.
pub fn profile_name(model: &str) -> String {
    model
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// What Apply did about Codex's model catalog.
#[derive(Debug, Clone, PartialEq)]
pub enum CatalogOutcome {
    Written {
        path: PathBuf,
        /// Plugboard's entries: the names Codex now knows through it.
        models: Vec<String>,
        /// The Codex whose catalog was the base, when it said.
        codex_version: Option<String>,
    },
    Skipped {
        reason: String,
    },
}

/// What "Apply to Codex" changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub preview: Preview,
    pub catalog: CatalogOutcome,
    /// The Codex found, `codex --version`'s answer, if one was found.
    pub codex_version: Option<String>,
    /// What the user should know about that version (never a refusal).
    pub version_note: Option<String>,
}

/// The Codex version Plugboard's files (provider table, profile files, model catalog) were
/// written and tested against.
pub const TESTED_CODEX: &str = "0.169.0";

fn version_parts(v: &str) -> Option<(u64, u64, u64)> {
    let mut it = v.trim().trim_start_matches('v').split(['.', '-']);
    Some((
        it.next()?.parse().ok()?,
        it.next()?.parse().ok()?,
        it.next().and_then(|p| p.parse().ok()).unwrap_or(0),
    ))
}

/// A note for a Codex older or newer than [`TESTED_CODEX`]: older ones may not read profile
/// files (`NAME.config.toml`) or `model_catalog_json`; newer ones may have moved on.
pub fn version_note(found: &str) -> Option<String> {
    let (Some(v), Some(t)) = (version_parts(found), version_parts(TESTED_CODEX)) else {
        return Some(format!(
            "Codex said its version is `{found}`, which Plugboard cannot read; it was tested \
             with {TESTED_CODEX}"
        ));
    };
    if v < t {
        Some(format!(
            "Codex {found} is older than {TESTED_CODEX}, the version Plugboard was tested with: \
             `codex -p NAME` profile files and the model catalog may be ignored; updating Codex \
             is advised"
        ))
    } else if (v.0, v.1) > (t.0, t.1) {
        Some(format!(
            "Codex {found} is newer than {TESTED_CODEX}, the version Plugboard was tested with: \
             it should work; if something looks off, Detach gives your config back"
        ))
    } else {
        None
    }
}

/// Where the catalog's base comes from: the user's own catalog file, else the bundled
/// catalog of the Codex binary.
enum CatalogBase {
    UserFile(PathBuf),
    Codex(PathBuf),
    None(String),
}

fn catalog_base(home: &Path, codex_bin: Option<&Path>) -> Result<CatalogBase, CodexConfigError> {
    let ours = catalog_path(home).display().to_string();
    let setting = |text: &str| {
        text.parse::<toml_edit::DocumentMut>()
            .ok()
            .and_then(|d| d.get(CATALOG_KEY)?.as_str().map(str::to_string))
            .filter(|p| *p != ours)
    };
    let user = setting(&read_or_empty(&config_path(home))?)
        .or_else(|| setting(&read_or_empty(&backup_path(home)).ok()?));
    Ok(match (user, codex_bin) {
        (Some(p), _) => CatalogBase::UserFile(PathBuf::from(p)),
        (None, Some(bin)) => CatalogBase::Codex(bin.to_path_buf()),
        (None, None) => CatalogBase::None(format!(
            "Codex was not found on PATH (or in {CODEX_BIN_ENV}), so Codex's model catalog was \
             left alone: names other than Codex's own get its fallback tools, without apply_patch"
        )),
    })
}

/// The options Apply will write with: the catalog set when one can be built.
fn planned(
    home: &Path,
    opts: &AttachOptions,
    codex_bin: Option<&Path>,
) -> Result<AttachOptions, CodexConfigError> {
    let mut opts = opts.clone();
    if !matches!(catalog_base(home, codex_bin)?, CatalogBase::None(_)) {
        opts.model_catalog = Some(catalog_path(home).display().to_string());
    }
    Ok(opts)
}

/// What [`apply`] would change in `config.toml` with these settings.
pub fn preview_apply(
    home: &Path,
    opts: &AttachOptions,
    settings: &Settings,
    codex_bin: Option<&Path>,
) -> Result<Preview, CodexConfigError> {
    if relay_wanted(home, settings) {
        return preview_attach(home, &relay_options(opts));
    }
    preview_attach(home, &planned(home, opts, codex_bin)?)
}

/// Apply points Codex's own provider at the relay: Codex is logged in with ChatGPT and
/// Plugboard has a provider that relays that login.
fn relay_wanted(home: &Path, settings: &Settings) -> bool {
    logged_in_with_chatgpt(home) && settings.providers.iter().any(|p| p.relays_codex_login())
}

fn relay_options(opts: &AttachOptions) -> AttachOptions {
    AttachOptions {
        chatgpt_relay: true,
        make_default: false,
        model_catalog: None,
        ..opts.clone()
    }
}

/// Builds and writes the catalog; a base that cannot be read skips it with the reason.
fn write_catalog(
    home: &Path,
    opts: &AttachOptions,
    settings: &Settings,
    listed: &ListedModels,
    codex_bin: Option<&Path>,
    version: &Option<String>,
) -> Result<CatalogOutcome, CodexConfigError> {
    let skipped = |reason: String| Ok(CatalogOutcome::Skipped { reason });
    let (base, version) = match catalog_base(home, codex_bin)? {
        CatalogBase::None(reason) => return skipped(reason),
        CatalogBase::UserFile(p) => {
            let text = match std::fs::read(&p) {
                Ok(t) => t,
                Err(e) => return skipped(format!("cannot read your catalog {}: {e}", p.display())),
            };
            match serde_json::from_slice(&text) {
                Ok(v) => (v, None),
                Err(e) => return skipped(format!("your catalog {} is not JSON: {e}", p.display())),
            }
        }
        CatalogBase::Codex(bin) => match bundled_catalog(&bin) {
            Ok(v) => (v, version.clone()),
            Err(e) => return skipped(e.to_string()),
        },
    };
    let known = match crate::catalog::slugs(&base) {
        Ok(k) => k,
        Err(e) => return skipped(e.to_string()),
    };
    let cards = settings.model_cards_with(|name| known.iter().any(|k| k == name), listed);
    let catalog = match with_cards(&base, &cards, opts.model.as_deref(), version.as_deref()) {
        Ok(c) => c,
        Err(e) => return skipped(e.to_string()),
    };
    let path = catalog_path(home);
    let text = serde_json::to_string(&catalog).expect("a JSON value serialises");
    write_atomic(&path, &text)?;
    Ok(CatalogOutcome::Written {
        path,
        models: cards.into_iter().map(|c| c.name).collect(),
        codex_version: version,
    })
}

/// "Apply to Codex" as the app and `plugboard-proxy codex apply` both do it: Plugboard's
/// provider in the config (the user's file backed up first), a model catalog with every
/// name Plugboard serves (built from the Codex binary's own, so Codex's models stay; glob
/// routes name what `listed`, their providers' model lists, offers), and one `codex -p`
/// profile per exact route name. Runs a process and writes files: keep it off async
/// workers.
pub fn apply(
    home: &Path,
    opts: &AttachOptions,
    settings: &Settings,
    listed: &ListedModels,
    codex_bin: Option<&Path>,
) -> Result<Applied, CodexConfigError> {
    let version = codex_bin.and_then(|b| codex_version(b).ok());
    if relay_wanted(home, settings) {
        return apply_relay(home, opts, version);
    }
    let catalog = write_catalog(home, opts, settings, listed, codex_bin, &version)?;
    let mut opts = opts.clone();
    if matches!(catalog, CatalogOutcome::Written { .. }) {
        opts.model_catalog = Some(catalog_path(home).display().to_string());
    }
    let preview = attach(home, &opts)?;
    for route in &settings.routes {
        if !plugboard_config::is_glob(&route.model) {
            write_profile(home, &profile_name(&route.model), &route.model, None)?;
        }
    }
    if let CatalogOutcome::Skipped { reason } = &catalog {
        tracing::warn!(%reason, "no model catalog written for Codex");
    }
    let version_note = version.as_deref().and_then(version_note);
    Ok(Applied {
        preview,
        catalog,
        version_note,
        codex_version: version,
    })
}

/// Apply for a user logged in to Codex with ChatGPT: Codex's own `openai` provider keeps
/// the login and points at Plugboard's relay; Plugboard's `/codex/models` gives the picker
/// the routed names, so neither a catalog file nor profiles are written.
fn apply_relay(
    home: &Path,
    opts: &AttachOptions,
    version: Option<String>,
) -> Result<Applied, CodexConfigError> {
    let opts = AttachOptions {
        chatgpt_relay: true,
        subagent_model: None,
        make_default: false,
        model_catalog: None,
        ..opts.clone()
    };
    let preview = attach(home, &opts)?;
    let version_note = version.as_deref().and_then(version_note);
    Ok(Applied {
        preview,
        catalog: CatalogOutcome::Skipped {
            reason: "Codex is logged in with ChatGPT: it keeps its login and plan, and Plugboard's routed names reach its model picker from the relay's model list".into(),
        },
        version_note,
        codex_version: version,
    })
}

#[cfg(test)]
mod tests {
    use super::version_note;

    #[test]
    fn versions_older_or_newer_than_tested_get_a_note() {
        assert_eq!(version_note("0.169.0"), None);
        assert_eq!(version_note("0.169.3"), None);
        assert!(version_note("0.150.0")
            .unwrap()
            .contains("older than 0.169.0"));
        assert!(version_note("0.171.0")
            .unwrap()
            .contains("newer than 0.169.0"));
        assert!(version_note("1.0.0-alpha.1").unwrap().contains("newer"));
        assert!(version_note("banana").unwrap().contains("cannot read"));
    }
}
