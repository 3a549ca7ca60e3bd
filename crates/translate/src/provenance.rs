//! One conversation, several providers: which input items a provider that speaks Responses
//! can read. Such providers accept only their own opaque content: OpenAI refuses reasoning it
//! did not encrypt ("The encrypted content for item input[N] could not be verified") and ids
//! without its prefixes. Every answer's items leave keys (their encrypted content, their ids)
//! that the server remembers with the provider that issued them; before a request leaves,
//! [`clean`] drops or rewrites what belongs to someone else. (A chat provider reads every
//! reasoning item as text; the translator takes care of what it needs back.) Pure: the memory
//! of issuers is a lookup passed in.

use crate::compaction_item;
use crate::reasoning_blob;
use plugboard_wire::responses::OutputItem;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use std::borrow::Cow;
use std::collections::HashSet;
use std::hash::{Hash, Hasher};

/// The key an item's encrypted content leaves.
pub fn content_key(encrypted: &str) -> u64 {
    key(b'e', encrypted)
}

/// The key an item's id leaves.
pub fn id_key(id: &str) -> u64 {
    key(b'i', id)
}

fn key(kind: u8, s: &str) -> u64 {
    // Fixed keys: the same text gives the same key across requests.
    let mut h = std::collections::hash_map::DefaultHasher::new();
    kind.hash(&mut h);
    s.hash(&mut h);
    h.finish()
}

/// The keys the items of an answer Plugboard translated leave.
pub fn keys_of_output(items: &[OutputItem]) -> Vec<u64> {
    let mut keys = Vec::with_capacity(items.len() + 1);
    for item in items {
        keys.push(id_key(item.id()));
        if let OutputItem::Reasoning {
            encrypted_content: Some(e),
            ..
        } = item
        {
            keys.push(content_key(e));
        }
    }
    keys
}

/// The keys a whole Responses answer (`{"output": [...]}`) leaves; none when it is not one.
pub fn keys_of_answer(body: &[u8]) -> Vec<u64> {
    #[derive(Deserialize)]
    struct Answer {
        #[serde(default)]
        output: Vec<OwnedTrace>,
    }
    serde_json::from_slice::<Answer>(body)
        .map(|a| a.output.iter().flat_map(OwnedTrace::keys).collect())
        .unwrap_or_default()
}

/// The keys an input's items would have left when a provider issued them: what to look up
/// before [`clean`] (a gateway replica asks the shared store for those it does not know).
pub fn keys_of_input(items: &[Box<RawValue>]) -> Vec<u64> {
    let mut keys = Vec::new();
    for raw in items {
        let t: ItemTrace = serde_json::from_str(raw.get()).unwrap_or_default();
        keys.extend(t.id.as_deref().map(id_key));
        keys.extend(
            t.encrypted_content
                .as_deref()
                .filter(|e| !e.is_empty())
                .map(content_key),
        );
    }
    keys
}

/// The few fields of an item that say whose it is; everything else is skipped unread.
#[derive(Deserialize, Default)]
struct ItemTrace<'a> {
    #[serde(rename = "type", default, borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    call_id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    encrypted_content: Option<Cow<'a, str>>,
}

/// An owned trace, for answers read after the bytes are gone (a relayed terminal event).
#[derive(Deserialize, Debug, Clone, PartialEq, Default)]
pub struct OwnedTrace {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    encrypted_content: Option<String>,
}

impl OwnedTrace {
    /// The keys this item leaves when a provider issues it.
    pub fn keys(&self) -> impl Iterator<Item = u64> + '_ {
        let id = self.id.as_deref().map(id_key);
        let content = self
            .encrypted_content
            .as_deref()
            .filter(|e| !e.is_empty())
            .map(content_key);
        id.into_iter().chain(content)
    }
}

/// What becomes of one input item.
#[derive(Debug, PartialEq)]
enum Verdict {
    Keep,
    Drop(&'static str),
    /// Another item in its place.
    Replace(Value),
    /// The same item under another id.
    Rename(String),
}

/// What [`clean`] did, for the request's log line.
#[derive(Debug, Default)]
pub struct Cleaned {
    /// The new input, `None` when every item could stay as it was (nothing copied).
    pub items: Option<Vec<Box<RawValue>>>,
    pub dropped: usize,
    pub rewritten: usize,
}

/// The prefix OpenAI requires of an item id, per item type.
fn id_prefix(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "message" => "msg_",
        "reasoning" => "rs_",
        "function_call" => "fc_",
        "custom_tool_call" => "ctc_",
        _ => return None,
    })
}

// Local shell calls are left out: theirs may pair by `id` instead of `call_id`.
/// Item types that call a tool, and those that answer a call by its `call_id` (providers
/// refuse an answer whose call is not before it).
pub const CALL_TYPES: [&str; 2] = ["function_call", "custom_tool_call"];
pub const OUTPUT_TYPES: [&str; 2] = ["function_call_output", "custom_tool_call_output"];

