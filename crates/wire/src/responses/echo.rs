//! The request fields every response object repeats. The Open Responses specification makes
//! each of them a required key (some nullable), so each is filled: with what the request
//! set, or with what Plugboard actually did when it set nothing (no truncation, no
//! background mode, sampling left at the provider's defaults, plain text output).

use super::request::ResponsesRequest;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::sync::Arc;

/// Request fields echoed in every response object, serialized once per request.
#[derive(Debug, Clone, Serialize)]
pub struct RequestEcho {
    /// Escaped once: Codex's instructions run to several KB, and a stream writes the response
    /// object three times (`created`, `in_progress`, the terminal event).
    pub instructions: Option<Arc<RawValue>>,
    pub max_output_tokens: Option<u64>,
    pub max_tool_calls: Option<u64>,
    pub parallel_tool_calls: bool,
    pub previous_response_id: Option<String>,
    pub reasoning: Option<ReasoningEcho>,
    pub store: bool,
    pub temperature: f64,
    pub top_p: f64,
    pub presence_penalty: f64,
    pub frequency_penalty: f64,
    /// Plugboard returns no log probabilities.
    pub top_logprobs: u32,
    pub text: TextEcho,
    pub tool_choice: Value,
    /// The request's tool list, kept as raw JSON (echoing it costs a copy, not a re-encode),
    /// function tools with every key the specification requires.
    pub tools: Arc<RawValue>,
    /// Plugboard never truncates the input.
    pub truncation: &'static str,
    /// Requests are answered in the foreground.
    pub background: bool,
    pub service_tier: String,
    pub metadata: Value,
    pub safety_identifier: Option<String>,
    pub prompt_cache_key: Option<String>,
    pub user: Option<String>,
}

/// `reasoning` as echoed: both keys present, `null` when not set.
#[derive(Debug, Clone, Serialize)]
pub struct ReasoningEcho {
    pub effort: Option<String>,
    pub summary: Option<String>,
}

/// `text` as echoed: the format asked for, plain text by default.
#[derive(Debug, Clone, Serialize)]
pub struct TextEcho {
    pub format: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verbosity: Option<String>,
}

impl RequestEcho {
    pub fn of(req: &ResponsesRequest) -> RequestEcho {
        let text = req.text.as_ref();
        RequestEcho {
            instructions: req.instructions.as_ref().map(|i| {
                serde_json::value::to_raw_value(i)
                    .expect("a string serializes")
                    .into()
            }),
            max_output_tokens: req.max_output_tokens,
            max_tool_calls: req.max_tool_calls,
            parallel_tool_calls: req.parallel_tool_calls.unwrap_or(true),
            previous_response_id: req.previous_response_id.clone(),
            reasoning: req.reasoning.as_ref().map(|r| ReasoningEcho {
                effort: r.effort.clone(),
                summary: r.summary.clone(),
            }),
            store: req.store.unwrap_or(true),
            temperature: req.temperature.unwrap_or(1.0),
            top_p: req.top_p.unwrap_or(1.0),
            presence_penalty: req.presence_penalty.unwrap_or(0.0),
            frequency_penalty: req.frequency_penalty.unwrap_or(0.0),
            top_logprobs: 0,
            text: TextEcho {
                format: text
                    .and_then(|t| t.format.clone())
                    .unwrap_or_else(|| serde_json::json!({"type": "text"})),
                verbosity: text.and_then(|t| t.verbosity.clone()),
            },
            tool_choice: req
                .tool_choice
                .clone()
                .unwrap_or_else(|| Value::String("auto".into())),
            tools: serde_json::value::to_raw_value(&ToolsEcho(&req.tools))
                .expect("JSON values always serialize")
                .into(),
            truncation: "disabled",
            background: false,
            service_tier: req.service_tier.clone().unwrap_or_else(|| "default".into()),
            metadata: req
                .metadata
                .clone()
                .filter(Value::is_object)
                .unwrap_or_else(|| Value::Object(Map::new())),
            safety_identifier: req.safety_identifier.clone(),
            prompt_cache_key: req.prompt_cache_key.clone(),
            user: req.user.clone(),
        }
    }
}

