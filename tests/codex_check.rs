//! The Codex check against scripted providers that each fail one step the way real ones do:
//! the right step fails with the right sentence, the offered fix makes the check pass, and a
//! provider Codex works with passes as it is.
//!
//! (Over 400 lines: one scenario per provider quirk, each checking the failing step, its
//! sentence, its fix and the re-run.)

use plugboard_check::{
    check_and_fix, check_provider, CheckOptions, CheckReport, FixChange, Status, StepId,
};
use plugboard_config::Provider;
use plugboard_e2e::check_report::show;
use plugboard_e2e::scripted_model::{Quirks, ScriptedModel, MODEL};
use plugboard_e2e::StaticKeys;
use plugboard_server::StaticHosts;
use std::collections::HashMap;
use std::sync::Arc;

const KEY: &str = "sk-check-0123456789abcdef";

fn provider(base_url: &str) -> Provider {
    Provider {
        id: "box".into(),
        name: "Scripted box".into(),
        preset: None,
        base_url: base_url.into(),
        wire_api: Default::default(),
        api_key_env: None,
        headers: Default::default(),
        default_model: Some(MODEL.into()),
        model_map: Default::default(),
        dialect: Default::default(),
        timeouts: Default::default(),
        context_window: None,
        websocket: None,
        responses_dialect: Default::default(),
    }
}

fn keys() -> Arc<StaticKeys> {
    Arc::new(StaticKeys(HashMap::from([(
        "box".to_string(),
        KEY.to_string(),
    )])))
}

async fn check(p: &Provider) -> CheckReport {
    check_provider(p, keys(), CheckOptions::default())
        .await
        .unwrap()
}

fn status(r: &CheckReport, id: StepId) -> Status {
    r.step(id).unwrap().status
}

/// Fails exactly the `failing` steps, the first with a sentence holding `says` and each with
/// the fix labelled `fix`; after the fix every step passes.
async fn fails_then_fixed(
    quirks: Quirks,
    tweak: impl Fn(&mut Provider),
    failing: &[StepId],
    says: &str,
    fix: &str,
) -> Provider {
    let model = ScriptedModel::start(quirks).await;
    let mut p = provider(&model.base_url());
    tweak(&mut p);
    let r = check(&p).await;
    let failed: Vec<StepId> = r.failed().map(|s| s.id).collect();
    assert_eq!(failed, failing, "{}", show(&r));
    assert!(
        r.step(failing[0]).unwrap().detail.contains(says),
        "{}",
        show(&r)
    );
    for s in r.failed() {
        assert_eq!(
            s.fix.as_ref().map(|f| f.label.as_str()),
            Some(fix),
            "{}",
            show(&r)
        );
    }

    let (fixed, reports) = check_and_fix(&p, keys(), CheckOptions::default())
        .await
        .unwrap();
    let last = reports.last().unwrap();
    assert!(last.passed(), "{}", show(last));
    assert_eq!(reports.len(), 2, "one round of fixes: {}", show(last));
    assert_ne!(fixed, p, "the fix is a setting");
    assert_eq!(fixed.model_map, p.model_map);
    fixed
}

