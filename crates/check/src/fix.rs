//! The switches a check can offer, and how each changes a provider's settings. A fix is
//! always a setting the user could have typed (a dialect override, a context window, the
//! wire API), so it shows in the settings file and can be turned back.

use plugboard_config::{Provider, WireApi};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fix {
    /// What the button says: "Turn on text tool-call repair".
    pub label: String,
    pub change: FixChange,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FixChange {
    /// A dialect field set (`text_tool_calls`, `think_tags`, `reasoning_echo`, `stream_usage`,
    /// the schema switches, `max_tokens_field`).
    Dialect {
        field: String,
        value: serde_json::Value,
    },
    /// A schema keyword the provider refuses, added to `schema_drop`.
    DropSchemaKeyword { keyword: String },
    /// The window the provider really serves.
    ContextWindow { tokens: u64 },
    /// The provider speaks Responses: pass Codex's requests through untranslated.
    PassThrough,
    /// The provider speaks Chat Completions too, and serves Codex better through it.
    Translate,
    /// A repair of the pass-through turned on (`lifecycle_events`,
    /// `custom_tools_as_functions`, `stateless`, `drop_hosted_tools`).
    ResponsesDialect { field: String },
}

/// The dialect switches a fix may set; anything else in a fix (say, from a hand-edited
/// request to the app) is refused.
const SWITCHES: &[&str] = &[
    "text_tool_calls",
    "think_tags",
    "reasoning_echo",
    "stream_usage",
    "schema_single_types",
    "schema_inline_refs",
    "schema_object_root",
    "max_tokens_field",
];

/// The pass-through repairs a fix may turn on.
const RESPONSES_SWITCHES: &[&str] = &[
    "lifecycle_events",
    "custom_tools_as_functions",
    "stateless",
    "drop_hosted_tools",
];

impl Fix {
    /// A pass-through repair turned on.
    pub fn repair(field: &str, label: &str) -> Fix {
        Fix {
            label: label.to_string(),
            change: FixChange::ResponsesDialect {
                field: field.to_string(),
            },
        }
    }

    /// A dialect switch turned on.
    pub fn dialect(field: &str, label: &str) -> Fix {
        Fix::dialect_value(field, true.into(), label)
    }

    pub fn dialect_value(field: &str, value: serde_json::Value, label: &str) -> Fix {
        Fix {
            label: label.to_string(),
            change: FixChange::Dialect {
                field: field.to_string(),
                value,
            },
        }
    }

    /// Changes `p` as the fix says; the model map and key stay as they are.
    pub fn apply(&self, p: &mut Provider) -> Result<(), FixError> {
        match &self.change {
            FixChange::Dialect { field, value } => {
                if !SWITCHES.contains(&field.as_str()) {
                    return Err(FixError::NotASwitch(field.clone()));
                }
                let value = match value {
                    serde_json::Value::Bool(b) => toml::Value::Boolean(*b),
                    serde_json::Value::String(s) => toml::Value::String(s.clone()),
                    other => return Err(FixError::NotAValue(other.to_string())),
                };
                p.dialect.insert(field.clone(), value);
            }
            FixChange::DropSchemaKeyword { keyword } => {
                if keyword.is_empty() || keyword.len() > 64 {
                    return Err(FixError::NotAKeyword);
                }
                let mut drop = p.dialect()?.schema_drop;
                if !drop.contains(keyword) {
                    drop.push(keyword.clone());
                }
                p.dialect.insert(
                    "schema_drop".into(),
                    toml::Value::Array(drop.into_iter().map(toml::Value::String).collect()),
                );
            }
            FixChange::ContextWindow { tokens } => p.context_window = Some(*tokens),
            FixChange::PassThrough => p.wire_api = WireApi::Responses,
            FixChange::Translate => p.wire_api = WireApi::Chat,
            FixChange::ResponsesDialect { field } => {
                if !RESPONSES_SWITCHES.contains(&field.as_str()) {
                    return Err(FixError::NotARepair(field.clone()));
                }
                p.responses_dialect
                    .insert(field.clone(), toml::Value::Boolean(true));
            }
        }
        // A fix that leaves either dialect unreadable is no fix.
        p.dialect()?;
        p.responses_dialect()?;
        Ok(())
    }
}

/// A fix that cannot be applied (a fix from an older Plugboard, or a hand-edited file).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FixError {
    #[error("`{0}` is not a switch a check can set")]
    NotASwitch(String),
    #[error("`{0}` is not a value a check sets")]
    NotAValue(String),
    #[error("a schema keyword to drop must be a short name")]
    NotAKeyword,
    #[error("`{0}` is not a repair a check can turn on")]
    NotARepair(String),
    #[error(transparent)]
    Unreadable(#[from] plugboard_config::OverrideError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixes_are_settings_on_top_of_the_preset() {
        let mut p = Provider::from_preset("box", "ollama").unwrap();
        let before = p.dialect().unwrap();
        Fix::dialect("text_tool_calls", "x").apply(&mut p).unwrap();
        Fix {
            label: "x".into(),
            change: FixChange::DropSchemaKeyword {
                keyword: "additionalProperties".into(),
            },
        }
        .apply(&mut p)
        .unwrap();
        let d = p.dialect().unwrap();
        assert!(d.text_tool_calls);
        assert!(d
            .schema_drop
            .ends_with(&["additionalProperties".to_string()]));
        assert_eq!(
            d.schema_drop.len(),
            before.schema_drop.len() + 1,
            "the preset's own keywords are kept"
        );
        let mut q = p.clone();
        Fix {
            label: "x".into(),
            change: FixChange::ContextWindow { tokens: 8192 },
        }
        .apply(&mut q)
        .unwrap();
        assert_eq!(q.context_window, Some(8192));
        assert_eq!(q.model_map, p.model_map);
    }

    #[test]
    fn a_repair_turns_on_one_pass_through_switch() {
        let mut p = Provider::from_preset("box", "vllm").unwrap();
        p.responses_dialect
            .insert("lifecycle_events".into(), toml::Value::Boolean(false));
        Fix::repair("lifecycle_events", "x").apply(&mut p).unwrap();
        assert!(p.responses_dialect().unwrap().lifecycle_events);
        let e = Fix::repair("base_url", "x").apply(&mut p).unwrap_err();
        assert!(matches!(e, FixError::NotARepair(_)), "{e}");
    }

    #[test]
    fn only_known_switches_are_set() {
        let mut p = Provider::from_preset("box", "ollama").unwrap();
        let e = Fix::dialect("base_url", "x").apply(&mut p).unwrap_err();
        assert!(matches!(e, FixError::NotASwitch(_)), "{e}");
        assert!(p.dialect.is_empty());
    }
}
