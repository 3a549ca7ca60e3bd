//! The app's settings file: a missing file means first start; a corrupt one is moved aside
//! (never overwritten) and reported; an older schema is migrated (by the config crate, so
//! that `plugboard-proxy` reads old files too).

use plugboard_config::{Settings, StoreError};
use std::path::{Path, PathBuf};

pub struct Loaded {
    pub settings: Settings,
    /// Something the user must hear about (a file moved aside).
    pub warning: Option<String>,
}

pub fn load_or_recover(path: &Path) -> Result<Loaded, StoreError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Loaded {
                settings: Settings::default(),
                warning: None,
            });
        }
        Err(source) => {
            return Err(StoreError::Read {
                path: path.into(),
                source,
            })
        }
    };
    match plugboard_config::store::parse(path, &text) {
        Ok(settings) => Ok(Loaded {
            settings,
            warning: None,
        }),
        // A newer Plugboard's file is not ours to rewrite.
        Err(e @ StoreError::TooNew { .. }) => Err(e),
        Err(e) => {
            let aside = aside_path(path);
            std::fs::rename(path, &aside).map_err(|source| StoreError::Write {
                path: aside.clone(),
                source,
            })?;
            tracing::warn!(error = %e, kept = %aside.display(), "settings file moved aside");
            Ok(Loaded {
                settings: Settings::default(),
                warning: Some(format!(
                    "{e}. The file was kept as {} and Plugboard started with empty settings.",
                    aside.display()
                )),
            })
        }
    }
}

fn aside_path(path: &Path) -> PathBuf {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    path.with_extension(format!("toml.corrupt-{stamp}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "plugboard-app-settings-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn missing_file_is_a_first_start() {
        let l = load_or_recover(&dir("missing").join("settings.toml")).unwrap();
        assert_eq!(l.settings, Settings::default());
        assert!(l.warning.is_none());
    }

    #[test]
    fn a_corrupt_file_is_kept_aside_and_reported() {
        let d = dir("corrupt");
        let path = d.join("settings.toml");
        std::fs::write(&path, "listen = [broken").unwrap();
        let l = load_or_recover(&path).unwrap();
        let w = l.warning.unwrap();
        assert!(w.contains("kept as"), "{w}");
        assert!(!path.exists());
        let aside: Vec<_> = std::fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(aside.len(), 1);
        assert_eq!(
            std::fs::read_to_string(&aside[0]).unwrap(),
            "listen = [broken",
            "the user's bytes are kept"
        );
    }

    #[test]
    fn a_newer_file_is_refused_and_left_alone() {
        let d = dir("newer");
        let path = d.join("settings.toml");
        std::fs::write(&path, "version = 9\n").unwrap();
        assert!(load_or_recover(&path).is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "version = 9\n");
    }

    #[test]
    fn version_0_files_are_migrated() {
        let d = dir("v0");
        let path = d.join("settings.toml");
        std::fs::write(&path, "default_provider = \"local\"\n[[provider]]\nid = \"local\"\nbase_url = \"http://127.0.0.1:11434/v1\"\n").unwrap();
        let l = load_or_recover(&path).unwrap();
        assert_eq!(l.settings.version, 1);
        assert_eq!(l.settings.active_provider.as_deref(), Some("local"));
    }
}
