//! Pure text → text edits of Codex's config files.

use crate::{CodexConfigError, PROVIDER_ID};
use toml_edit::{value, DocumentMut, Item, Table};

/// Codex's key for a model catalog file that replaces its bundled one.
pub const CATALOG_KEY: &str = "model_catalog_json";

#[derive(Debug, Clone, PartialEq)]
pub struct AttachOptions {
    /// `http://127.0.0.1:PORT/v1`.
    pub base_url: String,
    /// Also make Plugboard Codex's default provider (`model_provider = "plugboard"`).
    pub make_default: bool,
    /// With `make_default`: the model Codex asks for.
    pub model: Option<String>,
    /// Plugboard's model catalog file, set as Codex's `model_catalog_json`.
    pub model_catalog: Option<String>,
    /// Codex is logged in with ChatGPT and Plugboard relays that login: Codex's own `openai`
    /// provider is pointed at Plugboard (`openai_base_url`) instead of adding a provider, so
    /// the user keeps their login and their plan.
    pub chatgpt_relay: bool,
    /// The model Codex's subagents use unless a spawn names one (`[agents]
    /// default_subagent_model`): the executor of a "plan with one, execute with another" set-up.
    pub subagent_model: Option<String>,
}

const AGENTS: &str = "agents";
const SUBAGENT_MODEL: &str = "default_subagent_model";

fn set_subagent_model(doc: &mut DocumentMut, model: &str) {
    let agents = doc
        .entry(AGENTS)
        .or_insert_with(|| Item::Table(Table::new()));
    if let Some(t) = agents.as_table_mut() {
        set_keeping_decor(t, SUBAGENT_MODEL, model);
    }
}

/// Codex's key for its built-in provider's address.
pub const OPENAI_BASE_URL_KEY: &str = "openai_base_url";

/// Where Plugboard serves Codex's built-in provider, from Plugboard's `/v1` address.
pub fn relay_url(base_url: &str) -> String {
    let root = base_url.trim_end_matches('/');
    format!("{}/codex", root.strip_suffix("/v1").unwrap_or(root))
}

/// Whether an `openai_base_url` is Plugboard's relay: a loopback address ending in `/codex`.
pub fn is_relay_url(url: &str) -> bool {
    let local = ["http://127.", "http://localhost:", "http://[::1]:"]
        .iter()
        .any(|p| url.starts_with(p));
    local && url.trim_end_matches('/').ends_with("/codex")
}

fn parse(path: &str, text: &str) -> Result<DocumentMut, CodexConfigError> {
    text.parse::<DocumentMut>()
        .map_err(|e| CodexConfigError::Parse {
            path: path.into(),
            message: e.to_string(),
        })
}

/// Replaces a value, keeping the comments and spacing around it.
fn set_keeping_decor(table: &mut Table, key: &str, new: impl Into<toml_edit::Value> + Clone) {
    match table.get_mut(key).and_then(Item::as_value_mut) {
        Some(v) => {
            let decor = v.decor().clone();
            *v = new.into();
            *v.decor_mut() = decor;
        }
        None => {
            table.insert(key, value(new));
        }
    }
}

/// `current` with Plugboard's provider table added or updated (other keys of that table,
/// such as a user's `stream_idle_timeout_ms`, are kept).
pub fn attach_text(
    path: &str,
    current: &str,
    opts: &AttachOptions,
) -> Result<String, CodexConfigError> {
    let mut doc = parse(path, current)?;
    if let Some(m) = &opts.subagent_model {
        set_subagent_model(&mut doc, m);
    }
    if opts.chatgpt_relay {
        // Codex's own provider, login and model stay; only its address is Plugboard's.
        set_keeping_decor(
            doc.as_table_mut(),
            OPENAI_BASE_URL_KEY,
            relay_url(&opts.base_url),
        );
        return Ok(doc.to_string());
    }
    let providers = doc
        .entry("model_providers")
        .or_insert_with(|| {
            let mut t = Table::new();
            t.set_implicit(true);
            Item::Table(t)
        })
        .as_table_mut()
        .ok_or_else(|| CodexConfigError::NotATable {
            path: path.into(),
            key: "model_providers".into(),
        })?;
    let ours = providers
        .entry(PROVIDER_ID)
        .or_insert_with(|| Item::Table(Table::new()))
        .as_table_mut()
        .ok_or_else(|| CodexConfigError::NotATable {
            path: path.into(),
            key: format!("model_providers.{PROVIDER_ID}"),
        })?;
    set_keeping_decor(ours, "name", "Plugboard");
    set_keeping_decor(ours, "base_url", &opts.base_url);
    set_keeping_decor(ours, "wire_api", "responses");
    // Plugboard answers Codex's WebSocket transport (one connection per session, each turn
    // sending only its new items).
    set_keeping_decor(ours, "supports_websockets", true);
    if let Some(path) = &opts.model_catalog {
        set_keeping_decor(doc.as_table_mut(), CATALOG_KEY, path);
    }
    if opts.make_default {
        let root = doc.as_table_mut();
        set_keeping_decor(root, "model_provider", PROVIDER_ID);
        if let Some(m) = &opts.model {
            set_keeping_decor(root, "model", m);
        }
    }
    Ok(doc.to_string())
}

