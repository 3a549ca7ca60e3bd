//! The tray app as a user leaves it: started hidden, its window opened (a second launch, as
//! from the desktop's menu) and closed (`plugboard --close-settings`, as Esc does), and what
//! each of its processes holds in memory at each step.

use crate::procstat;
use std::path::Path;
use std::time::Duration;

/// The tray app started hidden (`--minimized`) in a fresh `home` whose settings file is
/// `settings`: the child and its pid.
pub fn spawn(
    app: &Path,
    home: &Path,
    settings: &str,
) -> Result<(tokio::process::Child, u32), String> {
    if std::env::var_os("DISPLAY").is_none() {
        return Err("no DISPLAY (scripts/bench.sh runs it under Xvfb)".into());
    }
    let _ = std::fs::remove_dir_all(home);
    std::fs::create_dir_all(home.join(".config/plugboard")).map_err(|e| e.to_string())?;
    std::fs::write(home.join(".config/plugboard/settings.toml"), settings)
        .map_err(|e| e.to_string())?;
    let child = command(app, home)
        .arg("--minimized")
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("{}: {e}", app.display()))?;
    let pid = child.id().ok_or("the app exited at once")?;
    Ok((child, pid))
}

fn command(app: &Path, home: &Path) -> tokio::process::Command {
    let mut c = tokio::process::Command::new(app);
    c.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("CODEX_HOME", home.join(".codex"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    c
}

/// A second launch, which hands `args` to the running app (the single-instance plugin, over
/// the D-Bus session) and exits.
async fn relaunch(app: &Path, home: &Path, args: &[&str]) -> Result<(), String> {
    let status = tokio::time::timeout(
        Duration::from_secs(30),
        command(app, home).args(args).status(),
    )
    .await
    .map_err(|_| format!("`plugboard {}` did not exit", args.join(" ")))?
    .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!(
            "`plugboard {}` exited with {status}",
            args.join(" ")
        ));
    }
    Ok(())
}

/// What each process of the app holds at one moment.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// (process name, RSS MiB, PSS MiB), the app's own process first.
    pub processes: Vec<(String, f64, f64)>,
}

impl Snapshot {
    fn take(pid: u32) -> Snapshot {
        Snapshot {
            processes: procstat::tree(pid)
                .into_iter()
                .map(|(p, name)| {
                    let rss = procstat::rss_mib(p).unwrap_or(0.0);
                    let pss = procstat::pss_mib(p).unwrap_or(0.0);
                    (name, rss, pss)
                })
                .collect(),
        }
    }

    pub fn rss(&self) -> f64 {
        self.processes.iter().map(|p| p.1).sum()
    }

    pub fn pss(&self) -> f64 {
        self.processes.iter().map(|p| p.2).sum()
    }

    /// "plugboard 70.1 + WebKitNetworkPr 12.0".
    pub fn breakdown(&self) -> String {
        self.processes
            .iter()
            .map(|(n, rss, _)| format!("{n} {rss:.1}"))
            .collect::<Vec<_>>()
            .join(" + ")
    }
}

/// The three moments a tray app lives through.
#[derive(Debug, Clone, Default)]
pub struct TrayMemory {
    pub never_opened: Snapshot,
    pub open: Snapshot,
    pub after_close: Snapshot,
}

/// Starts the app hidden, waits `settle`, opens its window, waits, closes it and waits again
/// (the app gives the web engine's memory back a few seconds after the window goes).
pub async fn memory(app: &Path, home: &Path, settle: Duration) -> Result<TrayMemory, String> {
    let (mut child, pid) = spawn(
        app,
        home,
        &format!("listen = \"127.0.0.1:{}\"\n", crate::runner::free_port()),
    )?;
    tokio::time::sleep(settle).await;
    let never_opened = Snapshot::take(pid);
    relaunch(app, home, &[]).await?;
    tokio::time::sleep(settle).await;
    let open = Snapshot::take(pid);
    if open.processes.len() < 2 {
        let _ = child.kill().await;
        return Err("the window did not open (no web process): is there a D-Bus session for the second launch to reach the first?".into());
    }
    relaunch(app, home, &["--close-settings"]).await?;
    tokio::time::sleep(settle + Duration::from_secs(4)).await;
    let after_close = Snapshot::take(pid);
    let _ = child.kill().await;
    Ok(TrayMemory {
        never_opened,
        open,
        after_close,
    })
}
