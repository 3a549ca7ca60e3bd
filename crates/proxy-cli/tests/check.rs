//! `plugboard-proxy check` as a user runs it: against a provider that prints tool calls as
//! text it fails with the step, the sentence and the fix, exit status 1; with `--fix` it turns
//! the repair on, passes, exits 0 and saves the switch to the settings file. The key comes
//! from the environment and never shows.

use plugboard_e2e::scripted_model::{Quirks, ScriptedModel, MODEL};
use std::process::Command;

const KEY: &str = "sk-check-cli-0123456789abcdef";

fn run(args: &[&str], config: &std::path::Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_plugboard-proxy"))
        .arg("check")
        .arg("--config")
        .arg(config)
        .args(args)
        .env("CHECK_CLI_KEY", KEY)
        .env_remove("PLUGBOARD_LOCAL_ONLY")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn check_fails_with_the_fix_then_fix_repairs_and_saves_it() {
    let model = ScriptedModel::start(Quirks {
        text_tool_calls: true,
        window_in_list: Some(65_536),
        ..Quirks::default()
    })
    .await;
    let dir = std::env::temp_dir().join(format!("plugboard-check-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("settings.toml");
    std::fs::write(
        &config,
        format!(
            "active_provider = \"other\"\n\n[[provider]]\nid = \"other\"\nbase_url = \"http://127.0.0.1:9/v1\"\n\n[[provider]]\nid = \"box\"\nname = \"Scripted box\"\nbase_url = \"{}\"\napi_key_env = \"CHECK_CLI_KEY\"\ndefault_model = \"{MODEL}\"\n",
            model.base_url()
        ),
    )
    .unwrap();

    let (code, out, err) = tokio::task::spawn_blocking({
        let config = config.clone();
        move || run(&["--provider", "box"], &config)
    })
    .await
    .unwrap();
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        out.contains("Codex check of Scripted box (box), model scripted-coder:"),
        "{out}"
    );
    assert!(
        out.contains("FAIL Shell call (exec_command, valid JSON)"),
        "{out}"
    );
    assert!(out.contains("wrote its tool call as text"), "{out}");
    assert!(
        out.contains("fix: Turn on text tool-call repair (run again with --fix to turn it on)"),
        "{out}"
    );
    assert!(out.contains("ok   Context window"), "{out}");
    assert!(!std::fs::read_to_string(&config)
        .unwrap()
        .contains("text_tool_calls"));
    // The key went to the provider, and nowhere else.
    let auth = model.requests().len();
    assert!(auth >= 3, "{auth} requests");
    assert!(!out.contains(KEY) && !err.contains(KEY));

    let (code, out, err) = tokio::task::spawn_blocking({
        let config = config.clone();
        move || run(&["--provider", "box", "--fix"], &config)
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("Again, with the fixes on:"), "{out}");
    assert!(out.contains("Codex check passed."), "{out}");
    assert!(
        out.contains(&format!("Saved the fixes to {}", config.display())),
        "{out}"
    );
    let saved = std::fs::read_to_string(&config).unwrap();
    assert!(saved.contains("text_tool_calls = true"), "{saved}");
    assert!(
        saved.contains("id = \"other\""),
        "the other provider is kept: {saved}"
    );
    assert!(!saved.contains(KEY));

    // Checked again from the saved file: it passes as it is.
    let (code, out, _) = tokio::task::spawn_blocking({
        let config = config.clone();
        move || run(&["--provider", "box", "--json"], &config)
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{out}");
    let reports: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(reports[0]["steps"][1]["status"], "passed", "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_unknown_provider_is_a_usage_error() {
    let dir = std::env::temp_dir().join(format!("plugboard-check-cli-none-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("settings.toml");
    std::fs::write(&config, "").unwrap();
    let (code, _, err) = run(&["--provider", "nope"], &config);
    assert_eq!(code, 2);
    assert!(err.contains("no provider `nope` in the settings"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