/// The tool list, written without copying it: a function tool gains the keys it left out
/// (`description` and `parameters` as null, `strict` as false: Plugboard asks the provider
/// for strict schemas only when the request does); other tools are written as they came.
struct ToolsEcho<'a>(&'a [Value]);

impl Serialize for ToolsEcho<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(ToolEcho))
    }
}

struct ToolEcho<'a>(&'a Value);

impl Serialize for ToolEcho<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Some(tool) = self
            .0
            .as_object()
            .filter(|o| o.get("type").and_then(Value::as_str) == Some("function"))
        else {
            return self.0.serialize(s);
        };
        const FILLED: [(&str, Value); 3] = [
            ("description", Value::Null),
            ("parameters", Value::Null),
            ("strict", Value::Bool(false)),
        ];
        let missing = FILLED.iter().filter(|(k, _)| !tool.contains_key(*k));
        let mut map = s.serialize_map(None)?;
        for (k, v) in tool {
            map.serialize_entry(k, v)?;
        }
        for (k, v) in missing {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_say_what_plugboard_did() {
        let req: ResponsesRequest = serde_json::from_value(
            json!({"model": "m", "input": "hi", "text": {"verbosity": "low"}}),
        )
        .unwrap();
        let v = serde_json::to_value(RequestEcho::of(&req)).unwrap();
        assert_eq!(
            v["text"],
            json!({"format": {"type": "text"}, "verbosity": "low"})
        );
        assert_eq!(v["temperature"], 1.0);
        assert_eq!(v["truncation"], "disabled");
        assert_eq!(v["metadata"], json!({}));
        assert_eq!(v["service_tier"], "default");
        for key in [
            "completed_at",
            "max_tool_calls",
            "safety_identifier",
            "prompt_cache_key",
            "user",
            "reasoning",
        ] {
            if key != "completed_at" {
                assert!(
                    v[key].is_null() && v.get(key).is_some(),
                    "{key} present as null"
                );
            }
        }
    }

    #[test]
    fn instructions_are_echoed_as_they_came() {
        let said = "Be brief.\n\"Quoted\", tabs\t and ünïcode";
        let req: ResponsesRequest =
            serde_json::from_value(json!({"model": "m", "input": "hi", "instructions": said}))
                .unwrap();
        let v = serde_json::to_value(RequestEcho::of(&req)).unwrap();
        assert_eq!(v["instructions"], said);
        let none: ResponsesRequest =
            serde_json::from_value(json!({"model": "m", "input": "hi"})).unwrap();
        let v = serde_json::to_value(RequestEcho::of(&none)).unwrap();
        assert!(v["instructions"].is_null() && v.get("instructions").is_some());
    }

    #[test]
    fn function_tools_gain_the_required_keys_and_others_pass_as_they_are() {
        let req: ResponsesRequest = serde_json::from_value(json!({"model": "m", "input": "hi", "tools": [
            {"type": "function", "name": "f", "parameters": {"type": "object"}},
            {"type": "function", "name": "g", "strict": true, "description": "d", "parameters": null},
            {"type": "custom", "name": "apply_patch", "format": {"type": "grammar"}},
        ]}))
        .unwrap();
        let v = serde_json::to_value(RequestEcho::of(&req)).unwrap();
        assert_eq!(
            v["tools"],
            json!([
                {"type": "function", "name": "f", "parameters": {"type": "object"}, "description": null, "strict": false},
                {"type": "function", "name": "g", "strict": true, "description": "d", "parameters": null},
                {"type": "custom", "name": "apply_patch", "format": {"type": "grammar"}},
            ])
        );
    }
}
