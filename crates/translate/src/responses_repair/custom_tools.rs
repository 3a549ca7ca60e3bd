//! Freeform tools (`type: "custom"`, Codex's `apply_patch`) for a Responses provider that
//! cannot take them (SGLang fails on them for most models, sglang #13967; Ollama does not
//! replay their calls): each is declared as a function with one string argument, `input`
//! (the chat translator declares them the same way), the history's custom tool calls and
//! outputs go as function calls and outputs, and the calls the model makes come back to the
//! client as `custom_tool_call`s with their raw input, so the client never sees the stand-in.

use super::Events;
use crate::request::tools::custom_tool_description;
use crate::stream::calls::custom_input;
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};

/// Rewrites a request body in place for a provider without freeform tools. The names of the
/// tools now declared as functions (empty when the request has none).
pub fn declare_as_functions(body: &mut Map<String, Value>) -> HashSet<String> {
    let mut names = HashSet::new();
    if let Some(Value::Array(tools)) = body.get_mut("tools") {
        for tool in tools.iter_mut() {
            if tool.get("type").and_then(Value::as_str) != Some("custom") {
                continue;
            }
            let Some(name) = tool.get("name").and_then(Value::as_str).map(str::to_string) else {
                continue;
            };
            *tool = json!({
                "type": "function",
                "name": name,
                "description": custom_tool_description(tool),
                "parameters": {
                    "type": "object",
                    "properties": {"input": {"type": "string", "description": "The tool's raw text input, exactly as the tool description says (not JSON-encoded inside)."}},
                    "required": ["input"],
                    "additionalProperties": false
                },
                "strict": false,
            });
            names.insert(name);
        }
    }
    if let Some(choice) = body.get_mut("tool_choice") {
        if choice.get("type").and_then(Value::as_str) == Some("custom") {
            choice["type"] = "function".into();
        }
    }
    if let Some(Value::Array(items)) = body.get_mut("input") {
        for item in items.iter_mut() {
            match item.get("type").and_then(Value::as_str) {
                Some("custom_tool_call") => {
                    let input = item.get("input").and_then(Value::as_str).unwrap_or("");
                    let arguments = json!({ "input": input }).to_string();
                    if let Some(name) = item.get("name").and_then(Value::as_str) {
                        names.insert(name.to_string());
                    }
                    item["type"] = "function_call".into();
                    item["arguments"] = arguments.into();
                    if let Some(o) = item.as_object_mut() {
                        o.remove("input");
                    }
                }
                Some("custom_tool_call_output") => item["type"] = "function_call_output".into(),
                _ => {}
            }
        }
    }
    names
}

/// A function call item for one of `names` as the custom tool call it stands for.
fn as_custom(item: &Value, names: &HashSet<String>, arguments: Option<&str>) -> Option<Value> {
    let o = item.as_object()?;
    let name = o.get("name").and_then(Value::as_str)?;
    if o.get("type").and_then(Value::as_str) != Some("function_call") || !names.contains(name) {
        return None;
    }
    let arguments = arguments
        .filter(|a| !a.is_empty())
        .or_else(|| o.get("arguments").and_then(Value::as_str))
        .unwrap_or("");
    let mut custom = o.clone();
    custom.insert("type".into(), "custom_tool_call".into());
    custom.remove("arguments");
    custom.insert("input".into(), Value::String(custom_input(arguments)));
    Some(Value::Object(custom))
}

/// A whole response's output with the stand-in calls turned back into custom tool calls.
pub fn restore_output(response: &mut Value, names: &HashSet<String>) {
    if let Some(Value::Array(output)) = response.get_mut("output") {
        for item in output.iter_mut() {
            if let Some(custom) = as_custom(item, names, None) {
                *item = custom;
            }
        }
    }
}

/// The stream stage: calls of the stand-in functions become custom tool calls.
pub(super) struct CustomCalls {
    names: HashSet<String>,
    /// Stand-in calls under way, by output index: the arguments so far.
    open: HashMap<u64, String>,
}

