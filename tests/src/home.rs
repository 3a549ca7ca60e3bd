//! Ports and homes for what a test starts: a free port, and an app home removed on drop.

/// A port nothing listens on right now (for a proxy or an app to take, or to stand for an
/// address where nothing answers).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A fresh home for the app's files (settings, logs, usage, Codex), removed when dropped;
/// its settings file listens on a free port.
pub struct TempHome {
    pub root: std::path::PathBuf,
    pub paths: plugboard_app::AppPaths,
}

impl TempHome {
    pub fn new(name: &str) -> TempHome {
        let root = std::env::temp_dir().join(format!("plugboard-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let paths = plugboard_app::AppPaths {
            settings_file: root.join("config/settings.toml"),
            log_dir: root.join("data/logs"),
            codex_home: root.join("codex"),
            usage_db: root.join("data/usage.sqlite"),
        };
        std::fs::create_dir_all(root.join("config")).unwrap();
        std::fs::write(
            &paths.settings_file,
            format!("listen = \"127.0.0.1:{}\"\n", free_port()),
        )
        .unwrap();
        TempHome { root, paths }
    }
}

impl Drop for TempHome {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
