//! Which provider serves a model: routes (exact or glob, first match) else the active one.

use plugboard_config::{Provider, Route, Settings};
use plugboard_translate::responses_dialect::ResponsesDialect;
use plugboard_translate::Dialect;
use std::sync::Arc;

/// What a request says of itself beyond its model name, for routes that match on it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Signals {
    /// Codex marked it as a subagent's (`x-openai-subagent`).
    pub subagent: bool,
}

impl Signals {
    pub fn of(headers: &axum::http::HeaderMap) -> Signals {
        Signals {
            subagent: headers.contains_key("x-openai-subagent"),
        }
    }
}

/// Settings compiled for routing: glob matchers and one HTTP client per provider.
pub struct RouteTable {
    settings: Arc<Settings>,
    routes: Vec<globset::GlobMatcher>,
    clients: Vec<reqwest::Client>,
    /// An HTTP/1.1 client for the providers WebSocket turns reach over a WebSocket.
    websocket_clients: Vec<Option<reqwest::Client>>,
    /// Each provider's model map, compiled once.
    mappers: Vec<plugboard_config::ModelMapper>,
    /// Whether each provider's address is local on its face, read once (the usage history's
    /// "stayed local" mark).
    local: Vec<bool>,
    /// Each provider's dialect, its preset's with the user's overrides merged once.
    dialects: Vec<Dialect>,
    /// Each provider's Responses dialect (the pass-through's repairs), merged once.
    responses_dialects: Vec<ResponsesDialect>,
}

/// Where a request goes.
pub struct Target<'a> {
    pub provider: &'a Provider,
    pub client: &'a reqwest::Client,
    /// For a provider WebSocket turns reach over a WebSocket: the client that opens it.
    pub websocket_client: Option<&'a reqwest::Client>,
    pub upstream_model: String,
    /// The route pattern that matched, if any.
    pub route: Option<&'a str>,
    /// The provider's address is local on its face (no lookup).
    pub local: bool,
    pub dialect: &'a Dialect,
    pub responses_dialect: &'a ResponsesDialect,
}

/// Settings the proxy cannot serve with; the proxy keeps the ones it has.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SettingsError {
    #[error("{}", .0.join("; "))]
    Invalid(Vec<String>),
    #[error("route `{pattern}`: {reason}")]
    Route { pattern: String, reason: String },
    #[error("provider `{id}`: {reason}")]
    Provider { id: String, reason: String },
}

impl RouteTable {
    pub fn new(settings: Settings) -> Result<Self, SettingsError> {
        Self::with_resolver(settings, Arc::new(crate::local_only::SystemResolver))
    }

