//! Responses API wire types: the request clients send (lenient), and the response objects,
//! output items and stream events Plugboard emits (typed, exactly the fields clients read).

pub use crate::response_echo::{ReasoningEcho, RequestEcho, TextEcho};
use serde::{Deserialize, Serialize};
use serde_json::{value::RawValue, Value};
use std::sync::Arc;

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

/// A JSON string or a list of `T`, read straight into either, not with `#[serde(untagged)]`,
/// which buffers the content into serde's internal tree first and then copies it again into
/// the variant (for a 300 KB history, twice the work).
enum StringOrList<T> {
    Text(String),
    List(Vec<T>),
}

impl<'de, T: Deserialize<'de>> StringOrList<T> {
    fn deserialize<D: serde::Deserializer<'de>>(
        d: D,
        expecting: &'static str,
    ) -> Result<Self, D::Error> {
        struct Visit<T>(&'static str, std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Visit<T> {
            type Value = StringOrList<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(self.0)
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(StringOrList::Text(s.to_owned()))
            }
            fn visit_string<E: serde::de::Error>(self, s: String) -> Result<Self::Value, E> {
                Ok(StringOrList::Text(s))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Self::Value, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(StringOrList::List(items))
            }
        }
        d.deserialize_any(Visit(expecting, std::marker::PhantomData))
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

/// One input item, typed where Plugboard translates it.
#[derive(Debug, Clone, PartialEq)]
pub enum InputItem {
    Message(MessageItem),
    Reasoning(ReasoningItem),
    FunctionCall(FunctionCallItem),
    FunctionCallOutput(ToolOutputItem),
    CustomToolCall(CustomToolCallItem),
    CustomToolCallOutput(ToolOutputItem),
    LocalShellCall(LocalShellCallItem),
    LocalShellCallOutput(LocalShellOutputItem),
    /// A compacted history (`POST /responses/compact`'s output, sent back as input).
    Compaction(CompactionItem),
    /// The model's search for deferred tools (Codex's `tool_search`), and what it found.
    ToolSearchCall(ToolSearchCallItem),
    ToolSearchOutput(ToolSearchOutputItem),
    /// A type Plugboard does not translate (`web_search_call`, `compaction`, new ones...).
    Other(String),
}

/// What an input item can be read from: a request's raw items, or the values of a stored
/// response's history.
pub trait ToInputItem {
    fn to_input_item(&self) -> Result<InputItem, serde_json::Error>;
}

impl ToInputItem for Value {
    fn to_input_item(&self) -> Result<InputItem, serde_json::Error> {
        InputItem::from_value(self)
    }
}

impl ToInputItem for Box<RawValue> {
    fn to_input_item(&self) -> Result<InputItem, serde_json::Error> {
        InputItem::from_raw(self)
    }
}

impl InputItem {
    /// Types a known item from its raw JSON; see [`InputItem::from_value`].
    pub fn from_raw(raw: &RawValue) -> Result<InputItem, serde_json::Error> {
        let json = raw.get();
        // Like `from_value`: no string `type` (or no object at all) reads as a message, whose
        // own parse then says what is wrong.
        let kind = item_type(json);
        let mut de = serde_json::Deserializer::from_str(json);
        Self::typed(kind.as_deref().unwrap_or("message"), &mut de)
    }

    /// Types a known item; unknown types become [`InputItem::Other`]. A message may omit `type`.
    /// Reads the value in place: no copy of the (possibly large) item is made first.
    pub fn from_value(v: &Value) -> Result<InputItem, serde_json::Error> {
        let kind = v.get("type").and_then(Value::as_str).unwrap_or("message");
        Self::typed(kind, v)
    }

