//! `plugboard-proxy codex apply --hybrid PLANNER EXECUTOR` as a user runs it: the subagent
//! route saved in the settings file (first, the user's routes kept), Codex told to plan with
//! PLANNER and to give its subagents EXECUTOR, and `codex detach` giving the user's file back.
//! A planner and executor that reach the same place are refused with the reason.

use std::process::Command;

#[test]
fn codex_apply_hybrid_writes_the_route_and_codexs_subagent_model() {
    let dir = std::env::temp_dir().join(format!("plugboard-cli-hybrid-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let home = dir.join("codex-home");
    std::fs::create_dir_all(&home).unwrap();
    let original = "# mine\nmodel = \"o3\"\n";
    std::fs::write(home.join("config.toml"), original).unwrap();
    let settings = dir.join("settings.toml");
    std::fs::write(
        &settings,
        "listen = \"127.0.0.1:15998\"\nactive_provider = \"oa\"\n\n[[provider]]\nid = \"oa\"\npreset = \"openai\"\nbase_url = \"https://api.openai.com/v1\"\n\n[[provider]]\nid = \"ds\"\npreset = \"deepseek\"\nbase_url = \"http://127.0.0.1:1/v1\"\n\n[[route]]\nmodel = \"deepseek-*\"\nprovider = \"ds\"\n",
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_plugboard-proxy");
    let run = |args: &[&str]| {
        Command::new(bin)
            .args(args)
            .env("CODEX_HOME", &home)
            .env("PLUGBOARD_NO_KEYRING", "true")
            .env("PLUGBOARD_CODEX_BIN", dir.join("no-codex-here"))
            .output()
            .unwrap()
    };
    let cfg = settings.to_str().unwrap();
    let refused = run(&[
        "codex", "apply", "--config", cfg, "--hybrid", "gpt-5.5", "gpt-5.5",
    ]);
    assert_eq!(refused.status.code(), Some(2));
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("same provider and model"), "{said}");

    let out = run(&[
        "codex",
        "apply",
        "--config",
        cfg,
        "--hybrid",
        "gpt-5.5",
        "deepseek-chat",
    ]);
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        printed.contains("Hybrid: gpt-5.5 plans; subagents run on deepseek-chat"),
        "{printed}"
    );
    let saved = std::fs::read_to_string(&settings).unwrap();
    let first = saved.find("[[route]]").unwrap();
    assert!(
        saved[first..].starts_with("[[route]]\nmodel = \"*\"\nprovider = \"ds\"\nupstream_model = \"deepseek-chat\"\nsubagent = true"),
        "{saved}"
    );
    assert!(
        saved.contains("model = \"deepseek-*\""),
        "the user's route stays: {saved}"
    );
    let config = std::fs::read_to_string(home.join("config.toml")).unwrap();
    for line in [
        "model = \"gpt-5.5\"",
        "[agents]",
        "default_subagent_model = \"deepseek-chat\"",
        "model_provider = \"plugboard\"",
    ] {
        assert!(config.contains(line), "{line} in {config}");
    }
    assert!(run(&["codex", "detach"]).status.success());
    assert_eq!(
        std::fs::read_to_string(home.join("config.toml")).unwrap(),
        original
    );
    let _ = std::fs::remove_dir_all(&dir);
}
