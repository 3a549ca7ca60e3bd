//! The model names a client can ask Plugboard for by name, each with what a client needs to
//! plan with it: which provider answers, the upstream model, its context window and whether
//! it thinks. Apply to Codex turns these into entries of Codex's model catalog.

use crate::address::is_glob;
use crate::model_facts::{facts, known_names, HOSTED_WINDOW, LOCAL_WINDOW};
use crate::settings::{Provider, Route, Settings};
use std::collections::HashMap;

/// The names each provider's own model list gave (`GET /models`, read when the catalog is
/// written), by provider id: what a glob route can serve.
pub type ListedModels = HashMap<String, Vec<String>>;

/// The most names one glob route adds: a router listing hundreds of models would otherwise
/// flood the client's model picker.
pub const GLOB_ROUTE_NAMES: usize = 24;

/// Where a card's context window comes from, so that a client can say how sure it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowSource {
    /// Set by the user on the route or provider.
    Configured,
    /// The model's documented window.
    Documented,
    /// Nobody knows; a cautious default.
    Assumed,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ModelCard {
    /// The name a client asks for.
    pub name: String,
    pub provider_id: String,
    pub provider_name: String,
    pub upstream_model: String,
    pub context_window: u64,
    pub window_source: WindowSource,
    /// The model thinks, or the provider can switch thinking on.
    pub reasoning: bool,
    pub parallel_tool_calls: bool,
    pub images: bool,
}

fn matches(pattern: &str, name: &str) -> bool {
    if !is_glob(pattern) {
        return pattern == name;
    }
    globset::Glob::new(pattern)
        .map(|g| g.compile_matcher().is_match(name))
        .unwrap_or(false)
}

impl Settings {
    /// The provider, upstream model and route a request for `model` reaches: the first
    /// route listed that matches, else the active provider. (The proxy does the same with
    /// compiled matchers; this one is for planning, off the request path.)
    pub fn target_of(&self, model: &str) -> Option<(&Provider, String, Option<&Route>)> {
        // Routes for subagents only are conditional: planning by name leaves them out.
        let (i, route) = self.pick(|_, r| !r.subagent && matches(&r.model, model))?;
        let p = &self.providers[i];
        Some((
            p,
            Settings::upstream_for(route, || p.upstream_model(model)),
            route,
        ))
    }

    /// Every exact name a client can ask for by name, in the order the user listed them:
    /// route names, then the active provider's mapped names, the models they map to, and
    /// its default model. Names in `skip` (a client's own models) are left out.
    pub fn model_cards(&self, skip: impl Fn(&str) -> bool) -> Vec<ModelCard> {
        self.model_cards_with(skip, &ListedModels::new())
    }

    /// [`Self::model_cards`], and for each glob route the names it serves: those its
    /// provider's model list (`listed`), the model facts and the provider's default model
    /// offer that match the glob, and the route's upstream model when it routes there too.
    pub fn model_cards_with(
        &self,
        skip: impl Fn(&str) -> bool,
        listed: &ListedModels,
    ) -> Vec<ModelCard> {
        let mut names: Vec<&str> = self.routes.iter().map(|r| r.model.as_str()).collect();
        if let Some(p) = self.active() {
            for (k, v) in &p.model_map {
                names.push(k);
                names.push(v);
            }
            names.extend(p.default_model.as_deref());
        }
        let mut cards: Vec<ModelCard> = Vec::new();
        let fresh = |cards: &[ModelCard], name: &str| {
            !name.is_empty()
                && !is_glob(name)
                && !skip(name)
                && !cards.iter().any(|c| c.name == name)
        };
        for name in names {
            if !fresh(&cards, name) {
                continue;
            }
            if let Some(card) = self.card(name) {
                cards.push(card);
            }
        }
        for route in self.routes.iter().filter(|r| is_glob(&r.model)) {
            let Some(p) = self.providers.iter().find(|p| p.id == route.provider) else {
                continue;
            };
            let candidates: Vec<String> = listed
                .get(&p.id)
                .into_iter()
                .flatten()
                .cloned()
                .chain(known_names().map(str::to_string))
                .chain(p.default_model.clone())
                .filter(|n| matches(&route.model, n))
                .chain(route.upstream_model.clone())
                .collect();
            let mut added = 0;
            for name in &candidates {
                if added == GLOB_ROUTE_NAMES {
                    break;
                }
                if !fresh(&cards, name) {
                    continue;
                }
                // Only a name that reaches this route's provider (an earlier route may take it).
                if let Some(card) = self.card(name).filter(|c| c.provider_id == p.id) {
                    cards.push(card);
                    added += 1;
                }
            }
        }
        cards
    }

    fn card(&self, name: &str) -> Option<ModelCard> {
        let (p, upstream, route) = self.target_of(name)?;
        let known = facts(&upstream);
        let dialect = p.dialect().unwrap_or_default();
        let (context_window, window_source) = match route.and_then(|r| r.context_window) {
            Some(w) => (w, WindowSource::Configured),
            None => p.planned_window(&upstream),
        };
        Some(ModelCard {
            name: name.to_string(),
            provider_id: p.id.clone(),
            provider_name: p.display_name().to_string(),
            upstream_model: upstream,
            context_window,
            window_source,
            reasoning: known.thinks
                || dialect.think_tags
                || dialect.reasoning_switch != plugboard_translate::ReasoningSwitch::None,
            parallel_tool_calls: dialect.parallel_tool_calls,
            images: known.images || p.preset.as_deref() == Some("openai"),
        })
    }
}