#[tokio::test]
async fn a_provider_codex_works_with_passes() {
    let model = ScriptedModel::start(Quirks {
        thinks: true,
        window_in_list: Some(131_072),
        ..Quirks::default()
    })
    .await;
    let p = provider(&model.base_url());
    let r = check(&p).await;
    assert!(r.passed(), "{}", show(&r));
    for id in [
        StepId::StreamedText,
        StepId::ShellCall,
        StepId::ToolResult,
        StepId::ApplyPatch,
        StepId::Usage,
        StepId::ContextWindow,
    ] {
        assert_eq!(status(&r, id), Status::Passed, "{id:?}\n{}", show(&r));
    }
    assert!(
        r.step(StepId::ContextWindow)
            .unwrap()
            .detail
            .contains("131,072 tokens (its model list)"),
        "{}",
        show(&r)
    );
    assert!(
        r.step(StepId::ApplyPatch)
            .unwrap()
            .detail
            .contains("adding hello.txt"),
        "{}",
        show(&r)
    );
    let native = r.step(StepId::NativeResponses).unwrap();
    assert_eq!(
        (native.status, native.fix.is_none()),
        (Status::Info, true),
        "{}",
        show(&r)
    );
    assert_eq!(r.summary(), "Codex check passed");

    // What the provider saw was Codex's: its tools, the key, the command's output sent back.
    let seen = model.requests();
    assert_eq!(
        seen.len(),
        4,
        "text, shell call, result, patch (the list gave the window): {seen:#?}"
    );
    let tools = seen[1]["tools"].to_string();
    for name in ["exec_command", "apply_patch", "write_stdin", "update_goal"] {
        assert!(tools.contains(name), "{name} missing from {tools}");
    }
    assert!(
        seen[2]["messages"]
            .to_string()
            .contains("Process exited with code 0"),
        "{}",
        seen[2]
    );
    assert!(
        !serde_json::to_string(&r).unwrap().contains(KEY),
        "the report never holds the key"
    );
}

#[tokio::test]
async fn tool_calls_printed_as_text_fail_the_shell_call_until_repair_is_on() {
    let fixed = fails_then_fixed(
        Quirks {
            text_tool_calls: true,
            ..Quirks::default()
        },
        |_| {},
        &[StepId::ShellCall, StepId::ApplyPatch],
        "wrote its tool call as text instead of calling the tool: \"<tool_call>",
        "Turn on text tool-call repair",
    )
    .await;
    assert!(fixed.dialect().unwrap().text_tool_calls);
}

#[tokio::test]
async fn reasoning_not_sent_back_fails_the_round_trip_until_echo_is_on() {
    let fixed = fails_then_fixed(
        Quirks { thinks: true, needs_reasoning_back: true, ..Quirks::default() },
        |_| {},
        &[StepId::ToolResult],
        "the provider refused the turn that sends the command's output back: \"provider `box` answered HTTP 400: Missing `reasoning_content` field",
        "Send reasoning back to the provider",
    )
    .await;
    assert!(fixed.dialect().unwrap().reasoning_echo);
}

#[tokio::test]
async fn a_refused_schema_keyword_fails_the_shell_call_until_it_is_dropped() {
    let model = ScriptedModel::start(Quirks {
        refuses_schema_keyword: Some("additionalProperties"),
        ..Quirks::default()
    })
    .await;
    let p = provider(&model.base_url());
    let r = check(&p).await;
    assert_eq!(
        status(&r, StepId::ApplyPatch),
        Status::Skipped,
        "the same refusal is not asked for twice: {}",
        show(&r)
    );
    assert_eq!(
        status(&r, StepId::ToolResult),
        Status::Skipped,
        "{}",
        show(&r)
    );
    drop(model);
    let fixed = fails_then_fixed(
        Quirks { refuses_schema_keyword: Some("additionalProperties"), ..Quirks::default() },
        |_| {},
        &[StepId::ShellCall],
        "the provider refused a request with Codex's tools: \"provider `box` answered HTTP 400: Invalid JSON payload received. Unknown name \"additionalProperties\"",
        "Drop `additionalProperties` from tool schemas",
    )
    .await;
    assert!(fixed
        .dialect()
        .unwrap()
        .schema_drop
        .contains(&"additionalProperties".to_string()));
}

#[tokio::test]
async fn no_usage_fails_until_it_is_asked_for() {
    let fixed = fails_then_fixed(
        Quirks::default(),
        |p| {
            p.dialect.insert("stream_usage".into(), false.into());
        },
        &[StepId::Usage],
        "no token counts came back",
        "Ask for usage in the stream",
    )
    .await;
    assert!(fixed.dialect().unwrap().stream_usage);

    // A provider that never counts has no switch: said, and no fix offered.
    let model = ScriptedModel::start(Quirks {
        never_usage: true,
        ..Quirks::default()
    })
    .await;
    let r = check(&provider(&model.base_url())).await;
    let usage = r.step(StepId::Usage).unwrap();
    assert_eq!(usage.status, Status::Failed);
    assert!(
        usage
            .detail
            .contains("sent no token counts even when asked"),
        "{}",
        usage.detail
    );
    assert!(usage.fix.is_none());
}

