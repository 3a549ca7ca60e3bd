//! What is publicly known about upstream models that Codex needs to plan a session: the
//! context window (so Codex compacts before the provider's window is full), whether the
//! model thinks (so Codex offers reasoning levels) and whether it reads images.
//!
//! Figures are the providers' own documented limits. A local runtime serves a model with
//! the context it was loaded with, not the model's maximum, so for those the window is
//! capped unless the user says otherwise (`context_window` on the provider or route).

/// Facts about one upstream model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelFacts {
    pub context_window: Option<u64>,
    pub thinks: bool,
    pub images: bool,
}

const UNKNOWN: ModelFacts = ModelFacts {
    context_window: None,
    thinks: false,
    images: false,
};

const fn f(window: u64, thinks: bool, images: bool) -> ModelFacts {
    ModelFacts {
        context_window: Some(window),
        thinks,
        images,
    }
}

/// First match wins: (glob on the lower-cased model name, facts). Names carry vendor
/// prefixes (`qwen/qwen3-coder`, `Qwen/Qwen3-Coder-30B-A3B-Instruct`) and local tags
/// (`qwen3-coder:30b`), hence the leading and trailing `*`.
const TABLE: &[(&str, ModelFacts)] = &[
    // DeepSeek's V4 line serves 1M tokens (its pricing page, 2026-12).
    ("deepseek-flash*", f(1_000_000, true, false)),
    ("deepseek-v4*", f(1_000_000, true, false)),
    ("deepseek-chat", f(128_000, false, false)),
    ("deepseek-reasoner", f(128_000, true, false)),
    ("*deepseek-r1*", f(131_072, true, false)),
    ("*deepseek-v3*", f(131_072, false, false)),
    ("qwen3-coder-plus*", f(1_000_000, false, false)),
    ("qwen3-coder-flash*", f(1_000_000, false, false)),
    ("*qwen3-coder*", f(262_144, false, false)),
    ("*qwen3-vl*", f(262_144, true, true)),
    ("*qwq*", f(131_072, true, false)),
    ("*qwen3*", f(131_072, true, false)),
    ("*kimi-k3*", f(1_000_000, true, false)),
    ("*kimi-k2.7-code*", f(262_144, true, false)),
    ("*kimi-k2-thinking*", f(262_144, true, false)),
    ("*kimi-k2-0905*", f(262_144, false, false)),
    ("*kimi-k2-turbo*", f(262_144, false, false)),
    ("*kimi-k2*", f(131_072, false, false)),
    ("*glm-5*", f(1_000_000, true, false)),
    ("*glm-4.6*", f(200_000, true, false)),
    ("*glm-4.5v*", f(65_536, true, true)),
    ("*glm-4.5*", f(131_072, true, false)),
    ("*gpt-oss*", f(131_072, true, false)),
    ("*minimax-m2*", f(204_800, true, false)),
    ("*devstral*", f(131_072, false, false)),
    ("*gemini-2.5*", f(1_048_576, true, true)),
];

/// The exact model names the table knows (its entries without wildcards): names a glob
/// route may serve, offered to clients that plan by name.
pub fn known_names() -> impl Iterator<Item = &'static str> {
    TABLE
        .iter()
        .map(|(name, _)| *name)
        .filter(|n| !n.contains(['*', '?', '[']))
}

/// What is known of `model`, or nothing.
pub fn facts(model: &str) -> ModelFacts {
    let lower = model.to_ascii_lowercase();
    TABLE
        .iter()
        .find(|(pattern, _)| {
            globset::Glob::new(pattern)
                .map(|g| g.compile_matcher().is_match(&lower))
                .unwrap_or(false)
        })
        .map(|(_, facts)| *facts)
        .unwrap_or(UNKNOWN)
}

/// The window a local runtime is assumed to serve when nobody said: Ollama, LM Studio and
/// vLLM load models with far less than their maximum unless told otherwise.
pub const LOCAL_WINDOW: u64 = 32_768;

/// The window assumed for an unknown hosted model.
pub const HOSTED_WINDOW: u64 = 128_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_prefixes_and_tags_are_found() {
        assert_eq!(facts("deepseek-chat").context_window, Some(128_000));
        assert!(facts("deepseek-reasoner").thinks);
        assert_eq!(facts("qwen3-coder-plus").context_window, Some(1_000_000));
        assert_eq!(facts("qwen/qwen3-coder").context_window, Some(262_144));
        assert_eq!(
            facts("Qwen/Qwen3-Coder-30B-A3B-Instruct").context_window,
            Some(262_144)
        );
        assert_eq!(facts("qwen3-coder:30b").context_window, Some(262_144));
        assert!(facts("qwen3:8b").thinks);
        assert!(facts("glm-4.5v").images);
        assert_eq!(facts("some-new-model"), UNKNOWN);
    }

    #[test]
    fn every_pattern_compiles() {
        for (p, _) in TABLE {
            assert!(globset::Glob::new(p).is_ok(), "{p}");
        }
    }
}
