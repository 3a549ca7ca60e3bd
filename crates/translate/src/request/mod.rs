//! Responses request → Chat Completions request.

mod messages;
pub(crate) mod tools;

use crate::context::ResponseContext;
use crate::dialect::{Dialect, ReasoningSwitch};
use crate::think_tags;
use crate::tool_names::ToolNameMap;
use crate::tool_search;
use messages::{push_items, repair_tool_pairs, system_role, text_message};
use plugboard_wire::chat::{ChatMessage, ChatRequest, Role, StreamOptions};
use plugboard_wire::responses::{Input, RequestEcho, ResponsesRequest};
use plugboard_wire::ParseError;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use tools::{tool_choice, translate_tools};

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
    let mut messages = repair_tool_pairs(messages);
    if dialect.reasoning_echo && !dialect.think_tags {
        note_missing_reasoning(&mut messages);
    }

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

/// A provider that wants reasoning back (DeepSeek in thinking mode) refuses any assistant
/// tool-call message without it, its own or not ("Missing `reasoning_content` field in the
/// assistant message at message index N"), and refuses an empty one. A step another model
/// took (a session that changed model) or one whose reasoning was not kept gets a short
/// true note, different per step (one repeated placeholder makes models echo it).
fn note_missing_reasoning(messages: &mut [ChatMessage]) {
    for m in messages.iter_mut() {
        let has_reasoning = m
            .reasoning_content
            .as_deref()
            .is_some_and(|r| !r.trim().is_empty());
        if m.tool_calls.is_empty() || has_reasoning {
            continue;
        }
        let names: Vec<&str> = m
            .tool_calls
            .iter()
            .map(|c| c.function.name.as_str())
            .collect();
        m.reasoning_content = Some(format!(
            "(No reasoning was kept for this step; it called {}.)",
            names.join(", ")
        ));
    }
}
