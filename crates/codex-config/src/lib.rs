//! Codex integration: Plugboard's `[model_providers.plugboard]` table in
//! `$CODEX_HOME/config.toml`, edited with `toml_edit` so that every other table, key and
//! comment stays byte for byte; a backup of the user's file and an exact undo; and one
//! `NAME.config.toml` profile per provider or route, which Codex 0.169 reads for
//! `codex -p NAME` (it refuses legacy `[profiles.NAME]` tables in config.toml); and a model
//! catalog so that Codex gives every name Plugboard serves its full tool set.

pub mod catalog;
mod codex_cli;
mod edit;
mod files;
mod proxy_env;

pub use codex_cli::{bundled_catalog, codex_version, find_codex, CodexCliError, CODEX_BIN_ENV};
pub use edit::{
    attach_text, detach_text, is_relay_url, profile_text, relay_url, AttachOptions, CATALOG_KEY,
    OPENAI_BASE_URL_KEY,
};
pub use files::{
    apply, attach, attached_url, catalog_path, codex_home, detach, is_attached,
    logged_in_with_chatgpt, preview_apply, preview_attach, profile_name, remove_profile, retarget,
    write_profile, Applied, CatalogOutcome, Preview,
};
pub use proxy_env::proxy_env_warning;

/// Plugboard's provider id in Codex's config (built-in ids cannot be overridden).
pub const PROVIDER_ID: &str = "plugboard";

#[derive(Debug, thiserror::Error)]
pub enum CodexConfigError {
    #[error("{path} is not valid TOML, so Plugboard leaves it alone: {message}")]
    Parse { path: String, message: String },
    #[error("{path}: `{key}` is not a table, so Plugboard cannot add its provider there")]
    NotATable { path: String, key: String },
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: String,
        source: std::io::Error,
    },
    #[error("profile name `{0}` may only hold letters, digits, `-` and `_`")]
    BadProfileName(String),
}
