//! Codex's `tool_search` for chat providers. With a model slug it knows, Codex declares no
//! MCP tools up front: it offers `{"type": "tool_search", "execution": "client"}`, runs the
//! search itself when the model emits a `tool_search_call`, and sends what it found back in a
//! `tool_search_output` item (namespaces of function tools). A chat model gets `tool_search`
//! as a function; its call goes back to Codex as a `tool_search_call`; and the tools found
//! are declared to the provider, flattened, on every later turn of the conversation (the
//! history carries the output item), so the model can call them.

use crate::tool_names::{ToolNameMap, ToolOrigin, TOOL_SEARCH_NAME};
use plugboard_wire::chat::{ChatTool, FunctionDef};
use serde::Deserialize;
use serde_json::{json, value::RawValue, Value};

/// The chat function for a `tool_search` tool Codex runs itself; `None` for a search the
/// server would have to run (Plugboard has no tool index of its own).
pub fn search_function(tool: &Value, names: &mut ToolNameMap) -> Option<ChatTool> {
    if tool.get("execution").and_then(Value::as_str) == Some("server") {
        tracing::debug!("dropping a server-executed tool_search: chat providers cannot run it");
        return None;
    }
    names.register(ToolOrigin::ToolSearch);
    let mut description = tool
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("Searches the tools that were not provided up front.")
        .to_string();
    description.push_str(
        "\n\nCall it with a short query; the tools it finds become callable on your next turn.",
    );
    Some(ChatTool {
        kind: "function",
        function: FunctionDef {
            name: TOOL_SEARCH_NAME.into(),
            description: Some(description),
            parameters: Some(
                tool.get("parameters")
                    .filter(|p| p.is_object())
                    .cloned()
                    .unwrap_or_else(|| {
                        json!({"type": "object", "properties": {"query": {"type": "string"}, "limit": {"type": "number"}}, "required": ["query"]})
                    }),
            ),
            strict: None,
        },
    })
}

#[derive(Deserialize)]
struct Found {
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    tools: Vec<Value>,
}

/// The tools every `tool_search_output` of the conversation found, oldest first.
pub fn found_tools(history: &[Value], input: &[Box<RawValue>]) -> Vec<Value> {
    let mut out = Vec::new();
    for v in history {
        if v.get("type").and_then(Value::as_str) == Some("tool_search_output") {
            if let Some(Value::Array(tools)) = v.get("tools") {
                out.extend(tools.iter().cloned());
            }
        }
    }
    // Only outputs are parsed here; every other item is read once, later (the search for
    // the type name runs over the whole history, hence the vectorised finder).
    let finder = memchr::memmem::Finder::new(b"\"tool_search_output\"");
    for raw in input {
        if finder.find(raw.get().as_bytes()).is_none() {
            continue;
        }
        if let Ok(f) = serde_json::from_str::<Found>(raw.get()) {
            if f.kind == "tool_search_output" {
                out.extend(f.tools);
            }
        }
    }
    out
}

/// What a search found, as the tool result the model reads.
pub fn output_text(tools: &[Value]) -> String {
    let mut lines = Vec::new();
    for t in tools {
        let ns = t.get("name").and_then(Value::as_str).unwrap_or("");
        match t.get("tools").and_then(Value::as_array) {
            Some(inner) => {
                for f in inner {
                    lines.push(line(Some(ns), f));
                }
            }
            None => lines.push(line(None, t)),
        }
    }
    if lines.is_empty() {
        return "No tools matched the search.".into();
    }
    format!(
        "These tools are now available to call:\n{}",
        lines.join("\n")
    )
}