/// `current` without Plugboard's table; `model_provider` and `model` go back to what
/// `original` (the user's file before the first attach) had, where Plugboard had set them,
/// and so does `model_catalog_json` where it names `our_catalog`.
pub fn detach_text(
    path: &str,
    current: &str,
    original: &str,
    our_catalog: &str,
) -> Result<String, CodexConfigError> {
    let mut doc = parse(path, current)?;
    let before = parse(path, original)?;
    let mut drop_providers = false;
    if let Some(providers) = doc.get_mut("model_providers").and_then(Item::as_table_mut) {
        providers.remove(PROVIDER_ID);
        drop_providers = providers.is_empty() && before.get("model_providers").is_none();
    }
    if drop_providers {
        doc.remove("model_providers");
    }
    let mut ours: Vec<&str> = Vec::new();
    if doc.get("model_provider").and_then(Item::as_str) == Some(PROVIDER_ID) {
        ours.extend(["model_provider", "model"]);
    }
    if doc.get(CATALOG_KEY).and_then(Item::as_str) == Some(our_catalog) {
        ours.push(CATALOG_KEY);
    }
    if doc
        .get(OPENAI_BASE_URL_KEY)
        .and_then(Item::as_str)
        .is_some_and(is_relay_url)
    {
        ours.push(OPENAI_BASE_URL_KEY);
    }
    // The subagent model goes back to what the user's file had.
    let before_sub = before
        .get(AGENTS)
        .and_then(|a| a.get(SUBAGENT_MODEL))
        .cloned();
    let now_sub = doc.get(AGENTS).and_then(|a| a.get(SUBAGENT_MODEL)).cloned();
    if now_sub.as_ref().map(|i| i.to_string()) != before_sub.as_ref().map(|i| i.to_string()) {
        if let Some(agents) = doc.get_mut(AGENTS).and_then(Item::as_table_mut) {
            match before_sub {
                Some(item) => {
                    agents.insert(SUBAGENT_MODEL, item);
                }
                None => {
                    agents.remove(SUBAGENT_MODEL);
                }
            }
            if agents.is_empty() && before.get(AGENTS).is_none() {
                doc.remove(AGENTS);
            }
        }
    }
    for key in ours {
        match before.get(key) {
            Some(item) => {
                doc.insert(key, item.clone());
                // Keep the original's exact key formatting too.
                if let (Some(mut k), Some(orig)) = (doc.key_mut(key), before.key(key)) {
                    *k.leaf_decor_mut() = orig.leaf_decor().clone();
                }
            }
            None => {
                doc.remove(key);
            }
        }
    }
    Ok(doc.to_string())
}

