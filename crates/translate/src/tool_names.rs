//! Chat function names must match `^[a-zA-Z0-9_-]{1,64}$` and live in one flat list; the
//! Responses API has namespaces, freeform (`custom`) tools and `local_shell`. This module
//! maps both ways, deterministically, so that the request translator, the stream translator
//! and later turns agree on every name.

use std::collections::HashMap;

/// What a chat function name stands for on the Responses side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolOrigin {
    Function {
        name: String,
        namespace: Option<String>,
    },
    /// A freeform tool: its text travels as the `input` argument.
    Custom {
        name: String,
    },
    LocalShell,
    /// Codex's `tool_search` (run by the client): its calls come back as `tool_search_call`.
    ToolSearch,
}

/// The chat name of the `local_shell` built-in tool.
pub const LOCAL_SHELL_NAME: &str = "local_shell";
/// The chat name of the `tool_search` tool.
pub const TOOL_SEARCH_NAME: &str = "tool_search";

#[derive(Debug, Clone, Default)]
pub struct ToolNameMap {
    by_chat: HashMap<String, ToolOrigin>,
}

impl ToolNameMap {
    /// Registers a tool and returns its chat name.
    pub fn register(&mut self, origin: ToolOrigin) -> String {
        let mut name = chat_name_for(&origin);
        if let Some(existing) = self.by_chat.get(&name) {
            if existing == &origin {
                return name;
            }
            // Two tools flatten to the same name: the later one gets a hashed name.
            name = hashed_name(&name, &origin_key(&origin));
        }
        self.by_chat.insert(name.clone(), origin);
        name
    }

    /// The chat name of a call from the history: the registered name where the tool is in
    /// this request's list, else the same deterministic mapping.
    pub fn chat_name(&self, origin: &ToolOrigin) -> String {
        let name = chat_name_for(origin);
        match self.by_chat.get(&name) {
            Some(o) if o != origin => {
                let hashed = hashed_name(&name, &origin_key(origin));
                if self.by_chat.contains_key(&hashed) {
                    hashed
                } else {
                    name
                }
            }
            _ => name,
        }
    }

    /// What a chat function name called by the model stands for; a name the request never
    /// offered comes back as a plain function call, so the client can report it.
    pub fn origin(&self, chat_name: &str) -> ToolOrigin {
        self.by_chat
            .get(chat_name)
            .cloned()
            .unwrap_or_else(|| ToolOrigin::Function {
                name: chat_name.to_string(),
                namespace: None,
            })
    }

    /// Whether the request offered a tool under this chat name.
    pub fn contains(&self, chat_name: &str) -> bool {
        self.by_chat.contains_key(chat_name)
    }

    pub fn len(&self) -> usize {
        self.by_chat.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_chat.is_empty()
    }
}

fn origin_key(origin: &ToolOrigin) -> String {
    match origin {
        ToolOrigin::Function {
            name,
            namespace: Some(ns),
        } => format!("{ns}\u{0}{name}"),
        ToolOrigin::Function {
            name,
            namespace: None,
        } => format!("fn\u{0}{name}"),
        ToolOrigin::Custom { name } => format!("custom\u{0}{name}"),
        ToolOrigin::LocalShell => "local_shell".into(),
        ToolOrigin::ToolSearch => "tool_search".into(),
    }
}

fn chat_name_for(origin: &ToolOrigin) -> String {
    let raw = match origin {
        ToolOrigin::Function {
            name,
            namespace: Some(ns),
        } => format!("{ns}__{name}"),
        ToolOrigin::Function {
            name,
            namespace: None,
        }
        | ToolOrigin::Custom { name } => name.clone(),
        ToolOrigin::LocalShell => return LOCAL_SHELL_NAME.to_string(),
        ToolOrigin::ToolSearch => return TOOL_SEARCH_NAME.to_string(),
    };
    if is_valid(&raw) {
        raw
    } else {
        hashed_name(&raw, &origin_key(origin))
    }
}

pub fn is_valid(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A valid name that keeps a readable prefix and a hash of the full key.
fn hashed_name(readable: &str, key: &str) -> String {
    let clean: String = readable
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(55)
        .collect();
    format!("{clean}_{:08x}", fnv1a(key) as u32)
}

fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn func(ns: Option<&str>, name: &str) -> ToolOrigin {
        ToolOrigin::Function {
            name: name.into(),
            namespace: ns.map(Into::into),
        }
    }

    #[test]
    fn namespaced_tools_flatten_and_map_back() {
        let mut m = ToolNameMap::default();
        let n = m.register(func(Some("multi_agent_v1"), "close_agent"));
        assert_eq!(n, "multi_agent_v1__close_agent");
        assert_eq!(m.origin(&n), func(Some("multi_agent_v1"), "close_agent"));
    }

    #[test]
    fn invalid_and_long_names_get_valid_hashed_names() {
        let mut m = ToolNameMap::default();
        let long = "x".repeat(80);
        let a = m.register(func(Some("mcp.server"), &long));
        let b = m.register(func(None, "has space"));
        assert!(is_valid(&a) && is_valid(&b), "{a} {b}");
        assert_eq!(m.origin(&a), func(Some("mcp.server"), &long));
        assert_eq!(m.origin(&b), func(None, "has space"));
    }

    #[test]
    fn collisions_are_resolved_and_reversible() {
        let mut m = ToolNameMap::default();
        let a = m.register(func(None, "ns__tool"));
        let b = m.register(func(Some("ns"), "tool"));
        assert_ne!(a, b);
        assert_eq!(m.origin(&a), func(None, "ns__tool"));
        assert_eq!(m.origin(&b), func(Some("ns"), "tool"));
        assert_eq!(m.chat_name(&func(Some("ns"), "tool")), b);
    }

    #[test]
    fn unknown_names_come_back_as_functions() {
        let m = ToolNameMap::default();
        assert_eq!(m.origin("made_up"), func(None, "made_up"));
    }
}
