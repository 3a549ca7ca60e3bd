//! Codex's model catalog (`model_catalog_json`, read by Codex 0.169): the list of models
//! Codex knows, with the facts it plans a session by (context window, auto-compact limit,
//! tools, reasoning levels). A model Codex does not find there gets a reduced fallback tool
//! set, without `apply_patch`, so Plugboard adds an entry for every name it serves.
//!
//! The file replaces Codex's bundled catalog, so it is built from that catalog (or from the
//! user's own one) with Plugboard's entries after it. Each of Plugboard's entries is a copy
//! of the entry Codex uses for the model Apply sets (the one the `gpt-*` mapping serves
//! today): the same prompt template and tools, so a route name behaves as that slug does,
//! with the upstream model's own window and capabilities written over it.

use plugboard_config::{ModelCard, WindowSource};
use serde_json::{json, Map, Value};

/// Plugboard's mark on the file and on its entries (Codex ignores keys it does not know).
pub const MARK: &str = "plugboard";

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CatalogError {
    #[error("the model catalog has no `models` list")]
    NoModels,
    #[error("the model catalog lists no model to copy Codex's tools and prompt from")]
    Empty,
}

/// Codex compacts once a conversation reaches this share of the window, leaving room for
/// the next turn's output and the provider's own overhead.
const AUTO_COMPACT_PERCENT: u64 = 85;

fn models(catalog: &Value) -> Result<&Vec<Value>, CatalogError> {
    catalog
        .get("models")
        .and_then(Value::as_array)
        .ok_or(CatalogError::NoModels)
}

/// The slugs a catalog lists, Plugboard's own entries left out.
pub fn slugs(catalog: &Value) -> Result<Vec<String>, CatalogError> {
    Ok(models(catalog)?
        .iter()
        .filter(|m| m.get(MARK).is_none())
        .filter_map(|m| m.get("slug").and_then(Value::as_str).map(str::to_string))
        .collect())
}

/// Plain tool calling: not Codex's code mode, which only OpenAI's own models run.
fn plain_tools(m: &Value) -> bool {
    m.get("tool_mode").is_none_or(Value::is_null)
}

/// The entry Plugboard's copies start from: `preferred` (the model Apply sets) when it uses
/// plain tools, else the first listed model that does, else the first model.
fn template<'a>(list: &'a [Value], preferred: Option<&str>) -> Option<&'a Value> {
    list.iter()
        .find(|m| {
            preferred.is_some()
                && m.get("slug").and_then(Value::as_str) == preferred
                && plain_tools(m)
        })
        .or_else(|| {
            list.iter().find(|m| {
                plain_tools(m) && m.get("visibility").and_then(Value::as_str) == Some("list")
            })
        })
        .or_else(|| list.first())
}

fn reasoning_levels() -> Value {
    json!([
        {"effort": "low", "description": "Fast answers with little thinking"},
        {"effort": "medium", "description": "Balanced thinking and speed"},
        {"effort": "high", "description": "The most thinking the model does"}
    ])
}

fn entry(template: &Value, card: &ModelCard, priority: i64) -> Value {
    let mut e: Map<String, Value> = template.as_object().cloned().unwrap_or_default();
    let window = card.context_window;
    let via = if card.upstream_model == card.name {
        format!("{} through Plugboard", card.provider_name)
    } else {
        format!(
            "{} on {} through Plugboard",
            card.upstream_model, card.provider_name
        )
    };
    let window_note = match card.window_source {
        WindowSource::Assumed => " (context window assumed; set context_window to be exact)",
        _ => "",
    };
    let mut set = |k: &str, v: Value| {
        e.insert(k.to_string(), v);
    };
    set("slug", json!(card.name));
    set("display_name", json!(card.name));
    set("description", json!(format!("{via}{window_note}")));
    set("context_window", json!(window));
    set("max_context_window", json!(window));
    set(
        "auto_compact_token_limit",
        json!(window * AUTO_COMPACT_PERCENT / 100),
    );
    set("priority", json!(priority));
    set("visibility", json!("list"));
    set("supported_in_api", json!(true));
    set("upgrade", Value::Null);
    set("availability_nux", Value::Null);
    set("model_specialty", Value::Null);
    // Plugboard answers Codex's WebSocket transport for every provider it serves.
    set("prefer_websockets", json!(true));
    // OpenAI-only features: fast tiers, the lite protocol, code mode, and verbosity (a
    // Responses parameter chat providers have no place for).
    set("service_tiers", json!([]));
    set("additional_speed_tiers", json!([]));
    set("default_service_tier", Value::Null);
    set("use_responses_lite", json!(false));
    set("tool_mode", Value::Null);
    set("support_verbosity", json!(false));
    set("default_verbosity", Value::Null);
    // MCP tools inline, where the schema normaliser makes them acceptable to strict
    // providers, rather than behind a search small models rarely use.
    set("supports_search_tool", json!(false));
    set(
        "supports_parallel_tool_calls",
        json!(card.parallel_tool_calls),
    );
    if card.reasoning {
        set("supported_reasoning_levels", reasoning_levels());
        set("default_reasoning_level", json!("medium"));
        set("supports_reasoning_summaries", json!(true));
    } else {
        set("supported_reasoning_levels", json!([]));
        set("default_reasoning_level", Value::Null);
        set("supports_reasoning_summaries", json!(false));
    }
    let modalities = if card.images {
        json!(["text", "image"])
    } else {
        json!(["text"])
    };
    set("input_modalities", modalities);
    set(
        MARK,
        json!({
            "provider": card.provider_id,
            "upstream_model": card.upstream_model,
            "context_window_source": match card.window_source {
                WindowSource::Configured => "configured",
                WindowSource::Documented => "documented",
                WindowSource::Assumed => "assumed",
            },
        }),
    );
    Value::Object(e)
}

