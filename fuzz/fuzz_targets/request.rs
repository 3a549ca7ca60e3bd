//! Any bytes as a Responses request body: parsing and translation must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plugboard_translate::{translate_request, Dialect, MaxTokensField, ReasoningSwitch, TranslateOptions};
use plugboard_wire::responses::ResponsesRequest;

fuzz_target!(|data: &[u8]| {
    let Ok(req) = plugboard_wire::parse_json::<ResponsesRequest>(data) else { return };
    let strict = Dialect {
        max_tokens_field: MaxTokensField::MaxCompletionTokens,
        reasoning_switch: ReasoningSwitch::ThinkingObject,
        reasoning_echo: true,
        developer_role: true,
        content_parts: false,
        file_parts: true,
        parallel_tool_calls: false,
        stream_usage: false,
        think_tags: true,
        text_tool_calls: true,
        schema_object_root: true,
        schema_inline_refs: true,
        schema_single_types: true,
        schema_drop: vec!["$schema".into()],
    };
    // The input items also serve as a previous response's history.
    let history = req.input.to_item_values();
    for (dialect, history) in [(Dialect::default(), &[][..]), (strict, &history[..])] {
        let opts = TranslateOptions { upstream_model: "m", dialect: &dialect, response_id: "resp_fuzz".into(), created_at: 0 };
        if let Ok(t) = translate_request(&req, history, &opts) {
            serde_json::to_vec(&t.chat).expect("a translated request serializes");
        }
    }
});
