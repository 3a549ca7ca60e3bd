//! Prices in USD per million tokens, by upstream model (exact name or glob). The defaults
//! are approximate list prices for the presets' common models and the GPT models people
//! route away from; the user edits them in the settings.

pub use plugboard_config::Price;
use std::collections::BTreeMap;

/// Cost of a request; cached input tokens are billed at the cached rate, reasoning tokens
/// are part of the output tokens.
pub fn cost_of(p: &Price, input: u64, cached: u64, output: u64) -> f64 {
    let fresh = input.saturating_sub(cached) as f64;
    (fresh * p.input + cached.min(input) as f64 * p.cached_input + output as f64 * p.output)
        / 1_000_000.0
}

#[derive(Debug, Clone, Default)]
pub struct PriceTable {
    entries: Vec<(String, Price)>,
    /// The entries' globs, compiled once (the writer prices every row).
    globs: Vec<(globset::GlobMatcher, Price)>,
}

pub fn defaults() -> Vec<(&'static str, Price)> {
    let p = |input, cached_input, output| Price {
        input,
        cached_input,
        output,
    };
    vec![
        ("gpt-5*-mini*", p(0.25, 0.025, 2.0)),
        ("gpt-5*", p(1.25, 0.125, 10.0)),
        ("gpt-4.1*", p(2.0, 0.5, 8.0)),
        ("o3*", p(2.0, 0.5, 8.0)),
        // DeepSeek's V4 line (its pricing page, 2026-12): the daytime rate, twice the
        // off-peak one.
        ("deepseek-flash*", p(0.30, 0.006, 1.20)),
        ("deepseek-v4-flash*", p(0.30, 0.006, 1.20)),
        ("deepseek-v4-pro*", p(1.32, 0.044, 3.96)),
        ("deepseek-chat", p(0.28, 0.028, 0.42)),
        ("deepseek-reasoner", p(0.28, 0.028, 0.42)),
        ("qwen3-coder-plus", p(1.0, 0.2, 5.0)),
        ("qwen/qwen3-coder*", p(0.22, 0.022, 0.95)),
        ("kimi-k2*", p(0.6, 0.15, 2.5)),
        ("glm-4.6", p(0.6, 0.11, 2.2)),
        ("openai/gpt-oss-120b", p(0.15, 0.075, 0.6)),
    ]
}

impl PriceTable {
    /// The defaults with the user's entries first (they win).
    pub fn with_overrides(user: &BTreeMap<String, Price>) -> Self {
        let mut entries: Vec<(String, Price)> = user.iter().map(|(k, v)| (k.clone(), *v)).collect();
        entries.extend(defaults().into_iter().map(|(k, v)| (k.to_string(), v)));
        let globs = entries
            .iter()
            .filter_map(|(k, p)| Some((globset::Glob::new(k).ok()?.compile_matcher(), *p)))
            .collect();
        Self { entries, globs }
    }

    /// The price of a model: an exact entry, else the first matching glob; `None` when the
    /// model is unknown (local models cost nothing).
    pub fn price(&self, model: &str) -> Option<Price> {
        if let Some((_, p)) = self.entries.iter().find(|(k, _)| k == model) {
            return Some(*p);
        }
        self.globs
            .iter()
            .find(|(g, _)| g.is_match(model))
            .map(|(_, p)| *p)
    }

    pub fn cost(&self, model: &str, input: u64, cached: u64, output: u64) -> f64 {
        self.price(model)
            .map(|p| cost_of(&p, input, cached, output))
            .unwrap_or(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_uses_cached_rates_and_user_overrides() {
        let t = PriceTable::with_overrides(&BTreeMap::from([(
            "deepseek-chat".to_string(),
            Price {
                input: 1.0,
                cached_input: 0.5,
                output: 2.0,
            },
        )]));
        assert!(
            (t.cost("deepseek-chat", 1_000_000, 400_000, 500_000) - (0.6 + 0.2 + 1.0)).abs() < 1e-9
        );
        assert!(
            (t.cost("gpt-5.5", 1_000_000, 0, 0) - 1.25).abs() < 1e-9,
            "glob default"
        );
        assert!(
            (t.cost("gpt-5-mini", 1_000_000, 0, 0) - 0.25).abs() < 1e-9,
            "the more specific glob comes first"
        );
        assert_eq!(
            t.cost("qwen3-coder:30b", 1000, 0, 1000),
            0.0,
            "local models cost nothing"
        );
    }
}