/// A profile file for `codex -p NAME`: Plugboard as provider, the route's model name.
pub fn profile_text(model: &str, context_window: Option<u64>) -> String {
    let mut doc = DocumentMut::new();
    doc.insert("model_provider", value(PROVIDER_ID));
    doc.insert("model", value(model));
    if let Some(w) = context_window {
        doc.insert("model_context_window", value(w as i64));
    }
    format!("# Written by Plugboard for `codex -p` (Plugboard rewrites this file).\n{doc}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER: &str = r#"# My Codex settings
model = "o3"   # the one I like
model_provider = "openai"

approval_policy = "on-request"

[model_providers.ollama-remote]
# my box in the closet
name = "Ollama (closet)"
base_url = "http://closet:11434/v1"

[mcp_servers.docs]
command = "docs-mcp"
args = ["--port", "9000"]   # fixed port
"#;

    const CAT: &str = "/h/.codex/plugboard-models.json";

    fn opts(make_default: bool) -> AttachOptions {
        AttachOptions {
            base_url: "http://127.0.0.1:15731/v1".into(),
            make_default,
            model: Some("gpt-5.5".into()),
            model_catalog: None,
            chatgpt_relay: false,
            subagent_model: None,
        }
    }

    #[test]
    fn attach_adds_only_our_table_and_keeps_everything_else() {
        let out = attach_text("config.toml", USER, &opts(false)).unwrap();
        // Next to the user's other providers; everything else is untouched.
        let ours = "[model_providers.plugboard]\nname = \"Plugboard\"\nbase_url = \"http://127.0.0.1:15731/v1\"\nwire_api = \"responses\"\nsupports_websockets = true\n";
        assert!(out.contains(ours), "{out}");
        assert_eq!(out.replacen(&format!("\n{ours}"), "", 1), USER);
    }

    #[test]
    fn attach_as_default_then_detach_restores_the_file_byte_for_byte() {
        let attached = attach_text("config.toml", USER, &opts(true)).unwrap();
        assert!(
            attached.contains("model = \"gpt-5.5\"   # the one I like"),
            "{attached}"
        );
        assert!(attached.contains("model_provider = \"plugboard\""));
        let detached = detach_text("config.toml", &attached, USER, CAT).unwrap();
        assert_eq!(detached, USER);
    }

    #[test]
    fn a_subagent_model_is_written_and_taken_back() {
        let opts = AttachOptions {
            subagent_model: Some("deepseek-chat".into()),
            ..opts(true)
        };
        let attached = attach_text("config.toml", USER, &opts).unwrap();
        assert!(
            attached.contains("[agents]\ndefault_subagent_model = \"deepseek-chat\""),
            "{attached}"
        );
        assert_eq!(
            attach_text("config.toml", &attached, &opts).unwrap(),
            attached
        );
        let detached = detach_text("config.toml", &attached, USER, CAT).unwrap();
        assert_eq!(detached, USER);
        // A user's own [agents] table keeps its other keys and gets its own model back.
        let own = format!("{USER}\n[agents]\nmax_threads = 4\ndefault_subagent_model = \"o3\"\n");
        let attached = attach_text("config.toml", &own, &opts).unwrap();
        assert!(attached.contains("default_subagent_model = \"deepseek-chat\""));
        assert_eq!(
            detach_text("config.toml", &attached, &own, CAT).unwrap(),
            own
        );
    }

    #[test]
    fn attach_is_idempotent_and_updates_the_port() {
        let once = attach_text("c", USER, &opts(true)).unwrap();
        assert_eq!(attach_text("c", &once, &opts(true)).unwrap(), once);
        let moved = attach_text(
            "c",
            &once,
            &AttachOptions {
                base_url: "http://127.0.0.1:9999/v1".into(),
                ..opts(true)
            },
        )
        .unwrap();
        assert!(moved.contains("http://127.0.0.1:9999/v1") && !moved.contains("15731"));
    }

    #[test]
    fn empty_or_missing_file() {
        let out = attach_text("c", "", &opts(true)).unwrap();
        assert!(
            out.starts_with("model_provider = \"plugboard\"\nmodel = \"gpt-5.5\"\n"),
            "{out}"
        );
        assert_eq!(detach_text("c", &out, "", CAT).unwrap(), "");
    }

    #[test]
    fn a_user_choice_made_after_attaching_is_kept_on_detach() {
        let attached = attach_text("c", USER, &opts(true)).unwrap();
        let changed = attached.replace(
            "model_provider = \"plugboard\"",
            "model_provider = \"ollama-remote\"",
        );
        let detached = detach_text("c", &changed, USER, CAT).unwrap();
        assert!(detached.contains("model_provider = \"ollama-remote\""));
        assert!(!detached.contains("plugboard"));
    }

    #[test]
    fn invalid_toml_is_refused_not_overwritten() {
        let e = attach_text("/h/config.toml", "model = [", &opts(false))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("/h/config.toml") && e.contains("leaves it alone"),
            "{e}"
        );
        let e = attach_text("c", "model_providers = 5", &opts(false))
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a table"), "{e}");
    }

    #[test]
    fn the_catalog_is_set_and_the_users_own_comes_back_on_detach() {
        let with_catalog = AttachOptions {
            model_catalog: Some(CAT.into()),
            chatgpt_relay: false,
            subagent_model: None,
            ..opts(true)
        };
        let out = attach_text("c", "", &with_catalog).unwrap();
        assert!(
            out.contains(&format!("model_catalog_json = \"{CAT}\"")),
            "{out}"
        );
        assert_eq!(detach_text("c", &out, "", CAT).unwrap(), "");

        let user = "model_catalog_json = \"/mine.json\" # my models\n";
        let out = attach_text("c", user, &with_catalog).unwrap();
        assert!(out.contains(CAT) && out.contains("# my models"), "{out}");
        assert_eq!(detach_text("c", &out, user, CAT).unwrap(), user);
        // Set by the user since: theirs, kept.
        let changed = out.replace(CAT, "/other.json");
        assert!(detach_text("c", &changed, user, CAT)
            .unwrap()
            .contains("/other.json"));
    }

    #[test]
    fn profile_files() {
        assert_eq!(
            profile_text("deepseek-chat", Some(128000)),
            "# Written by Plugboard for `codex -p` (Plugboard rewrites this file).\nmodel_provider = \"plugboard\"\nmodel = \"deepseek-chat\"\nmodel_context_window = 128000\n"
        );
    }
}
