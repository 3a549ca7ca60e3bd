//! Responses request → Chat Completions request.

use crate::compaction_item;
use crate::context::ResponseContext;
use crate::dialect::{Dialect, ReasoningSwitch};
use crate::files::{self, FileContent};
use crate::reasoning_blob;
use crate::schema;
use crate::think_tags;
use crate::tool_names::{ToolNameMap, ToolOrigin, LOCAL_SHELL_NAME, TOOL_SEARCH_NAME};
use crate::tool_search;
use plugboard_wire::chat::{
    ChatContent, ChatMessage, ChatPart, ChatRequest, ChatTool, ChatToolCall, FunctionCallBody,
    FunctionDef, ImageUrl, Role, StreamOptions,
};
use plugboard_wire::responses::{
    ContentPart, Input, InputItem, MessageContent, RequestEcho, ResponsesRequest, ToInputItem,
    ToolOutput,
};
use plugboard_wire::ParseError;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// Per-request choices made outside the translator (by the router and the server).
pub struct TranslateOptions<'a> {
    pub upstream_model: &'a str,
    pub dialect: &'a Dialect,
    pub response_id: String,
    pub created_at: u64,
}

pub struct Translation {
    pub chat: ChatRequest,
    pub context: ResponseContext,
}

/// Translates a request. `history` holds the items of `previous_response_id`'s chain, if any.
pub fn translate_request(
    req: &ResponsesRequest,
    history: &[Value],
    opts: &TranslateOptions<'_>,
) -> Result<Translation, ParseError> {
    let dialect = opts.dialect;
    let mut names = ToolNameMap::default();
    // Tools found by Codex's `tool_search` earlier in the conversation are declared too.
    let found = match &req.input {
        Input::Items(items) => tool_search::found_tools(history, items),
        Input::Text(_) => tool_search::found_tools(history, &[]),
    };
    let tools = if found.is_empty() {
        translate_tools(&req.tools, &mut names, dialect)
    } else {
        let all: Vec<Value> = req.tools.iter().cloned().chain(found).collect();
        let mut tools = translate_tools(&all, &mut names, dialect);
        let mut seen = std::collections::HashSet::new();
        tools.retain(|t| seen.insert(t.function.name.clone()));
        tools
    };

    let mut messages = Vec::new();
    if let Some(instructions) = req.instructions.as_deref().filter(|s| !s.is_empty()) {
        messages.push(text_message(system_role(dialect), instructions.to_string()));
    }
    push_items(&mut messages, history, "previous_response", &names, dialect)?;
    match &req.input {
        Input::Text(text) => messages.push(text_message(Role::User, text.clone())),
        Input::Items(items) => push_items(&mut messages, items, "input", &names, dialect)?,
    }
    if !dialect.reasoning_echo {
        for m in messages.iter_mut() {
            m.reasoning_content = None;
        }
    } else if dialect.think_tags {
        // A model that thinks inline gets its thinking back inline.
        for m in messages.iter_mut() {
            if let Some(r) = m.reasoning_content.take() {
                m.content = Some(think_tags::inline(&r, m.content.take()));
            }
        }
    }
    let messages = repair_tool_pairs(messages);

    let has_tools = !tools.is_empty();
    let mut extra = Map::new();
    if let Some(max) = req.max_output_tokens {
        extra.insert(dialect.max_tokens_field.as_str().into(), max.into());
    }
    // Sampling penalties mean the same in both APIs.
    for (key, value) in [
        ("presence_penalty", req.presence_penalty),
        ("frequency_penalty", req.frequency_penalty),
    ] {
        if let Some(v) = value.and_then(serde_json::Number::from_f64) {
            extra.insert(key.into(), Value::Number(v));
        }
    }
    if let Some(effort) = req.reasoning.as_ref().and_then(|r| r.effort.as_deref()) {
        add_reasoning_switch(&mut extra, dialect.reasoning_switch, effort);
    }

    let chat = ChatRequest {
        model: opts.upstream_model.to_string(),
        messages,
        tool_choice: if has_tools {
            req.tool_choice.as_ref().map(|c| tool_choice(c, &names))
        } else {
            None
        },
        parallel_tool_calls: if has_tools && dialect.parallel_tool_calls {
            req.parallel_tool_calls
        } else {
            None
        },
        tools,
        stream: req.stream,
        stream_options: (req.stream && dialect.stream_usage).then_some(StreamOptions {
            include_usage: true,
        }),
        temperature: req.temperature,
        top_p: req.top_p,
        response_format: req
            .text
            .as_ref()
            .and_then(|t| t.format.as_ref())
            .and_then(response_format),
        extra,
    };

    let echo = RequestEcho::of(req);
    Ok(Translation {
        chat,
        context: ResponseContext {
            response_id: opts.response_id.clone(),
            model: req.model.clone(),
            created_at: opts.created_at,
            echo: Arc::new(echo),
            tool_names: Arc::new(names),
            think_tags: dialect.think_tags,
            text_tool_calls: dialect.text_tool_calls && has_tools,
        },
    })
}

