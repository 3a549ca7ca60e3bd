//! Any bytes as a provider's SSE body, read by the proxy's own SSE reader in pieces of any
//! size: neither may panic, and the translator always ends with exactly one terminal event.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plugboard_translate::{translate_request, Dialect, SseReader, SseWriter, StreamEnd, StreamTranslator, TranslateOptions};
use plugboard_wire::chat::ChatChunk;
use plugboard_wire::responses::ResponsesRequest;

fuzz_target!(|data: &[u8]| {
    let req: ResponsesRequest = serde_json::from_str(
        r#"{"model":"m","input":"x","tools":[{"type":"function","name":"exec_command"},{"type":"custom","name":"apply_patch"},{"type":"local_shell"},{"type":"namespace","name":"ns","tools":[{"type":"function","name":"f"}]}]}"#,
    )
    .unwrap();
    // Half the inputs with the local runtimes' repairs on (inline thinking, text tool calls).
    let local = data.first().is_some_and(|b| b % 2 == 0);
    let dialect = Dialect { think_tags: local, text_tool_calls: local, ..Dialect::default() };
    let ctx = translate_request(&req, &[], &TranslateOptions { upstream_model: "m", dialect: &dialect, response_id: "resp_fuzz".into(), created_at: 0 })
        .unwrap()
        .context;
    let mut t = StreamTranslator::new(ctx);
    let mut w = SseWriter::default();
    let mut out = Vec::new();
    w.write(&t.start(), &mut out);
    let mut reader = SseReader::new(4096);
    let mut end = StreamEnd::Eof;
    let mut events = Vec::new();
    let piece = data.first().map_or(1, |b| usize::from(b % 16) + 1);
    'read: for chunk in data.chunks(piece) {
        reader.push(chunk);
        loop {
            match reader.next_event() {
                Ok(Some(e)) => events.push(e),
                Ok(None) => break,
                Err(_) => break 'read,
            }
        }
    }
    events.extend(reader.finish());
    for payload in &events {
        let payload = payload.trim_ascii();
        if payload == b"[DONE]" {
            end = StreamEnd::Done;
            break;
        }
        if let Ok(chunk) = serde_json::from_slice::<ChatChunk>(payload) {
            w.write(&t.push(chunk), &mut out);
        }
    }
    let last = t.finish(end);
    w.write(&last, &mut out);
    assert!(t.is_finished());
    let terminals = ["response.completed", "response.incomplete", "response.failed"];
    let s = String::from_utf8(out).expect("events are UTF-8");
    let count: usize = terminals.iter().map(|name| s.matches(&format!("event: {name}\n")).count()).sum();
    assert_eq!(count, 1, "exactly one terminal event");
});
