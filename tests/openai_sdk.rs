//! The official `openai` Python SDK reads the proxy's streams and responses: its typed event
//! parsing and its `responses.stream()` helper must accept every event Plugboard sends.
//!
//! `PLUGBOARD_PYTHON` names a Python with `openai` installed (the project's test script
//! makes one); without it the test fails, unless `PLUGBOARD_SKIP_EXTERNAL=1`.

use plugboard_e2e::*;
use serde_json::json;

#[tokio::test]
async fn the_openai_python_sdk_reads_streams_and_responses() {
    let Some(python) = external_tool("PLUGBOARD_PYTHON") else {
        return;
    };
    let mock = MockUpstream::start(|body, n| {
        if body["stream"] == false {
            return Reply::Raw {
                status: 200,
                headers: vec![("content-type", "application/json".into())],
                body: json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": "whole answer"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6}}).to_string(),
            };
        }
        match n {
            0 => Reply::Sse(text_chunks(&["Hello", " from", " Plugboard"])),
            _ => Reply::Sse(tool_call_chunks(Some("The user wants weather."), "call_w", "get_weather", r#"{"city":"Paris"}"#)),
        }
    })
    .await;
    let proxy = start_proxy(one_provider(&mock.base_url()), "k").await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/python/sdk_client.py");
    let r = run_client_script(&python, script.as_ref(), &[proxy.base_url()]).await;

    assert_eq!(r["delta_text"], "Hello from Plugboard");
    assert_eq!(r["completed_text"], "Hello from Plugboard");
    assert_eq!(r["event_types"][0], "response.created");
    assert_eq!(
        r["event_types"].as_array().unwrap().last().unwrap(),
        "response.completed"
    );
    assert_eq!(r["completed_usage"]["input_tokens"], 11);
    assert_eq!(r["completed_usage"]["output_tokens"], 7);

    assert_eq!(
        r["call"],
        json!({"name": "get_weather", "call_id": "call_w", "arguments": {"city": "Paris"}})
    );
    let helper: Vec<&str> = r["helper_event_types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        helper.contains(&"response.reasoning_summary_text.delta"),
        "{helper:?}"
    );
    assert!(
        helper.contains(&"response.function_call_arguments.delta"),
        "{helper:?}"
    );
    assert_eq!(
        r["helper_usage"]["input_tokens_details"]["cached_tokens"],
        64
    );

    assert_eq!(r["whole_text"], "whole answer");
    assert_eq!(r["whole_status"], "completed");
    proxy.stop().await;
}