fn system_role(dialect: &Dialect) -> Role {
    if dialect.developer_role {
        Role::Developer
    } else {
        Role::System
    }
}

fn text_message(role: Role, text: String) -> ChatMessage {
    ChatMessage {
        role,
        content: Some(ChatContent::Text(text)),
        ..Default::default()
    }
}

fn translate_tools(tools: &[Value], names: &mut ToolNameMap, dialect: &Dialect) -> Vec<ChatTool> {
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

fn custom_tool_description(tool: &Value) -> String {
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

fn tool_choice(choice: &Value, names: &ToolNameMap) -> Value {
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

fn response_format(format: &Value) -> Option<Value> {
    match format.get("type").and_then(Value::as_str)? {
        "json_schema" => {
            let mut schema = Map::new();
            for key in ["name", "schema", "strict", "description"] {
                if let Some(v) = format.get(key) {
                    schema.insert(key.into(), v.clone());
                }
            }
            Some(json!({"type": "json_schema", "json_schema": schema}))
        }
        "json_object" => Some(json!({"type": "json_object"})),
        _ => None,
    }
}

fn add_reasoning_switch(extra: &mut Map<String, Value>, switch: ReasoningSwitch, effort: &str) {
    let on = !matches!(effort, "none" | "minimal");
    match switch {
        ReasoningSwitch::None => {}
        ReasoningSwitch::ReasoningEffort => {
            extra.insert("reasoning_effort".into(), effort.into());
        }
        ReasoningSwitch::EnableThinking => {
            extra.insert("enable_thinking".into(), on.into());
        }
        ReasoningSwitch::ThinkingObject => {
            extra.insert(
                "thinking".into(),
                json!({"type": if on { "enabled" } else { "disabled" }}),
            );
        }
        ReasoningSwitch::ReasoningObject => {
            extra.insert("reasoning".into(), json!({"effort": effort}));
        }
    }
}

/// Appends the chat messages for `items`; `field` names them in errors (`input[3]`).
fn push_items(
    out: &mut Vec<ChatMessage>,
    items: &[impl ToInputItem],
    field: &str,
    names: &ToolNameMap,
    dialect: &Dialect,
) -> Result<(), ParseError> {
    // Reasoning text waiting for the assistant message it belongs to.
    let mut reasoning: Option<String> = None;
    for (i, raw) in items.iter().enumerate() {
        let item = raw.to_input_item().map_err(|e| ParseError {
            path: format!("{field}[{i}]"),
            message: e.to_string(),
        })?;
        match item {
            InputItem::Message(m) => {
                let role = match m.role.as_str() {
                    "developer" | "system" => system_role(dialect),
                    "assistant" => Role::Assistant,
                    "user" => Role::User,
                    other => {
                        tracing::debug!(role = other, "unknown message role sent as user");
                        Role::User
                    }
                };
                let content = message_content(m.content, role, dialect, &format!("{field}[{i}]"))?;
                let mut msg = ChatMessage {
                    role,
                    content,
                    ..Default::default()
                };
                if role == Role::Assistant {
                    msg.reasoning_content = reasoning.take();
                }
                out.push(msg);
            }
            InputItem::Reasoning(r) => {
                let text = r
                    .encrypted_content
                    .as_deref()
                    .and_then(reasoning_blob::decode)
                    .unwrap_or_else(|| {
                        let parts = if r.content.is_empty() {
                            &r.summary
                        } else {
                            &r.content
                        };
                        parts
                            .iter()
                            .map(|p| p.text.as_str())
                            .collect::<Vec<_>>()
                            .join("\n")
                    });
                if !text.is_empty() {
                    match &mut reasoning {
                        Some(prev) => {
                            prev.push('\n');
                            prev.push_str(&text);
                        }
                        None => reasoning = Some(text),
                    }
                }
            }
            InputItem::FunctionCall(c) => {
                let name = names.chat_name(&ToolOrigin::Function {
                    name: c.name,
                    namespace: c.namespace,
                });
                let args = if c.arguments.trim().is_empty() {
                    "{}".to_string()
                } else {
                    c.arguments
                };
                push_tool_call(out, &mut reasoning, c.call_id, name, args);
            }
            InputItem::CustomToolCall(c) => {
                let name = names.chat_name(&ToolOrigin::Custom { name: c.name });
                push_tool_call(
                    out,
                    &mut reasoning,
                    c.call_id,
                    name,
                    json!({"input": c.input}).to_string(),
                );
            }
            InputItem::LocalShellCall(c) => {
                let call_id = c.call_id.or(c.id).unwrap_or_default();
                push_tool_call(
                    out,
                    &mut reasoning,
                    call_id,
                    LOCAL_SHELL_NAME.into(),
                    local_shell_arguments(&c.action),
                );
            }
            InputItem::FunctionCallOutput(o) | InputItem::CustomToolCallOutput(o) => {
                out.push(tool_message(o.call_id, tool_output_text(o.output)));
            }
            InputItem::LocalShellCallOutput(o) => {
                out.push(tool_message(
                    o.call_id.or(o.id).unwrap_or_default(),
                    o.output,
                ));
            }
            InputItem::ToolSearchCall(c) => {
                let call_id = c.call_id.or(c.id).unwrap_or_default();
                let arguments = match c.arguments {
                    Value::Null => "{}".to_string(),
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                push_tool_call(out, &mut reasoning, call_id, TOOL_SEARCH_NAME.into(), arguments);
            }
            InputItem::ToolSearchOutput(o) => {
                out.push(tool_message(
                    o.call_id.unwrap_or_default(),
                    tool_search::output_text(&o.tools),
                ));
            }
            InputItem::Compaction(c) => match compaction_item::decode_summary(&c.encrypted_content) {
                // The compacted history's summary stands where that history was.
                Some(summary) => out.push(text_message(Role::User, compaction_item::context_text(&summary))),
                None => tracing::warn!(index = i, "skipping a compaction item Plugboard did not write (its content is another service's)"),
            },
            InputItem::Other(kind) => {
                tracing::debug!(item_type = %kind, index = i, "skipping an input item type chat providers have no equivalent for");
            }
        }
    }
    Ok(())
}

// Items are owned here (typed from the request for this translation), so their strings move
// into the chat request instead of being copied: tool outputs are most of a long history.
fn message_content(
    content: MessageContent,
    role: Role,
    dialect: &Dialect,
    path: &str,
) -> Result<Option<ChatContent>, ParseError> {
    let parts = match content {
        MessageContent::Text(t) => return Ok(Some(ChatContent::Text(t))),
        MessageContent::Parts(parts) => parts,
    };
    // Files first: each becomes a file part or text, or the request is refused.
    let mut typed = Vec::with_capacity(parts.len());
    for (j, v) in parts.iter().enumerate() {
        typed.push(match ContentPart::from_value(v) {
            ContentPart::File(f) => {
                match files::file_content(&f, dialect, &format!("{path}.content[{j}]"))? {
                    FileContent::Text(t) => Typed::Text(t),
                    FileContent::Part(p) => Typed::Part(p),
                }
            }
            ContentPart::Text(t) => Typed::Text(t),
            ContentPart::Image { url, detail } => Typed::Part(ChatPart::ImageUrl {
                image_url: ImageUrl { url, detail },
            }),
            ContentPart::Other(kind) => {
                tracing::debug!(part_type = %kind, "skipping a content part type");
                continue;
            }
        });
    }
    let has_part = typed.iter().any(|p| matches!(p, Typed::Part(_)));
    if has_part && role == Role::User && dialect.content_parts {
        let chat_parts = typed
            .into_iter()
            .map(|p| match p {
                Typed::Text(text) => ChatPart::Text { text },
                Typed::Part(p) => p,
            })
            .collect();
        return Ok(Some(ChatContent::Parts(chat_parts)));
    }
    // Text only: one string, which every provider accepts on every role.
    let mut text = String::new();
    for p in typed {
        let piece = match p {
            Typed::Text(t) => t,
            Typed::Part(ChatPart::File { file }) => {
                // Only a provider that takes file parts gets here, on a role that takes none.
                format!(
                    "[file `{}` omitted: this provider takes files only in user messages]",
                    file.filename.as_deref().unwrap_or("(unnamed)")
                )
            }
            Typed::Part(_) => "[image omitted: this provider takes no images here]".into(),
        };
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&piece);
    }
    Ok(Some(ChatContent::Text(text)))
}

/// A content part on its way into a chat message.
enum Typed {
    Text(String),
    Part(ChatPart),
}

/// Adds a tool call to the assistant message just before it, or starts one: consecutive
/// calls (and the assistant text before them) form one assistant message.
fn push_tool_call(
    out: &mut Vec<ChatMessage>,
    reasoning: &mut Option<String>,
    id: String,
    name: String,
    arguments: String,
) {
    let call = ChatToolCall {
        id,
        kind: "function",
        function: FunctionCallBody { name, arguments },
    };
    match out.last_mut() {
        Some(last) if last.role == Role::Assistant => {
            if let Some(r) = reasoning.take() {
                match &mut last.reasoning_content {
                    Some(prev) => {
                        prev.push('\n');
                        prev.push_str(&r);
                    }
                    None => last.reasoning_content = Some(r),
                }
            }
            last.tool_calls.push(call);
        }
        _ => out.push(ChatMessage {
            role: Role::Assistant,
            content: None,
            reasoning_content: reasoning.take(),
            tool_calls: vec![call],
            tool_call_id: None,
        }),
    }
}

fn tool_message(call_id: String, text: String) -> ChatMessage {
    ChatMessage {
        role: Role::Tool,
        content: Some(ChatContent::Text(text)),
        tool_call_id: Some(call_id),
        ..Default::default()
    }
}

fn tool_output_text(output: ToolOutput) -> String {
    match output {
        ToolOutput::Text(t) => t,
        ToolOutput::Parts(parts) => {
            let texts: Vec<String> = parts
                .iter()
                .map(ContentPart::from_value)
                .filter_map(|p| match p {
                    ContentPart::Text(t) => Some(t),
                    ContentPart::Image { .. } => Some("[image omitted]".into()),
                    ContentPart::File(f) => Some(format!(
                        "[file `{}` omitted]",
                        f.filename.as_deref().unwrap_or("(unnamed)")
                    )),
                    ContentPart::Other(_) => None,
                })
                .collect();
            texts.join("\n")
        }
        ToolOutput::Other(v) => v.to_string(),
    }
}

fn local_shell_arguments(action: &Value) -> String {
    let mut args = Map::new();
    if let Some(cmd) = action.get("command") {
        args.insert("command".into(), cmd.clone());
    }
    if let Some(dir) = action
        .get("working_directory")
        .or_else(|| action.get("workdir"))
    {
        args.insert("workdir".into(), dir.clone());
    }
    if let Some(t) = action.get("timeout_ms") {
        args.insert("timeout_ms".into(), t.clone());
    }
    Value::Object(args).to_string()
}

/// Chat providers reject a tool message without its call and a call without its result.
/// Results without a call become user text; calls without a result get a placeholder.
fn repair_tool_pairs(messages: Vec<ChatMessage>) -> Vec<ChatMessage> {
    let mut fixed = Vec::with_capacity(messages.len());
    let mut open: Vec<String> = Vec::new();
    let mut orphans: Vec<ChatMessage> = Vec::new();
    for m in messages {
        if m.role == Role::Tool {
            let id = m.tool_call_id.as_deref().unwrap_or("");
            if let Some(pos) = open.iter().position(|o| o == id) {
                open.remove(pos);
                fixed.push(m);
            } else {
                tracing::debug!(
                    call_id = id,
                    "tool result without its call sent as user text"
                );
                let text = match m.content {
                    Some(ChatContent::Text(t)) => t,
                    _ => String::new(),
                };
                orphans.push(text_message(
                    Role::User,
                    format!("Result of tool call {id}:\n{text}"),
                ));
            }
            continue;
        }
        close_open_calls(&mut fixed, &mut open, &mut orphans);
        if m.role == Role::Assistant {
            open = m.tool_calls.iter().map(|c| c.id.clone()).collect();
        }
        fixed.push(m);
    }
    close_open_calls(&mut fixed, &mut open, &mut orphans);
    fixed
}

fn close_open_calls(
    fixed: &mut Vec<ChatMessage>,
    open: &mut Vec<String>,
    orphans: &mut Vec<ChatMessage>,
) {
    for id in open.drain(..) {
        tracing::debug!(call_id = %id, "tool call without a result gets a placeholder result");
        fixed.push(tool_message(
            id,
            "No result was recorded for this call.".into(),
        ));
    }
    fixed.append(orphans);
}
