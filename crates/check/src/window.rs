//! The context window a provider really serves a model with: from its model list (OpenRouter,
//! LM Studio, vLLM, Groq and others say it there) or from the words of its refusal of an
//! output limit larger than any window (vLLM, OpenAI, llama.cpp and LM Studio name the window
//! in it). Limits on *output* tokens are not windows and are never read as one.

use crate::fix::{Fix, FixChange};
use crate::report::{Status, StepId, StepReport};
use crate::steps::Ctx;
use plugboard_config::model_cards::WindowSource;
use plugboard_config::Provider;
use serde_json::Value;

/// Fields of a model list entry that hold the window, best first: a runtime's loaded size
/// before the model's maximum.
const FIELDS: &[&[&str]] = &[
    &["loaded_context_length"],
    &["context_length"],
    &["context_window"],
    &["max_model_len"],
    &["max_context_length"],
    &["top_provider", "context_length"],
    &["meta", "n_ctx"],
    &["max_input_tokens"],
    &["inputTokenLimit"],
];

/// The window the model list gives `model`, if it gives one.
pub fn window_from_model_list(list: &Value, model: &str) -> Option<u64> {
    let entries = list
        .get("data")
        .or_else(|| list.get("models"))
        .and_then(Value::as_array)?;
    let entry = entries.iter().find(|m| {
        ["id", "name", "model"]
            .iter()
            .any(|k| m.get(k).and_then(Value::as_str) == Some(model))
    })?;
    FIELDS.iter().find_map(|path| {
        let v = path.iter().try_fold(entry, |v, k| v.get(k))?;
        v.as_u64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .filter(|n| *n > 0)
    })
}

/// Phrases after which a refusal names the window, lower case.
const PHRASES: &[&str] = &[
    "maximum context length is",
    "context length of only",
    "context length of",
    "context window of",
    "context window is",
    "available context size (",
    "context size of",
    "context_length_exceeded: ",
    "max_model_len",
    "n_ctx",
];

/// The window named in a refusal, if one is.
pub fn window_from_error(message: &str) -> Option<u64> {
    let lower = message.to_ascii_lowercase();
    PHRASES.iter().find_map(|phrase| {
        let at = lower.find(phrase)? + phrase.len();
        first_number(&lower[at..], 24)
    })
}

/// The first number within `within` characters, commas allowed ("128,000").
fn first_number(text: &str, within: usize) -> Option<u64> {
    let start = text
        .char_indices()
        .take(within)
        .find(|(_, c)| c.is_ascii_digit())?
        .0;
    let digits: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ',')
        .filter(char::is_ascii_digit)
        .collect();
    digits.parse().ok().filter(|n| *n >= 256)
}

/// A refusal because the request does not fit the window the model is served with: that
/// window, and the request's size when the refusal names it (llama.cpp: "request (3030
/// tokens) exceeds the available context size (2048 tokens)"; vLLM and OpenAI: "maximum
/// context length is 4096 tokens. However, you requested 5000 tokens").
pub fn window_too_small(message: &str) -> Option<(u64, Option<u64>)> {
    let lower = message.to_ascii_lowercase();
    let over = [
        "exceed",
        "maximum context length",
        "context_length_exceeded",
    ]
    .iter()
    .any(|p| lower.contains(p));
    if !over {
        return None;
    }
    let window = window_from_error(message)?;
    let needed = ["request (", "requested ", "resulted in "]
        .iter()
        .find_map(|phrase| {
            let at = lower.find(phrase)? + phrase.len();
            first_number(&lower[at..], 12)
        });
    Some((window, needed))
}

/// Ollama's `/api/ps` lists loaded models with the window they were loaded with (which is
/// what it serves, often far below the model's maximum).
pub fn window_from_ollama_ps(ps: &Value, model: &str) -> Option<u64> {
    ps.get("models")?
        .as_array()?
        .iter()
        .find(|m| {
            let name = m
                .get("name")
                .or_else(|| m.get("model"))
                .and_then(Value::as_str);
            name == Some(model) || name == Some(&format!("{model}:latest"))
        })?
        .get("context_length")?
        .as_u64()
}

