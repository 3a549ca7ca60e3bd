//! Known providers: where they live and what their Chat Completions dialect accepts.

use crate::wire_api::WireApi;
use plugboard_translate::responses_dialect::ResponsesDialect;
use plugboard_translate::{Dialect, MaxTokensField, ReasoningSwitch};

#[derive(Debug, Clone)]
pub struct Preset {
    pub id: &'static str,
    pub name: &'static str,
    pub base_url: &'static str,
    pub wire_api: WireApi,
    /// Local servers need no key.
    pub needs_key: bool,
    /// The variable the provider's own tools read the key from, a hint for headless use.
    pub key_env: Option<&'static str>,
    pub default_model: Option<&'static str>,
    pub dialect: fn() -> Dialect,
    /// Serves the Responses API over a WebSocket too (`GET /responses` upgraded), which
    /// keeps the previous response in the connection so a turn sends only its new items.
    pub websocket: bool,
    /// What its Responses API lacks, when it is reached over it.
    pub responses_dialect: fn() -> ResponsesDialect,
}

/// A complete Responses API (OpenAI's own).
fn complete() -> ResponsesDialect {
    ResponsesDialect {
        compaction: true,
        ..ResponsesDialect::default()
    }
}

/// A provider serving the Responses API without OpenAI's hosted tools.
fn without_hosted_tools() -> ResponsesDialect {
    ResponsesDialect {
        drop_hosted_tools: true,
        ..ResponsesDialect::default()
    }
}

/// DeepSeek's `/responses` (2026-12): it keeps nothing (no `store`, no
/// `previous_response_id`) and refuses freeform tools before inference; its reasoning must
/// come back on tool-call turns, which the default `keep` does. Chat stays the default path
/// (the translator's reasoning echo is proven there); the check compares both.
fn deepseek_responses() -> ResponsesDialect {
    ResponsesDialect {
        drop_hosted_tools: true,
        custom_tools_as_functions: true,
        stateless: true,
        ..ResponsesDialect::default()
    }
}

/// A hosted Responses API that keeps no responses (Kimi fixes `store` to false and refuses
/// `previous_response_id`; OpenRouter's and Groq's betas are stateless).
fn stateless_hosted() -> ResponsesDialect {
    ResponsesDialect {
        drop_hosted_tools: true,
        stateless: true,
        ..ResponsesDialect::default()
    }
}

/// A local runtime's Responses API: no hosted tools, freeform tools declared as functions
/// (Ollama does not replay their calls; most local models call functions far more reliably
/// than they write grammar-bound text), and no stored responses (Ollama's is stateless,
/// vLLM's store is off unless enabled): Plugboard keeps the conversation.
fn local_runtime() -> ResponsesDialect {
    ResponsesDialect {
        drop_hosted_tools: true,
        custom_tools_as_functions: true,
        stateless: true,
        ..ResponsesDialect::default()
    }
}

/// llama.cpp's `/v1/responses`: a local runtime whose streams carry no `sequence_number`
/// and no `function_call_arguments.done`, that drops freeform tools without a word, refuses
/// `previous_response_id`, and reports `completed` when the output limit cut the answer.
fn llamacpp_responses() -> ResponsesDialect {
    ResponsesDialect {
        lifecycle_events: true,
        completed_at_limit: true,
        ..local_runtime()
    }
}

/// vLLM's `/v1/responses`: a local runtime whose streams also leave out `*.done` events and
/// items that had no delta (vllm #42407, #48274).
fn vllm_responses() -> ResponsesDialect {
    ResponsesDialect {
        lifecycle_events: true,
        ..local_runtime()
    }
}

fn base() -> Dialect {
    Dialect::default()
}

/// Schema rules of providers that validate tool schemas strictly: DeepSeek and Kimi refuse
/// `type: null`, type arrays and non-object roots (reported by CC Switch's users, mostly
/// with MCP servers' tools); Gemini's OpenAI endpoint, reached through OpenRouter, refuses
/// `$ref` and `$defs`. GLM, Qwen and Groq get the same rules: each keeps what the schema
/// asks of the arguments, so they cost nothing where a provider would have accepted more.
fn strict_schemas(d: Dialect) -> Dialect {
    Dialect {
        schema_object_root: true,
        schema_inline_refs: true,
        schema_single_types: true,
        schema_drop: vec!["$schema".into(), "$id".into(), "$comment".into()],
        ..d
    }
}

