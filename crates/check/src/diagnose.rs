//! From what a provider said or printed to the switch that fixes it: a schema keyword it
//! refuses, reasoning it wants back, thinking or tool calls printed as text. Pure functions
//! over text, so each reading is tested with the words real providers use.

use crate::fix::{Fix, FixChange};
use plugboard_translate::Dialect;

/// Schema keywords a provider may refuse that Plugboard can drop without losing what a
/// tool's arguments must be. Camel-case ones are matched anywhere in a message; plain words
/// only quoted or as a path segment, since "format" or "default" also appear in prose.
const DROPPABLE: &[&str] = &[
    "additionalProperties",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "uniqueItems",
    "patternProperties",
    "propertyNames",
    "$schema",
    "$id",
    "$comment",
    "format",
    "pattern",
    "default",
    "examples",
    "title",
    "minimum",
    "maximum",
    "const",
];

fn mentions(message: &str, keyword: &str) -> bool {
    if keyword.chars().any(|c| c.is_ascii_uppercase() || c == '$') {
        return message.contains(keyword);
    }
    let quoted = ['"', '\'', '`']
        .iter()
        .any(|q| message.contains(&format!("{q}{keyword}{q}")));
    // A path segment: `parameters.properties.x.format` followed by no more letters.
    let segment = message.match_indices(&format!(".{keyword}")).any(|(i, m)| {
        !message[i + m.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
    });
    quoted || segment
}

/// Whether a refusal is about the tools' parameter schemas.
pub fn is_schema_error(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("schema")
        || m.contains("function_declarations")
        || m.contains("parameters")
        || m.contains("tools[")
        || m.contains("invalid function")
}

/// The schema rule that answers a refusal, when the dialect does not apply it already.
pub fn schema_fix(message: &str, d: &Dialect) -> Option<Fix> {
    if !is_schema_error(message) {
        return None;
    }
    let lower = message.to_ascii_lowercase();
    if (message.contains("$ref") || message.contains("$defs") || lower.contains("definitions"))
        && !d.schema_inline_refs
    {
        return Some(Fix::dialect(
            "schema_inline_refs",
            "Inline `$ref`s in tool schemas",
        ));
    }
    if (message.contains("anyOf")
        || message.contains("oneOf")
        || lower.contains("type array")
        || lower.contains("array of types")
        || lower.contains("type: null")
        || lower.contains("\"null\""))
        && !d.schema_single_types
    {
        return Some(Fix::dialect(
            "schema_single_types",
            "Give each tool schema node one type",
        ));
    }
    let keyword = DROPPABLE
        .iter()
        .find(|k| mentions(message, k) && !d.schema_drop.iter().any(|x| x == *k))?;
    Some(Fix {
        label: format!("Drop `{keyword}` from tool schemas"),
        change: FixChange::DropSchemaKeyword {
            keyword: keyword.to_string(),
        },
    })
}

/// A refusal because an earlier turn's reasoning was not sent back (DeepSeek thinking mode).
pub fn reasoning_echo_fix(message: &str, d: &Dialect) -> Option<Fix> {
    let m = message.to_ascii_lowercase();
    let about_reasoning = m.contains("reasoning_content")
        || (m.contains("reasoning")
            && (m.contains("pass") || m.contains("missing") || m.contains("must")))
        || (m.contains("thinking") && m.contains("missing"));
    (about_reasoning && !d.reasoning_echo)
        .then(|| Fix::dialect("reasoning_echo", "Send reasoning back to the provider"))
}

/// A refusal of a request field the dialect can change: `stream_options`, `max_tokens`.
pub fn field_fix(message: &str, d: &Dialect) -> Option<Fix> {
    let m = message.to_ascii_lowercase();
    if m.contains("stream_options") && d.stream_usage {
        return Some(Fix::dialect_value(
            "stream_usage",
            false.into(),
            "Stop asking for usage in the stream (`stream_options`)",
        ));
    }
    if m.contains("max_completion_tokens")
        && d.max_tokens_field == plugboard_translate::MaxTokensField::MaxTokens
    {
        return Some(Fix::dialect_value(
            "max_tokens_field",
            "max_completion_tokens".into(),
            "Send the output limit as `max_completion_tokens`",
        ));
    }
    None
}

/// What a refusal's fix is, whichever kind it is.
pub fn refusal_fix(message: &str, d: &Dialect) -> Option<Fix> {
    field_fix(message, d)
        .or_else(|| reasoning_echo_fix(message, d))
        .or_else(|| schema_fix(message, d))
}

/// Thinking printed into the answer, `<think>…</think>`.
pub fn has_think_tags(text: &str) -> bool {
    text.contains("<think>") || text.contains("</think>")
}

/// A tool call printed as text in one of the shapes models use.
pub fn has_text_tool_call(text: &str, tool: &str) -> bool {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    text.contains("<tool_call>")
        || text.contains("[TOOL_CALLS]")
        || text.contains("<|python_tag|>")
        || text.contains("<function=")
        || compact.contains(&format!("\"name\":\"{tool}\""))
        || compact.contains(&format!("{tool}({{"))
}

/// The first words of a model's text, for a sentence.
pub fn excerpt(text: &str) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(80) {
        Some((i, _)) => format!("{}…", &one_line[..i]),
        None => one_line,
    }
}

