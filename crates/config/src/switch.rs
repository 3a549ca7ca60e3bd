//! `plugboard-proxy use PROVIDER`: the active provider changed in the settings file itself,
//! every other line and comment of a hand-written file kept, so that a running proxy
//! watching the file (and the next start) serves the new one.

use crate::atomic_file::{write_atomic, Mode};
use crate::settings::Settings;
use crate::store::{parse, StoreError};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum SwitchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no provider `{wanted}` in {path} (defined: {defined})")]
    Unknown {
        wanted: String,
        path: String,
        defined: String,
    },
    #[error("{path} could not be edited as TOML: {message}")]
    Edit { path: String, message: String },
}

/// Makes `provider` the active one in the settings file at `path` and returns the settings
/// as written. The file is checked before and after the edit and replaced atomically: a
/// refused switch leaves it as it was.
pub fn switch_active(path: &Path, provider: &str) -> Result<Settings, SwitchError> {
    let text = std::fs::read_to_string(path).map_err(|source| StoreError::Read {
        path: path.into(),
        source,
    })?;
    let before = parse(path, &text)?;
    if !before.providers.iter().any(|p| p.id == provider) {
        let defined: Vec<&str> = before.providers.iter().map(|p| p.id.as_str()).collect();
        return Err(SwitchError::Unknown {
            wanted: provider.into(),
            path: path.display().to_string(),
            defined: if defined.is_empty() {
                "none".into()
            } else {
                defined.join(", ")
            },
        });
    }
    let edit_err = |message: String| SwitchError::Edit {
        path: path.display().to_string(),
        message,
    };
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e| edit_err(format!("{e}")))?;
    doc["active_provider"] = toml_edit::value(provider);
    let edited = doc.to_string();
    let after = parse(path, &edited)?;
    if after.active_provider.as_deref() != Some(provider) {
        // An older schema whose migration moves the key: the edit did not take.
        return Err(edit_err(
            "the file's schema keeps the active provider elsewhere; open and save it in Plugboard once".into(),
        ));
    }
    write_atomic(path, edited.as_bytes(), Mode::Private).map_err(|source| StoreError::Write {
        path: path.into(),
        source,
    })?;
    Ok(after)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"# The team's providers.
listen = "127.0.0.1:9000"
active_provider = "a" # the planner

[[provider]]
id = "a"
base_url = "http://127.0.0.1:1/v1"
preset = "custom"

[[provider]]
id = "b" # a local one
base_url = "http://127.0.0.1:2/v1"
preset = "custom"
"#;

    fn file(name: &str, text: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("plugboard-switch-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("settings.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn switches_and_keeps_comments() {
        let path = file("ok", FILE);
        let s = switch_active(&path, "b").unwrap();
        assert_eq!(s.active_provider.as_deref(), Some("b"));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("# The team's providers.") && text.contains("# a local one"),
            "{text}"
        );
        assert!(text.contains("active_provider = \"b\""), "{text}");
        assert_eq!(text.matches("active_provider").count(), 1, "{text}");
    }

    #[test]
    fn an_unknown_provider_changes_nothing_and_names_the_defined_ones() {
        let path = file("unknown", FILE);
        let e = switch_active(&path, "nope").unwrap_err().to_string();
        assert!(e.contains("`nope`") && e.contains("a, b"), "{e}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), FILE);
    }

    #[test]
    fn a_file_without_an_active_provider_gets_one() {
        let text = FILE.replace("active_provider = \"a\" # the planner\n", "");
        let path = file("none", &text);
        switch_active(&path, "a").unwrap();
        assert_eq!(
            crate::load(&path).unwrap().active_provider.as_deref(),
            Some("a")
        );
    }

    #[test]
    fn a_broken_file_is_left_alone() {
        let path = file("broken", "listen = [");
        assert!(matches!(
            switch_active(&path, "a"),
            Err(SwitchError::Store(_))
        ));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "listen = [");
    }
}
