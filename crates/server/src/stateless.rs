//! Providers whose Responses API keeps no state (Ollama's `/v1/responses`, vLLM without its
//! store, Together): a `previous_response_id` or an `item_reference` cannot be resolved
//! there. For them Plugboard resolves both from its own response store, as it does for chat
//! providers, sends the whole input with `store: false`, and keeps the answer (when the
//! client did not say `store: false`) so that the next turn can continue from it.

use crate::error::ProxyError;
use crate::references;
use crate::response_store::Entry;
use crate::state::ProxyState;
use plugboard_translate::relay_watch::Answer;
use plugboard_wire::responses::Input;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use std::sync::Arc;

/// A turn to keep once answered: the stored turn it follows and its own input items.
pub(crate) struct Keep {
    parent: Option<Arc<Entry>>,
    items: Vec<Value>,
    owner: Option<Arc<str>>,
}

/// The input a stateless provider needs.
pub(crate) struct Resolved {
    /// The whole input (the history put in front, references replaced), when it differs
    /// from what the client sent.
    pub input: Option<Vec<Box<RawValue>>>,
    pub keep: Option<Keep>,
}

/// Resolves the request against Plugboard's store; a `previous_response_id` or reference it
/// never stored is refused as not found.
pub(crate) fn resolve(
    state: &ProxyState,
    input: &Input,
    previous: Option<&str>,
    store: Option<bool>,
    who: Option<&str>,
) -> Result<Resolved, ProxyError> {
    let referenced = references::resolve(input, &state.store, who)?;
    let parent = crate::chat_bridge::previous(state, previous, who)?;
    let wants_store = store != Some(false);
    if referenced.is_none() && parent.is_none() && !wants_store {
        return Ok(Resolved {
            input: None,
            keep: None,
        });
    }
    let turn: Vec<Box<RawValue>> = match referenced.as_ref().unwrap_or(input) {
        Input::Items(items) => items.clone(),
        Input::Text(text) => vec![raw(&json!({
            "type": "message", "role": "user",
            "content": [{"type": "input_text", "text": text}],
        }))],
    };
    let whole = match &parent {
        None if referenced.is_none() => None,
        None => Some(turn.clone()),
        Some(p) => {
            let mut items: Vec<Box<RawValue>> = p.history().iter().map(raw).collect();
            items.extend(turn.iter().cloned());
            Some(items)
        }
    };
    let keep = wants_store.then(|| Keep {
        owner: who.map(Arc::from),
        parent,
        items: turn
            .iter()
            .filter_map(|r| serde_json::from_str(r.get()).ok())
            .collect(),
    });
    Ok(Resolved { input: whole, keep })
}

fn raw(v: &Value) -> Box<RawValue> {
    serde_json::value::to_raw_value(v).expect("a JSON value serializes")
}

/// Stores an answered turn under the provider's response id.
pub(crate) fn keep_answer(state: &ProxyState, keep: Keep, answer: Answer) {
    let Keep {
        parent,
        mut items,
        owner,
    } = keep;
    items.extend(answer.output);
    // A streamed answer's last event has passed already: a follow-up elsewhere relies on
    // `hydrate`'s patience instead.
    let _ = state.store.put_owned(answer.id, parent, items, owner);
}
