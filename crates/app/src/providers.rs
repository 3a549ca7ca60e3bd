//! Provider editing as the settings window does it: views with masked keys, save (with a
//! new key, a rename, or neither), delete (with its key), duplicate, presets.

use crate::key_vault::KeyVault;
use crate::AppError;
use plugboard_config::{preset, Provider, Settings, WireApi, PRESETS};
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
    pub active: bool,
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

pub fn view(settings: &Settings, p: &Provider, vault: &dyn KeyVault) -> ProviderView {
    let key_mask = vault
        .get(&p.id)
        .ok()
        .flatten()
        .map(|k| plugboard_keys::mask(&k));
    ProviderView {
        id: p.id.clone(),
        name: if p.name.is_empty() {
            p.id.clone()
        } else {
            p.name.clone()
        },
        preset: p.preset.clone(),
        base_url: p.base_url.clone(),
        wire_api: p.wire_api,
        default_model: p.default_model.clone(),
        model_map: p.model_map.clone(),
        needs_key: p
            .preset
            .as_deref()
            .and_then(preset)
            .map(|pr| pr.needs_key)
            .unwrap_or(true),
        key_mask,
        active: settings.active().map(|a| a.id == p.id).unwrap_or(false),
    }
}

fn clean(s: Option<String>) -> Option<String> {
    s.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// Applies a save to `settings` and the vault. Settings are validated before any key moves,
/// so a rejected save changes nothing.
pub fn save(
    settings: &mut Settings,
    input: ProviderInput,
    vault: &dyn KeyVault,
) -> Result<String, AppError> {
    let id = input.id.trim().to_string();
    let original = input.original_id.clone().filter(|o| !o.is_empty());
    let mut next = settings.clone();
    let base = match &original {
        Some(o) => next
            .provider(o)
            .cloned()
            .ok_or_else(|| AppError::Invalid(format!("provider `{o}` no longer exists")))?,
        None => match input.preset.as_deref() {
            Some(pid) => Provider::from_preset(&id, pid)
                .ok_or_else(|| AppError::Invalid(format!("unknown preset `{pid}`")))?,
            None => Provider::from_preset(&id, "custom").expect("custom preset"),
        },
    };
    if original.as_deref() != Some(id.as_str()) && next.provider(&id).is_some() {
        return Err(AppError::Invalid(format!(
            "a provider with the id `{id}` already exists: choose another id"
        )));
    }
    let mut p = base;
    p.id = id.clone();
    p.name = input.name.trim().to_string();
    p.preset = clean(input.preset).or(p.preset);
    p.base_url = input.base_url.trim().to_string();
    p.wire_api = input.wire_api;
    p.default_model = clean(input.default_model);
    p.model_map = input
        .model_map
        .into_iter()
        .filter(|(k, v)| !k.trim().is_empty() && !v.trim().is_empty())
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
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
        return Err(AppError::Invalid(problems.join("\n")));
    }
    // Keys: a new one replaces, a rename moves, a clear deletes.
    let typed = clean(input.api_key);
    if let Some(k) = &typed {
        vault.set(&id, k)?;
    } else if let Some(o) = original.as_deref().filter(|o| *o != id) {
        if let Some(k) = vault.get(o)? {
            vault.set(&id, &k)?;
        }
    }
    if let Some(o) = original.as_deref().filter(|o| *o != id) {
        vault.delete(o)?;
    }
    if input.clear_key && typed.is_none() {
        vault.delete(&id)?;
    }
    *settings = next;
    Ok(id)
}

/// Removes a provider, its key, and the routes that used it.
pub fn delete(settings: &mut Settings, id: &str, vault: &dyn KeyVault) -> Result<(), AppError> {
    if settings.provider(id).is_none() {
        return Err(AppError::Invalid(format!("provider `{id}` does not exist")));
    }
    vault.delete(id)?;
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
        .ok_or_else(|| AppError::Invalid(format!("provider `{id}` does not exist")))?;
    let new_id = (2..)
        .map(|n| format!("{id}-{n}"))
        .find(|c| settings.provider(c).is_none())
        .expect("a free id exists");
    copy.id = new_id.clone();
    copy.name = format!(
        "{} (copy)",
        if copy.name.is_empty() { id } else { &copy.name }
    );
    settings.providers.push(copy);
    Ok(new_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key_vault::MemoryVault;

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
    fn add_rename_and_delete_move_the_key_with_the_provider() {
        let vault = MemoryVault::default();
        let mut s = Settings::default();
        save(&mut s, input("ds"), &vault).unwrap();
        assert_eq!(
            s.active_provider.as_deref(),
            Some("ds"),
            "the first provider becomes active"
        );
        let v = view(&s, s.provider("ds").unwrap(), &vault);
        assert_eq!(v.key_mask.as_deref(), Some("sk-••••mnop"));
        assert!(v.active);

        let mut rename = input("deepseek");
        rename.original_id = Some("ds".into());
        rename.api_key = None;
        save(&mut s, rename, &vault).unwrap();
        assert_eq!(
            vault.get("deepseek").unwrap().as_deref(),
            Some("sk-abcdefghijklmnop")
        );
        assert_eq!(vault.get("ds").unwrap(), None);
        assert_eq!(s.active_provider.as_deref(), Some("deepseek"));

        delete(&mut s, "deepseek", &vault).unwrap();
        assert_eq!(
            vault.get("deepseek").unwrap(),
            None,
            "deleting a provider deletes its key"
        );
        assert!(s.providers.is_empty());
    }

    #[test]
    fn invalid_saves_change_nothing() {
        let vault = MemoryVault::default();
        let mut s = Settings::default();
        save(&mut s, input("ds"), &vault).unwrap();
        let before = s.clone();
        let mut dup = input("ds");
        dup.api_key = Some("sk-other-key-000000".into());
        let e = save(&mut s, dup, &vault).unwrap_err().to_string();
        assert!(e.contains("already exists"), "{e}");
        let mut bad = input("x");
        bad.base_url = "api.deepseek.com".into();
        let e = save(&mut s, bad, &vault).unwrap_err().to_string();
        assert!(e.contains("must start with http"), "{e}");
        assert_eq!(s, before);
        assert_eq!(
            vault.get("ds").unwrap().as_deref(),
            Some("sk-abcdefghijklmnop")
        );
        assert_eq!(vault.get("x").unwrap(), None);
    }

    #[test]
    fn duplicate_gets_a_free_id_and_no_key() {
        let vault = MemoryVault::default();
        let mut s = Settings::default();
        save(&mut s, input("ds"), &vault).unwrap();
        assert_eq!(duplicate(&mut s, "ds").unwrap(), "ds-2");
        assert_eq!(duplicate(&mut s, "ds").unwrap(), "ds-3");
        assert_eq!(vault.get("ds-2").unwrap(), None);
        assert_eq!(
            s.provider("ds-2").unwrap().base_url,
            "https://api.deepseek.com/v1"
        );
    }
}
