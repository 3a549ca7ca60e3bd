//! Input items, typed where Plugboard translates them; anything else is kept by its type.
//!
//! (Over 400 lines with its unit tests, which read the private item-type scanner.)

use serde::Deserialize;
use serde_json::{value::RawValue, Value};

/// A JSON string or a list of `T`, read straight into either, not with `#[serde(untagged)]`,
/// which buffers the content into serde's internal tree first and then copies it again into
/// the variant (for a 300 KB history, twice the work).
pub(super) enum StringOrList<T> {
    Text(String),
    List(Vec<T>),
}

impl<'de, T: Deserialize<'de>> StringOrList<T> {
    pub(super) fn deserialize<D: serde::Deserializer<'de>>(
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

#[cfg(test)]
mod tests {
    use super::super::request::Input;
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
}
