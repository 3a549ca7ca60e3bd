//! Every recorded provider error wording (`tests/errors/*.json`: the status, body and
//! `Retry-After` a provider sends) maps to the code clients act on, with the wait worded so
//! that clients can read it.

use plugboard_translate::errors::{classify, parse_error_body, with_wait};
use serde_json::Value;

#[test]
fn each_provider_wording_maps_to_the_code_clients_act_on() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/errors");
    let mut seen = 0;
    let mut wrong = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let f: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let status = f["status"].as_u64().map(|s| s as u16);
        let body = serde_json::to_vec(&f["body"]).unwrap();
        let parsed = parse_error_body(&body, "application/json");
        let code = classify(&parsed, status);
        let message = with_wait(&code, &parsed.message, f["retry_after"].as_str());
        if code != f["expect_code"].as_str().unwrap() {
            wrong.push(format!("{name}: {code} (expected {})", f["expect_code"]));
        }
        if let Some(needle) = f["expect_message_contains"].as_str() {
            if !message.contains(needle) {
                wrong.push(format!("{name}: message {message:?} lacks {needle:?}"));
            }
        }
        seen += 1;
    }
    assert!(seen >= 20, "fixtures read: {seen}");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
