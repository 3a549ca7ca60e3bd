//! The settings file: TOML in the OS config dir, written atomically (temp file + rename)
//! with owner-only permissions.

use crate::settings::{Settings, SCHEMA_VERSION};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not valid settings: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path} has schema version {found}, newer than this Plugboard ({supported})")]
    TooNew {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("{path}: {problems}")]
    Invalid { path: PathBuf, problems: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// `<OS config dir>/plugboard/settings.toml`.
pub fn default_settings_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "plugboard")
        .map(|d| d.config_dir().join("settings.toml"))
}

pub fn load(path: &Path) -> Result<Settings, StoreError> {
    let text = std::fs::read_to_string(path).map_err(|source| StoreError::Read {
        path: path.into(),
        source,
    })?;
    parse(path, &text)
}

/// Parses a settings file's text, older schemas migrated first.
pub fn parse(path: &Path, text: &str) -> Result<Settings, StoreError> {
    let text = crate::migrate::migrate(text);
    let settings: Settings = toml::from_str(&text).map_err(|e| StoreError::Parse {
        path: path.into(),
        message: e.to_string(),
    })?;
    if settings.version > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: path.into(),
            found: settings.version,
            supported: SCHEMA_VERSION,
        });
    }
    let problems = settings.validate();
    if !problems.is_empty() {
        return Err(StoreError::Invalid {
            path: path.into(),
            problems: problems.join("; "),
        });
    }
    Ok(settings)
}

/// Writes the settings so that a crash leaves either the old or the new file, never half.
pub fn save(path: &Path, settings: &Settings) -> Result<(), StoreError> {
    let err = |source| StoreError::Write {
        path: path.into(),
        source,
    };
    let text = toml::to_string_pretty(settings).map_err(|e| err(std::io::Error::other(e)))?;
    crate::atomic_file::write_atomic(path, text.as_bytes(), crate::atomic_file::Mode::Private)
        .map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Provider;

    fn tmpdir(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("plugboard-config-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn save_then_load_round_trips_with_private_permissions() {
        let path = tmpdir("roundtrip").join("sub/settings.toml");
        let mut s = Settings::default();
        s.providers
            .push(Provider::from_preset("deepseek", "deepseek").unwrap());
        s.active_provider = Some("deepseek".into());
        save(&path, &s).unwrap();
        assert_eq!(load(&path).unwrap(), s);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }

    #[test]
    fn a_crash_between_temp_write_and_rename_leaves_the_old_file() {
        let dir = tmpdir("crash");
        let path = dir.join("settings.toml");
        let mut s = Settings {
            listen: "127.0.0.1:1111".into(),
            ..Settings::default()
        };
        save(&path, &s).unwrap();
        // What a crash after the temp write and before the rename leaves behind.
        std::fs::write(
            dir.join(".settings.toml.plugboard-tmp-99999"),
            "listen = [half written",
        )
        .unwrap();
        assert_eq!(
            load(&path).unwrap().listen,
            "127.0.0.1:1111",
            "the real file is whole"
        );
        s.listen = "127.0.0.1:2222".into();
        save(&path, &s).unwrap();
        assert_eq!(
            load(&path).unwrap().listen,
            "127.0.0.1:2222",
            "the next save still works"
        );
    }

    #[test]
    fn a_failed_write_keeps_the_old_file_and_says_why() {
        let dir = tmpdir("fullish");
        let path = dir.join("settings.toml");
        let mut s = Settings::default();
        save(&path, &s).unwrap();
        let before = std::fs::read_to_string(&path).unwrap();
        // The temp file cannot be created (as on a full disk): a directory sits in its place.
        std::fs::create_dir(dir.join(format!(
            ".settings.toml.plugboard-tmp-{}",
            std::process::id()
        )))
        .unwrap();
        s.listen = "127.0.0.1:3333".into();
        let e = save(&path, &s).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("cannot write {}", path.display())),
            "{e}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
    }

    #[test]
    fn a_hand_written_file_with_unknown_keys_loads() {
        let s = parse(
            Path::new("x.toml"),
            r#"
            listen = "127.0.0.1:9000"
            active_provider = "local"
            future_key = 1
            [[provider]]
            id = "local"
            base_url = "http://127.0.0.1:11434/v1"
            preset = "ollama"
            model_map = { "gpt-*" = "qwen3" }
            dialect = { stream_usage = false }
            [[route]]
            model = "plan-*"
            provider = "local"
            "#,
        )
        .unwrap();
        assert_eq!(s.providers[0].upstream_model("gpt-5"), "qwen3");
        assert!(!s.providers[0].dialect().unwrap().stream_usage);
    }

    #[test]
    fn errors_name_the_file_and_the_problem() {
        let e = parse(Path::new("/x/s.toml"), "listen = 5")
            .unwrap_err()
            .to_string();
        assert!(e.contains("/x/s.toml") && e.contains("listen"), "{e}");
        let e = parse(Path::new("s.toml"), "version = 99")
            .unwrap_err()
            .to_string();
        assert!(e.contains("newer"), "{e}");
    }
}
