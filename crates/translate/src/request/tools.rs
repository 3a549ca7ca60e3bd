//! Responses tools → chat tools: functions (namespaced or not), freeform tools as a
//! function taking their text, hosted ones dropped; each schema made to meet the dialect.

use crate::dialect::Dialect;
use crate::schema;
use crate::tool_names::{ToolNameMap, ToolOrigin, LOCAL_SHELL_NAME};
use crate::tool_search;
use plugboard_wire::chat::{ChatTool, FunctionDef};
use serde_json::{json, Value};
pub(super) fn translate_tools(
    tools: &[Value],
    names: &mut ToolNameMap,
    dialect: &Dialect,
) -> Vec<ChatTool> {
    let mut out = Vec::with_capacity(tools.len());
    for tool in tools {
        let kind = tool.get("type").and_then(Value::as_str).unwrap_or("");
        match kind {
            "function" => out.extend(function_tool(tool, None, names)),
            "namespace" => {
                let ns = tool.get("name").and_then(Value::as_str).unwrap_or("ns");
                for inner in tool
                    .get("tools")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if inner.get("type").and_then(Value::as_str) == Some("function") {
                        out.extend(function_tool(inner, Some(ns), names));
                    } else {
                        let kind = inner.get("type").and_then(Value::as_str).unwrap_or("");
                        tracing::debug!(
                            namespace = ns,
                            tool_type = kind,
                            "skipping a non-function tool inside a namespace"
                        );
                    }
                }
            }
            "custom" => {
                let Some(name) = tool.get("name").and_then(Value::as_str) else {
                    continue;
                };
                let chat_name = names.register(ToolOrigin::Custom {
                    name: name.to_string(),
                });
                out.push(ChatTool {
                    kind: "function",
                    function: FunctionDef {
                        name: chat_name,
                        description: Some(custom_tool_description(tool)),
                        parameters: Some(json!({
                            "type": "object",
                            "properties": {"input": {"type": "string", "description": "The tool's raw text input, exactly as the tool description says (not JSON-encoded inside)."}},
                            "required": ["input"],
                            "additionalProperties": false
                        })),
                        strict: None,
                    },
                });
            }
            "tool_search" => out.extend(tool_search::search_function(tool, names)),
            "local_shell" => {
                names.register(ToolOrigin::LocalShell);
                out.push(ChatTool {
                    kind: "function",
                    function: FunctionDef {
                        name: LOCAL_SHELL_NAME.into(),
                        description: Some("Runs a shell command and returns its output.".into()),
                        parameters: Some(json!({
                            "type": "object",
                            "properties": {
                                "command": {"type": "array", "items": {"type": "string"}, "description": "The command and its arguments, e.g. [\"bash\", \"-lc\", \"ls\"]."},
                                "workdir": {"type": "string"},
                                "timeout_ms": {"type": "integer"}
                            },
                            "required": ["command"]
                        })),
                        strict: None,
                    },
                });
            }
            other => tracing::debug!(
                tool_type = other,
                "dropping a tool type chat providers have no equivalent for"
            ),
        }
    }
    // Every tool's schema meets the provider's rules, the ones Plugboard writes for freeform
    // and search tools too (a provider refusing `additionalProperties` refuses those alike).
    if schema::has_rules(dialect) {
        for t in &mut out {
            if let Some(p) = t.function.parameters.as_mut() {
                if schema::needs_work(p, dialect) {
                    *p = schema::normalise(p, dialect);
                }
            }
        }
    }
    out
}

fn function_tool(
    tool: &Value,
    namespace: Option<&str>,
    names: &mut ToolNameMap,
) -> Option<ChatTool> {
    let name = tool.get("name").and_then(Value::as_str)?;
    let chat_name = names.register(ToolOrigin::Function {
        name: name.to_string(),
        namespace: namespace.map(str::to_string),
    });
    Some(ChatTool {
        kind: "function",
        function: FunctionDef {
            name: chat_name,
            description: tool
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_string),
            parameters: Some(match tool.get("parameters").filter(|p| p.is_object()) {
                Some(p) => p.clone(),
                None => json!({"type": "object", "properties": {}}),
            }),
            // `strict: false` is the default everywhere and some providers reject the field.
            strict: tool.get("strict").and_then(Value::as_bool).filter(|s| *s),
        },
    })
}

pub(crate) fn custom_tool_description(tool: &Value) -> String {
    let mut d = tool
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    d.push_str("\n\nPut the tool's whole raw text into the `input` string argument.");
    if let Some(format) = tool.get("format") {
        let syntax = format
            .get("syntax")
            .and_then(Value::as_str)
            .unwrap_or("grammar");
        if let Some(def) = format.get("definition").and_then(Value::as_str) {
            d.push_str(&format!(
                " The text must follow this {syntax} grammar:\n{def}"
            ));
        }
    }
    d
}

pub(super) fn tool_choice(choice: &Value, names: &ToolNameMap) -> Value {
    match choice {
        Value::String(s) => json!(s),
        Value::Object(o) => {
            let kind = o.get("type").and_then(Value::as_str).unwrap_or("");
            let name = o.get("name").and_then(Value::as_str);
            match (kind, name) {
                ("function", Some(n)) => {
                    // A function inside a namespace is named with it, as its declaration was.
                    let namespace = o.get("namespace").and_then(Value::as_str).map(Into::into);
                    json!({"type": "function", "function": {"name": names.chat_name(&ToolOrigin::Function { name: n.into(), namespace })}})
                }
                ("custom", Some(n)) => {
                    json!({"type": "function", "function": {"name": names.chat_name(&ToolOrigin::Custom { name: n.into() })}})
                }
                ("allowed_tools", _) => {
                    json!(o.get("mode").and_then(Value::as_str).unwrap_or("auto"))
                }
                _ => json!("auto"),
            }
        }
        _ => json!("auto"),
    }
}
