//! The window with real-world text in it: long provider names, a key and a Codex badge on the
//! same card, a provider's long failure sentence in the header and in the Requests tab. No
//! button, badge, tab or the header's pill may break onto a second line (each is measured
//! line by line in the page), and the screenshots are written for a person to look at. Esc
//! with an edit not saved asks first.
//!
//! Needs what `desktop_e2e.rs` needs (`scripts/test.sh` provides it).

use plugboard_e2e::desktop::{end_app, env_or_skip, in_home, launch_in, ONE_APP};
use plugboard_e2e::*;
use serde_json::{json, Value};
use std::path::Path;

/// Every visible control or label that must stay on one line, and those whose text broke
/// onto a second one (its text's line boxes sit at more than one height).
const WRAPPED: &str = r#"
const wrapped = [];
for (const el of document.querySelectorAll('button, .badge, .tab, .pill, #base-url-display, .local-mark, label.button')) {
  if (el.offsetParent === null && getComputedStyle(el).position !== 'fixed') continue;
  const range = document.createRange();
  range.selectNodeContents(el);
  const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
  if (tops.size > 1) wrapped.push(`${el.tagName.toLowerCase()}.${el.className}: ${el.textContent.trim()}`);
}
return wrapped;
"#;

const LONG_NAME: &str = "Acme Corporation Internal Inference Gateway (Production, EU-West-1)";
const LONG_FAILURE: &str = "Your organization's monthly token quota for the model family requested has been exhausted; contact your administrator or wait until the first day of next month, when the quota resets";

async fn nothing_wraps(wd: &plugboard_e2e::webdriver::WebDriver, page: &str) {
    let wrapped = wd.script(WRAPPED, json!([])).await;
    assert_eq!(wrapped, json!([]), "on {page}, these broke onto two lines");
}