fn openai() -> Dialect {
    Dialect {
        max_tokens_field: MaxTokensField::MaxCompletionTokens,
        developer_role: true,
        ..base()
    }
}

fn deepseek() -> Dialect {
    // The model name switches thinking (`deepseek-reasoner`); its reasoning must come back
    // on assistant messages that called tools.
    strict_schemas(Dialect {
        reasoning_switch: ReasoningSwitch::None,
        reasoning_echo: true,
        ..base()
    })
}

fn qwen() -> Dialect {
    strict_schemas(Dialect {
        reasoning_switch: ReasoningSwitch::EnableThinking,
        ..base()
    })
}

fn kimi() -> Dialect {
    strict_schemas(Dialect {
        reasoning_switch: ReasoningSwitch::None,
        reasoning_echo: true,
        ..base()
    })
}

fn glm() -> Dialect {
    strict_schemas(Dialect {
        reasoning_switch: ReasoningSwitch::ThinkingObject,
        reasoning_echo: true,
        ..base()
    })
}

fn openrouter() -> Dialect {
    strict_schemas(Dialect {
        reasoning_switch: ReasoningSwitch::ReasoningObject,
        file_parts: true,
        ..base()
    })
}

fn groq() -> Dialect {
    strict_schemas(Dialect {
        max_tokens_field: MaxTokensField::MaxCompletionTokens,
        reasoning_switch: ReasoningSwitch::None,
        ..base()
    })
}

fn local() -> Dialect {
    // Local servers differ by version and model template: ask for nothing optional. Their
    // models (Qwen3, QwQ, R1 distills) often print thinking inline.
    Dialect {
        reasoning_switch: ReasoningSwitch::None,
        think_tags: true,
        text_tool_calls: true,
        ..base()
    }
}

fn custom() -> Dialect {
    // Unknown servers are often local runtimes or gateways in front of one.
    Dialect {
        think_tags: true,
        text_tool_calls: true,
        ..base()
    }
}

/// The preset of a provider that relays Codex's own ChatGPT login to the ChatGPT backend.
pub const CHATGPT_PRESET: &str = "chatgpt";

