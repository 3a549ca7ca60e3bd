//! The real desktop app for the window's tests: started under tauri-driver (WebKitWebDriver)
//! in a fresh home, one at a time.

use crate::free_port;
use crate::webdriver::WebDriver;
use std::path::{Path, PathBuf};
use std::process::Stdio;

pub fn env_or_skip(name: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(v) => Some(v),
        Err(_) if std::env::var("PLUGBOARD_SKIP_EXTERNAL").as_deref() == Ok("1") => None,
        Err(_) => panic!("{name} is not set: run the tests through scripts/test.sh, or set PLUGBOARD_SKIP_EXTERNAL=1"),
    }
}

/// One app at a time: the single-instance plugin lets only one Plugboard run per D-Bus
/// session, and both tests share the keyring's session.
pub static ONE_APP: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Ends the app: closing its window leaves it in the tray (as a user expects), so ending
/// the WebDriver session does not end the process.
pub async fn end_app(app: &str) {
    let _ = tokio::process::Command::new("pkill")
        .args(["-f", app])
        .status()
        .await;
}

/// The app under tauri-driver with a fresh home whose settings file is `settings`.
pub async fn launch(
    app: &str,
    driver: &str,
    name: &str,
    settings: &str,
) -> (WebDriver, tokio::process::Child, PathBuf) {
    let home = std::env::temp_dir().join(format!("desktop-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    launch_in(app, driver, &home, settings).await
}

/// The app under tauri-driver in `home` (kept as it is) with `settings`.
pub async fn launch_in(
    app: &str,
    driver: &str,
    home: &Path,
    settings: &str,
) -> (WebDriver, tokio::process::Child, PathBuf) {
    let home = home.to_path_buf();
    let config_dir = home.join(".config/plugboard");
    std::fs::create_dir_all(&config_dir).unwrap();
    std::fs::write(config_dir.join("settings.toml"), settings).unwrap();
    let driver_port = free_port();
    let driver_proc = in_home(&mut tokio::process::Command::new(driver), &home)
        .args([
            "--port",
            &driver_port.to_string(),
            "--native-port",
            &free_port().to_string(),
            "--native-driver",
            "/usr/bin/WebKitWebDriver",
        ])
        .env("NO_PROXY", "127.0.0.1,localhost")
        .kill_on_drop(true)
        .spawn()
        .expect("tauri-driver starts");
    let wd = WebDriver::start(&format!("http://127.0.0.1:{driver_port}"), app).await;
    (wd, driver_proc, home)
}

/// `command` run as in a user's session whose home is `home` (settings, data, cache and
/// Codex's folder all inside it), its output dropped: how the tests start the app, its
/// second launches and the driver that starts it.
pub fn in_home<'c>(
    command: &'c mut tokio::process::Command,
    home: &Path,
) -> &'c mut tokio::process::Command {
    command
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("CODEX_HOME", home.join(".codex"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
}
