//! Local-only mode: no byte of a request leaves this machine or the local network. Before
//! Plugboard connects a provider it resolves the provider's host and refuses unless every
//! address is loopback, private or link-local; the HTTP clients resolve through the same
//! filter, so a name that changes its answer between the check and the connection still
//! cannot reach a public address.

use crate::error::ProxyError;
use plugboard_config::address::is_localhost_name;
use plugboard_config::{is_local_ip, Provider};
use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;

type Lookup<'a> = Pin<Box<dyn Future<Output = std::io::Result<Vec<IpAddr>>> + Send + 'a>>;

/// Name resolution, replaceable so that tests never need real DNS.
pub trait HostResolver: Send + Sync + 'static {
    fn lookup<'a>(&'a self, host: &'a str, port: u16) -> Lookup<'a>;
}

/// The system's resolver.
pub struct SystemResolver;

impl HostResolver for SystemResolver {
    fn lookup<'a>(&'a self, host: &'a str, port: u16) -> Lookup<'a> {
        Box::pin(async move {
            Ok(tokio::net::lookup_host((host, port))
                .await?
                .map(|a| a.ip())
                .collect())
        })
    }
}

/// Fixed answers; any other name does not resolve.
#[derive(Default, Clone)]
pub struct StaticHosts(pub HashMap<String, Vec<IpAddr>>);

impl HostResolver for StaticHosts {
    fn lookup<'a>(&'a self, host: &'a str, _port: u16) -> Lookup<'a> {
        Box::pin(async move {
            self.0.get(host).cloned().ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("{host}: no such host"),
                )
            })
        })
    }
}

fn refused(p: &Provider, why: String) -> ProxyError {
    let name = p.display_name();
    ProxyError::LocalOnlyRefused {
        message: format!(
            "Local-only mode is on: Plugboard did not connect to {name} because {why}. Choose a \
             provider on this machine or the local network, or turn local-only off"
        ),
    }
}

/// Whether the provider's host is on this machine or the local network, decided before
/// any connection: `Ok` when it is, the refusal in OpenAI's shape when it is not or cannot
/// be told.
pub async fn check(p: &Provider, resolver: &dyn HostResolver) -> Result<(), ProxyError> {
    let url = url::Url::parse(&p.base_url)
        .map_err(|_| refused(p, format!("its address `{}` is not a URL", p.base_url)))?;
    let port = url.port_or_known_default().unwrap_or(443);
    let addrs: Vec<IpAddr> = match url.host() {
        Some(url::Host::Ipv4(ip)) => vec![IpAddr::V4(ip)],
        Some(url::Host::Ipv6(ip)) => vec![IpAddr::V6(ip)],
        Some(url::Host::Domain(d)) if is_localhost_name(d) => return Ok(()),
        Some(url::Host::Domain(d)) => resolver.lookup(d, port).await.map_err(|e| {
            refused(
                p,
                format!("its host {d} could not be resolved ({e}), so it cannot be checked"),
            )
        })?,
        None => return Err(refused(p, "its address has no host".into())),
    };
    let host = url.host_str().unwrap_or_default();
    match addrs.iter().find(|ip| !is_local_ip(**ip)) {
        Some(public) if host == public.to_string().trim_matches(['[', ']']) => {
            Err(refused(p, format!("{host} is a public address")))
        }
        Some(public) => Err(refused(
            p,
            format!("{host} resolves to the public address {public}"),
        )),
        None if addrs.is_empty() => Err(refused(p, format!("{host} resolves to no address"))),
        None => Ok(()),
    }
}

/// The HTTP clients' resolver while local-only is on: only local addresses come out.
pub struct LocalOnlyDns(pub Arc<dyn HostResolver>);

impl reqwest::dns::Resolve for LocalOnlyDns {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let resolver = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let addrs = resolver.lookup(&host, 0).await?;
            let local: Vec<SocketAddr> = addrs
                .into_iter()
                .filter(|ip| is_local_ip(*ip))
                .map(|ip| SocketAddr::new(ip, 0))
                .collect();
            if local.is_empty() {
                return Err(format!("local-only: {host} has no local address").into());
            }
            Ok(Box::new(local.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(url: &str) -> Provider {
        let mut p = Provider::from_preset("p", "custom").unwrap();
        p.name = "My provider".into();
        p.base_url = url.into();
        p
    }

    #[tokio::test]
    async fn checks_resolve_names_first() {
        let hosts = StaticHosts(HashMap::from([
            ("box.lan".to_string(), vec!["192.168.1.20".parse().unwrap()]),
            (
                "sneaky.example".to_string(),
                vec![
                    "192.168.1.20".parse().unwrap(),
                    "93.184.216.34".parse().unwrap(),
                ],
            ),
        ]));
        assert!(check(&provider("http://127.0.0.1:11434/v1"), &hosts)
            .await
            .is_ok());
        assert!(check(&provider("http://localhost:1234/v1"), &hosts)
            .await
            .is_ok());
        assert!(check(&provider("http://box.lan:8000/v1"), &hosts)
            .await
            .is_ok());
        let e = check(&provider("https://sneaky.example/v1"), &hosts)
            .await
            .unwrap_err();
        assert_eq!(e.code(), crate::error::LOCAL_ONLY_REFUSED);
        assert!(
            e.api_error()
                .message
                .contains("resolves to the public address 93.184.216.34"),
            "{}",
            e.message()
        );
        assert!(e.message().contains("My provider"));
        let e = check(&provider("https://api.deepseek.invalid/v1"), &hosts)
            .await
            .unwrap_err();
        assert!(
            e.message().contains("could not be resolved"),
            "{}",
            e.message()
        );
        let e = check(&provider("https://8.8.8.8/v1"), &hosts)
            .await
            .unwrap_err();
        assert!(
            e.message().contains("8.8.8.8 is a public address"),
            "{}",
            e.message()
        );
    }
}
