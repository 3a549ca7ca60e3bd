//! A whole session with a known key: the key's bytes must appear in no log line (at trace
//! level), no file under the app's config, data and Codex dirs, and no response the client
//! gets, error messages included.

use plugboard_app::providers::ProviderInput;
use plugboard_app::App;
use plugboard_e2e::*;
use plugboard_keys::MemoryVault;
use serde_json::json;
use std::sync::Arc;

const KEY: &str = "sk-leak-canary-7c1d9e0b44aa";

#[tokio::test]
async fn the_key_appears_in_no_log_file_or_response() {
    let logs = Captured::install();

    // An upstream that answers, one that echoes the key in a 401, and none at all.
    let ok = MockUpstream::start(|_, _| Reply::Sse(text_chunks(&["fine"]))).await;
    let echo = MockUpstream::start(|_, _| Reply::Raw {
        status: 401,
        headers: vec![],
        body: json!({"error": {"message": format!("Incorrect API key provided: {KEY}")}})
            .to_string(),
    })
    .await;
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();

    let home = TempHome::new("leak");
    let (root, paths) = (home.root.clone(), home.paths.clone());
    let app = App::load(paths.clone(), Arc::new(MemoryVault::default())).unwrap();
    for (id, url) in [
        ("good", ok.base_url()),
        ("echo", echo.base_url()),
        ("dead", format!("http://{dead}/v1")),
    ] {
        app.save_provider(ProviderInput {
            original_id: None,
            id: id.into(),
            name: id.into(),
            preset: Some("deepseek".into()),
            base_url: url,
            wire_api: plugboard_config::WireApi::Chat,
            default_model: Some("deepseek-chat".into()),
            model_map: Default::default(),
            api_key: Some(KEY.into()),
            clear_key: false,
        })
        .await
        .unwrap();
    }
    app.start().await;
    app.codex_apply(true, Some("gpt-5.5".into())).await.unwrap();
    let base = app.snapshot().await.base_url;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();

    let mut bodies = String::new();
    for id in ["good", "echo", "dead"] {
        app.set_active(id).await.unwrap();
        for stream in [true, false] {
            let r = http
                .post(format!("{base}/responses"))
                .json(&json!({"model": "gpt-5.5", "input": "hi", "stream": stream}))
                .send()
                .await
                .unwrap();
            bodies.push_str(&r.text().await.unwrap());
        }
        let form = ProviderInput::for_saved(app.snapshot().await.settings.provider(id).unwrap());
        bodies
            .push_str(&serde_json::to_string(&app.test_connection(&form).await.unwrap()).unwrap());
        if let Err(e) = app.list_models(&form).await {
            bodies.push_str(&e.to_string());
        }
        bodies.push_str(&serde_json::to_string(&app.providers().await).unwrap());
    }
    assert_eq!(
        ok.requests()[0].headers["authorization"],
        format!("Bearer {KEY}"),
        "the key was really used"
    );
    assert!(
        bodies.contains("Incorrect API key provided: ***"),
        "the echoed key was scrubbed: {bodies}"
    );
    assert!(
        !bodies.contains(KEY),
        "a response carried the key: {bodies}"
    );
    app.stop().await;

    let log_text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(log_text.contains("request"), "logging was captured");
    assert!(!log_text.contains(KEY), "a log line carried the key");
    assert_eq!(
        files_containing(&root, KEY.as_bytes()),
        Vec::<String>::new(),
        "files carrying the key"
    );
}
