//! What a provider that serves the Responses API itself lacks, as data: each repair of the
//! pass-through is off unless the provider's preset or settings turn it on, so a complete
//! upstream (OpenAI) costs nothing more than a relay.

use crate::responses_repair::reasoning::ReasoningReplay;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ResponsesDialect {
    /// The stream's missing lifecycle events (`output_text.done`, `content_part.done`,
    /// `output_item.done`, a terminal event) are written back (see `responses_repair`).
    pub lifecycle_events: bool,
    /// Hosted tools the provider cannot run (`web_search`, `image_generation`,
    /// `file_search`, `code_interpreter`, ...) are left out of requests, unless `tool_choice`
    /// asks for one, which is refused with a 400.
    pub drop_hosted_tools: bool,
    /// Freeform tools (`type: "custom"`, Codex's `apply_patch`) are declared as functions
    /// with one string argument and their calls turned back into custom tool calls (see
    /// `responses_repair::custom_tools`).
    pub custom_tools_as_functions: bool,
    /// The provider keeps no responses: `previous_response_id` and `item_reference` are
    /// resolved from Plugboard's own store and the whole input sent with `store: false`.
    pub stateless: bool,
    /// What the provider is sent of the reasoning items in the history: `keep`, `strip`, or
    /// `summary` (see `responses_repair::reasoning`).
    pub reasoning_replay: ReasoningReplay,
    /// The provider serves remote compaction itself (`/responses/compact` and the
    /// `compaction_trigger` item); without it Plugboard has the routed model write the
    /// summary, as for a chat provider.
    pub compaction: bool,
    /// The provider reports `completed` when `max_output_tokens` cut the answer (llama.cpp's
    /// server does): a response whose output used the whole limit is made `incomplete`.
    pub completed_at_limit: bool,
}

impl ResponsesDialect {}

/// Tool types OpenAI runs on its side, which a provider without them cannot take.
pub const HOSTED_TOOLS: &[&str] = &[
    "web_search",
    "web_search_preview",
    "web_search_2025_08_26",
    "image_generation",
    "file_search",
    "code_interpreter",
    "computer_use_preview",
    "mcp",
];

/// A request whose `tool_choice` forces a hosted tool: it cannot be served without it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("tool_choice requires the hosted tool `{0}`")]
pub struct ForcedHostedTool(pub String);

/// The hosted tools among `tools` (their indices), or the type `tool_choice` forces when it
/// is one of them.
pub fn hosted_tools(
    tools: &[Value],
    tool_choice: Option<&Value>,
) -> Result<Vec<usize>, ForcedHostedTool> {
    let kind = |v: &Value| v.get("type").and_then(Value::as_str).map(str::to_string);
    if let Some(forced) = tool_choice.and_then(kind) {
        if HOSTED_TOOLS.contains(&forced.as_str()) {
            return Err(ForcedHostedTool(forced));
        }
    }
    Ok(tools
        .iter()
        .enumerate()
        .filter(|(_, t)| kind(t).is_some_and(|k| HOSTED_TOOLS.contains(&k.as_str())))
        .map(|(i, _)| i)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hosted_tools_are_found_and_a_forced_one_is_named() {
        let tools = vec![
            json!({"type": "function", "name": "exec_command"}),
            json!({"type": "web_search"}),
            json!({"type": "custom", "name": "apply_patch"}),
            json!({"type": "image_generation"}),
        ];
        assert_eq!(hosted_tools(&tools, None), Ok(vec![1, 3]));
        assert_eq!(hosted_tools(&tools, Some(&json!("auto"))), Ok(vec![1, 3]));
        assert_eq!(
            hosted_tools(&tools, Some(&json!({"type": "web_search"}))),
            Err(ForcedHostedTool("web_search".into()))
        );
        assert_eq!(
            hosted_tools(
                &tools,
                Some(&json!({"type": "function", "name": "exec_command"}))
            ),
            Ok(vec![1, 3])
        );
    }
}