#[tokio::test]
async fn a_small_window_fails_until_codex_is_told_it() {
    // From the model list.
    let fixed = fails_then_fixed(
        Quirks { window_in_list: Some(8192), ..Quirks::default() },
        |_| {},
        &[StepId::ContextWindow],
        // A runtime on this machine is assumed to serve 32 K unless told.
        "Scripted box serves scripted-coder with 8,192 tokens (its model list), but Codex is told 32,768 (assumed)",
        "Set the context window to 8,192",
    )
    .await;
    assert_eq!(fixed.context_window, Some(8192));

    // From the refusal of an oversized request, which costs no generation.
    let model = ScriptedModel::start(Quirks {
        window_in_error: Some(16_384),
        ..Quirks::default()
    })
    .await;
    let r = check(&provider(&model.base_url())).await;
    let w = r.step(StepId::ContextWindow).unwrap();
    assert_eq!(w.status, Status::Failed, "{}", show(&r));
    assert!(
        w.detail
            .contains("16,384 tokens (its refusal of an oversized request)"),
        "{}",
        w.detail
    );
    assert_eq!(
        w.fix.as_ref().unwrap().change,
        FixChange::ContextWindow { tokens: 16_384 }
    );
}

#[tokio::test]
async fn thinking_printed_inline_fails_the_text_step_until_split() {
    let fixed = fails_then_fixed(
        Quirks {
            think_tags: true,
            ..Quirks::default()
        },
        |_| {},
        &[StepId::StreamedText],
        "the model prints its thinking into the answer",
        "Turn on inline-thinking split",
    )
    .await;
    assert!(fixed.dialect().unwrap().think_tags);
}

#[tokio::test]
async fn a_provider_whose_responses_api_fails_codexs_steps_stays_translated() {
    // Its `/responses` answers a probe, but not in a stream Codex can read.
    let model = ScriptedModel::start(Quirks {
        speaks_responses: true,
        ..Quirks::default()
    })
    .await;
    let r = check(&provider(&model.base_url())).await;
    let native = r.step(StepId::NativeResponses).unwrap();
    assert_eq!(native.status, Status::Info);
    assert!(
        native.detail.contains("also speaks the Responses API"),
        "{}",
        native.detail
    );
    let best = r.step(StepId::BestPath).expect("both paths compared");
    assert_eq!(best.status, Status::Info, "{}", show(&r));
    assert!(
        best.detail
            .ends_with("Plugboard keeps Chat Completions (translated)"),
        "{}",
        best.detail
    );
    assert!(best.fix.is_none());
    assert!(r.passed(), "a note is no failure: {}", show(&r));
}

#[tokio::test]
async fn local_only_refuses_a_public_provider_before_any_connection() {
    let model = ScriptedModel::start(Quirks::default()).await;
    // The name resolves to a public address (a fixed answer: no real lookup).
    let p = provider(&format!(
        "http://models.example.com:{}/v1",
        model.addr.port()
    ));
    let hosts = StaticHosts(HashMap::from([(
        "models.example.com".to_string(),
        vec!["93.184.215.14".parse().unwrap()],
    )]));
    let r = check_provider(
        &p,
        keys(),
        CheckOptions {
            local_only: true,
            resolver: Some(Arc::new(hosts)),
            ..CheckOptions::default()
        },
    )
    .await
    .unwrap();
    let first = r.step(StepId::StreamedText).unwrap();
    assert_eq!(first.status, Status::Failed);
    assert!(
        first.detail.contains("Local-only mode is on"),
        "{}",
        first.detail
    );
    assert!(
        first
            .detail
            .contains("resolves to the public address 93.184.215.14"),
        "{}",
        first.detail
    );
    assert_eq!(
        status(&r, StepId::NativeResponses),
        Status::Skipped,
        "{}",
        show(&r)
    );
    assert!(model.requests().is_empty(), "nothing reached the provider");
}