/// Whether a request's input is its whole history, or continues a response the provider
/// holds (`previous_response_id`), whose tool calls are not in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum History {
    Whole,
    Continued,
}

/// The input `items` as `provider`, a Responses provider, can take them. `issuer` answers,
/// for a key, which provider issued it (`None`: not remembered, e.g. from before a restart;
/// such an item is left as it is).
pub fn clean<'i>(
    items: &[Box<RawValue>],
    provider: &str,
    issuer: &dyn Fn(u64) -> Option<&'i str>,
) -> Cleaned {
    clean_as(items, History::Whole, provider, issuer)
}

/// [`clean`] for an input that is whole or continues a held response: a continuation's tool
/// outputs answer calls the provider holds, so they are kept.
pub fn clean_as<'i>(
    items: &[Box<RawValue>],
    history: History,
    provider: &str,
    issuer: &dyn Fn(u64) -> Option<&'i str>,
) -> Cleaned {
    let traces: Vec<ItemTrace> = items
        .iter()
        .map(|raw| serde_json::from_str(raw.get()).unwrap_or_default())
        .collect();
    let foreign = |k: u64| issuer(k).is_some_and(|p| p != provider);
    let mut verdicts: Vec<Verdict> = traces.iter().map(|t| verdict(t, &foreign)).collect();
    if history == History::Whole {
        unpair_orphans(&traces, &mut verdicts);
    }
    if verdicts.iter().all(|v| *v == Verdict::Keep) {
        return Cleaned::default();
    }
    let mut kept = Vec::with_capacity(items.len());
    let (mut dropped, mut rewritten) = (0, 0);
    for (i, (raw, v)) in items.iter().zip(verdicts).enumerate() {
        let value = match v {
            Verdict::Keep => {
                kept.push(raw.clone());
                continue;
            }
            Verdict::Drop(why) => {
                tracing::debug!(index = i, why, "input item left out for this provider");
                dropped += 1;
                continue;
            }
            Verdict::Replace(value) => value,
            Verdict::Rename(id) => {
                let mut v: Value = serde_json::from_str(raw.get()).expect("parsed once already");
                v["id"] = Value::String(id);
                v
            }
        };
        rewritten += 1;
        kept.push(serde_json::value::to_raw_value(&value).expect("a JSON value serializes"));
    }
    Cleaned {
        items: Some(kept),
        dropped,
        rewritten,
    }
}

fn verdict(t: &ItemTrace, foreign: &dyn Fn(u64) -> bool) -> Verdict {
    let kind = t.kind.as_deref().unwrap_or("");
    let encrypted = t.encrypted_content.as_deref().filter(|e| !e.is_empty());
    if let Some(e) = encrypted {
        if kind == "compaction" || kind == "compaction_summary" {
            // Plugboard's own summary reads the same to anyone: plain context.
            if let Some(summary) = compaction_item::decode_summary(e) {
                return Verdict::Replace(json!({
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": compaction_item::context_text(&summary)}],
                }));
            }
            if foreign(content_key(e)) {
                return Verdict::Drop("another provider's compaction");
            }
            return Verdict::Keep;
        }
        if reasoning_blob::decode(e).is_some() {
            return Verdict::Drop("reasoning a chat provider gave through Plugboard");
        }
        if foreign(content_key(e)) {
            return Verdict::Drop("another provider's encrypted content");
        }
    }
    let id = t.id.as_deref();
    let foreign_id = id.is_some_and(|id| foreign(id_key(id)));
    if kind == "reasoning" && foreign_id {
        return Verdict::Drop("another provider's reasoning");
    }
    // Another provider's item with an id this one would refuse: an id in its shape, derived
    // from the old one so that the same item keeps the same id every turn.
    if let (true, Some(prefix), Some(id)) = (foreign_id, id_prefix(kind), id) {
        if !id.starts_with(prefix) {
            let tail: String = id
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            return Verdict::Rename(format!("{prefix}{tail}"));
        }
    }
    Verdict::Keep
}

/// Responses providers refuse a tool output whose call is not in the input (OpenAI: "No tool
/// call found for function call output with call_id …").
fn unpair_orphans(traces: &[ItemTrace], verdicts: &mut [Verdict]) {
    let calls: HashSet<&str> = traces
        .iter()
        .zip(verdicts.iter())
        .filter(|(t, v)| {
            !matches!(v, Verdict::Drop(_)) && CALL_TYPES.contains(&t.kind.as_deref().unwrap_or(""))
        })
        .filter_map(|(t, _)| t.call_id.as_deref())
        .collect();
    for (t, v) in traces.iter().zip(verdicts.iter_mut()) {
        let is_output = OUTPUT_TYPES.contains(&t.kind.as_deref().unwrap_or(""));
        if is_output && t.call_id.as_deref().is_some_and(|c| !calls.contains(c)) {
            *v = Verdict::Drop("a tool output whose call is not in the input");
        }
    }
}