/// `base` (Codex's bundled catalog or the user's own) with an entry per card whose name it
/// does not list yet; Plugboard's entries from an earlier Apply are replaced.
pub fn with_cards(
    base: &Value,
    cards: &[ModelCard],
    preferred_template: Option<&str>,
    codex_version: Option<&str>,
) -> Result<Value, CatalogError> {
    let theirs: Vec<Value> = models(base)?
        .iter()
        .filter(|m| m.get(MARK).is_none())
        .cloned()
        .collect();
    let tpl = template(&theirs, preferred_template).ok_or(CatalogError::Empty)?;
    let known = slugs(base)?;
    let top = theirs
        .iter()
        .filter_map(|m| m.get("priority").and_then(Value::as_i64))
        .max()
        .unwrap_or(0);
    let ours: Vec<Value> = cards
        .iter()
        .filter(|c| !known.contains(&c.name))
        .enumerate()
        .map(|(i, c)| entry(tpl, c, top + 1 + i as i64))
        .collect();
    let mut out = base.as_object().cloned().unwrap_or_default();
    out.insert(
        "models".into(),
        Value::Array(theirs.iter().cloned().chain(ours).collect()),
    );
    out.insert(
        MARK.into(),
        json!({
            "written_by": "Plugboard (Apply to Codex rewrites this file)",
            "codex_version": codex_version,
            "template": tpl.get("slug"),
        }),
    );
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Value {
        json!({"models": [
            {"slug": "gpt-9-code", "tool_mode": "code_mode_only", "visibility": "list",
             "priority": 1, "base_instructions": "code"},
            {"slug": "gpt-5.5", "tool_mode": null, "visibility": "list", "priority": 13,
             "context_window": 272000, "apply_patch_tool_type": "freeform",
             "model_messages": {"instructions_template": "tpl"},
             "service_tiers": [{"id": "priority"}], "prefer_websockets": true,
             "supports_search_tool": true, "future_field": 7},
        ]})
    }

    fn card(name: &str, upstream: &str, reasoning: bool) -> ModelCard {
        ModelCard {
            name: name.into(),
            provider_id: "ds".into(),
            provider_name: "DeepSeek".into(),
            upstream_model: upstream.into(),
            context_window: 128_000,
            window_source: WindowSource::Documented,
            reasoning,
            parallel_tool_calls: true,
            images: false,
        }
    }

    #[test]
    fn entries_copy_the_plain_tools_template_and_carry_the_model_facts() {
        let cards = [
            card("deepseek-chat", "deepseek-chat", false),
            card("planner", "deepseek-reasoner", true),
            card("gpt-5.5", "deepseek-chat", false),
        ];
        let out = with_cards(&base(), &cards, Some("gpt-9-code"), Some("0.169.0")).unwrap();
        let list = out["models"].as_array().unwrap();
        // Codex's own entries first and unchanged; a name Codex knows is not shadowed.
        assert_eq!(list.len(), 4);
        assert_eq!(list[..2], base()["models"].as_array().unwrap()[..]);
        let chat = &list[2];
        assert_eq!(chat["slug"], "deepseek-chat");
        assert_eq!(chat["model_messages"]["instructions_template"], "tpl");
        assert_eq!(chat["apply_patch_tool_type"], "freeform");
        assert_eq!(chat["future_field"], 7);
        assert_eq!(chat["context_window"], 128_000);
        assert_eq!(chat["auto_compact_token_limit"], 108_800);
        assert_eq!(chat["priority"], 14);
        assert_eq!(chat["service_tiers"], json!([]));
        assert_eq!(
            chat["prefer_websockets"], true,
            "Plugboard answers the WebSocket"
        );
        assert_eq!(chat["supports_search_tool"], false);
        assert_eq!(chat["supported_reasoning_levels"], json!([]));
        assert_eq!(chat["description"], "DeepSeek through Plugboard");
        let planner = &list[3];
        assert_eq!(
            planner["description"],
            "deepseek-reasoner on DeepSeek through Plugboard"
        );
        assert_eq!(planner["default_reasoning_level"], "medium");
        assert_eq!(out[MARK]["template"], "gpt-5.5");
        assert_eq!(out[MARK]["codex_version"], "0.169.0");
    }

    #[test]
    fn applying_again_replaces_plugboards_entries() {
        let once = with_cards(&base(), &[card("a", "a", false)], None, None).unwrap();
        let twice = with_cards(&once, &[card("b", "b", false)], None, None).unwrap();
        let slugs: Vec<&str> = twice["models"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["slug"].as_str().unwrap())
            .collect();
        assert_eq!(slugs, ["gpt-9-code", "gpt-5.5", "b"]);
    }

    #[test]
    fn a_catalog_without_models_is_refused() {
        assert_eq!(
            with_cards(&json!({}), &[], None, None).unwrap_err(),
            CatalogError::NoModels
        );
        assert_eq!(
            with_cards(&json!({"models": []}), &[], None, None).unwrap_err(),
            CatalogError::Empty
        );
    }
}
