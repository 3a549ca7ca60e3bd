//! One conversation passed between providers in every direction: what each is sent of the
//! others' items, judged by the refusals real providers give.

use plugboard_translate::provenance::{clean, clean_as, content_key, id_key, History};
use plugboard_translate::{reasoning_blob, translate_request, Dialect, TranslateOptions};
use plugboard_wire::responses::ResponsesRequest;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use std::collections::HashMap;

/// How a provider is reached: passed through (Responses) or translated (chat).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Reader {
    Responses,
    Chat,
}

/// A turn as `provider` answered it: reasoning, a call, its output, a closing message.
fn turn(provider: &str, reader: Reader, n: usize, id_style: &str) -> (Vec<Value>, Vec<u64>) {
    let thought = format!("{provider} thinks about step {n}");
    let encrypted = match reader {
        // What Plugboard writes for a chat provider's reasoning.
        Reader::Chat => reasoning_blob::encode(&thought),
        // A Responses provider's own opaque blob.
        Reader::Responses => format!("gAAAA-{provider}-{n}"),
    };
    let id = |prefix: &str| match id_style {
        "openai" => format!("{prefix}_{provider}{n}"),
        _ => format!("{provider}-item-{prefix}-{n}"),
    };
    let items = vec![
        json!({"type": "reasoning", "id": id("rs"), "summary": [{"type": "summary_text", "text": thought}], "encrypted_content": encrypted}),
        json!({"type": "function_call", "id": id("fc"), "call_id": format!("call_{provider}_{n}"), "name": "exec_command", "arguments": "{\"cmd\":\"ls\"}"}),
        json!({"type": "function_call_output", "call_id": format!("call_{provider}_{n}"), "output": "a.txt"}),
        json!({"type": "message", "id": id("msg"), "role": "assistant", "content": [{"type": "output_text", "text": "done"}]}),
    ];
    // What the proxy remembers of that answer: its ids and its encrypted content.
    let mut keys = vec![
        id_key(items[0]["id"].as_str().unwrap()),
        content_key(&encrypted),
        id_key(items[1]["id"].as_str().unwrap()),
        id_key(items[3]["id"].as_str().unwrap()),
    ];
    let mut items = items;
    if provider == "kimi" {
        // A model that does not think: its steps come with no reasoning at all.
        items.remove(0);
        keys.drain(..2);
    }
    (items, keys)
}