    fn typed<'de, D>(kind: &str, v: D) -> Result<InputItem, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        use serde::Deserialize;
        Ok(match kind {
            "message" => InputItem::Message(MessageItem::deserialize(v)?),
            "reasoning" => InputItem::Reasoning(ReasoningItem::deserialize(v)?),
            "function_call" => InputItem::FunctionCall(FunctionCallItem::deserialize(v)?),
            "function_call_output" => {
                InputItem::FunctionCallOutput(ToolOutputItem::deserialize(v)?)
            }
            "custom_tool_call" => InputItem::CustomToolCall(CustomToolCallItem::deserialize(v)?),
            "custom_tool_call_output" => {
                InputItem::CustomToolCallOutput(ToolOutputItem::deserialize(v)?)
            }
            "local_shell_call" => InputItem::LocalShellCall(LocalShellCallItem::deserialize(v)?),
            "local_shell_call_output" => {
                InputItem::LocalShellCallOutput(LocalShellOutputItem::deserialize(v)?)
            }
            "compaction" => InputItem::Compaction(CompactionItem::deserialize(v)?),
            "tool_search_call" => InputItem::ToolSearchCall(ToolSearchCallItem::deserialize(v)?),
            "tool_search_output" => {
                InputItem::ToolSearchOutput(ToolSearchOutputItem::deserialize(v)?)
            }
            other => InputItem::Other(other.to_string()),
        })
    }
}

/// An item's `type`, read up to that key only: Codex puts it first, so the rest of a long
/// item is not scanned twice.
fn item_type(json: &str) -> Option<String> {
    use serde::de::{Deserializer as _, IgnoredAny, MapAccess, Visitor};
    struct IsType(bool);
    impl<'de> Deserialize<'de> for IsType {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct Key;
            impl Visitor<'_> for Key {
                type Value = IsType;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a key")
                }
                fn visit_str<E: serde::de::Error>(self, k: &str) -> Result<IsType, E> {
                    Ok(IsType(k == "type"))
                }
            }
            d.deserialize_str(Key)
        }
    }
    struct Find<'a>(&'a mut Option<String>);
    impl<'de> Visitor<'de> for Find<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an item")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(IsType(is_type)) = map.next_key()? {
                if is_type {
                    *self.0 = map.next_value::<String>().ok();
                    return Ok(());
                }
                map.next_value::<IgnoredAny>()?;
            }
            Ok(())
        }
    }
    let mut found = None;
    // Stopping at `type` leaves the map unfinished, which the parser reports as an error:
    // expected, and `found` is already set by then.
    let _ = serde_json::Deserializer::from_str(json).deserialize_map(Find(&mut found));
    found
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MessageItem {
    pub role: String,
    pub content: MessageContent,
}

#[derive(Debug, Clone, PartialEq)]
pub enum MessageContent {
    Text(String),
    Parts(Vec<Value>),
}

impl<'de> Deserialize<'de> for MessageContent {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(
            match StringOrList::deserialize(d, "a string or a list of content parts")? {
                StringOrList::Text(t) => MessageContent::Text(t),
                StringOrList::List(parts) => MessageContent::Parts(parts),
            },
        )
    }
}

/// A content part, typed where it has a chat equivalent.
#[derive(Debug, Clone, PartialEq)]
pub enum ContentPart {
    Text(String),
    Image { url: String, detail: Option<String> },
    File(FileInput),
    Other(String),
}

/// An `input_file` part: inline data (a `data:` URL or bare base64), or a reference to a
/// file stored elsewhere.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FileInput {
    pub filename: Option<String>,
    pub file_data: Option<String>,
    pub file_id: Option<String>,
    pub file_url: Option<String>,
}