impl Provider {
    /// The window a client is told this provider serves `upstream` with: the provider's
    /// `context_window`, else the model's documented one (capped for a local runtime, which
    /// serves what it loaded), else a cautious default.
    pub fn planned_window(&self, upstream: &str) -> (u64, WindowSource) {
        match (self.context_window, facts(upstream).context_window) {
            (Some(w), _) => (w, WindowSource::Configured),
            // A local runtime serves what it loaded, often far below the model's maximum.
            (None, Some(w)) if self.is_local_runtime() => {
                (w.min(LOCAL_WINDOW), WindowSource::Assumed)
            }
            (None, Some(w)) => (w, WindowSource::Documented),
            (None, None) if self.is_local_runtime() => (LOCAL_WINDOW, WindowSource::Assumed),
            (None, None) => (HOSTED_WINDOW, WindowSource::Assumed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        let mut s = Settings::default();
        let mut ds = Provider::from_preset("ds", "deepseek").unwrap();
        ds.model_map
            .insert("gpt-5.5-think".into(), "deepseek-reasoner".into());
        s.providers.push(ds);
        let mut local = Provider::from_preset("box", "ollama").unwrap();
        local.name = "My box".into();
        s.providers.push(local);
        s.providers
            .push(Provider::from_preset("or", "openrouter").unwrap());
        s.active_provider = Some("ds".into());
        s.routes.push(Route {
            model: "local-*".into(),
            provider: "box".into(),
            upstream_model: Some("qwen3-coder:30b".into()),
            fallbacks: Vec::new(),
            context_window: None,
            subagent: false,
        });
        s.routes.push(Route {
            model: "local-big".into(),
            provider: "or".into(),
            upstream_model: None,
            fallbacks: Vec::new(),
            context_window: Some(65_536),
            subagent: false,
        });
        s.routes.push(Route {
            model: "planner".into(),
            provider: "or".into(),
            upstream_model: Some("some/unknown".into()),
            fallbacks: Vec::new(),
            context_window: None,
            subagent: false,
        });
        s
    }

    #[test]
    fn cards_follow_routing_and_skip_what_the_client_knows() {
        let s = settings();
        let cards = s.model_cards(|n| n.starts_with("gpt-"));
        let names: Vec<&str> = cards.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            ["local-big", "planner", "deepseek-chat", "deepseek-reasoner"]
        );
        // `local-big` is caught by the `local-*` route listed before it.
        let big = &cards[0];
        assert_eq!(
            (big.provider_id.as_str(), big.upstream_model.as_str()),
            ("box", "qwen3-coder:30b")
        );
        // A local runtime serves less than the model's maximum.
        assert_eq!(
            (big.context_window, big.window_source),
            (LOCAL_WINDOW, WindowSource::Assumed)
        );
        assert_eq!(
            (cards[1].context_window, cards[1].window_source),
            (HOSTED_WINDOW, WindowSource::Assumed)
        );
        let r = &cards[3];
        assert_eq!(
            (r.context_window, r.window_source, r.reasoning),
            (128_000, WindowSource::Documented, true)
        );
        assert!(!cards[2].reasoning);
    }

    #[test]
    fn a_configured_window_wins() {
        let mut s = settings();
        s.routes.remove(0);
        let big = s.model_cards(|_| false).into_iter().next().unwrap();
        assert_eq!(big.name, "local-big");
        assert_eq!(
            (big.context_window, big.window_source),
            (65_536, WindowSource::Configured)
        );
    }

    #[test]
    fn a_glob_route_gets_the_names_it_serves() {
        let mut s = Settings::default();
        s.providers
            .push(Provider::from_preset("oa", "openai").unwrap());
        s.providers
            .push(Provider::from_preset("ds", "deepseek").unwrap());
        s.active_provider = Some("oa".into());
        s.routes.push(Route::new("gpt-*", "oa"));
        s.routes.push(Route::new("deepseek-*", "ds"));
        // Without a model list: the names the facts and the preset know.
        let names =
            |cards: Vec<ModelCard>| -> Vec<String> { cards.into_iter().map(|c| c.name).collect() };
        assert_eq!(
            names(s.model_cards(|n| n.starts_with("gpt-"))),
            ["deepseek-chat", "deepseek-reasoner"]
        );
        // With the provider's own list: what matches the glob, in its order, Codex's own
        // names and other providers' names left out.
        let mut listed = ListedModels::new();
        listed.insert(
            "ds".into(),
            vec![
                "deepseek-v4-pro".into(),
                "deepseek-v4-flash".into(),
                "other".into(),
            ],
        );
        listed.insert("oa".into(), vec!["deepseek-fake".into()]);
        let cards = s.model_cards_with(|n| n.starts_with("gpt-"), &listed);
        assert!(cards.iter().all(|c| c.provider_id == "ds"));
        assert_eq!(
            names(cards),
            [
                "deepseek-v4-pro",
                "deepseek-v4-flash",
                "deepseek-chat",
                "deepseek-reasoner"
            ]
        );
        // A router listing hundreds is cut at the bound.
        let many: Vec<String> = (0..500).map(|i| format!("deepseek-{i}")).collect();
        listed.insert("ds".into(), many);
        assert_eq!(
            s.model_cards_with(|_| false, &listed).len(),
            GLOB_ROUTE_NAMES
        );
    }
}