/// The pass-through repair a provider's refusal points to: freeform tools it does not take,
/// hosted tools it cannot run, a previous response it does not keep.
pub fn pass_through_fix(message: &str) -> Option<Fix> {
    let m = message.to_lowercase();
    if m.contains("custom") && (m.contains("tool") || m.contains("type")) {
        return Some(Fix::repair(
            "custom_tools_as_functions",
            "Declare freeform tools (apply_patch) as functions",
        ));
    }
    if [
        "web_search",
        "image_generation",
        "file_search",
        "code_interpreter",
    ]
    .iter()
    .any(|t| m.contains(t))
    {
        return Some(Fix::repair(
            "drop_hosted_tools",
            "Leave out hosted tools the provider cannot run",
        ));
    }
    if m.contains("previous_response") || m.contains("previous response") {
        return Some(Fix::repair(
            "stateless",
            "Keep the conversation in Plugboard (the provider stores no responses)",
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict() -> Dialect {
        Dialect {
            schema_inline_refs: false,
            ..Dialect::default()
        }
    }

    #[test]
    fn schema_refusals_as_providers_word_them() {
        let gemini = "Invalid JSON payload received. Unknown name \"additionalProperties\" at 'tools[0].function_declarations[0].parameters': Cannot find field.";
        let f = schema_fix(gemini, &Dialect::default()).unwrap();
        assert_eq!(
            f.change,
            FixChange::DropSchemaKeyword {
                keyword: "additionalProperties".into()
            }
        );
        let kimi = "Invalid request: tools.function.parameters is not a valid moonshot flavored json schema, details: <type array is not supported>";
        assert_eq!(
            schema_fix(kimi, &Dialect::default()).unwrap().change,
            FixChange::Dialect {
                field: "schema_single_types".into(),
                value: true.into()
            }
        );
        let refs = "Invalid schema for function 'x': $ref is not supported";
        assert!(schema_fix(refs, &strict()).unwrap().label.contains("$ref"));
        assert!(
            schema_fix(refs, &Dialect::default()).is_none(),
            "already inlined: no fix to offer"
        );
        // Prose that says "format" is no schema keyword.
        assert!(schema_fix(
            "Invalid parameters: wrong format for messages",
            &Dialect::default()
        )
        .is_none());
        assert!(schema_fix("model not found", &Dialect::default()).is_none());
    }

    #[test]
    fn reasoning_and_field_refusals() {
        let ds = "The reasoning_content in the thinking mode must be passed back to the API.";
        assert!(reasoning_echo_fix(ds, &Dialect::default()).is_some());
        let on = Dialect {
            reasoning_echo: true,
            ..Dialect::default()
        };
        assert!(reasoning_echo_fix(ds, &on).is_none());
        let opts = "Unrecognized request argument supplied: stream_options";
        assert_eq!(
            refusal_fix(opts, &Dialect::default()).unwrap().change,
            FixChange::Dialect {
                field: "stream_usage".into(),
                value: false.into()
            }
        );
        let o1 = "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.";
        assert!(refusal_fix(o1, &Dialect::default())
            .unwrap()
            .label
            .contains("max_completion_tokens"));
    }

    #[test]
    fn calls_and_thinking_printed_as_text() {
        for text in [
            "<tool_call>\n{\"name\": \"exec_command\", \"arguments\": {\"cmd\": \"ls\"}}\n</tool_call>",
            "[TOOL_CALLS][{\"name\": \"exec_command\", \"arguments\": {}}]",
            "<|python_tag|>exec_command.call(cmd=\"ls\")",
            "{\"name\": \"exec_command\", \"parameters\": {\"cmd\": \"ls\"}}",
        ] {
            assert!(has_text_tool_call(text, "exec_command"), "{text}");
        }
        assert!(!has_text_tool_call(
            "I ran echo plugboard for you.",
            "exec_command"
        ));
        assert!(has_think_tags("<think>hm</think>Hello"));
        assert!(!has_think_tags("Hello there"));
    }
}