impl ContentPart {
    pub fn from_value(v: &Value) -> ContentPart {
        let kind = v.get("type").and_then(Value::as_str).unwrap_or("");
        let text = || v.get("text").and_then(Value::as_str).map(str::to_string);
        match kind {
            "input_text" | "output_text" | "text" | "summary_text" | "reasoning_text" => {
                ContentPart::Text(text().unwrap_or_default())
            }
            "refusal" => ContentPart::Text(
                v.get("refusal")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            ),
            "input_image" => {
                let url = match v.get("image_url") {
                    Some(Value::String(s)) => Some(s.clone()),
                    Some(Value::Object(o)) => {
                        o.get("url").and_then(Value::as_str).map(str::to_string)
                    }
                    _ => None,
                };
                match url {
                    Some(url) => ContentPart::Image {
                        url,
                        detail: v.get("detail").and_then(Value::as_str).map(str::to_string),
                    },
                    None => ContentPart::Other("input_image without image_url".into()),
                }
            }
            "input_file" => {
                let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
                ContentPart::File(FileInput {
                    filename: s("filename"),
                    file_data: s("file_data"),
                    file_id: s("file_id"),
                    file_url: s("file_url"),
                })
            }
            other => ContentPart::Other(other.to_string()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ReasoningItem {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub summary: Vec<TextPart>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub content: Vec<TextPart>,
    #[serde(default)]
    pub encrypted_content: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TextPart {
    #[serde(default)]
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FunctionCallItem {
    pub call_id: String,
    pub name: String,
    #[serde(default)]
    pub arguments: String,
    #[serde(default)]
    pub namespace: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CustomToolCallItem {
    pub call_id: String,
    pub name: String,
    #[serde(default)]
    pub input: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ToolOutputItem {
    pub call_id: String,
    pub output: ToolOutput,
}

/// A tool result: plain text or a list of content parts.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolOutput {
    Text(String),
    Parts(Vec<Value>),
    Other(Value),
}

// Anything else is kept too, so this one reads one `Value` and matches it.
impl<'de> Deserialize<'de> for ToolOutput {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::String(s) => ToolOutput::Text(s),
            Value::Array(parts) => ToolOutput::Parts(parts),
            other => ToolOutput::Other(other),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ToolSearchCallItem {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub call_id: Option<String>,
    #[serde(default)]
    pub arguments: Value,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ToolSearchOutputItem {
    #[serde(default)]
    pub call_id: Option<String>,
    /// The tools found, as tool definitions (functions, or namespaces of functions).
    #[serde(default, deserialize_with = "null_as_default")]
    pub tools: Vec<Value>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CompactionItem {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub encrypted_content: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LocalShellCallItem {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub call_id: Option<String>,
    #[serde(default)]
    pub action: Value,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LocalShellOutputItem {
    /// The API names the call by `id` here; Codex sends `call_id`.
    #[serde(default)]
    pub call_id: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub output: String,
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

// ---------------------------------------------------------------------------------------
// What Plugboard emits.

#[derive(Debug, Clone, Serialize)]
pub struct ResponseObject {
    pub id: String,
    pub object: &'static str,
    pub created_at: u64,
    /// Set when the status becomes `completed`.
    pub completed_at: Option<u64>,
    pub status: ResponseStatus,
    pub model: String,
    pub output: Vec<OutputItem>,
    pub usage: Option<Usage>,
    pub error: Option<ResponseError>,
    pub incomplete_details: Option<IncompleteDetails>,
    #[serde(flatten)]
    pub echo: Arc<RequestEcho>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseStatus {
    InProgress,
    Completed,
    Incomplete,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResponseError {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncompleteDetails {
    pub reason: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Usage {
    pub input_tokens: u64,
    pub input_tokens_details: InputTokensDetails,
    pub output_tokens: u64,
    pub output_tokens_details: OutputTokensDetails,
    pub total_tokens: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct InputTokensDetails {
    pub cached_tokens: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OutputTokensDetails {
    pub reasoning_tokens: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    InProgress,
    Completed,
    Incomplete,
}

/// An item of `response.output`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutputItem {
    Message {
        id: String,
        status: ItemStatus,
        role: &'static str,
        content: Vec<OutputText>,
    },
    Reasoning {
        id: String,
        summary: Vec<SummaryText>,
        #[serde(skip_serializing_if = "Option::is_none")]
        encrypted_content: Option<String>,
    },
    FunctionCall {
        id: String,
        status: ItemStatus,
        call_id: String,
        name: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        namespace: Option<String>,
        arguments: String,
    },
    CustomToolCall {
        id: String,
        status: ItemStatus,
        call_id: String,
        name: String,
        input: String,
    },
    LocalShellCall {
        id: String,
        status: ItemStatus,
        call_id: String,
        action: Value,
    },
    /// A search for deferred tools, run by the client (`execution: "client"`).
    ToolSearchCall {
        id: String,
        status: ItemStatus,
        call_id: String,
        execution: &'static str,
        arguments: Value,
    },
}

impl OutputItem {
    pub fn id(&self) -> &str {
        match self {
            OutputItem::Message { id, .. }
            | OutputItem::Reasoning { id, .. }
            | OutputItem::FunctionCall { id, .. }
            | OutputItem::CustomToolCall { id, .. }
            | OutputItem::LocalShellCall { id, .. }
            | OutputItem::ToolSearchCall { id, .. } => id,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutputText {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub text: String,
    pub annotations: [(); 0],
    pub logprobs: [(); 0],
}

impl OutputText {
    pub fn new(text: String) -> Self {
        Self {
            kind: "output_text",
            text,
            annotations: [],
            logprobs: [],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SummaryText {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub text: String,
}

impl SummaryText {
    pub fn new(text: String) -> Self {
        Self {
            kind: "summary_text",
            text,
        }
    }
}

/// A server-sent event of a streamed response, without its `sequence_number`
/// (added when the event is written).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type")]
pub enum StreamEvent {
    #[serde(rename = "response.created")]
    Created { response: ResponseObject },
    #[serde(rename = "response.in_progress")]
    InProgress { response: ResponseObject },
    #[serde(rename = "response.completed")]
    Completed { response: ResponseObject },
    #[serde(rename = "response.incomplete")]
    Incomplete { response: ResponseObject },
    #[serde(rename = "response.failed")]
    Failed { response: ResponseObject },
    #[serde(rename = "response.output_item.added")]
    OutputItemAdded {
        output_index: usize,
        item: OutputItem,
    },
    #[serde(rename = "response.output_item.done")]
    OutputItemDone {
        output_index: usize,
        item: OutputItem,
    },
    #[serde(rename = "response.content_part.added")]
    ContentPartAdded {
        item_id: String,
        output_index: usize,
        content_index: usize,
        part: OutputText,
    },
    #[serde(rename = "response.content_part.done")]
    ContentPartDone {
        item_id: String,
        output_index: usize,
        content_index: usize,
        part: OutputText,
    },
    #[serde(rename = "response.output_text.delta")]
    OutputTextDelta {
        item_id: String,
        output_index: usize,
        content_index: usize,
        delta: String,
        logprobs: [(); 0],
    },
    #[serde(rename = "response.output_text.done")]
    OutputTextDone {
        item_id: String,
        output_index: usize,
        content_index: usize,
        text: String,
        logprobs: [(); 0],
    },
    #[serde(rename = "response.reasoning_summary_part.added")]
    ReasoningSummaryPartAdded {
        item_id: String,
        output_index: usize,
        summary_index: usize,
        part: SummaryText,
    },
    #[serde(rename = "response.reasoning_summary_part.done")]
    ReasoningSummaryPartDone {
        item_id: String,
        output_index: usize,
        summary_index: usize,
        part: SummaryText,
    },
    #[serde(rename = "response.reasoning_summary_text.delta")]
    ReasoningSummaryTextDelta {
        item_id: String,
        output_index: usize,
        summary_index: usize,
        delta: String,
    },
    #[serde(rename = "response.reasoning_summary_text.done")]
    ReasoningSummaryTextDone {
        item_id: String,
        output_index: usize,
        summary_index: usize,
        text: String,
    },
    #[serde(rename = "response.function_call_arguments.delta")]
    FunctionCallArgumentsDelta {
        item_id: String,
        output_index: usize,
        delta: String,
    },
    #[serde(rename = "response.function_call_arguments.done")]
    FunctionCallArgumentsDone {
        item_id: String,
        output_index: usize,
        name: String,
        arguments: String,
    },
    #[serde(rename = "response.custom_tool_call_input.delta")]
    CustomToolCallInputDelta {
        item_id: String,
        output_index: usize,
        delta: String,
    },
    #[serde(rename = "response.custom_tool_call_input.done")]
    CustomToolCallInputDone {
        item_id: String,
        output_index: usize,
        input: String,
    },
}

impl StreamEvent {
    /// The SSE `event:` name, equal to the JSON `type`.
    pub fn event_type(&self) -> &'static str {
        use StreamEvent::*;
        match self {
            Created { .. } => "response.created",
            InProgress { .. } => "response.in_progress",
            Completed { .. } => "response.completed",
            Incomplete { .. } => "response.incomplete",
            Failed { .. } => "response.failed",
            OutputItemAdded { .. } => "response.output_item.added",
            OutputItemDone { .. } => "response.output_item.done",
            ContentPartAdded { .. } => "response.content_part.added",
            ContentPartDone { .. } => "response.content_part.done",
            OutputTextDelta { .. } => "response.output_text.delta",
            OutputTextDone { .. } => "response.output_text.done",
            ReasoningSummaryPartAdded { .. } => "response.reasoning_summary_part.added",
            ReasoningSummaryPartDone { .. } => "response.reasoning_summary_part.done",
            ReasoningSummaryTextDelta { .. } => "response.reasoning_summary_text.delta",
            ReasoningSummaryTextDone { .. } => "response.reasoning_summary_text.done",
            FunctionCallArgumentsDelta { .. } => "response.function_call_arguments.delta",
            FunctionCallArgumentsDone { .. } => "response.function_call_arguments.done",
            CustomToolCallInputDelta { .. } => "response.custom_tool_call_input.delta",
            CustomToolCallInputDone { .. } => "response.custom_tool_call_input.done",
        }
    }

    /// Writes `event: <type>\ndata: <json>\n\n`, the JSON carrying `sequence_number`.
    pub fn write_sse(&self, sequence_number: u64, out: &mut Vec<u8>) {
        #[derive(Serialize)]
        struct Numbered<'a> {
            #[serde(flatten)]
            event: &'a StreamEvent,
            sequence_number: u64,
        }
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(self.event_type().as_bytes());
        out.extend_from_slice(b"\ndata: ");
        serde_json::to_writer(
            &mut *out,
            &Numbered {
                event: self,
                sequence_number,
            },
        )
        .expect("serializing an event into memory cannot fail");
        out.extend_from_slice(b"\n\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_items_read_as_their_values_do() {
        let items = serde_json::json!([
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi \u{e9}\n\"q\""}]},
            {"role": "assistant", "content": "no type"},
            {"type": "function_call", "call_id": "c1", "name": "exec_command", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c1", "output": "done"},
            {"type": "custom_tool_call_output", "call_id": "c2", "output": [{"type": "input_text", "text": "x"}]},
            {"type": "reasoning", "summary": null, "encrypted_content": "e"},
            {"type": "local_shell_call", "call_id": "c3", "action": {"command": ["ls"]}},
            {"type": "compaction", "encrypted_content": "z"},
            {"type": 5, "role": "user", "content": "odd type"},
            {"type": "function_call", "call_id": 7},
            {"content": [{"type": "input_text", "text": "x"}], "role": "user", "type": "message"},
            {"call_id": "c4", "output": "o", "type": "function_call_output"},
            {"type": null, "role": "user", "content": "null type"},
            "not an object",
            42
        ]);
        let raw: Input = serde_json::from_str(&items.to_string()).unwrap();
        let Input::Items(raw) = raw else {
            panic!("a list")
        };
        let values = items.as_array().unwrap();
        assert_eq!(raw.len(), values.len());
        for (r, v) in raw.iter().zip(values) {
            let (a, b) = (r.to_input_item(), v.to_input_item());
            match (&a, &b) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{v}"),
                (Err(_), Err(_)) => {}
                _ => panic!("{v}: raw {a:?} vs value {b:?}"),
            }
        }
        assert!(serde_json::from_str::<Input>("7").is_err());
        assert!(
            matches!(serde_json::from_str::<Input>("\"hi\"").unwrap(), Input::Text(t) if t == "hi")
        );
    }

    #[test]
    fn unknown_item_type_is_kept_as_other() {
        let item =
            InputItem::from_value(&serde_json::json!({"type": "web_search_call", "x": 1})).unwrap();
        assert_eq!(item, InputItem::Other("web_search_call".into()));
    }

    #[test]
    fn message_without_type_is_a_message() {
        let item =
            InputItem::from_value(&serde_json::json!({"role": "user", "content": "hi"})).unwrap();
        assert!(matches!(item, InputItem::Message(_)));
    }

    #[test]
    fn known_item_with_wrong_field_type_is_an_error() {
        let err = InputItem::from_value(
            &serde_json::json!({"type": "function_call", "call_id": 5, "name": "f"}),
        );
        assert!(err.is_err());
    }

    #[test]
    fn sse_line_has_type_and_sequence_number() {
        let ev = StreamEvent::FunctionCallArgumentsDelta {
            item_id: "fc_1".into(),
            output_index: 0,
            delta: "{".into(),
        };
        let mut out = Vec::new();
        ev.write_sse(7, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "event: response.function_call_arguments.delta\ndata: {\"type\":\"response.function_call_arguments.delta\",\"item_id\":\"fc_1\",\"output_index\":0,\"delta\":\"{\",\"sequence_number\":7}\n\n"
        );
    }
}
