//! Responses input items → chat messages: text and parts, reasoning sent back where the
//! dialect wants it, tool calls and their results kept in pairs.

use crate::compaction_item;
use crate::dialect::Dialect;
use crate::files::{self, FileContent};
use crate::reasoning_blob;
use crate::tool_names::{ToolNameMap, ToolOrigin, LOCAL_SHELL_NAME, TOOL_SEARCH_NAME};
use crate::tool_search;
use plugboard_wire::chat::{
    ChatContent, ChatMessage, ChatPart, ChatToolCall, FunctionCallBody, ImageUrl, Role,
};
use plugboard_wire::responses::{ContentPart, InputItem, MessageContent, ToInputItem, ToolOutput};
use plugboard_wire::ParseError;
use serde_json::{json, Map, Value};
pub(super) fn text_message(role: Role, text: String) -> ChatMessage {
    ChatMessage {
        role,
        content: Some(ChatContent::Text(text)),
        ..Default::default()
    }
}
/// Appends the chat messages for `items`; `field` names them in errors (`input[3]`).
pub(super) fn push_items(
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
pub(super) fn repair_tool_pairs(messages: Vec<ChatMessage>) -> Vec<ChatMessage> {
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

pub(super) fn system_role(dialect: &Dialect) -> Role {
    if dialect.developer_role {
        Role::Developer
    } else {
        Role::System
    }
}
