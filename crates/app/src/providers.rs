//! Provider editing as the settings window does it: views with masked keys, save (with a
//! new key, a rename, or neither), delete (with its key), duplicate, presets.

use crate::AppError;
use plugboard_config::{Provider, Settings, WireApi, PRESETS};
use plugboard_keys::{CachedKey, KeyCache};
use serde::{Deserialize, Serialize};

/// A provider as the page sees it. The key itself never leaves the keyring.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProviderView {
    pub id: String,
    pub name: String,
    pub preset: Option<String>,
    pub base_url: String,
    pub wire_api: WireApi,
    pub default_model: Option<String>,
    pub model_map: plugboard_config::ModelMap,
    pub needs_key: bool,
    /// `sk-••••abcd` when a key is stored.
    pub key_mask: Option<String>,
    /// Why the stored key cannot be used now (the keyring is locked), if so.
    pub key_unreadable: Option<String>,
    pub active: bool,
    /// The last Codex check of this provider, if one ran.
    pub check: Option<crate::check_history::CheckBadge>,
}

/// What a save does to keys, carried out by the caller off the async workers and only
/// then committed: a key to store (typed, or moved from the old id on a rename), ids whose
/// key goes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KeyPlan {
    pub store: Option<(String, KeyValue)>,
    pub delete: Vec<String>,
}

#[derive(Clone, PartialEq)]
pub enum KeyValue {
    Typed(String),
    /// The key stored under this id.
    From(String),
}

impl std::fmt::Debug for KeyValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyValue::Typed(_) => f.write_str("Typed(***)"),
            KeyValue::From(id) => write!(f, "From({id})"),
        }
    }
}

/// What the page sends on save.
#[derive(Debug, Clone, Deserialize)]
pub struct ProviderInput {
    /// The id being edited; `None` for a new provider.
    #[serde(default)]
    pub original_id: Option<String>,
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub preset: Option<String>,
    pub base_url: String,
    #[serde(default)]
    pub wire_api: WireApi,
    #[serde(default)]
    pub default_model: Option<String>,
    #[serde(default)]
    pub model_map: plugboard_config::ModelMap,
    /// A newly typed key; `None` keeps the stored one.
    #[serde(default)]
    pub api_key: Option<String>,
    #[serde(default)]
    pub clear_key: bool,
}