    /// With local-only on, each provider's client resolves names through `resolver`, keeping
    /// only local addresses.
    pub fn with_resolver(
        settings: Settings,
        resolver: Arc<dyn crate::local_only::HostResolver>,
    ) -> Result<Self, SettingsError> {
        let dns = settings
            .local_only
            .then(|| Arc::new(crate::local_only::LocalOnlyDns(resolver)));
        let problems = settings.validate();
        if !problems.is_empty() {
            return Err(SettingsError::Invalid(problems));
        }
        let refused = |p: &Provider, e: &dyn std::fmt::Display| SettingsError::Provider {
            id: p.id.clone(),
            reason: e.to_string(),
        };
        let routes = settings
            .routes
            .iter()
            .map(|r| {
                globset::Glob::new(&r.model)
                    .map(|g| g.compile_matcher())
                    .map_err(|e| SettingsError::Route {
                        pattern: r.model.clone(),
                        reason: e.to_string(),
                    })
            })
            .collect::<Result<_, _>>()?;
        let clients = settings
            .providers
            .iter()
            .map(|p| crate::upstream::client(p, dns.clone()).map_err(|e| refused(p, &e)))
            .collect::<Result<_, _>>()?;
        let websocket_clients = settings
            .providers
            .iter()
            .map(|p| {
                p.relays_websocket()
                    .then(|| crate::upstream::websocket_client(p, dns.clone()))
                    .transpose()
                    .map_err(|e| refused(p, &e))
            })
            .collect::<Result<_, _>>()?;
        let mappers = settings
            .providers
            .iter()
            .map(plugboard_config::ModelMapper::new)
            .collect();
        let local = settings
            .providers
            .iter()
            .map(Provider::address_is_local)
            .collect();
        let dialects = settings
            .providers
            .iter()
            .map(|p| p.dialect().map_err(|e| refused(p, &e)))
            .collect::<Result<_, _>>()?;
        let responses_dialects = settings
            .providers
            .iter()
            .map(|p| p.responses_dialect().map_err(|e| refused(p, &e)))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            settings: Arc::new(settings),
            routes,
            clients,
            websocket_clients,
            mappers,
            local,
            dialects,
            responses_dialects,
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The HTTP client compiled for provider `id` (local-only resolution included).
    pub fn client_for(&self, id: &str) -> Option<reqwest::Client> {
        let i = self.settings.providers.iter().position(|p| p.id == id)?;
        Some(self.clients[i].clone())
    }

    /// The `i`-th provider as a target, with what was compiled for it.
    fn target<'a>(
        &'a self,
        i: usize,
        provider: &'a Provider,
        upstream_model: String,
        route: Option<&'a str>,
    ) -> Target<'a> {
        Target {
            provider,
            client: &self.clients[i],
            websocket_client: self.websocket_clients[i].as_ref(),
            upstream_model,
            route,
            local: self.local[i],
            dialect: &self.dialects[i],
            responses_dialect: &self.responses_dialects[i],
        }
    }

    /// The provider and route for a request: routes for subagents only when it is one.
    fn pick(&self, model: &str, signals: Signals) -> Option<(usize, Option<&Route>)> {
        self.settings.pick(|r, route| {
            (!route.subagent || signals.subagent) && self.routes[r].is_match(model)
        })
    }

    pub fn resolve(&self, model: &str, signals: Signals) -> Option<Target<'_>> {
        let (i, route) = self.pick(model, signals)?;
        let upstream_model = Settings::upstream_for(route, || self.mappers[i].map(model));
        Some(self.target(
            i,
            &self.settings.providers[i],
            upstream_model,
            route.map(|r| r.model.as_str()),
        ))
    }

    /// The target, then the route's fallbacks (with their own model mapping).
    pub fn resolve_chain(&self, model: &str, signals: Signals) -> Vec<Target<'_>> {
        let Some(first) = self.resolve(model, signals) else {
            return Vec::new();
        };
        let fallbacks: Vec<&str> = self
            .pick(model, signals)
            .and_then(|(_, route)| route)
            .map(|r| r.fallbacks.iter().map(String::as_str).collect())
            .unwrap_or_default();
        let mut chain = vec![first];
        for id in fallbacks {
            if let Some(i) = self.settings.providers.iter().position(|p| p.id == id) {
                let provider = &self.settings.providers[i];
                let route = chain[0].route;
                chain.push(self.target(i, provider, self.mappers[i].map(model), route));
            }
        }
        chain
    }

    /// Model names a client can pick: exact route names, then each provider's exact model
    /// map keys and default model.
    pub fn model_names(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        let mut push = |name: &str, owner: &str| {
            if !name.is_empty()
                && !plugboard_config::is_glob(name)
                && !out.iter().any(|(n, _)| n == name)
            {
                out.push((name.to_string(), owner.to_string()));
            }
        };
        for r in &self.settings.routes {
            push(&r.model, &r.provider);
        }
        for p in &self.settings.providers {
            // Mapped names, and the provider's own names they map to (asked for directly,
            // they pass through unchanged).
            for (k, v) in &p.model_map {
                push(k, &p.id);
                push(v, &p.id);
            }
            if let Some(m) = &p.default_model {
                push(m, &p.id);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        let mut s = Settings::default();
        let mut ds = Provider::from_preset("deepseek", "deepseek").unwrap();
        ds.model_map.insert("gpt-*".into(), "deepseek-chat".into());
        s.providers.push(ds);
        s.providers
            .push(Provider::from_preset("openai", "openai").unwrap());
        s.providers
            .push(Provider::from_preset("local", "ollama").unwrap());
        s.active_provider = Some("deepseek".into());
        s.routes.push(Route {
            model: "gpt-5.2-codex".into(),
            provider: "openai".into(),
            upstream_model: None,
            fallbacks: Vec::new(),
            context_window: None,
            subagent: false,
        });
        s.routes.push(Route {
            model: "local-*".into(),
            provider: "local".into(),
            upstream_model: Some("qwen3-coder:30b".into()),
            fallbacks: Vec::new(),
            context_window: None,
            subagent: false,
        });
        s
    }

    #[test]
    fn routes_in_order_then_active_provider() {
        let t = RouteTable::new(settings()).unwrap();
        let a = t.resolve("gpt-5.2-codex", Signals::default()).unwrap();
        assert_eq!(
            (a.provider.id.as_str(), a.upstream_model.as_str(), a.route),
            ("openai", "gpt-5.2-codex", Some("gpt-5.2-codex"))
        );
        let b = t.resolve("local-fast", Signals::default()).unwrap();
        assert_eq!(
            (b.provider.id.as_str(), b.upstream_model.as_str()),
            ("local", "qwen3-coder:30b")
        );
        let c = t.resolve("gpt-5.5", Signals::default()).unwrap();
        assert_eq!(
            (c.provider.id.as_str(), c.upstream_model.as_str(), c.route),
            ("deepseek", "deepseek-chat", None)
        );
    }

    #[test]
    fn model_names_list_exact_names_only() {
        let t = RouteTable::new(settings()).unwrap();
        let names: Vec<String> = t.model_names().into_iter().map(|(n, _)| n).collect();
        assert!(names.contains(&"gpt-5.2-codex".to_string()));
        assert!(names.contains(&"deepseek-chat".to_string()));
        assert!(!names.iter().any(|n| n.contains('*')));
    }

    #[test]
    fn no_provider_means_no_target() {
        let t = RouteTable::new(Settings::default()).unwrap();
        assert!(t.resolve("x", Signals::default()).is_none());
    }
}
