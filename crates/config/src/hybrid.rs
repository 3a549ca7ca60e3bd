//! "Plan with one model, execute with another" in one step: the planner stays the model the
//! client asks for, and every request Codex marks as a subagent's goes to the executor's
//! provider and model, whatever name the spawn asked for.

use crate::settings::{Route, Settings};

/// Why a plan-and-execute set-up cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HybridError {
    #[error(
        "no provider serves the planner `{0}`: add a route or choose an active provider first"
    )]
    NoPlanner(String),
    #[error("no provider serves the executor `{0}`: add a route or a provider for it first")]
    NoExecutor(String),
    #[error("`{executor}` reaches the same provider and model as `{planner}` ({provider}, {model}): route the executor's name to another provider first")]
    SameTarget {
        planner: String,
        executor: String,
        provider: String,
        model: String,
    },
}

/// The pattern of the subagent route a hybrid set-up writes.
pub const ANY_MODEL: &str = "*";

impl Settings {
    /// Routes subagent requests to what serves `executor`; `planner` must be served too,
    /// by something else. Replaces an earlier hybrid set-up, and goes first so that no name
    /// route catches a subagent's request before it.
    pub fn set_hybrid(&mut self, planner: &str, executor: &str) -> Result<(), HybridError> {
        let planned = match self.target_of(planner) {
            Some((p, upstream, _)) => (p.id.clone(), upstream),
            None => return Err(HybridError::NoPlanner(planner.into())),
        };
        let (provider, upstream) = match self.target_of(executor) {
            Some((p, upstream, _)) => (p.id.clone(), upstream),
            None => return Err(HybridError::NoExecutor(executor.into())),
        };
        if (&provider, &upstream) == (&planned.0, &planned.1) {
            return Err(HybridError::SameTarget {
                planner: planner.into(),
                executor: executor.into(),
                provider,
                model: upstream,
            });
        }
        self.routes
            .retain(|r| !(r.subagent && r.model == ANY_MODEL));
        self.routes.insert(
            0,
            Route {
                upstream_model: Some(upstream),
                subagent: true,
                ..Route::new(ANY_MODEL, &provider)
            },
        );
        Ok(())
    }

    /// The executor of a hybrid set-up: the upstream model subagent requests go to.
    pub fn hybrid_executor(&self) -> Option<&Route> {
        self.routes
            .iter()
            .find(|r| r.subagent && r.model == ANY_MODEL)
    }
}

#[cfg(test)]
mod tests {
    use crate::settings::{Provider, Route, Settings};

    #[test]
    fn subagents_go_to_the_executor_and_names_still_route_as_before() {
        let mut s = Settings::default();
        s.providers
            .push(Provider::from_preset("plan", "chatgpt").unwrap());
        s.providers
            .push(Provider::from_preset("ds", "deepseek").unwrap());
        s.active_provider = Some("plan".into());
        s.routes.push(Route::new("deepseek-*", "ds"));
        let same = s.set_hybrid("gpt-5.5", "gpt-5.5").unwrap_err();
        assert!(matches!(
            same,
            crate::hybrid::HybridError::SameTarget { .. }
        ));
        assert!(
            same.to_string().contains("same provider and model"),
            "{same}"
        );
        s.set_hybrid("gpt-5.5", "deepseek-chat").unwrap();
        // Twice is the same set-up.
        s.set_hybrid("gpt-5.5", "deepseek-chat").unwrap();
        assert_eq!(s.routes.len(), 2);
        let r = s.hybrid_executor().unwrap();
        assert_eq!(
            (r.provider.as_str(), r.upstream_model.as_deref()),
            ("ds", Some("deepseek-chat"))
        );
        assert!(std::ptr::eq(r, &s.routes[0]), "first");
        // Planning by name is unchanged: the planner's name goes to the plan.
        assert_eq!(s.target_of("gpt-5.5").unwrap().0.id, "plan");
        // The settings file keeps the flag.
        let text = toml::to_string(&s).unwrap();
        assert!(text.contains("subagent = true"), "{text}");
        let back: Settings = toml::from_str(&text).unwrap();
        assert!(back.routes[0].subagent && !back.routes[1].subagent);
    }
}
