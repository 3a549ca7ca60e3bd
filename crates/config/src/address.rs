//! What can be told of a provider from its settings alone: its display name, whether it needs
//! a key, whether its address is on this machine or the local network. The one place for
//! these rules; local-only mode, the model cards, the app and the key cache all ask here.

use crate::presets::preset;
use crate::settings::Provider;
use std::net::IpAddr;

/// Loopback, private (RFC 1918, unique local) or link-local; an IPv4-mapped IPv6 address
/// counts as its IPv4 one.
pub fn is_local_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_local_ip(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
        }
    }
}

/// `localhost` and its subdomains, which never leave the machine.
pub fn is_localhost_name(host: &str) -> bool {
    host == "localhost" || host.ends_with(".localhost")
}

/// A model name with glob characters (a route or model map pattern, not an exact name).
pub fn is_glob(name: &str) -> bool {
    name.contains(['*', '?', '[', '{'])
}

impl Provider {
    /// The name the user gave, else the id.
    pub fn display_name(&self) -> &str {
        if self.name.is_empty() {
            &self.id
        } else {
            &self.name
        }
    }

    /// Whether this provider is the ChatGPT backend reached with the caller's own Codex login
    /// (its `authorization` and `chatgpt-account-id`, relayed per request, never kept).
    pub fn relays_codex_login(&self) -> bool {
        self.preset.as_deref() == Some(crate::presets::CHATGPT_PRESET)
    }

    /// Whether WebSocket turns are relayed to this provider over its own WebSocket: a
    /// Responses provider whose settings or preset say it serves one.
    pub fn relays_websocket(&self) -> bool {
        self.wire_api == crate::wire_api::WireApi::Responses
            && self.websocket.unwrap_or_else(|| {
                self.preset
                    .as_deref()
                    .and_then(preset)
                    .is_some_and(|p| p.websocket)
            })
    }

    /// Whether requests need a key: as the preset says, and yes when there is no preset.
    pub fn needs_key(&self) -> bool {
        self.preset
            .as_deref()
            .and_then(preset)
            .is_none_or(|p| p.needs_key)
    }

    /// Whether the address is local on its face, with no lookup: a local IP literal, or
    /// `localhost`.
    pub fn address_is_local(&self) -> bool {
        match url::Url::parse(&self.base_url)
            .ok()
            .and_then(|u| u.host().map(|h| h.to_owned()))
        {
            Some(url::Host::Ipv4(ip)) => is_local_ip(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => is_local_ip(IpAddr::V6(ip)),
            Some(url::Host::Domain(d)) => is_localhost_name(&d),
            None => false,
        }
    }

    /// A runtime on this machine or the local network (Ollama, LM Studio, vLLM, llama.cpp, or any
    /// provider whose address is local).
    pub fn is_local_runtime(&self) -> bool {
        matches!(
            self.preset.as_deref(),
            Some("ollama" | "lmstudio" | "vllm" | "llamacpp")
        ) || self.address_is_local()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_addresses() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.9",
            "172.16.4.4",
            "169.254.1.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:192.168.1.1",
        ] {
            assert!(is_local_ip(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "203.0.113.5",
            "2001:db8::1",
            "::ffff:8.8.8.8",
            "100.64.0.1",
        ] {
            assert!(!is_local_ip(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn providers_described_from_their_settings() {
        let mut p = Provider::from_preset("c", "custom").unwrap();
        assert_eq!(p.display_name(), "Custom (Chat Completions)");
        p.name.clear();
        assert_eq!(p.display_name(), "c");
        assert!(!p.needs_key());
        p.preset = None;
        assert!(p.needs_key(), "no preset: assume a key");
        p.base_url = "http://192.168.1.20:8000/v1".into();
        assert!(p.is_local_runtime() && p.address_is_local());
        p.base_url = "https://api.example.com/v1".into();
        assert!(!p.is_local_runtime());
        p.base_url = "http://localhost:1234/v1".into();
        assert!(p.is_local_runtime());
    }
}
