//! The Debian package as a user meets it: installed with dpkg, the menu entry and icons in
//! place, the installed app started in the tray (no window, so no web engine running),
//! its proxy answering, then removed without a trace.
//!
//! `PLUGBOARD_DEB` names the package (`scripts/test.sh` builds it); the test installs it on
//! this machine, so it refuses to run where a Plugboard package is installed already.

use plugboard_e2e::{external_tool, free_port};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn as_root(args: &[&str]) -> std::process::Output {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false);
    let mut cmd = if root {
        Command::new(args[0])
    } else {
        let mut c = Command::new("sudo");
        c.args(["-n", args[0]]);
        c
    };
    cmd.args(&args[1..])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .output()
        .expect("the command runs")
}

fn installed() -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", "plugboard"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

/// Removes the package however the test ends.
struct Installed;

impl Drop for Installed {
    fn drop(&mut self) {
        let _ = as_root(&["dpkg", "--purge", "plugboard"]);
    }
}

const FILES: &[&str] = &[
    "/usr/bin/plugboard",
    "/usr/bin/plugboard-proxy",
    "/usr/share/applications/plugboard.desktop",
    "/usr/share/icons/hicolor/32x32/apps/plugboard.png",
    "/usr/share/icons/hicolor/128x128/apps/plugboard.png",
    "/usr/share/icons/hicolor/256x256/apps/plugboard.png",
    "/usr/share/icons/hicolor/512x512/apps/plugboard.png",
];

/// Processes whose parent is `pid`, by name.
fn children(pid: u32) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid ...
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let comm = stat[stat.find('(').unwrap_or(0) + 1..close].to_string();
        let ppid: u32 = stat[close + 2..]
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        if ppid == pid {
            out.push(comm);
        }
    }
    out
}

#[test]
fn the_debian_package_installs_runs_and_removes_cleanly() {
    let Some(deb) = external_tool("PLUGBOARD_DEB") else {
        return;
    };
    assert!(
        !installed(),
        "a plugboard package is installed on this machine; this test installs and removes \
         one: remove it first (dpkg -r plugboard)"
    );
    let out = as_root(&["dpkg", "-i", &deb]);
    let _guard = Installed;
    assert!(
        out.status.success(),
        "dpkg -i: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(installed());
    for f in FILES {
        assert!(Path::new(f).exists(), "{f} is installed");
    }
    let entry = std::fs::read_to_string("/usr/share/applications/plugboard.desktop").unwrap();
    for line in [
        "Type=Application",
        "Name=Plugboard",
        "Exec=plugboard %u",
        "Icon=plugboard",
        "MimeType=x-scheme-handler/plugboard;",
    ] {
        assert!(entry.lines().any(|l| l == line), "{line} in:\n{entry}");
    }
    if let Ok(v) = Command::new("desktop-file-validate")
        .arg("/usr/share/applications/plugboard.desktop")
        .output()
    {
        assert!(
            v.status.success() && v.stdout.is_empty(),
            "{}",
            String::from_utf8_lossy(&v.stdout)
        );
    }
    let version = Command::new("/usr/bin/plugboard-proxy")
        .arg("--version")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&version.stdout).contains("plugboard-proxy"));

    // The installed app, as autostart starts it: in the tray, no window.
    let home = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("deb-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(home.join(".config/plugboard")).unwrap();
    let port = free_port();
    std::fs::write(
        home.join(".config/plugboard/settings.toml"),
        format!("listen = \"127.0.0.1:{port}\"\n"),
    )
    .unwrap();
    let mut app = Command::new("/usr/bin/plugboard")
        .arg("--minimized")
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("CODEX_HOME", home.join(".codex"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the installed app starts");
    let started = Instant::now();
    let health = loop {
        let answer = std::net::TcpStream::connect(("127.0.0.1", port)).ok().and_then(|mut s| {
            use std::io::{Read, Write};
            s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
            s.write_all(
                format!("GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n")
                    .as_bytes(),
            )
            .ok()?;
            let mut text = String::new();
            s.read_to_string(&mut text).ok()?;
            Some(text)
        });
        if let Some(text) = answer {
            break text;
        }
        assert!(
            app.try_wait().unwrap().is_none(),
            "the installed app exited early"
        );
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the installed app's proxy never answered"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let kids = children(app.id());
    assert!(
        !kids.iter().any(|k| k.starts_with("WebKit")),
        "in the tray with no window, no web engine runs: {kids:?}"
    );
    let _ = Command::new("kill").arg(app.id().to_string()).status();
    let _ = app.wait();

    let out = as_root(&["dpkg", "--purge", "plugboard"]);
    assert!(
        out.status.success(),
        "dpkg --purge: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!installed());
    for f in FILES {
        assert!(!Path::new(f).exists(), "{f} is gone");
    }
    let _ = std::fs::remove_dir_all(&home);
}
