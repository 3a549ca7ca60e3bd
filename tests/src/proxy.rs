//! The proxy started in process in front of a scripted upstream, with keys given by the test.

use plugboard_config::{Provider, Settings};
use plugboard_server::{ApiKey, KeyError, KeySource, ProxyHandle, ServeOptions};
use std::collections::HashMap;
use std::sync::Arc;

/// Keys given by the test, by provider id.
#[derive(Default)]
pub struct StaticKeys(pub HashMap<String, String>);

impl KeySource for StaticKeys {
    fn key(&self, provider: &Provider) -> Result<Option<ApiKey>, KeyError> {
        Ok(self.0.get(&provider.id).map(ApiKey::new))
    }
}

/// Settings with one chat provider `mock` (DeepSeek dialect) at `base_url`, serving every
/// model, `gpt-*` mapped to `mock-model`.
pub fn one_provider(base_url: &str) -> Settings {
    let mut p = Provider::from_preset("mock", "deepseek").unwrap();
    p.base_url = base_url.to_string();
    p.model_map.insert("gpt-*".into(), "mock-model".into());
    p.timeouts.idle_secs = 5;
    Settings {
        listen: "127.0.0.1:0".into(),
        active_provider: Some("mock".into()),
        providers: vec![p],
        ..Settings::default()
    }
}

pub async fn start_proxy(settings: Settings, key: &str) -> ProxyHandle {
    start_proxy_with(settings, key, ServeOptions::default()).await
}

pub async fn start_proxy_with(settings: Settings, key: &str, opts: ServeOptions) -> ProxyHandle {
    let keys: HashMap<String, String> = settings
        .providers
        .iter()
        .map(|p| (p.id.clone(), key.to_string()))
        .collect();
    plugboard_server::start(settings, Arc::new(StaticKeys(keys)), opts)
        .await
        .expect("proxy starts")
}
