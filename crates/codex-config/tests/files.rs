//! Attach, preview, detach and profiles on real files in a temporary CODEX_HOME.

use plugboard_codex::{
    apply, attach, detach, is_attached, preview_apply, preview_attach, remove_profile,
    write_profile, AttachOptions, CatalogOutcome,
};
use plugboard_config::{ListedModels, Provider, Settings};
use std::path::{Path, PathBuf};

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
        model_catalog: None,
        chatgpt_relay: false,
        subagent_model: None,
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
    std::fs::create_dir(h.join(format!(".config.toml.plugboard-tmp-{}", std::process::id())))
        .unwrap();
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

/// A stand-in for the Codex CLI: answers `--version` and `debug models --bundled` the way
/// Codex 0.169 does (a warning on stderr, the catalog on stdout).
fn fake_codex(dir: &Path) -> PathBuf {
    let bin = dir.join("fake-codex");
    let catalog = r#"{"models":[{"slug":"gpt-5.5","visibility":"list","priority":3,"tool_mode":null,"apply_patch_tool_type":"freeform","model_messages":{"instructions_template":"t"},"context_window":272000}]}"#;
    std::fs::write(
        &bin,
        format!(
            "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'codex-cli 9.9.9'; exit 0; fi\n\
             [ \"$*\" = 'debug models --bundled' ] || exit 3\n\
             echo 'WARNING: something' >&2\necho '{catalog}'\n"
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

fn deepseek_settings() -> Settings {
    let mut s = Settings::default();
    s.providers
        .push(Provider::from_preset("ds", "deepseek").unwrap());
    s.active_provider = Some("ds".into());
    s
}

#[test]
fn apply_writes_a_catalog_from_codex_and_detach_takes_it_away() {
    let h = home("catalog");
    std::fs::write(h.join("config.toml"), USER).unwrap();
    let codex = fake_codex(&h);
    let preview = preview_apply(&h, &opts(), &deepseek_settings(), Some(&codex)).unwrap();
    assert!(
        preview.diff.contains("+model_catalog_json"),
        "{}",
        preview.diff
    );

    let applied = apply(
        &h,
        &opts(),
        &deepseek_settings(),
        &ListedModels::new(),
        Some(&codex),
    )
    .unwrap();
    let CatalogOutcome::Written {
        path,
        models,
        codex_version,
    } = applied.catalog
    else {
        panic!("{:?}", applied.catalog)
    };
    assert_eq!(models, ["deepseek-chat"]);
    assert_eq!(codex_version.as_deref(), Some("9.9.9"));
    let catalog: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let slugs: Vec<&str> = catalog["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["gpt-5.5", "deepseek-chat"]);
    let config = std::fs::read_to_string(h.join("config.toml")).unwrap();
    assert!(
        config.contains(&format!("model_catalog_json = \"{}\"", path.display())),
        "{config}"
    );

    detach(&h).unwrap();
    assert_eq!(
        std::fs::read_to_string(h.join("config.toml")).unwrap(),
        USER
    );
    assert!(!path.exists(), "the catalog goes with Plugboard");
}

#[test]
fn without_codex_the_catalog_is_skipped_and_says_why() {
    let h = home("no-codex");
    let applied = apply(
        &h,
        &opts(),
        &deepseek_settings(),
        &ListedModels::new(),
        None,
    )
    .unwrap();
    match applied.catalog {
        CatalogOutcome::Skipped { reason } => {
            assert!(reason.contains("Codex was not found"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    let config = std::fs::read_to_string(h.join("config.toml")).unwrap();
    assert!(!config.contains("model_catalog_json"), "{config}");
    // A Codex that fails is a reason too, never a failed Apply.
    let broken = h.join("broken-codex");
    std::fs::write(&broken, "#!/bin/sh\necho 'no such command' >&2\nexit 2\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&broken, std::fs::Permissions::from_mode(0o755)).unwrap();
    match apply(
        &h,
        &opts(),
        &deepseek_settings(),
        &ListedModels::new(),
        Some(&broken),
    )
    .unwrap()
    .catalog
    {
        CatalogOutcome::Skipped { reason } => {
            assert!(reason.contains("no such command"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_users_own_catalog_is_the_base_and_comes_back_on_detach() {
    let h = home("user-catalog");
    let mine = h.join("my-models.json");
    std::fs::write(
        &mine,
        r#"{"models":[{"slug":"my-model","visibility":"list","priority":1,"base_instructions":"b"}]}"#,
    )
    .unwrap();
    let user = format!("model_catalog_json = \"{}\"\n", mine.display());
    std::fs::write(h.join("config.toml"), &user).unwrap();
    let applied = apply(
        &h,
        &opts(),
        &deepseek_settings(),
        &ListedModels::new(),
        None,
    )
    .unwrap();
    let CatalogOutcome::Written { path, .. } = applied.catalog else {
        panic!("{:?}", applied.catalog)
    };
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\"my-model\"") && text.contains("\"deepseek-chat\""));
    detach(&h).unwrap();
    assert_eq!(
        std::fs::read_to_string(h.join("config.toml")).unwrap(),
        user
    );
}

/// A user logged in to Codex with ChatGPT, with a ChatGPT plan provider in Plugboard: Apply
/// points Codex's own provider at the relay (login, provider and model untouched, no token
/// read beyond its presence) and Detach gives the file back byte for byte.
#[test]
fn a_chatgpt_login_gets_the_relay_and_detach_restores_the_file() {
    let h = home("relay");
    std::fs::write(h.join("config.toml"), USER).unwrap();
    let auth = r#"{"OPENAI_API_KEY": null, "tokens": {"id_token": "x.y.z", "access_token": "tok-secret-123", "refresh_token": "r", "account_id": "acct"}}"#;
    let mut settings = deepseek_settings();
    // Without a ChatGPT plan provider, a ChatGPT login changes nothing: the usual provider.
    std::fs::write(h.join("auth.json"), auth).unwrap();
    assert!(plugboard_codex::logged_in_with_chatgpt(&h));
    settings
        .providers
        .push(Provider::from_preset("plan", "chatgpt").unwrap());
    let preview = preview_apply(&h, &opts(), &settings, None).unwrap();
    assert!(
        preview.diff.contains("+openai_base_url") && !preview.diff.contains("model_providers"),
        "the preview shows what Apply will do: {}",
        preview.diff
    );
    let applied = apply(&h, &opts(), &settings, &ListedModels::new(), None).unwrap();
    let text = std::fs::read_to_string(h.join("config.toml")).unwrap();
    assert!(
        text.contains("openai_base_url = \"http://127.0.0.1:15731/codex\""),
        "{text}"
    );
    assert!(!text.contains("[model_providers.plugboard]"), "{text}");
    assert!(
        text.contains("model = \"gpt-5.2-codex\""),
        "the user's model stays"
    );
    assert!(!text.contains("tok-secret-123"));
    assert!(matches!(applied.catalog, CatalogOutcome::Skipped { .. }));
    assert!(is_attached(&h));
    assert_eq!(
        plugboard_codex::attached_url(&h).as_deref(),
        Some("http://127.0.0.1:15731/v1")
    );
    // The proxy moved port: the relay follows.
    assert!(plugboard_codex::retarget(
        &h,
        "http://127.0.0.1:15731/v1",
        "http://127.0.0.1:16000/v1"
    )
    .unwrap());
    let moved = std::fs::read_to_string(h.join("config.toml")).unwrap();
    assert!(
        moved.contains("openai_base_url = \"http://127.0.0.1:16000/codex\""),
        "{moved}"
    );
    assert!(!moved.contains("[model_providers.plugboard]"), "{moved}");
    detach(&h).unwrap();
    assert_eq!(
        std::fs::read_to_string(h.join("config.toml")).unwrap(),
        USER
    );
    // Nothing of the login was copied anywhere.
    for entry in std::fs::read_dir(&h).unwrap() {
        let p = entry.unwrap().path();
        if p.file_name().unwrap() != "auth.json" {
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            assert!(!text.contains("tok-secret-123"), "{}", p.display());
        }
    }
    let _ = std::fs::remove_dir_all(&h);
}

#[test]
fn an_api_key_login_keeps_the_usual_provider() {
    let h = home("apikey-login");
    std::fs::write(h.join("config.toml"), USER).unwrap();
    std::fs::write(
        h.join("auth.json"),
        r#"{"OPENAI_API_KEY": "sk-x", "tokens": null}"#,
    )
    .unwrap();
    assert!(!plugboard_codex::logged_in_with_chatgpt(&h));
    let mut settings = deepseek_settings();
    settings
        .providers
        .push(Provider::from_preset("plan", "chatgpt").unwrap());
    apply(&h, &opts(), &settings, &ListedModels::new(), None).unwrap();
    let text = std::fs::read_to_string(h.join("config.toml")).unwrap();
    assert!(text.contains("[model_providers.plugboard]"), "{text}");
    assert!(!text.contains("openai_base_url"), "{text}");
    let _ = std::fs::remove_dir_all(&h);
}
