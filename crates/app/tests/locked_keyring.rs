//! The real OS keyring (gnome-keyring on a private D-Bus session this test starts) locked
//! while the app runs, and locked when it starts. A read of a locked keyring waits on an
//! unlock prompt that nobody answers here, as on a desktop whose screen locked: nothing in
//! the app may wait for it.
//!
//! One test in this file on purpose: it points the process at its own D-Bus session.

mod common;
use plugboard_app::providers::ProviderInput;
use plugboard_app::{App, ProxyStatus};
use plugboard_keys::OsKeyring;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A D-Bus session with an unlocked gnome-keyring in a fresh folder; both end on drop.
struct PrivateKeyring {
    bus_pid: u32,
    address: String,
    _dir: std::path::PathBuf,
}

impl PrivateKeyring {
    fn start(dir: &std::path::Path) -> Option<PrivateKeyring> {
        let out = Command::new("dbus-daemon")
            .args(["--session", "--fork", "--print-address=1", "--print-pid=1"])
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let mut lines = text.lines();
        let address = lines.next()?.trim().to_string();
        let bus_pid: u32 = lines.next()?.trim().parse().ok()?;
        let mut keyring = Command::new("gnome-keyring-daemon")
            .args(["--unlock", "--components=secrets"])
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .env("XDG_DATA_HOME", dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        use std::io::Write;
        keyring
            .stdin
            .take()?
            .write_all(b"plugboard-locked-test")
            .ok()?;
        keyring.wait().ok()?;
        Some(PrivateKeyring {
            bus_pid,
            address,
            _dir: dir.to_path_buf(),
        })
    }

    /// Locks the login collection, as a desktop does when the screen locks.
    fn lock(&self) {
        let out = Command::new("dbus-send")
            .args([
                "--session",
                "--dest=org.freedesktop.secrets",
                "--type=method_call",
                "--print-reply",
                "/org/freedesktop/secrets",
                "org.freedesktop.Secret.Service.Lock",
                "array:objpath:/org/freedesktop/secrets/collection/login",
            ])
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for PrivateKeyring {
    fn drop(&mut self) {
        // The keyring daemon and the prompter leave with their bus.
        let _ = Command::new("kill").arg(self.bus_pid.to_string()).status();
    }
}

fn provider(id: &str, name: &str, preset: &str, url: &str, key: Option<&str>) -> ProviderInput {
    ProviderInput {
        original_id: None,
        id: id.into(),
        name: name.into(),
        preset: Some(preset.into()),
        base_url: url.into(),
        wire_api: plugboard_config::WireApi::Chat,
        default_model: Some("m".into()),
        model_map: Default::default(),
        api_key: key.map(str::to_string),
        clear_key: false,
    }
}

/// One request through the app's proxy, bounded: `(status, body)`.
async fn ask(base: &str, model: &str) -> (u16, serde_json::Value) {
    let r = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
        .post(format!("{base}/responses"))
        .json(&serde_json::json!({"model": model, "input": "hi"}))
        .send()
        .await
        .expect("the proxy answers while the keyring is locked");
    (r.status().as_u16(), r.json().await.unwrap_or_default())
}

fn text(body: &serde_json::Value) -> &str {
    body["output"][0]["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
}

#[test]
fn a_locked_keyring_never_stops_the_app() {
    let home = plugboard_e2e::TempHome::new("locked-keyring");
    let root = home.root.clone();
    std::fs::create_dir_all(root.join("keyring")).unwrap();
    let keyring = PrivateKeyring::start(&root.join("keyring"))
        .expect("dbus-daemon and gnome-keyring-daemon start (scripts/test.sh installs them)");
    // The only test in this process: nothing else reads the variable meanwhile.
    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &keyring.address);

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let cloud = common::upstream("from the cloud").await.0;
        let local = common::upstream("from the box").await.0;
        let paths = home.paths.clone();
        let app = App::load(paths.clone(), Arc::new(OsKeyring)).unwrap();
        app.save_provider(provider(
            "ds",
            "DeepSeek",
            "deepseek",
            &cloud,
            Some("sk-locked-test-0123456789"),
        ))
        .await
        .expect("the unlocked keyring stores the key");
        app.save_provider(provider("box", "My box", "ollama", &local, None))
            .await
            .unwrap();
        app.set_routes(vec![plugboard_config::Route {
            model: "local-*".into(),
            provider: "box".into(),
            upstream_model: None,
            fallbacks: Vec::new(),
            context_window: None,
            subagent: false,
        }])
        .await
        .unwrap();
        let ProxyStatus::Running { .. } = app.start().await else {
            panic!("the proxy runs")
        };
        let base = app.snapshot().await.base_url;
        assert_eq!(text(&ask(&base, "gpt-5.5").await.1), "from the cloud");

        // The screen locks.
        keyring.lock();
        for _ in 0..3 {
            let (status, body) = ask(&base, "gpt-5.5").await;
            assert_eq!(
                (status, text(&body)),
                (200, "from the cloud"),
                "the key in memory serves: {body}"
            );
        }
        let health = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap()
            .get(base.replace("/v1", "/health"))
            .send()
            .await
            .expect("/health answers");
        assert!(health.status().is_success());

        // Saving a key needs the keyring: a sentence, soon, and nothing saved.
        let started = Instant::now();
        let e = app
            .save_provider(provider(
                "kimi",
                "Kimi",
                "kimi",
                &cloud,
                Some("sk-kimi-0000000001"),
            ))
            .await
            .unwrap_err()
            .to_string();
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(
            e.contains("keyring is locked") && e.contains("unlock it"),
            "{e}"
        );
        assert!(app.snapshot().await.settings.provider("kimi").is_none());
        // A save that touches no key still works.
        let mut rename = provider("box", "Closet box", "ollama", &local, None);
        rename.original_id = Some("box".into());
        app.save_provider(rename).await.unwrap();

        // Quit and start again with the keyring still locked.
        let started = Instant::now();
        assert_eq!(app.stop().await, ProxyStatus::Stopped);
        drop(app);
        let app = App::load(paths, Arc::new(OsKeyring)).unwrap();
        let ProxyStatus::Running { .. } = app.start().await else {
            panic!("the proxy runs without the keyring")
        };
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "start waited {:?}",
            started.elapsed()
        );
        let snap = app.snapshot().await;
        assert_eq!(snap.keys_waiting, ["DeepSeek"], "who waits for an unlock");
        let base = snap.base_url;
        let (status, body) = ask(&base, "local-coder").await;
        assert_eq!((status, text(&body)), (200, "from the box"), "{body}");
        let (status, body) = ask(&base, "gpt-5.5").await;
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            status >= 400 && message.contains("locked"),
            "{status} {body}"
        );
        assert!(!body.to_string().contains("sk-locked-test"));
        let views = app.providers().await;
        let ds = views.iter().find(|v| v.id == "ds").unwrap();
        assert!(ds
            .key_unreadable
            .as_deref()
            .is_some_and(|r| r.contains("locked")));
        app.stop().await;
    });
    // Reads still waiting on the prompt end with the bus; do not wait for them.
    drop(keyring);
    rt.shutdown_background();
}
