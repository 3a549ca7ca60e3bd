//! Input items that only name an earlier item (`{"type": "item_reference", "id": …}`, or an
//! object with nothing but an `id`), replaced by the items Plugboard stored: clients that
//! keep state on the server (the Vercel AI SDK with its default `store: true`) send earlier
//! turns this way. A chat provider cannot resolve them itself, so an id Plugboard never saw
//! is refused rather than dropped.

use crate::error::ProxyError;
use crate::response_store::ResponseStore;
use plugboard_wire::responses::Input;
use serde::Deserialize;
use serde_json::value::RawValue;

/// Only the keys a reference has (`type` optional); any other key makes it a real item.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Reference {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    id: String,
}

fn reference(raw: &RawValue) -> Option<String> {
    let json = raw.get();
    // Cheap first look: a reference is small and names its id.
    if json.len() > 512 || !json.contains("\"id\"") {
        return None;
    }
    let r: Reference = serde_json::from_str(json).ok()?;
    match r.kind.as_deref() {
        None | Some("item_reference") => Some(r.id),
        Some(_) => None,
    }
}

/// The ids the items reference, in order.
pub(crate) fn referenced_ids(items: &[Box<RawValue>]) -> Vec<String> {
    items.iter().filter_map(|raw| reference(raw)).collect()
}

/// The input with every reference replaced by the item it names; `None` when it has none
/// (the common case: nothing is copied).
pub fn resolve(
    input: &Input,
    store: &ResponseStore,
    who: Option<&str>,
) -> Result<Option<Input>, ProxyError> {
    let Input::Items(items) = input else {
        return Ok(None);
    };
    if !items.iter().any(|raw| reference(raw).is_some()) {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, raw) in items.iter().enumerate() {
        match reference(raw) {
            None => out.push(raw.clone()),
            Some(id) => {
                let item = store.item_for(&id, who).ok_or_else(|| {
                    ProxyError::invalid_request(
                        Some(&format!("input[{i}]")),
                        "item_not_found",
                        format!("Item with id '{id}' not found: Plugboard keeps the items of its recent responses in memory until it restarts; send the item itself instead of a reference."),
                    )
                })?;
                out.push(
                    serde_json::value::to_raw_value(&item).expect("a JSON value always serializes"),
                );
            }
        }
    }
    Ok(Some(Input::Items(out)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(v: serde_json::Value) -> Input {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn references_become_the_stored_items_in_place() {
        let store = ResponseStore::new(8);
        store.put("r".into(), None, vec![
            json!({"type": "message", "id": "msg_a", "role": "assistant", "content": [{"type": "output_text", "text": "earlier"}]}),
            json!({"type": "function_call", "id": "fc_a", "call_id": "c1", "name": "f", "arguments": "{}"}),
        ]);
        let got = resolve(
            &input(json!([
                {"type": "message", "role": "user", "content": "q"},
                {"type": "item_reference", "id": "msg_a"},
                {"id": "fc_a"},
                {"type": "function_call_output", "call_id": "c1", "output": "ok"},
            ])),
            &store,
            None,
        )
        .unwrap()
        .unwrap();
        let values = got.to_item_values();
        assert_eq!(values[1]["content"][0]["text"], "earlier");
        assert_eq!(values[2]["call_id"], "c1");
        assert_eq!(values[3]["output"], "ok");
    }

    #[test]
    fn unknown_ids_are_refused_and_real_items_with_ids_are_not_references() {
        let store = ResponseStore::new(8);
        let e = resolve(
            &input(json!([{"type": "item_reference", "id": "msg_gone"}])),
            &store,
            None,
        )
        .unwrap_err();
        assert_eq!(e.status(), 400);
        assert_eq!(e.param(), Some("input[0]"));
        assert!(e.message().contains("msg_gone"));
        let real =
            input(json!([{"type": "message", "id": "msg_x", "role": "user", "content": "hi"}]));
        assert!(resolve(&real, &store, None).unwrap().is_none());
        assert!(resolve(&input(json!("text")), &store, None)
            .unwrap()
            .is_none());
    }
}
