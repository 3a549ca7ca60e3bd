//! Chat Completions wire types: the request Plugboard sends upstream (typed, serialized) and
//! the chunks and completions it reads back (lenient: every field optional where providers
//! differ, unknown fields ignored).
//!
//! (Over 400 lines with its unit tests: the request, chunk and completion types are one
//! family, read and written together.)

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `POST /chat/completions` body.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ChatRequest {
    pub model: String,
    pub messages: Vec<ChatMessage>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<ChatTool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    pub stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_format: Option<Value>,
    /// Dialect-specific fields: the max-tokens field, reasoning switches, `user`, ...
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StreamOptions {
    pub include_usage: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ChatMessage {
    pub role: Role,
    /// `None` is serialized as `null`: assistant messages that only call tools.
    pub content: Option<ChatContent>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ChatToolCall>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    Developer,
    #[default]
    User,
    Assistant,
    Tool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ChatContent {
    Text(String),
    Parts(Vec<ChatPart>),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChatPart {
    Text { text: String },
    ImageUrl { image_url: ImageUrl },
    File { file: FilePart },
}

/// A file given inline, as OpenAI's and OpenRouter's chat APIs take it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FilePart {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// A `data:` URL.
    pub file_data: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImageUrl {
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatTool {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function: FunctionDef,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunctionDef {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatToolCall {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function: FunctionCallBody,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunctionCallBody {
    pub name: String,
    pub arguments: String,
}

/// One `data:` line of a streamed chat completion.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ChatChunk {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub choices: Vec<ChunkChoice>,
    #[serde(default)]
    pub usage: Option<ChatUsage>,
    /// Some providers report a failure inside the stream as `{"error": {...}}`.
    #[serde(default)]
    pub error: Option<Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ChunkChoice {
    #[serde(default)]
    pub index: u32,
    #[serde(default, deserialize_with = "null_as_default")]
    pub delta: Delta,
    #[serde(default, deserialize_with = "finish_reason")]
    pub finish_reason: Option<FinishReason>,
}

/// What a model said, in the same fields whether it streams (a chunk's `delta`, whose tool
/// calls come in pieces) or not (a completion's `message`, whose tool calls are whole).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(bound(deserialize = "Call: Deserialize<'de>"))]
pub struct MessageParts<Call> {
    #[serde(default)]
    pub content: Option<String>,
    /// DeepSeek, Qwen, Kimi, GLM, SiliconFlow, vLLM.
    #[serde(default)]
    pub reasoning_content: Option<String>,
    /// OpenRouter, Ollama, Groq.
    #[serde(default)]
    pub reasoning: Option<String>,
    #[serde(default)]
    pub refusal: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub tool_calls: Vec<Call>,
}

/// The `delta` of a chunk.
pub type Delta = MessageParts<ToolCallDelta>;

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ToolCallDelta {
    /// Missing on some providers: then a new `id` starts a new call.
    #[serde(default)]
    pub index: Option<u32>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub function: Option<FunctionDelta>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct FunctionDelta {
    #[serde(default)]
    pub name: Option<String>,
    /// Usually a string fragment; a few servers send the arguments as a JSON object.
    #[serde(default, deserialize_with = "string_or_json")]
    pub arguments: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ChatUsage {
    #[serde(default)]
    pub prompt_tokens: Option<u64>,
    #[serde(default)]
    pub completion_tokens: Option<u64>,
    #[serde(default)]
    pub total_tokens: Option<u64>,
    #[serde(default)]
    pub prompt_tokens_details: Option<PromptTokensDetails>,
    #[serde(default)]
    pub completion_tokens_details: Option<CompletionTokensDetails>,
    /// DeepSeek reports cache hits here instead of `prompt_tokens_details`.
    #[serde(default)]
    pub prompt_cache_hit_tokens: Option<u64>,
    /// Moonshot reports cache hits at the top level of `usage`.
    #[serde(default)]
    pub cached_tokens: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct PromptTokensDetails {
    #[serde(default)]
    pub cached_tokens: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct CompletionTokensDetails {
    #[serde(default)]
    pub reasoning_tokens: Option<u64>,
}

/// A whole (non-streamed) chat completion.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ChatCompletion {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub choices: Vec<CompletionChoice>,
    #[serde(default)]
    pub usage: Option<ChatUsage>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct CompletionChoice {
    #[serde(default)]
    pub index: u32,
    #[serde(default, deserialize_with = "null_as_default")]
    pub message: CompletionMessage,
    #[serde(default, deserialize_with = "finish_reason")]
    pub finish_reason: Option<FinishReason>,
}

/// The `message` of a whole completion.
pub type CompletionMessage = MessageParts<CompletionToolCall>;

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct CompletionToolCall {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub function: FunctionDelta,
}

/// Why the model stopped. Providers name the common ones alike; anything else is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FinishReason {
    Stop,
    /// The output limit.
    Length,
    ToolCalls,
    ContentFilter,
    /// The old single-function form.
    FunctionCall,
    Other(String),
}

impl FinishReason {
    pub fn parse(s: &str) -> FinishReason {
        match s {
            "stop" => FinishReason::Stop,
            "length" => FinishReason::Length,
            "tool_calls" => FinishReason::ToolCalls,
            "content_filter" => FinishReason::ContentFilter,
            "function_call" => FinishReason::FunctionCall,
            other => FinishReason::Other(other.to_string()),
        }
    }

    /// The Responses `incomplete_details.reason` this ending means, if the answer was cut.
    pub fn incomplete_reason(&self) -> Option<&'static str> {
        match self {
            FinishReason::Length => Some("max_output_tokens"),
            FinishReason::ContentFilter => Some("content_filter"),
            _ => None,
        }
    }
}

// Read from the borrowed text: no allocation for the names every provider uses.
impl<'de> Deserialize<'de> for FinishReason {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<FinishReason, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = FinishReason;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a finish reason")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<FinishReason, E> {
                Ok(FinishReason::parse(s))
            }
        }
        d.deserialize_str(V)
    }
}

/// A `finish_reason`: null, absent and the empty string some providers send all mean none.
fn finish_reason<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<FinishReason>, D::Error> {
    Ok(Option::<FinishReason>::deserialize(d)?
        .filter(|f| !matches!(f, FinishReason::Other(s) if s.is_empty())))
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

fn string_or_json<'de, D>(d: D) -> Result<Option<String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Ok(match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => Some(other.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_with_nulls_and_unknown_fields_parses() {
        let c: ChatChunk = serde_json::from_str(
            r#"{"id":"x","choices":[{"index":0,"delta":{"content":null,"role":"assistant","x_new":1},"finish_reason":null,"logprobs":null}],"usage":null,"system_fingerprint":"fp"}"#,
        )
        .unwrap();
        assert_eq!(c.choices.len(), 1);
        assert_eq!(c.choices[0].delta.content, None);
    }

    #[test]
    fn object_arguments_become_json_text() {
        let d: FunctionDelta = serde_json::from_str(r#"{"name":"f","arguments":{"a":1}}"#).unwrap();
        assert_eq!(d.arguments.as_deref(), Some(r#"{"a":1}"#));
    }

    #[test]
    fn assistant_tool_message_serializes_null_content() {
        let m = ChatMessage {
            role: Role::Assistant,
            tool_calls: vec![ChatToolCall {
                id: "c".into(),
                kind: "function",
                function: FunctionCallBody {
                    name: "f".into(),
                    arguments: "{}".into(),
                },
            }],
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&m).unwrap(),
            serde_json::json!({"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]})
        );
    }

    #[test]
    fn finish_reasons_as_providers_send_them() {
        let read = |v: &str| -> Option<FinishReason> {
            serde_json::from_str::<ChunkChoice>(&format!("{{\"index\":0,\"delta\":{{}}{v}}}"))
                .unwrap()
                .finish_reason
        };
        assert_eq!(read(""), None);
        assert_eq!(read(",\"finish_reason\":null"), None);
        assert_eq!(read(",\"finish_reason\":\"\""), None);
        assert_eq!(
            read(",\"finish_reason\":\"length\""),
            Some(FinishReason::Length)
        );
        assert_eq!(
            read(",\"finish_reason\":\"eos\""),
            Some(FinishReason::Other("eos".into()))
        );
        assert_eq!(
            FinishReason::Length.incomplete_reason(),
            Some("max_output_tokens")
        );
        assert_eq!(FinishReason::ToolCalls.incomplete_reason(), None);
    }
}
