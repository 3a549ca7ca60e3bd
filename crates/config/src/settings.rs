//! The settings model. Serialized as TOML; unknown keys are ignored so that an older
//! Plugboard reads a newer file.

use crate::limits::ServerLimits;
use crate::presets::preset;
pub use crate::wire_api::WireApi;
use plugboard_translate::responses_dialect::ResponsesDialect;
use plugboard_translate::Dialect;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:15731";
pub const SCHEMA_VERSION: u32 = 1;

/// A model map in the order the user listed it (in the file and in the window).
pub type ModelMap = indexmap::IndexMap<String, String>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub version: u32,
    pub listen: String,
    /// The provider that serves every model no route claims.
    pub active_provider: Option<String>,
    #[serde(rename = "provider")]
    pub providers: Vec<Provider>,
    #[serde(rename = "route")]
    pub routes: Vec<Route>,
    /// Price overrides in USD per million tokens, by upstream model (exact or glob).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub prices: BTreeMap<String, Price>,
    /// Days of usage history kept.
    pub usage_retention_days: u32,
    /// The model "saved versus" compares against on the usage page.
    pub compare_model: String,
    /// What the listener allows a peer (timeouts, connection cap, shutdown grace).
    pub server: ServerLimits,
    /// Refuse, before connecting, any provider not on this machine or the local network.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub local_only: bool,
    /// A team gateway's shared parts (`plugboard-proxy serve` only).
    #[serde(skip_serializing_if = "Gateway::is_unset")]
    pub gateway: Gateway,
}

/// Where a gateway's replicas share their state: `[gateway]` in the settings file, or
/// `serve --state` / `--usage-db`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Gateway {
    /// `redis://HOST:PORT[/DB]`: conversations shared by the replicas.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// A usage database shared by the replicas (a file path today).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage_db: Option<String>,
}

impl Gateway {
    pub fn is_unset(&self) -> bool {
        self == &Gateway::default()
    }
}

/// USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Price {
    pub input: f64,
    #[serde(default)]
    pub cached_input: f64,
    pub output: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            version: SCHEMA_VERSION,
            listen: DEFAULT_LISTEN.into(),
            active_provider: None,
            providers: Vec::new(),
            routes: Vec::new(),
            prices: BTreeMap::new(),
            usage_retention_days: 90,
            compare_model: "gpt-5.5".into(),
            server: ServerLimits::default(),
            local_only: false,
            gateway: Gateway::default(),
        }
    }
}

impl Settings {
    pub fn provider(&self, id: &str) -> Option<&Provider> {
        self.providers.iter().find(|p| p.id == id)
    }

    /// The active provider, or the first one when none is chosen.
    pub fn active(&self) -> Option<&Provider> {
        match &self.active_provider {
            Some(id) => self.provider(id),
            None => self.providers.first(),
        }
    }

    /// Which provider serves a model: the first route listed that `matches` it (by index and
    /// route), else the active provider (no route); the provider's index comes back. The one rule both
    /// the proxy (with compiled matchers) and planning (Apply, the catalog) follow.
    pub fn pick(&self, matches: impl Fn(usize, &Route) -> bool) -> Option<(usize, Option<&Route>)> {
        if let Some((i, route)) = self.routes.iter().enumerate().find(|(i, r)| matches(*i, r)) {
            let p = self.providers.iter().position(|p| p.id == route.provider)?;
            return Some((p, Some(&self.routes[i])));
        }
        let active = self.active()?;
        let p = self.providers.iter().position(|p| p.id == active.id)?;
        Some((p, None))
    }

    /// The model a route or provider sends upstream for `model`: the route's own, else the
    /// provider's mapping (`map`).
    pub fn upstream_for(route: Option<&Route>, map: impl FnOnce() -> String) -> String {
        route
            .and_then(|r| r.upstream_model.clone())
            .unwrap_or_else(map)
    }

