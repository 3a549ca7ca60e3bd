//! Attach, preview, detach and profiles on real files in a temporary CODEX_HOME.

use plugboard_codex::{
    attach, detach, is_attached, preview_attach, remove_profile, write_profile, AttachOptions,
};
use std::path::PathBuf;

fn home(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "plugboard-codex-files-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn opts() -> AttachOptions {
    AttachOptions {
        base_url: "http://127.0.0.1:15731/v1".into(),
        make_default: true,
        model: Some("gpt-5.5".into()),
    }
}

const USER: &str = include_str!("fixtures/user-config.toml");

#[test]
fn preview_attach_detach_round_trip_on_a_real_looking_config() {
    let h = home("roundtrip");
    std::fs::write(h.join("config.toml"), USER).unwrap();

    let p = preview_attach(&h, &opts()).unwrap();
    assert_eq!(
        std::fs::read_to_string(h.join("config.toml")).unwrap(),
        USER,
        "a preview writes nothing"
    );
    assert!(
        p.diff.contains("+[model_providers.plugboard]"),
        "{}",
        p.diff
    );
    assert!(
        p.diff.contains("-model = \"gpt-5.2-codex\"") && p.diff.contains("+model = \"gpt-5.5\""),
        "{}",
        p.diff
    );

    attach(&h, &opts()).unwrap();
    assert!(is_attached(&h));
    let attached = std::fs::read_to_string(h.join("config.toml")).unwrap();
    for keep in [
        "# model_provider = \"azure\"       # tried it, did not like it",
        "[model_providers.azure]\nname = \"Azure\"",
        "query_params = { api-version = \"2025-04-01-preview\" }",
        "[projects.\"/home/me/src/app\"]\ntrust_level = \"trusted\"",
    ] {
        assert!(attached.contains(keep), "kept: {keep}");
    }
    assert!(
        !attached.contains("[profiles"),
        "never a legacy profiles table"
    );
    assert_eq!(
        std::fs::read_to_string(h.join("config.toml.plugboard-backup")).unwrap(),
        USER
    );

    // A second attach (new port) keeps the first backup: the user's original.
    attach(
        &h,
        &AttachOptions {
            base_url: "http://127.0.0.1:16000/v1".into(),
            ..opts()
        },
    )
    .unwrap();
    assert_eq!(
        std::fs::read_to_string(h.join("config.toml.plugboard-backup")).unwrap(),
        USER
    );

    detach(&h).unwrap();
    assert_eq!(
        std::fs::read_to_string(h.join("config.toml")).unwrap(),
        USER,
        "byte for byte"
    );
    assert!(!h.join("config.toml.plugboard-backup").exists());
    assert!(!is_attached(&h));
}

#[test]
fn a_config_plugboard_created_is_removed_on_detach() {
    let h = home("fresh");
    attach(&h, &opts()).unwrap();
    assert!(h.join("config.toml").exists());
    detach(&h).unwrap();
    assert!(!h.join("config.toml").exists());
}

#[test]
fn an_invalid_config_is_left_alone() {
    let h = home("invalid");
    std::fs::write(h.join("config.toml"), "model = [\n").unwrap();
    assert!(attach(&h, &opts()).is_err());
    assert_eq!(
        std::fs::read_to_string(h.join("config.toml")).unwrap(),
        "model = [\n"
    );
    assert!(!h.join("config.toml.plugboard-backup").exists());
}

#[test]
fn profiles_are_separate_files_and_only_ours_are_removed() {
    let h = home("profiles");
    let p = write_profile(&h, "execute", "deepseek-chat", Some(128_000)).unwrap();
    assert_eq!(p, h.join("execute.config.toml"));
    assert!(std::fs::read_to_string(&p)
        .unwrap()
        .contains("model = \"deepseek-chat\""));
    remove_profile(&h, "execute").unwrap();
    assert!(!p.exists());
    std::fs::write(h.join("mine.config.toml"), "model = \"o3\"\n").unwrap();
    remove_profile(&h, "mine").unwrap();
    assert!(
        h.join("mine.config.toml").exists(),
        "a user's own profile stays"
    );
    assert!(write_profile(&h, "../evil", "m", None).is_err());
    assert!(write_profile(&h, "config", "m", None).is_err());
}

#[test]
fn a_failed_write_leaves_the_users_config_intact() {
    let h = home("failed-write");
    std::fs::write(h.join("config.toml"), USER).unwrap();
    attach(&h, &opts()).unwrap();
    let attached = std::fs::read_to_string(h.join("config.toml")).unwrap();
    // The temp file cannot be created (as on a full disk).
    std::fs::create_dir(h.join(".config.toml.plugboard-tmp")).unwrap();
    let e = detach(&h).unwrap_err().to_string();
    assert!(e.contains("cannot write"), "{e}");
    assert_eq!(
        std::fs::read_to_string(h.join("config.toml")).unwrap(),
        attached,
        "untouched"
    );
    assert!(
        h.join("config.toml.plugboard-backup").exists(),
        "the backup survives a failed detach"
    );
}