#[tokio::test]
async fn long_names_and_failures_keep_every_control_on_one_line() {
    let (Some(app), Some(driver)) = (env_or_skip("PLUGBOARD_APP"), env_or_skip("TAURI_DRIVER"))
    else {
        return;
    };
    let _one = ONE_APP.lock().await;
    end_app(&app).await;
    // A gateway that refuses every request with a long sentence of its own.
    let gateway = MockUpstream::start(|_, _| Reply::Raw {
        status: 429,
        headers: vec![("content-type", "application/json".into())],
        body: json!({"error": {"message": LONG_FAILURE, "type": "insufficient_quota", "code": "insufficient_quota"}}).to_string(),
    })
    .await;
    let local = MockUpstream::start(|_, _| Reply::Sse(text_chunks(&["from the box"]))).await;
    let port = free_port();
    let settings = format!(
        r#"listen = "127.0.0.1:{port}"
active_provider = "acme-long"

[[provider]]
id = "acme-long"
name = "{LONG_NAME}"
preset = "deepseek"
base_url = "{}"
default_model = "acme-reasoning-large-2026-11-preview"
model_map = {{ "gpt-*" = "acme-reasoning-large-2026-11-preview" }}

[[provider]]
id = "box-long"
name = "The workstation under the desk in the second-floor lab (Ollama)"
preset = "ollama"
base_url = "{}"
default_model = "qwen3-coder:30b"

[[route]]
model = "local-*"
provider = "box-long"
"#,
        gateway.base_url(),
        local.base_url()
    );
    plugboard_keys::set_key("acme-long", "sk-acme-0123456789abcdefabcd").unwrap();
    let home = std::env::temp_dir().join(format!("desktop-layout-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    // A Codex check from before the provider changed: the longest badge there is.
    let config_dir = home.join(".config/plugboard");
    std::fs::create_dir_all(&config_dir).unwrap();
    std::fs::write(
        config_dir.join("codex-checks.json"),
        json!([{"provider_id": "acme-long", "provider_name": LONG_NAME, "model": "acme-reasoning-large-2026-11-preview", "checked_at": 1796280000u64, "fingerprint": "an older set-up", "steps": []}]).to_string(),
    )
    .unwrap();
    let (wd, mut driver_proc, _) = launch_in(&app, &driver, &home, &settings).await;

    wd.wait_text("#provider-list", "second-floor lab").await;
    wd.wait_text("#provider-list", "Codex ✓ (changed since)")
        .await;
    wd.wait_text("#provider-list", "key sk-••••abcd").await;
    // A request served on this machine, then one the gateway refuses: its sentence reaches
    // the header.
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let local_answer = http
        .post(format!("http://127.0.0.1:{port}/v1/responses"))
        .json(&json!({"model": "local-coder", "input": "hello", "stream": true}))
        .send()
        .await
        .unwrap();
    read_sse(local_answer).await;
    let refused = http
        .post(format!("http://127.0.0.1:{port}/v1/responses"))
        .json(&json!({"model": "gpt-5.5", "input": "hello"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 429);
    wd.wait_text("#status", "no credit left (429)").await;
    wd.click(".provider[data-id=acme-long]").await;
    wd.wait_text("#form-title", "Edit Acme").await;

    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts");
    std::fs::create_dir_all(&shots).unwrap();
    nothing_wraps(&wd, "the Providers tab").await;
    // The header stays one row: the pill is cut, and says the whole of it on hover.
    let header = wd
        .script(
            "const h = document.querySelector('header'); const p = document.querySelector('#status'); return [h.getBoundingClientRect().height, p.title];",
            json!([]),
        )
        .await;
    assert!(header[0].as_f64().unwrap() < 70.0, "{header}");
    assert!(
        header[1]
            .as_str()
            .unwrap()
            .ends_with("no credit left (429)"),
        "{header}"
    );
    wd.script("document.querySelector('main').scrollTo(0, 0)", json!([]))
        .await;
    std::fs::write(shots.join("long-names.png"), wd.screenshot().await).unwrap();

    wd.click(".tab[data-tab=requests]").await;
    let log = wd
        .wait_text("#request-log tbody", "no credit left (429)")
        .await;
    assert!(log.contains("stayed local"), "{log}");
    nothing_wraps(&wd, "the Requests tab").await;
    // "stayed local" is words in the row, not something that looks pressable.
    let mark: Value = wd
        .script(
            "const m = document.querySelector('.local-mark'); const s = getComputedStyle(m); return [m.tagName, s.borderTopStyle, s.backgroundColor];",
            json!([]),
        )
        .await;
    assert_eq!(mark, json!(["SPAN", "none", "rgba(0, 0, 0, 0)"]), "{mark}");
    wd.script(
        "const r = [...document.querySelectorAll('#request-log tbody tr')].find((r) => r.textContent.includes('no credit')); r.click();",
        json!([]),
    )
    .await;
    let detail = wd.wait_text("#log-detail", "Outcome").await;
    assert!(detail.contains("no credit left (429)"), "{detail}");
    std::fs::write(
        shots.join("long-failure-requests.png"),
        wd.screenshot().await,
    )
    .unwrap();

    // An edit not saved yet: Esc asks before the window goes, and staying keeps the edit.
    wd.click(".tab[data-tab=providers]").await;
    wd.click(".provider[data-id=box-long]").await;
    wd.wait_text("#form-title", "Edit The workstation").await;
    wd.type_into("#f-name", " (renamed)").await;
    wd.script(
        "document.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }))",
        json!([]),
    )
    .await;
    let asked = wd.wait_text("#confirm-text", "not saved yet").await;
    assert!(asked.contains("the provider form"), "{asked}");
    // (WebKitWebDriver does not click into a modal <dialog>; the page's own click does.)
    wd.script(
        "document.querySelector('#confirm-cancel').click()",
        json!([]),
    )
    .await;
    let open = wd
        .script("return document.querySelector('#confirm').open", json!([]))
        .await;
    assert_eq!(open, json!(false));
    let kept = wd
        .script("return document.querySelector('#f-name').value", json!([]))
        .await;
    assert!(kept.as_str().unwrap().ends_with("(renamed)"), "{kept}");

    wd.quit().await;
    let _ = driver_proc.kill().await;
    end_app(&app).await;
    plugboard_keys::delete_key("acme-long").unwrap();
}

/// The app's process and the names of the processes under it.
fn process_names(pid: u32) -> Vec<String> {
    let mut names = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        if let Ok(tasks) = std::fs::read_dir(format!("/proc/{p}/task")) {
            for t in tasks.flatten() {
                let kids = std::fs::read_to_string(t.path().join("children")).unwrap_or_default();
                todo.extend(
                    kids.split_whitespace()
                        .filter_map(|k| k.parse::<u32>().ok()),
                );
            }
        }
        if p != pid {
            let name = std::fs::read_to_string(format!("/proc/{p}/comm")).unwrap_or_default();
            names.push(name.trim().to_string());
        }
    }
    names
}

async fn wait_for(pid: u32, what: &str, done: impl Fn(&[String]) -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let names = process_names(pid);
        if done(&names) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: the app's processes are {names:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// A window closed gives the web engine back (its network process ends, a few seconds
/// later), and opening the window again brings a working one: the way a tray app is used all
/// day. Driven as the desktop does it: second launches of the binary.
#[tokio::test]
async fn a_closed_window_gives_the_web_engine_back_and_opens_again() {
    let Some(app) = env_or_skip("PLUGBOARD_APP") else {
        return;
    };
    let _one = ONE_APP.lock().await;
    end_app(&app).await;
    let home = std::env::temp_dir().join(format!("desktop-reopen-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(home.join(".config/plugboard")).unwrap();
    let port = free_port();
    std::fs::write(
        home.join(".config/plugboard/settings.toml"),
        format!("listen = \"127.0.0.1:{port}\"\n"),
    )
    .unwrap();
    let launch = |args: &[&str]| {
        let mut c = tokio::process::Command::new(&app);
        in_home(&mut c, &home).args(args).kill_on_drop(true);
        c
    };
    let mut tray = launch(&["--minimized"]).spawn().unwrap();
    let pid = tray.id().unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let health = format!("http://127.0.0.1:{port}/health");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !http
        .get(&health)
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the app's proxy answers"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let has = |names: &[String], prefix: &str| names.iter().any(|n| n.starts_with(prefix));

    for round in 0..2 {
        // Open, as the desktop's menu entry does.
        assert!(launch(&[]).status().await.unwrap().success());
        wait_for(pid, "the window's web engine starts", |n| {
            has(n, "WebKitWebProces") && has(n, "WebKitNetworkPr")
        })
        .await;
        // Close, as Esc does.
        assert!(launch(&["--close-settings"])
            .status()
            .await
            .unwrap()
            .success());
        wait_for(pid, "the web engine is given back", |n| {
            !has(n, "WebKitWebProces") && !has(n, "WebKitNetworkPr")
        })
        .await;
        assert!(
            tray.try_wait().unwrap().is_none(),
            "Plugboard stays in the tray (round {round})"
        );
    }
    // Opened a third time, the page works: its proxy answers and its engine stays up.
    assert!(launch(&[]).status().await.unwrap().success());
    wait_for(pid, "the window opens a third time", |n| {
        has(n, "WebKitWebProces") && has(n, "WebKitNetworkPr")
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let names = process_names(pid);
    assert!(has(&names, "WebKitWebProces"), "{names:?}");
    let log_dir = home.join(".local/share/plugboard/logs");
    let logs: String = std::fs::read_dir(&log_dir)
        .map(|d| {
            d.flatten()
                .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        logs.contains("the web engine's memory is given back"),
        "the app says what it freed, in {}",
        log_dir.display()
    );
    let _ = tray.kill().await;
    end_app(&app).await;
}
