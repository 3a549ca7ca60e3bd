//! What a Chat Completions provider accepts, as data. Presets (in `plugboard-config`) fill
//! these fields per provider; the translator reads them and never asks which provider it is.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Dialect {
    /// Field that carries `max_output_tokens`.
    pub max_tokens_field: MaxTokensField,
    /// How `reasoning.effort` is switched on.
    pub reasoning_switch: ReasoningSwitch,
    /// Send the previous turns' reasoning back as `reasoning_content` on assistant messages
    /// (DeepSeek thinking mode with tools rejects a follow-up without it).
    pub reasoning_echo: bool,
    /// Accepts the `developer` role; otherwise it becomes `system`.
    pub developer_role: bool,
    /// Accepts arrays of content parts (needed for images); text-only content is always
    /// sent as a plain string.
    pub content_parts: bool,
    /// Accepts `{"type": "file", "file": {filename, file_data}}` parts (OpenAI, OpenRouter);
    /// otherwise `input_file` parts become text where that is faithful (text files, a PDF's
    /// text) and are refused where it is not.
    pub file_parts: bool,
    /// Accepts `parallel_tool_calls`.
    pub parallel_tool_calls: bool,
    /// Accepts `stream_options: {include_usage: true}`.
    pub stream_usage: bool,
    /// The model may print its thinking inline, as `<think>…</think>` at the start of its
    /// content (local runtimes without a reasoning parser): split into a reasoning item.
    /// With `reasoning_echo`, earlier reasoning goes back the same way, inline.
    pub think_tags: bool,
    /// The model may print tool calls into its content (Hermes `<tool_call>`, Mistral
    /// `[TOOL_CALLS]`, Llama `<|python_tag|>`, a bare JSON call): turned into calls when
    /// tools were declared.
    pub text_tool_calls: bool,
    /// Tool parameter schemas (see `schema`): the root made an object with properties
    /// (a root union merged)...
    pub schema_object_root: bool,
    /// ...local `$ref`s replaced by their `$defs`...
    pub schema_inline_refs: bool,
    /// ...one type per node (type arrays, `anyOf` with `null`, `type: null`)...
    pub schema_single_types: bool,
    /// ...and these keywords removed everywhere.
    pub schema_drop: Vec<String>,
}

impl Default for Dialect {
    fn default() -> Self {
        Self {
            max_tokens_field: MaxTokensField::MaxTokens,
            reasoning_switch: ReasoningSwitch::ReasoningEffort,
            reasoning_echo: false,
            developer_role: false,
            content_parts: true,
            file_parts: false,
            parallel_tool_calls: true,
            stream_usage: true,
            think_tags: false,
            text_tool_calls: false,
            // Both keep the schema's meaning, and a provider that resolves neither is common.
            schema_object_root: true,
            schema_inline_refs: true,
            schema_single_types: false,
            schema_drop: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaxTokensField {
    MaxTokens,
    MaxCompletionTokens,
}

impl MaxTokensField {
    pub fn as_str(self) -> &'static str {
        match self {
            MaxTokensField::MaxTokens => "max_tokens",
            MaxTokensField::MaxCompletionTokens => "max_completion_tokens",
        }
    }
}

/// Where a provider takes the reasoning switch. Reasoning output is read from both
/// `reasoning_content` and `reasoning` deltas whatever the switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasoningSwitch {
    /// Not sent: the model name decides (e.g. `deepseek-reasoner`).
    None,
    /// `reasoning_effort: "low" | "medium" | "high"` (OpenAI, Groq, vLLM, Ollama).
    ReasoningEffort,
    /// `enable_thinking: bool` (Qwen on DashScope, SiliconFlow).
    EnableThinking,
    /// `thinking: {"type": "enabled" | "disabled"}` (Zhipu GLM, Moonshot Kimi).
    ThinkingObject,
    /// `reasoning: {"effort": ...}` (OpenRouter).
    ReasoningObject,
}