/// The app's check, as the window runs it: the stored key from the vault, the result kept as
/// a badge across restarts, the fix saved as a setting, the badge stale until checked again.
#[tokio::test]
async fn the_app_keeps_results_as_a_badge_and_saves_the_fix() {
    use plugboard_app::providers::ProviderInput;
    use plugboard_app::App;
    use plugboard_keys::MemoryVault;

    let model = ScriptedModel::start(Quirks {
        thinks: true,
        needs_reasoning_back: true,
        window_in_list: Some(32_768),
        ..Quirks::default()
    })
    .await;
    let home = plugboard_e2e::TempHome::new("check-app");
    let (root, paths) = (home.root.clone(), home.paths.clone());
    let vault = Arc::new(MemoryVault::default());
    let app = App::load(paths.clone(), vault.clone()).unwrap();
    app.save_provider(ProviderInput {
        original_id: None,
        id: "box".into(),
        name: "Scripted box".into(),
        // A hosted preset that does not send reasoning back (local presets already repair
        // what local runtimes get wrong).
        preset: Some("groq".into()),
        base_url: model.base_url(),
        wire_api: plugboard_config::WireApi::Chat,
        default_model: Some(MODEL.into()),
        model_map: Default::default(),
        api_key: Some(KEY.into()),
        clear_key: false,
    })
    .await
    .unwrap();
    assert!(app.providers().await[0].check.is_none());

    let r = app.codex_check("box", None).await.unwrap();
    assert_eq!(
        status(&r, StepId::ToolResult),
        Status::Failed,
        "{}",
        show(&r)
    );
    let badge = app.providers().await[0].check.clone().unwrap();
    assert_eq!(
        (badge.passed, badge.stale, badge.model.as_str()),
        (false, false, MODEL)
    );
    assert_eq!(badge.summary, "1 of 6 Codex check steps failed");
    // The key reached the provider from the vault.
    assert!(model.requests().len() >= 4);

    let fix = r
        .step(StepId::ToolResult)
        .unwrap()
        .fix
        .clone()
        .unwrap_or_else(|| panic!("{}", show(&r)));
    app.apply_check_fix("box", fix).await.unwrap();
    assert!(std::fs::read_to_string(&paths.settings_file)
        .unwrap()
        .contains("reasoning_echo = true"));
    assert!(
        app.providers().await[0].check.as_ref().unwrap().stale,
        "checked before the fix"
    );
    let again = app.codex_check("box", None).await.unwrap();
    assert!(again.passed(), "{}", show(&again));
    drop(app);

    let app = App::load(paths.clone(), vault).unwrap();
    let badge = app.providers().await[0].check.clone().unwrap();
    assert_eq!(
        (badge.passed, badge.stale),
        (true, false),
        "kept across restarts"
    );
    assert_eq!(app.last_codex_check("box").unwrap(), again);
    let history = std::fs::read_to_string(root.join("config/codex-checks.json")).unwrap();
    assert!(!history.contains(KEY), "no key in the history file");
    app.delete_provider("box").await.unwrap();
    assert!(
        app.last_codex_check("box").is_none(),
        "a deleted provider's results go too"
    );
}

#[tokio::test]
async fn a_window_too_small_for_codexs_tools_is_said_with_what_to_do() {
    // llama.cpp's server with a small model loaded at its default 2,048 tokens.
    let model = ScriptedModel::start(Quirks {
        served_window: Some(2048),
        ..Quirks::default()
    })
    .await;
    let r = check(&provider(&model.base_url())).await;
    assert_eq!(
        status(&r, StepId::StreamedText),
        Status::Passed,
        "{}",
        show(&r)
    );
    let shell = r.step(StepId::ShellCall).unwrap();
    assert_eq!(shell.status, Status::Failed);
    assert!(
        shell
            .detail
            .contains("served with a 2,048-token window, smaller than the")
            && shell.detail.contains("`-c 32768`"),
        "{}",
        shell.detail
    );
    assert!(shell.fix.is_none(), "no setting of Plugboard's fixes this");
}
