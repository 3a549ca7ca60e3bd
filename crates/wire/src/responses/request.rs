//! The `POST /v1/responses` body: what Plugboard reads of it, `input` and `tools` kept raw.

use super::items::StringOrList;
use serde::{Deserialize, Serialize};
use serde_json::{value::RawValue, Value};

/// `POST /v1/responses` body. Fields Plugboard does not use are ignored; `input` items and
/// `tools` stay raw so that unknown types can be skipped one by one.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ResponsesRequest {
    pub model: String,
    #[serde(default)]
    pub input: Input,
    #[serde(default)]
    pub instructions: Option<String>,
    #[serde(default)]
    pub tools: Vec<Value>,
    #[serde(default)]
    pub tool_choice: Option<Value>,
    #[serde(default)]
    pub parallel_tool_calls: Option<bool>,
    #[serde(default)]
    pub reasoning: Option<ReasoningConfig>,
    #[serde(default)]
    pub max_output_tokens: Option<u64>,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub top_p: Option<f64>,
    #[serde(default)]
    pub text: Option<TextConfig>,
    #[serde(default)]
    pub stream: bool,
    #[serde(default)]
    pub store: Option<bool>,
    #[serde(default)]
    pub previous_response_id: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub max_tool_calls: Option<u64>,
    #[serde(default)]
    pub presence_penalty: Option<f64>,
    #[serde(default)]
    pub frequency_penalty: Option<f64>,
    #[serde(default)]
    pub service_tier: Option<String>,
    #[serde(default)]
    pub metadata: Option<Value>,
    #[serde(default)]
    pub safety_identifier: Option<String>,
    #[serde(default)]
    pub prompt_cache_key: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Input {
    Text(String),
    /// Each item as its raw JSON, typed one by one when translated: a long history is never
    /// built into a tree of values first (for a 300 KB Codex history that tree cost more than
    /// the translation itself, and most of the proxy's memory per request).
    Items(Vec<Box<RawValue>>),
}

impl<'de> Deserialize<'de> for Input {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(
            match StringOrList::deserialize(d, "a string or a list of input items")? {
                StringOrList::Text(t) => Input::Text(t),
                StringOrList::List(items) => Input::Items(items),
            },
        )
    }
}

impl Input {
    /// The input as item values (a string as one user message): what a kept response
    /// stores for a later `previous_response_id`.
    pub fn to_item_values(&self) -> Vec<Value> {
        match self {
            Input::Text(t) => {
                vec![serde_json::json!({"type": "message", "role": "user", "content": t})]
            }
            Input::Items(items) => items
                .iter()
                .filter_map(|raw| serde_json::from_str(raw.get()).ok())
                .collect(),
        }
    }
}

impl Default for Input {
    fn default() -> Self {
        Input::Items(Vec::new())
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ReasoningConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct TextConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verbosity: Option<String>,
}