/// `served`: the window the provider says it serves, and where it said so.
pub fn context_window(
    ctx: &Ctx,
    p: &Provider,
    model: &str,
    served: Option<(u64, &str)>,
) -> StepReport {
    let id = StepId::ContextWindow;
    let (told, source) = p.planned_window(model);
    let how = match source {
        WindowSource::Configured => "set on the provider",
        WindowSource::Documented => "the model's documented window",
        WindowSource::Assumed => "assumed",
    };
    match served {
        Some((w, from)) if w < told => StepReport::new(
            id,
            Status::Failed,
            format!(
                "{} serves {model} with {} tokens ({from}), but Codex is told {} ({how}): a long session would overflow before Codex compacts it",
                ctx.provider,
                group(w),
                group(told)
            ),
        )
        .with_fix(Some(Fix {
            label: format!("Set the context window to {}", group(w)),
            change: FixChange::ContextWindow { tokens: w },
        })),
        Some((w, from)) => {
            let more = if w > told && source != WindowSource::Configured {
                format!(": set the provider's context window to {} to use it all", group(w))
            } else {
                String::new()
            };
            StepReport::new(
                id,
                Status::Passed,
                format!("{} tokens ({from}); Codex is told {} ({how}){more}", group(w), group(told)),
            )
        }
        None if source == WindowSource::Assumed => StepReport::new(
            id,
            Status::Warning,
            format!("the provider does not say its window; Codex is told {} (assumed): set the provider's context window if you know it", group(told)),
        ),
        None => StepReport::new(
            id,
            Status::Passed,
            format!("Codex is told {} ({how}); the provider does not say its own", group(told)),
        ),
    }
}

/// 131072 → "131,072".
pub(crate) fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_too_big_for_the_served_window_is_told_apart() {
        // llama.cpp's llama-server, as observed (../shared/DESIGN.md).
        let llama = "request (3030 tokens) exceeds the available context size (2048 tokens), try increasing it";
        assert_eq!(window_too_small(llama), Some((2048, Some(3030))));
        let vllm = "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens (4000 in the messages, 1000 in the completion).";
        assert_eq!(window_too_small(vllm), Some((4096, Some(5000))));
        assert_eq!(window_too_small("invalid tool schema"), None);
    }
    use crate::steps::test_ctx as ctx;
    use plugboard_translate::Dialect;
    use serde_json::json;

    #[test]
    fn model_lists_as_runtimes_and_routers_send_them() {
        let openrouter = json!({"data": [{"id": "a/b", "context_length": 131072, "top_provider": {"context_length": 65536}}]});
        assert_eq!(window_from_model_list(&openrouter, "a/b"), Some(131072));
        let lmstudio = json!({"data": [{"id": "qwen", "max_context_length": 32768, "loaded_context_length": 4096}]});
        assert_eq!(window_from_model_list(&lmstudio, "qwen"), Some(4096));
        let vllm = json!({"object": "list", "data": [{"id": "m", "max_model_len": 16384}]});
        assert_eq!(window_from_model_list(&vllm, "m"), Some(16384));
        let openai = json!({"data": [{"id": "gpt-5.5", "object": "model"}]});
        assert_eq!(window_from_model_list(&openai, "gpt-5.5"), None);
        assert_eq!(window_from_model_list(&vllm, "other"), None);
    }

    #[test]
    fn refusals_that_name_the_window() {
        let cases = [
            ("This model's maximum context length is 32768 tokens. However, you requested 10000020 tokens (20 in the messages, 10000000 in the completion).", Some(32768)),
            ("the request exceeds the available context size (4096 tokens), try increasing it", Some(4096)),
            ("Trying to keep the first 10000020 tokens when context the overflows. However, the model is loaded with context length of only 8192 tokens", Some(8192)),
            ("This model's maximum context length is 128,000 tokens.", Some(128000)),
            // Output limits are not windows.
            ("Invalid max_tokens value, the valid range of max_tokens is [1, 8192]", None),
            ("Range of max_tokens should be [1, 8192]", None),
            ("max_tokens must be less than or equal to `32768`", None),
        ];
        for (message, want) in cases {
            assert_eq!(window_from_error(message), want, "{message}");
        }
    }

    #[test]
    fn ollama_loaded_models() {
        let ps =
            json!({"models": [{"name": "qwen3:8b", "model": "qwen3:8b", "context_length": 4096}]});
        assert_eq!(window_from_ollama_ps(&ps, "qwen3:8b"), Some(4096));
        assert_eq!(window_from_ollama_ps(&ps, "llama3"), None);
    }

    #[test]
    fn windows_compare_with_what_codex_is_told() {
        let d = Dialect::default();
        let mut p = Provider::from_preset("box", "ollama").unwrap();
        let r = context_window(
            &ctx(&d),
            &p,
            "qwen3-coder:30b",
            Some((4096, "its model list")),
        );
        assert_eq!(r.status, Status::Failed);
        assert!(
            r.detail
                .contains("4,096 tokens (its model list), but Codex is told 32,768"),
            "{}",
            r.detail
        );
        r.fix.unwrap().apply(&mut p).unwrap();
        let r = context_window(
            &ctx(&d),
            &p,
            "qwen3-coder:30b",
            Some((4096, "its model list")),
        );
        assert_eq!(r.status, Status::Passed, "{}", r.detail);
        assert_eq!(group(131072), "131,072");
        assert_eq!(group(999), "999");
    }
}