fn user(text: &str) -> Value {
    json!({"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]})
}

fn raw(items: &[Value]) -> Vec<Box<RawValue>> {
    items
        .iter()
        .map(|v| serde_json::value::to_raw_value(v).unwrap())
        .collect()
}

/// A Responses provider's refusals (OpenAI's words): foreign encrypted content, ids without
/// its prefixes (when it checks them, as OpenAI does), outputs without their call.
fn responses_refusal(
    provider: &str,
    own: &[String],
    checks_ids: bool,
    input: &[Value],
) -> Option<String> {
    let mut calls = Vec::new();
    for (i, item) in input.iter().enumerate() {
        let kind = item["type"].as_str().unwrap_or("");
        if let Some(e) = item["encrypted_content"].as_str() {
            if !own.iter().any(|o| o == e) {
                return Some(format!(
                    "{provider}: The encrypted content for item input[{i}] could not be verified."
                ));
            }
        }
        if let Some(id) = item["id"].as_str() {
            let want = match kind {
                "message" => "msg_",
                "reasoning" => "rs_",
                "function_call" => "fc_",
                _ => "",
            };
            if checks_ids && !id.starts_with(want) {
                return Some(format!("{provider}: Invalid 'input[{i}].id': '{id}'. Expected an ID that begins with '{want}'."));
            }
        }
        match kind {
            "function_call" => calls.push(item["call_id"].clone()),
            "function_call_output" if !calls.contains(&item["call_id"]) => {
                return Some(format!(
                    "{provider}: No tool call found for function call output with call_id {}.",
                    item["call_id"]
                ));
            }
            _ => {}
        }
    }
    None
}

/// The chat request the translator makes of `history` for a provider that wants reasoning
/// back (DeepSeek in thinking mode) or not (Kimi).
fn to_chat(history: &[Value], reasoning_echo: bool) -> Value {
    let req: ResponsesRequest =
        serde_json::from_value(json!({"model": "m", "input": history})).unwrap();
    let dialect = Dialect {
        reasoning_echo,
        ..Dialect::default()
    };
    let t = translate_request(
        &req,
        &[],
        &TranslateOptions {
            upstream_model: "m",
            dialect: &dialect,
            response_id: "resp_t".into(),
            created_at: 0,
        },
    )
    .unwrap();
    serde_json::to_value(&t.chat).unwrap()
}

/// DeepSeek's refusal in thinking mode: every assistant tool-call message needs a non-empty
/// `reasoning_content`, whichever model took that step; and tool messages need their call.
fn chat_refusal(chat: &Value, thinking: bool) -> Option<String> {
    let mut open_calls: Vec<Value> = Vec::new();
    for (i, m) in chat["messages"].as_array().unwrap().iter().enumerate() {
        if m["role"] == "assistant" && m["tool_calls"].is_array() {
            if thinking && m["reasoning_content"].as_str().is_none_or(str::is_empty) {
                return Some(format!("Missing `reasoning_content` field in the assistant message at message index {i}."));
            }
            open_calls.extend(
                m["tool_calls"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c["id"].clone()),
            );
        }
        if m["role"] == "tool" && !open_calls.contains(&m["tool_call_id"]) {
            return Some(format!("Messages with role 'tool' must be a response to a preceding message with 'tool_calls' (index {i})."));
        }
    }
    None
}

#[derive(Clone, Copy)]
struct Side {
    name: &'static str,
    reader: Reader,
    id_style: &'static str,
}

const OPENAI: Side = Side {
    name: "openai",
    reader: Reader::Responses,
    id_style: "openai",
};
const XAI: Side = Side {
    name: "xai",
    reader: Reader::Responses,
    id_style: "other",
};
const DEEPSEEK: Side = Side {
    name: "deepseek",
    reader: Reader::Chat,
    id_style: "openai",
};
const KIMI: Side = Side {
    name: "kimi",
    reader: Reader::Chat,
    id_style: "openai",
};

/// Three turns, A then B then A, checked at each request against the receiver's rules.
fn session(a: Side, b: Side) {
    let mut issuers: HashMap<u64, &'static str> = HashMap::new();
    let mut history = vec![user("plan it")];
    let mut own: HashMap<&str, Vec<String>> = HashMap::new();
    for (n, side) in [a, b, a].into_iter().enumerate() {
        history.push(user(&format!("turn {n}")));
        let items = raw(&history);
        let lookup = |k: u64| issuers.get(&k).copied();
        let mine = own.get(side.name).cloned().unwrap_or_default();
        match side.reader {
            Reader::Responses => {
                let cleaned = clean(&items, side.name, &lookup);
                let sent: Vec<Value> = cleaned
                    .items
                    .as_ref()
                    .unwrap_or(&items)
                    .iter()
                    .map(|r| serde_json::from_str(r.get()).unwrap())
                    .collect();
                assert_eq!(
                    responses_refusal(side.name, &mine, side.id_style == "openai", &sent),
                    None,
                    "{} → {} turn {n}",
                    a.name,
                    b.name
                );
                // Nothing but reasoning is ever dropped, and pairs stay whole.
                let count = |t: &str| sent.iter().filter(|i| i["type"] == t).count();
                assert_eq!(count("function_call"), n, "every earlier call kept");
                assert_eq!(count("function_call_output"), n);
                assert_eq!(
                    count("message"),
                    history.iter().filter(|i| i["type"] == "message").count()
                );
            }
            Reader::Chat => {
                let thinking = side.name == "deepseek";
                let chat = to_chat(&history, thinking);
                assert_eq!(
                    chat_refusal(&chat, thinking),
                    None,
                    "{} → {} turn {n}",
                    a.name,
                    b.name
                );
            }
        }
        let (items, keys) = turn(side.name, side.reader, n, side.id_style);
        for k in keys {
            issuers.insert(k, side.name);
        }
        if let Some(e) = items[0]["encrypted_content"].as_str() {
            own.entry(side.name).or_default().push(e.to_string());
        }
        history.extend(items);
    }
}

#[test]
fn responses_to_chat_and_back() {
    session(OPENAI, DEEPSEEK);
}

#[test]
fn chat_to_responses_and_back() {
    session(DEEPSEEK, OPENAI);
}

#[test]
fn responses_to_another_responses_provider_and_back() {
    session(OPENAI, XAI);
    session(XAI, OPENAI);
}

#[test]
fn chat_to_another_chat_provider_and_back() {
    session(DEEPSEEK, KIMI);
    // Steps with no reasoning at all reach DeepSeek with a note in its place.
    session(KIMI, DEEPSEEK);
}

#[test]
fn a_provider_keeps_its_own_items_untouched() {
    let (items, keys) = turn("openai", Reader::Responses, 0, "openai");
    let issuers: HashMap<u64, &str> = keys.into_iter().map(|k| (k, "openai")).collect();
    let lookup = |k: u64| issuers.get(&k).copied();
    let c = clean(&raw(&items), "openai", &lookup);
    assert!(c.items.is_none(), "nothing copied when nothing changes");
    // Items nobody remembers (from before a restart) are left as they are too.
    let c = clean(&raw(&items), "openai", &|_| None);
    assert!(c.items.is_none());
}

#[test]
fn plugboards_summary_of_a_compacted_history_reaches_a_responses_provider_as_text() {
    // What the proxy's compaction wrote for a session on a chat provider.
    let out = plugboard_translate::compaction::compacted_output(
        &[user("list the files")],
        "we listed the files",
        "resp_1",
    );
    let blob = out.iter().find(|i| i["type"] == "compaction").unwrap()["encrypted_content"]
        .as_str()
        .unwrap()
        .to_string();
    let items = raw(&[
        json!({"type": "compaction", "encrypted_content": blob}),
        user("go on"),
    ]);
    let c = clean(&items, "openai", &|_| None);
    let sent: Vec<Value> = c
        .items
        .unwrap()
        .iter()
        .map(|r| serde_json::from_str(r.get()).unwrap())
        .collect();
    assert_eq!(sent[0]["type"], "message");
    assert!(sent[0]["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("we listed the files"));
}

#[test]
fn orphan_tool_outputs_are_left_out_for_a_responses_provider() {
    let items = raw(&[
        user("hi"),
        json!({"type": "function_call_output", "call_id": "call_gone", "output": "x"}),
        json!({"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"}),
        json!({"type": "function_call_output", "call_id": "call_1", "output": "y"}),
    ]);
    let c = clean(&items, "openai", &|_| None);
    assert_eq!(c.dropped, 1);
    assert_eq!(c.items.unwrap().len(), 3);
}

#[test]
fn a_continuation_keeps_outputs_whose_call_the_provider_holds() {
    // `previous_response_id` + the tool's output only: the call is in the provider's copy.
    let items = raw(&[json!({"type": "function_call_output", "call_id": "call_1", "output": "y"})]);
    let c = clean_as(&items, History::Continued, "openai", &|_| None);
    assert!(c.items.is_none(), "left as it is");
    assert_eq!(c.dropped, 0);
    let c = clean_as(&items, History::Whole, "openai", &|_| None);
    assert_eq!(c.dropped, 1);
}