impl ProviderInput {
    /// The form of a saved provider, unchanged (its stored key is used).
    pub fn for_saved(p: &Provider) -> ProviderInput {
        ProviderInput {
            original_id: Some(p.id.clone()),
            id: p.id.clone(),
            name: p.name.clone(),
            preset: p.preset.clone(),
            base_url: p.base_url.clone(),
            wire_api: p.wire_api,
            default_model: p.default_model.clone(),
            model_map: p.model_map.clone(),
            api_key: None,
            clear_key: false,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct PresetView {
    pub id: &'static str,
    pub name: &'static str,
    pub base_url: &'static str,
    pub wire_api: WireApi,
    pub needs_key: bool,
    pub default_model: Option<&'static str>,
}

pub fn presets() -> Vec<PresetView> {
    PRESETS
        .iter()
        .map(|p| PresetView {
            id: p.id,
            name: p.name,
            base_url: p.base_url,
            wire_api: p.wire_api,
            needs_key: p.needs_key,
            default_model: p.default_model,
        })
        .collect()
}

pub fn view(
    settings: &Settings,
    p: &Provider,
    keys: &KeyCache,
    check: Option<crate::check_history::CheckBadge>,
) -> ProviderView {
    let key_mask = keys.mask(&p.id);
    let key_unreadable = match keys.get(&p.id) {
        Some(CachedKey::Unreadable(why)) => Some(why.to_string()),
        _ => None,
    };
    ProviderView {
        id: p.id.clone(),
        name: p.display_name().to_string(),
        preset: p.preset.clone(),
        base_url: p.base_url.clone(),
        wire_api: p.wire_api,
        default_model: p.default_model.clone(),
        model_map: p.model_map.clone(),
        needs_key: p.needs_key(),
        key_mask,
        key_unreadable,
        active: settings.active().map(|a| a.id == p.id).unwrap_or(false),
        check,
    }
}

fn clean(s: Option<String>) -> Option<String> {
    s.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// Applies a save to `settings` and says what it does to keys. Settings are validated
/// first, so a rejected save plans nothing.
/// The provider a form describes, on top of the one being edited (or its preset), not yet
/// saved: what Save stores, and what Test connection and Fetch models try before saving.
pub fn draft(settings: &Settings, input: &ProviderInput) -> Result<Provider, AppError> {
    let id = input.id.trim().to_string();
    let original = input.original_id.clone().filter(|o| !o.is_empty());
    let base = match &original {
        Some(o) => settings
            .provider(o)
            .cloned()
            .ok_or_else(|| AppError::NoSuchProvider(o.clone()))?,
        None => match input.preset.as_deref() {
            Some(pid) => Provider::from_preset(&id, pid)
                .ok_or_else(|| AppError::UnknownPreset(pid.to_string()))?,
            None => Provider::from_preset(&id, "custom").expect("custom preset"),
        },
    };
    let mut p = base;
    p.id = id;
    p.name = input.name.trim().to_string();
    p.preset = clean(input.preset.clone()).or(p.preset);
    p.base_url = input.base_url.trim().to_string();
    p.wire_api = input.wire_api;
    p.default_model = clean(input.default_model.clone());
    p.model_map = input
        .model_map
        .iter()
        .filter(|(k, v)| !k.trim().is_empty() && !v.trim().is_empty())
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    // Codex asks for slugs it knows (`gpt-5.5`); with no mapping a chat provider would get
    // that name, so the default model catches them, as the presets do.
    if p.wire_api == WireApi::Chat && p.model_map.is_empty() {
        if let Some(m) = &p.default_model {
            p.model_map.insert("gpt-*".into(), m.clone());
        }
    }
    Ok(p)
}

/// Applies a save to `settings` and says what it does to keys. Settings are validated
/// first, so a rejected save plans nothing.
pub fn save(settings: &mut Settings, input: ProviderInput) -> Result<(String, KeyPlan), AppError> {
    let p = draft(settings, &input)?;
    let id = p.id.clone();
    let original = input.original_id.clone().filter(|o| !o.is_empty());
    let mut next = settings.clone();
    if original.as_deref() != Some(id.as_str()) && next.provider(&id).is_some() {
        return Err(AppError::IdTaken(id));
    }
    match &original {
        Some(o) => {
            let i = next
                .providers
                .iter()
                .position(|x| &x.id == o)
                .expect("found above");
            next.providers[i] = p;
            if o != &id {
                if next.active_provider.as_deref() == Some(o.as_str()) {
                    next.active_provider = Some(id.clone());
                }
                for r in next.routes.iter_mut().filter(|r| &r.provider == o) {
                    r.provider = id.clone();
                }
            }
        }
        None => next.providers.push(p),
    }
    if next.active_provider.is_none() {
        next.active_provider = Some(id.clone());
    }
    let problems = next.validate();
    if !problems.is_empty() {
        return Err(AppError::InvalidSettings(problems));
    }
    // Keys: a new one replaces, a rename moves, a clear deletes.
    let mut plan = KeyPlan::default();
    let renamed_from = original.as_deref().filter(|o| *o != id);
    if let Some(k) = clean(input.api_key) {
        plan.store = Some((id.clone(), KeyValue::Typed(k)));
    } else if let Some(o) = renamed_from {
        plan.store = Some((id.clone(), KeyValue::From(o.to_string())));
    } else if input.clear_key {
        plan.delete.push(id.clone());
    }
    plan.delete.extend(renamed_from.map(str::to_string));
    *settings = next;
    Ok((id, plan))
}

/// Removes a provider and the routes that used it (the caller deletes its key).
pub fn delete(settings: &mut Settings, id: &str) -> Result<(), AppError> {
    if settings.provider(id).is_none() {
        return Err(AppError::NoSuchProvider(id.to_string()));
    }
    settings.providers.retain(|p| p.id != id);
    settings.routes.retain(|r| r.provider != id);
    if settings.active_provider.as_deref() == Some(id) {
        settings.active_provider = settings.providers.first().map(|p| p.id.clone());
    }
    Ok(())
}

/// A copy under a free id (`deepseek-2`), without the key: keys are never copied silently.
pub fn duplicate(settings: &mut Settings, id: &str) -> Result<String, AppError> {
    let mut copy = settings
        .provider(id)
        .cloned()
        .ok_or_else(|| AppError::NoSuchProvider(id.to_string()))?;
    let new_id = (2..)
        .map(|n| format!("{id}-{n}"))
        .find(|c| settings.provider(c).is_none())
        .expect("a free id exists");
    copy.name = format!("{} (copy)", copy.display_name());
    copy.id = new_id.clone();
    settings.providers.push(copy);
    Ok(new_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(id: &str) -> ProviderInput {
        ProviderInput {
            original_id: None,
            id: id.into(),
            name: "DeepSeek".into(),
            preset: Some("deepseek".into()),
            base_url: "https://api.deepseek.com/v1".into(),
            wire_api: WireApi::Chat,
            default_model: Some("deepseek-chat".into()),
            model_map: plugboard_config::ModelMap::from([("gpt-*".into(), "deepseek-chat".into())]),
            api_key: Some("sk-abcdefghijklmnop".into()),
            clear_key: false,
        }
    }

    #[test]
    fn add_rename_and_delete_plan_the_key_with_the_provider() {
        let mut s = Settings::default();
        let (id, plan) = save(&mut s, input("ds")).unwrap();
        assert_eq!(id, "ds");
        assert_eq!(
            plan.store,
            Some(("ds".into(), KeyValue::Typed("sk-abcdefghijklmnop".into())))
        );
        assert!(
            !format!("{plan:?}").contains("abcdefgh"),
            "plans never print keys"
        );
        assert_eq!(
            s.active_provider.as_deref(),
            Some("ds"),
            "the first provider becomes active"
        );
        let keys = KeyCache::default();
        keys.set(
            "ds",
            CachedKey::Stored(plugboard_server::ApiKey::new("sk-abcdefghijklmnop")),
        );
        let v = view(&s, s.provider("ds").unwrap(), &keys, None);
        assert_eq!(v.key_mask.as_deref(), Some("sk-••••mnop"));
        assert!(v.active && v.key_unreadable.is_none());

        let mut rename = input("deepseek");
        rename.original_id = Some("ds".into());
        rename.api_key = None;
        let (_, plan) = save(&mut s, rename).unwrap();
        assert_eq!(
            plan,
            KeyPlan {
                store: Some(("deepseek".into(), KeyValue::From("ds".into()))),
                delete: vec!["ds".into()],
            }
        );
        assert_eq!(s.active_provider.as_deref(), Some("deepseek"));

        let mut clear = input("deepseek");
        clear.original_id = Some("deepseek".into());
        clear.api_key = None;
        clear.clear_key = true;
        assert_eq!(save(&mut s, clear).unwrap().1.delete, ["deepseek"]);

        delete(&mut s, "deepseek").unwrap();
        assert!(s.providers.is_empty());
    }

    #[test]
    fn invalid_saves_change_nothing() {
        let mut s = Settings::default();
        save(&mut s, input("ds")).unwrap();
        let before = s.clone();
        let mut dup = input("ds");
        dup.api_key = Some("sk-other-key-000000".into());
        let e = save(&mut s, dup).unwrap_err().to_string();
        assert!(e.contains("already exists"), "{e}");
        let mut bad = input("x");
        bad.base_url = "api.deepseek.com".into();
        let e = save(&mut s, bad).unwrap_err().to_string();
        assert!(e.contains("must start with http"), "{e}");
        assert_eq!(s, before);
    }

    #[test]
    fn a_custom_providers_default_model_catches_codexs_names() {
        let mut s = Settings::default();
        let mut custom = input("box");
        custom.preset = Some("custom".into());
        custom.base_url = "http://127.0.0.1:8000/v1".into();
        custom.default_model = Some("my-model".into());
        custom.model_map.clear();
        save(&mut s, custom).unwrap();
        let p = s.provider("box").unwrap();
        assert_eq!(p.upstream_model("gpt-5.5"), "my-model");
    }

    #[test]
    fn duplicate_gets_a_free_id() {
        let mut s = Settings::default();
        save(&mut s, input("ds")).unwrap();
        assert_eq!(duplicate(&mut s, "ds").unwrap(), "ds-2");
        assert_eq!(duplicate(&mut s, "ds").unwrap(), "ds-3");
        assert_eq!(
            s.provider("ds-2").unwrap().base_url,
            "https://api.deepseek.com/v1"
        );
    }
}