fn line(namespace: Option<&str>, f: &Value) -> String {
    let name = f.get("name").and_then(Value::as_str).unwrap_or("?");
    let chat = ToolNameMap::default().chat_name(&ToolOrigin::Function {
        name: name.to_string(),
        namespace: namespace.map(str::to_string),
    });
    let description = f
        .get("description")
        .and_then(Value::as_str)
        .and_then(|d| d.lines().next())
        .unwrap_or("");
    format!("- {chat}: {description}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn found_tools_come_from_history_and_input_outputs_only() {
        let history = vec![
            json!({"type": "tool_search_output", "call_id": "s1", "tools": [{"type": "namespace", "name": "mcp__a__", "tools": []}]}),
        ];
        let input: Vec<Box<RawValue>> = vec![
            serde_json::value::to_raw_value(&json!({"type": "message", "role": "user", "content": "tool_search_output is a word"})).unwrap(),
            serde_json::value::to_raw_value(&json!({"type": "tool_search_output", "call_id": "s2", "tools": [{"type": "function", "name": "f"}]})).unwrap(),
        ];
        let found = found_tools(&history, &input);
        assert_eq!(found.len(), 2);
        assert_eq!(found[1]["name"], "f");
    }

    #[test]
    fn a_search_round_trip_declares_what_it_found() {
        use crate::{translate_request, Dialect, StreamEnd, StreamTranslator, TranslateOptions};
        use plugboard_wire::responses::ResponsesRequest;
        let opts = |d| TranslateOptions {
            upstream_model: "m",
            dialect: d,
            response_id: "resp_ts".into(),
            created_at: 0,
        };
        let dialect = Dialect::default();
        let tools = json!([{"type": "tool_search", "execution": "client", "description": "Find tools.",
            "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}}]);
        // The model searches: the call goes back as a `tool_search_call`.
        let req: ResponsesRequest =
            serde_json::from_value(json!({"model": "m", "input": "think hard", "tools": tools}))
                .unwrap();
        let t = translate_request(&req, &[], &opts(&dialect)).unwrap();
        assert_eq!(t.chat.tools[0].function.name, "tool_search");
        let mut st = StreamTranslator::new(t.context);
        st.push(serde_json::from_value(json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "call_s", "function": {"name": "tool_search", "arguments": "{\"query\":\"thinking\"}"}}]}, "finish_reason": "tool_calls"}]})).unwrap());
        st.finish(StreamEnd::Done);
        let out = serde_json::to_value(&st.final_response().unwrap().output).unwrap();
        assert_eq!(out[0]["type"], "tool_search_call");
        assert_eq!(out[0]["call_id"], "call_s");
        assert_eq!(out[0]["execution"], "client");
        assert_eq!(out[0]["arguments"], json!({"query": "thinking"}));
        // Codex's next turn: the search and what it found; the found tool is declared and
        // its call maps back to its namespace.
        let req: ResponsesRequest = serde_json::from_value(json!({"model": "m", "tools": tools, "input": [
            {"type": "message", "role": "user", "content": "think hard"},
            {"type": "tool_search_call", "call_id": "call_s", "execution": "client", "arguments": {"query": "thinking"}},
            {"type": "tool_search_output", "call_id": "call_s", "execution": "client", "status": "completed", "tools": [
                {"type": "namespace", "name": "mcp__thinking__", "description": "", "tools": [
                    {"type": "function", "name": "sequentialthinking", "defer_loading": true, "description": "Think.",
                     "parameters": {"type": "object", "properties": {"thought": {"type": ["string", "null"]}}}}]}]}]})).unwrap();
        let t = translate_request(&req, &[], &opts(&dialect)).unwrap();
        let chat = serde_json::to_value(&t.chat).unwrap();
        let names: Vec<&str> = chat["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["function"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
        let found = names[1].to_string();
        assert!(found.contains("sequentialthinking"), "{found}");
        assert_eq!(
            chat["messages"][1]["tool_calls"][0]["function"]["name"],
            "tool_search"
        );
        assert_eq!(chat["messages"][2]["tool_call_id"], "call_s");
        assert!(chat["messages"][2]["content"]
            .as_str()
            .unwrap()
            .contains(&found));
        let mut st = StreamTranslator::new(t.context);
        st.push(serde_json::from_value(json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "call_t", "function": {"name": found, "arguments": "{}"}}]}, "finish_reason": "tool_calls"}]})).unwrap());
        st.finish(StreamEnd::Done);
        let out = serde_json::to_value(&st.final_response().unwrap().output).unwrap();
        assert_eq!(
            (out[0]["name"].as_str(), out[0]["namespace"].as_str()),
            (Some("sequentialthinking"), Some("mcp__thinking__"))
        );
    }

    #[test]
    fn the_result_names_what_the_model_can_call() {
        let text = output_text(&[
            json!({"type": "namespace", "name": "mcp__thinking__", "tools": [
            {"type": "function", "name": "sequentialthinking", "description": "Think step by step.\nMore."}]}),
        ]);
        assert!(text.contains("mcp__thinking__"), "{text}");
        assert!(
            text.contains("Think step by step.") && !text.contains("More."),
            "{text}"
        );
        assert_eq!(output_text(&[]), "No tools matched the search.");
        let server = json!({"type": "tool_search", "execution": "server"});
        assert!(search_function(&server, &mut ToolNameMap::default()).is_none());
    }
}