    /// Problems a user must fix, as sentences naming the field.
    pub fn validate(&self) -> Vec<String> {
        let mut problems = self.server.validate();
        if self.listen.parse::<std::net::SocketAddr>().is_err() {
            problems.push(format!(
                "listen: `{}` is not an address like 127.0.0.1:15731",
                self.listen
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for p in &self.providers {
            if p.id.is_empty()
                || !p
                    .id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                problems.push(format!(
                    "provider `{}`: the id may only hold letters, digits, `-` and `_`",
                    p.id
                ));
            }
            if !seen.insert(p.id.as_str()) {
                problems.push(format!("provider `{}` is defined twice", p.id));
            }
            if !(p.base_url.starts_with("http://") || p.base_url.starts_with("https://")) {
                problems.push(format!(
                    "provider `{}`: base_url `{}` must start with http:// or https://",
                    p.id, p.base_url
                ));
            }
            if let Err(e) = p.dialect() {
                problems.push(format!("provider `{}`: {e}", p.id));
            }
            if let Err(e) = p.responses_dialect() {
                problems.push(format!("provider `{}`: {e}", p.id));
            }
        }
        if let Some(active) = &self.active_provider {
            if self.provider(active).is_none() {
                problems.push(format!(
                    "active_provider `{active}` is not a defined provider"
                ));
            }
        }
        for r in &self.routes {
            if self.provider(&r.provider).is_none() {
                problems.push(format!(
                    "route `{}`: provider `{}` is not defined",
                    r.model, r.provider
                ));
            }
            if let Err(e) = globset::Glob::new(&r.model) {
                problems.push(format!("route `{}`: {e}", r.model));
            }
        }
        problems
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provider {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    pub base_url: String,
    #[serde(default)]
    pub wire_api: WireApi,
    /// Headless use: the environment variable that holds the key. The desktop app keeps
    /// keys in the OS keyring instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Used when a request names no model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_model: Option<String>,
    /// Requested model (exact, or a glob like `gpt-*`) → upstream model, in the order
    /// listed: exact names win, then the first glob listed that matches.
    #[serde(default, skip_serializing_if = "ModelMap::is_empty")]
    pub model_map: ModelMap,
    /// Overrides of the preset's dialect, field by field.
    #[serde(default, skip_serializing_if = "toml::Table::is_empty")]
    pub dialect: toml::Table,
    #[serde(default)]
    pub timeouts: Timeouts,
    /// The context window this provider serves its models with, where it differs from the
    /// model's documented one (a local runtime loads models with less).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_window: Option<u64>,
    /// Whether WebSocket turns reach this provider over a WebSocket of its own (a Responses
    /// provider that serves one); unset, as its preset says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub websocket: Option<bool>,
    /// Overrides of the preset's Responses dialect (the pass-through's repairs), field by field.
    #[serde(default, skip_serializing_if = "toml::Table::is_empty")]
    pub responses_dialect: toml::Table,
}

/// A provider's `dialect` or `responses_dialect` table that does not fit its type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{table}: {reason}")]
pub struct OverrideError {
    /// `dialect` or `responses_dialect`.
    pub table: &'static str,
    pub reason: String,
}

/// `base` with the fields of `overrides` put over it.
fn with_overrides<T: Serialize + serde::de::DeserializeOwned>(
    base: T,
    overrides: &toml::Table,
    table_name: &'static str,
) -> Result<T, OverrideError> {
    if overrides.is_empty() {
        return Ok(base);
    }
    let refused = |reason: String| OverrideError {
        table: table_name,
        reason,
    };
    let mut table = toml::Table::try_from(&base).map_err(|e| refused(e.to_string()))?;
    for (k, v) in overrides {
        table.insert(k.clone(), v.clone());
    }
    table
        .try_into()
        .map_err(|e: toml::de::Error| refused(e.message().to_string()))
}

impl Provider {
    /// A provider from a preset, with the preset's defaults. Chat providers with a default
    /// model also map `gpt-*` to it: Codex asks for model slugs it knows (they get the full
    /// tool set, `apply_patch` included), and those must reach a model the provider has.
    pub fn from_preset(id: &str, preset_id: &str) -> Option<Provider> {
        let p = preset(preset_id)?;
        let mut model_map = ModelMap::new();
        if let (WireApi::Chat, Some(m)) = (p.wire_api, p.default_model) {
            model_map.insert("gpt-*".to_string(), m.to_string());
        }
        Some(Provider {
            id: id.to_string(),
            name: p.name.to_string(),
            preset: Some(p.id.to_string()),
            base_url: p.base_url.to_string(),
            wire_api: p.wire_api,
            api_key_env: p.key_env.map(str::to_string),
            headers: BTreeMap::new(),
            default_model: p.default_model.map(str::to_string),
            model_map,
            dialect: toml::Table::new(),
            timeouts: Timeouts::default(),
            context_window: None,
            websocket: None,
            responses_dialect: toml::Table::new(),
        })
    }

    /// The preset's dialect with this provider's overrides on top.
    pub fn dialect(&self) -> Result<Dialect, OverrideError> {
        let base = self
            .preset
            .as_deref()
            .and_then(preset)
            .map(|p| (p.dialect)())
            .unwrap_or_default();
        with_overrides(base, &self.dialect, "dialect")
    }

    /// What this provider's Responses API lacks: the preset's (a provider with no preset is
    /// taken as the `custom` preset's unknown server) with this provider's overrides on top.
    pub fn responses_dialect(&self) -> Result<ResponsesDialect, OverrideError> {
        let base = self
            .preset
            .as_deref()
            .and_then(preset)
            .or_else(|| preset("custom"))
            .map(|p| (p.responses_dialect)())
            .unwrap_or_default();
        with_overrides(base, &self.responses_dialect, "responses_dialect")
    }

    /// The upstream model for a requested one: the model map (exact first, then globs in
    /// order), else the name itself, else the default model.
    pub fn upstream_model(&self, requested: &str) -> String {
        ModelMapper::new(self).map(requested)
    }
}

/// A provider's model map with its globs compiled once (compiling a glob costs far more than
/// matching it, so the proxy keeps one of these per provider).
#[derive(Debug, Clone)]
pub struct ModelMapper {
    exact: ModelMap,
    globs: Vec<(globset::GlobMatcher, String)>,
    default_model: Option<String>,
}

impl ModelMapper {
    pub fn new(p: &Provider) -> Self {
        let globs = p
            .model_map
            .iter()
            .filter_map(|(pattern, target)| {
                Some((
                    globset::Glob::new(pattern).ok()?.compile_matcher(),
                    target.clone(),
                ))
            })
            .collect();
        Self {
            exact: p.model_map.clone(),
            globs,
            default_model: p.default_model.clone(),
        }
    }

    pub fn map(&self, requested: &str) -> String {
        if let Some(m) = self.exact.get(requested) {
            return m.clone();
        }
        if let Some((_, target)) = self.globs.iter().find(|(g, _)| g.is_match(requested)) {
            return target.clone();
        }
        if requested.is_empty() {
            return self.default_model.clone().unwrap_or_default();
        }
        requested.to_string()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Timeouts {
    pub connect_secs: u64,
    /// Until the response headers arrive.
    pub first_byte_secs: u64,
    /// Longest silence inside a stream.
    pub idle_secs: u64,
    /// Longest whole stream: a stream that never ends is cut with `response.failed`.
    pub max_stream_secs: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect_secs: 10,
            first_byte_secs: 300,
            idle_secs: 300,
            max_stream_secs: 3600,
        }
    }
}

/// A model name (exact or glob) served by a given provider, first match wins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Route {
    pub model: String,
    pub provider: String,
    /// The model sent upstream; by default the provider's mapping of the requested name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_model: Option<String>,
    /// Providers tried in order when this one cannot answer (connect error, timeout before
    /// the first byte, 5xx, 429); each gets its own mapping of the requested name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallbacks: Vec<String>,
    /// The context window Codex plans with for this route's name (Apply to Codex writes
    /// it into Codex's model catalog).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_window: Option<u64>,
    /// Only for requests Codex marks as a subagent's (`x-openai-subagent`): the executor of a
    /// "plan with one model, execute with another" set-up.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub subagent: bool,
}

impl Route {
    /// A route for `model` (exact or glob) to `provider`, with nothing else set.
    pub fn new(model: &str, provider: &str) -> Route {
        Route {
            model: model.into(),
            provider: provider.into(),
            upstream_model: None,
            fallbacks: Vec::new(),
            context_window: None,
            subagent: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_map_exact_then_glob_then_name() {
        let mut p = Provider::from_preset("ds", "deepseek").unwrap();
        p.model_map.insert("gpt-*".into(), "deepseek-chat".into());
        p.model_map
            .insert("gpt-5.5-think".into(), "deepseek-reasoner".into());
        assert_eq!(p.upstream_model("gpt-5.5-think"), "deepseek-reasoner");
        assert_eq!(p.upstream_model("gpt-5.5"), "deepseek-chat");
        assert_eq!(p.upstream_model("deepseek-reasoner"), "deepseek-reasoner");
        assert_eq!(p.upstream_model(""), "deepseek-chat");
    }

    #[test]
    fn the_first_glob_listed_wins_in_file_order() {
        let file = |map: &str| {
            toml::from_str::<Settings>(&format!(
                "[[provider]]\nid = \"p\"\nbase_url = \"http://x/v1\"\nmodel_map = {{ {map} }}\n"
            ))
            .unwrap()
            .providers
            .remove(0)
        };
        let p = file(r#""gpt-5*" = "A", "gpt-*" = "B""#);
        assert_eq!(p.upstream_model("gpt-5.5"), "A");
        assert_eq!(p.upstream_model("gpt-4o"), "B");
        let p = file(r#""gpt-*" = "B", "gpt-5*" = "A""#);
        assert_eq!(
            p.upstream_model("gpt-5.5"),
            "B",
            "listed first, matched first"
        );
        let p = file(r#""gpt-*" = "B", "gpt-5.5" = "exact""#);
        assert_eq!(
            p.upstream_model("gpt-5.5"),
            "exact",
            "an exact name beats any glob"
        );
        // Written back in the same order.
        let text = toml::to_string(&Settings {
            providers: vec![file(r#""z-*" = "1", "a-*" = "2""#)],
            ..Settings::default()
        })
        .unwrap();
        assert!(
            text.find("z-*").unwrap() < text.find("a-*").unwrap(),
            "{text}"
        );
    }

    #[test]
    fn dialect_overrides_apply_on_top_of_the_preset() {
        let mut p = Provider::from_preset("ds", "deepseek").unwrap();
        p.dialect.insert("stream_usage".into(), false.into());
        let d = p.dialect().unwrap();
        assert!(!d.stream_usage);
        assert!(d.reasoning_echo, "kept from the preset");
        p.dialect.insert("no_such_switch".into(), true.into());
        assert!(p.dialect().is_err());
    }

    #[test]
    fn validation_names_the_problem() {
        let mut s = Settings::default();
        s.providers
            .push(Provider::from_preset("a", "ollama").unwrap());
        s.providers
            .push(Provider::from_preset("a", "ollama").unwrap());
        s.providers[1].base_url = "localhost:11434".into();
        s.active_provider = Some("zzz".into());
        s.routes.push(Route {
            model: "x".into(),
            provider: "nope".into(),
            upstream_model: None,
            fallbacks: Vec::new(),
            context_window: None,
            subagent: false,
        });
        let p = s.validate().join("\n");
        assert!(p.contains("defined twice"), "{p}");
        assert!(p.contains("must start with http"), "{p}");
        assert!(p.contains("active_provider `zzz`"), "{p}");
        assert!(p.contains("provider `nope` is not defined"), "{p}");
    }
}