pub static PRESETS: &[Preset] = &[
    Preset {
        id: "openai",
        name: "OpenAI",
        base_url: "https://api.openai.com/v1",
        wire_api: WireApi::Responses,
        needs_key: true,
        key_env: Some("OPENAI_API_KEY"),
        default_model: None,
        dialect: openai,
        responses_dialect: complete,
        websocket: true,
    },
    Preset {
        id: CHATGPT_PRESET,
        name: "ChatGPT plan (your Codex login)",
        base_url: "https://chatgpt.com/backend-api/codex",
        wire_api: WireApi::Responses,
        // The login is Codex's own, relayed per request: Plugboard keeps none.
        needs_key: false,
        key_env: None,
        default_model: None,
        dialect: openai,
        responses_dialect: complete,
        websocket: true,
    },
    Preset {
        id: "deepseek",
        name: "DeepSeek",
        base_url: "https://api.deepseek.com/v1",
        wire_api: WireApi::Chat,
        needs_key: true,
        key_env: Some("DEEPSEEK_API_KEY"),
        default_model: Some("deepseek-chat"),
        dialect: deepseek,
        responses_dialect: deepseek_responses,
        websocket: false,
    },
    Preset {
        id: "qwen",
        name: "Qwen (DashScope)",
        base_url: "https://dashscope.aliyuncs.com/compatible-mode/v1",
        wire_api: WireApi::Chat,
        needs_key: true,
        key_env: Some("DASHSCOPE_API_KEY"),
        default_model: Some("qwen3-coder-plus"),
        dialect: qwen,
        responses_dialect: without_hosted_tools,
        websocket: false,
    },
    Preset {
        id: "kimi",
        name: "Moonshot Kimi",
        base_url: "https://api.moonshot.ai/v1",
        wire_api: WireApi::Chat,
        needs_key: true,
        key_env: Some("MOONSHOT_API_KEY"),
        default_model: Some("kimi-k2-0905-preview"),
        dialect: kimi,
        responses_dialect: stateless_hosted,
        websocket: false,
    },
    Preset {
        id: "glm",
        name: "Zhipu GLM",
        base_url: "https://open.bigmodel.cn/api/paas/v4",
        wire_api: WireApi::Chat,
        needs_key: true,
        key_env: Some("ZHIPUAI_API_KEY"),
        default_model: Some("glm-4.6"),
        dialect: glm,
        responses_dialect: without_hosted_tools,
        websocket: false,
    },
    Preset {
        id: "openrouter",
        name: "OpenRouter",
        base_url: "https://openrouter.ai/api/v1",
        wire_api: WireApi::Chat,
        needs_key: true,
        key_env: Some("OPENROUTER_API_KEY"),
        default_model: Some("qwen/qwen3-coder"),
        dialect: openrouter,
        responses_dialect: stateless_hosted,
        websocket: false,
    },
    Preset {
        id: "siliconflow",
        name: "SiliconFlow",
        base_url: "https://api.siliconflow.cn/v1",
        wire_api: WireApi::Chat,
        needs_key: true,
        key_env: Some("SILICONFLOW_API_KEY"),
        default_model: Some("Qwen/Qwen3-Coder-30B-A3B-Instruct"),
        dialect: qwen,
        responses_dialect: without_hosted_tools,
        websocket: false,
    },
    Preset {
        id: "groq",
        name: "Groq",
        base_url: "https://api.groq.com/openai/v1",
        wire_api: WireApi::Chat,
        needs_key: true,
        key_env: Some("GROQ_API_KEY"),
        default_model: Some("openai/gpt-oss-120b"),
        dialect: groq,
        responses_dialect: stateless_hosted,
        websocket: false,
    },
    Preset {
        id: "ollama",
        name: "Ollama",
        base_url: "http://127.0.0.1:11434/v1",
        wire_api: WireApi::Chat,
        needs_key: false,
        key_env: None,
        default_model: Some("qwen3-coder:30b"),
        dialect: local,
        responses_dialect: local_runtime,
        websocket: false,
    },
    Preset {
        id: "lmstudio",
        name: "LM Studio",
        base_url: "http://127.0.0.1:1234/v1",
        wire_api: WireApi::Chat,
        needs_key: false,
        key_env: None,
        default_model: None,
        dialect: local,
        responses_dialect: local_runtime,
        websocket: false,
    },
    Preset {
        id: "vllm",
        name: "vLLM",
        base_url: "http://127.0.0.1:8000/v1",
        wire_api: WireApi::Chat,
        needs_key: false,
        key_env: None,
        default_model: None,
        dialect: local,
        responses_dialect: vllm_responses,
        websocket: false,
    },
    Preset {
        // llama.cpp's own server: chat by default (its Responses endpoint is newer and
        // less complete); the check compares both where it serves both.
        id: "llamacpp",
        name: "llama.cpp (llama-server)",
        base_url: "http://127.0.0.1:8080/v1",
        wire_api: WireApi::Chat,
        needs_key: false,
        key_env: None,
        default_model: None,
        dialect: local,
        responses_dialect: llamacpp_responses,
        websocket: false,
    },
    Preset {
        id: "custom",
        name: "Custom (Chat Completions)",
        base_url: "http://127.0.0.1:8080/v1",
        wire_api: WireApi::Chat,
        needs_key: false,
        key_env: None,
        default_model: None,
        dialect: custom,
        responses_dialect: local_runtime,
        websocket: false,
    },
];

pub fn preset(id: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_the_product_promises_exists() {
        for id in [
            "openai",
            "chatgpt",
            "deepseek",
            "qwen",
            "kimi",
            "glm",
            "openrouter",
            "siliconflow",
            "groq",
            "ollama",
            "lmstudio",
            "vllm",
            "llamacpp",
            "custom",
        ] {
            let p = preset(id).unwrap_or_else(|| panic!("preset {id}"));
            assert!(p.base_url.starts_with("http"), "{id}");
        }
        assert!(!preset("ollama").unwrap().needs_key);
        assert!((preset("deepseek").unwrap().dialect)().reasoning_echo);
    }
}