impl CustomCalls {
    pub(super) fn new(names: HashSet<String>) -> Self {
        Self {
            names,
            open: HashMap::new(),
        }
    }

    pub(super) fn event(&mut self, mut e: Map<String, Value>, out: &mut Events) {
        let kind = e.get("type").and_then(Value::as_str).unwrap_or("");
        let index = e.get("output_index").and_then(Value::as_u64);
        match (kind, index) {
            ("response.output_item.added", Some(i)) => {
                if let Some(custom) = e
                    .get("item")
                    .and_then(|it| as_custom(it, &self.names, None))
                {
                    self.open.insert(i, String::new());
                    let mut custom = custom;
                    custom["input"] = "".into();
                    e.insert("item".into(), custom);
                }
            }
            ("response.function_call_arguments.delta", Some(i)) if self.open.contains_key(&i) => {
                let delta = e.get("delta").and_then(Value::as_str).unwrap_or("");
                self.open.entry(i).or_default().push_str(delta);
                return;
            }
            ("response.function_call_arguments.done", Some(i)) if self.open.contains_key(&i) => {
                if let Some(a) = e.get("arguments").and_then(Value::as_str) {
                    self.open.insert(i, a.to_string());
                }
                return;
            }
            ("response.output_item.done", Some(i)) => {
                let streamed = self.open.remove(&i);
                let item = e.get("item").cloned().unwrap_or(Value::Null);
                if let Some(custom) = as_custom(&item, &self.names, streamed.as_deref()) {
                    let input = custom["input"].clone();
                    let item_id = custom.get("id").cloned().unwrap_or(Value::Null);
                    for done in [
                        json!({"type": "response.custom_tool_call_input.delta", "item_id": item_id,
                            "output_index": i, "delta": input}),
                        json!({"type": "response.custom_tool_call_input.done", "item_id": item_id,
                            "output_index": i, "input": input}),
                    ] {
                        if let Value::Object(m) = done {
                            out.push(m);
                        }
                    }
                    e.insert("item".into(), custom);
                }
            }
            (k, _) if crate::terminal::is_terminal(k) => {
                if let Some(r) = e.get_mut("response") {
                    restore_output(r, &self.names);
                }
            }
            _ => {}
        }
        out.push(e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_declares_freeform_tools_as_functions_and_its_history_follows() {
        let mut body = json!({
            "tools": [
                {"type": "function", "name": "exec_command", "parameters": {}},
                {"type": "custom", "name": "apply_patch", "description": "Patch files.",
                    "format": {"type": "grammar", "syntax": "lark", "definition": "start: patch"}}
            ],
            "tool_choice": {"type": "custom", "name": "apply_patch"},
            "input": [
                {"type": "custom_tool_call", "id": "ctc_1", "call_id": "c1", "name": "apply_patch", "input": "*** Begin Patch"},
                {"type": "custom_tool_call_output", "call_id": "c1", "output": "Done"}
            ]
        });
        let names = declare_as_functions(body.as_object_mut().unwrap());
        assert_eq!(names, HashSet::from(["apply_patch".to_string()]));
        let tool = &body["tools"][1];
        assert_eq!(tool["type"], "function");
        assert_eq!(tool["parameters"]["required"], json!(["input"]));
        assert!(tool["description"]
            .as_str()
            .unwrap()
            .contains("start: patch"));
        assert_eq!(
            body["tool_choice"],
            json!({"type": "function", "name": "apply_patch"})
        );
        assert_eq!(body["input"][0]["type"], "function_call");
        assert_eq!(
            body["input"][0]["arguments"],
            r#"{"input":"*** Begin Patch"}"#
        );
        assert!(body["input"][0].get("input").is_none());
        assert_eq!(body["input"][1]["type"], "function_call_output");
        // Nothing to do: nothing changes.
        let mut plain = json!({"tools": [{"type": "function", "name": "f"}], "input": "hi"});
        let before = plain.clone();
        assert!(declare_as_functions(plain.as_object_mut().unwrap()).is_empty());
        assert_eq!(plain, before);
    }
}
