//! Providers and routes as a file to hand to someone else, or to another machine: never a
//! key (keys are asked for again on import and go to that machine's keyring) and never a
//! custom header (they often carry credentials).

use crate::AppError;
use plugboard_config::{Provider, Route, Settings};
use serde::{Deserialize, Serialize};

const FORMAT: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct Bundle {
    plugboard_providers: u32,
    #[serde(default, rename = "provider")]
    providers: Vec<Provider>,
    #[serde(default, rename = "route")]
    routes: Vec<Route>,
}

/// The providers and routes of `settings` as a TOML file, without keys or headers.
pub fn export(settings: &Settings) -> String {
    let bundle = Bundle {
        plugboard_providers: FORMAT,
        providers: settings
            .providers
            .iter()
            .cloned()
            .map(|mut p| {
                p.headers.clear();
                p
            })
            .collect(),
        routes: settings.routes.clone(),
    };
    let body = toml::to_string(&bundle).expect("settings serialise");
    format!(
        "# Plugboard providers and routes, shared without keys: importing asks for each key and\n\
         # keeps it in that machine's OS keyring.\n{body}"
    )
}

/// The scheme Plugboard registers with the desktop: `plugboard://add-provider?…`.
pub const LINK_PREFIX: &str = "plugboard://add-provider";

/// A provider offered by a link, for the window to show pre-filled (nothing is saved until
/// the user presses Save). Links never carry keys.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinkedProvider {
    pub preset: String,
    pub name: Option<String>,
    pub base_url: Option<String>,
    pub default_model: Option<String>,
    pub wire_api: Option<plugboard_config::WireApi>,
}

/// Reads `plugboard://add-provider?preset=deepseek&name=…&base_url=…&default_model=…&wire_api=chat`.
pub fn parse_link(link: &str) -> Result<LinkedProvider, AppError> {
    let bad = AppError::Link;
    let url = url::Url::parse(link).map_err(|e| bad(e.to_string()))?;
    if url.scheme() != "plugboard" || url.host_str() != Some("add-provider") {
        return Err(bad(format!("it is not a {LINK_PREFIX} link")));
    }
    let mut p = LinkedProvider {
        preset: "custom".into(),
        name: None,
        base_url: None,
        default_model: None,
        wire_api: None,
    };
    for (k, v) in url.query_pairs() {
        let v = v.trim().to_string();
        match k.as_ref() {
            "preset" => p.preset = v,
            "name" => p.name = Some(v),
            "base_url" => p.base_url = Some(v),
            "default_model" => p.default_model = Some(v),
            "wire_api" => {
                p.wire_api = Some(match v.as_str() {
                    "chat" => plugboard_config::WireApi::Chat,
                    "responses" => plugboard_config::WireApi::Responses,
                    other => {
                        return Err(bad(format!("wire_api `{other}` is not chat or responses")))
                    }
                })
            }
            k if k.contains("key") || k.contains("token") || k.contains("secret") => {
                return Err(bad(
                    "it carries a key; keys never travel in links (paste it in the window)".into(),
                ))
            }
            _ => tracing::debug!(param = %k, "unknown add-provider link parameter ignored"),
        }
    }
    if plugboard_config::preset(&p.preset).is_none() {
        return Err(bad(format!("there is no preset `{}`", p.preset)));
    }
    if let Some(u) = &p.base_url {
        if !(u.starts_with("http://") || u.starts_with("https://")) {
            return Err(bad(format!(
                "base_url `{u}` must start with http:// or https://"
            )));
        }
    }
    Ok(p)
}

/// What an import added.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportReport {
    /// Ids of the providers added, in file order.
    pub added: Vec<String>,
    /// `(id in the file, id given)` where the file's id was taken already.
    pub renamed: Vec<(String, String)>,
    /// Added providers whose preset needs a key: the window asks for them.
    pub need_keys: Vec<String>,
    pub routes: usize,
}

/// `settings` with the file's providers and routes added; an id already taken gets a free
/// one (`deepseek-2`) and the file's routes follow the rename. Nothing is replaced.
pub fn import(settings: &Settings, text: &str) -> Result<(Settings, ImportReport), AppError> {
    let bundle: Bundle =
        toml::from_str(text).map_err(|e| AppError::NotAProvidersFile(e.message().to_string()))?;
    if bundle.plugboard_providers > FORMAT {
        return Err(AppError::NewerProvidersFile(bundle.plugboard_providers));
    }
    let mut next = settings.clone();
    let mut report = ImportReport {
        added: Vec::new(),
        renamed: Vec::new(),
        need_keys: Vec::new(),
        routes: 0,
    };
    let mut renames: Vec<(String, String)> = Vec::new();
    for mut p in bundle.providers {
        let wanted = p.id.clone();
        if next.provider(&wanted).is_some() {
            p.id = (2..)
                .map(|n| format!("{wanted}-{n}"))
                .find(|c| next.provider(c).is_none())
                .expect("a free id exists");
            renames.push((wanted, p.id.clone()));
        }
        p.headers.clear();
        if p.needs_key() {
            report.need_keys.push(p.id.clone());
        }
        report.added.push(p.id.clone());
        next.providers.push(p);
    }
    let renamed = |id: &str| {
        renames
            .iter()
            .find(|(from, _)| from == id)
            .map(|(_, to)| to.clone())
            .unwrap_or_else(|| id.to_string())
    };
    for mut r in bundle.routes {
        r.provider = renamed(&r.provider);
        r.fallbacks = r.fallbacks.iter().map(|f| renamed(f)).collect();
        if !next.routes.contains(&r) {
            next.routes.push(r);
            report.routes += 1;
        }
    }
    if next.active_provider.is_none() {
        next.active_provider = report.added.first().cloned();
    }
    let problems = next.validate();
    if !problems.is_empty() {
        return Err(AppError::InvalidSettings(problems));
    }
    report.renamed = renames;
    Ok((next, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        let mut s = Settings::default();
        let mut ds = Provider::from_preset("deepseek", "deepseek").unwrap();
        ds.headers
            .insert("X-Api-Key".into(), "sk-in-a-header-0123".into());
        s.providers.push(ds);
        s.providers
            .push(Provider::from_preset("box", "ollama").unwrap());
        s.active_provider = Some("deepseek".into());
        s.routes.push(Route {
            model: "plan".into(),
            provider: "deepseek".into(),
            upstream_model: Some("deepseek-reasoner".into()),
            fallbacks: vec!["box".into()],
            context_window: None,
            subagent: false,
        });
        s
    }

    #[test]
    fn export_then_import_elsewhere_and_here() {
        let text = export(&settings());
        assert!(!text.contains("sk-in-a-header"), "{text}");
        assert!(
            text.contains("[[provider]]") && text.contains("[[route]]"),
            "{text}"
        );

        // Elsewhere: everything arrives, DeepSeek needs its key.
        let (s, report) = import(&Settings::default(), &text).unwrap();
        assert_eq!(report.added, ["deepseek", "box"]);
        assert_eq!(report.need_keys, ["deepseek"]);
        assert_eq!(s.active_provider.as_deref(), Some("deepseek"));
        assert_eq!(s.routes.len(), 1);

        // Here again: ids are taken, so the copies get free ones and the route follows.
        let (s, report) = import(&settings(), &text).unwrap();
        assert_eq!(
            report.renamed,
            [
                ("deepseek".to_string(), "deepseek-2".to_string()),
                ("box".to_string(), "box-2".to_string())
            ]
        );
        let copied = s
            .routes
            .iter()
            .find(|r| r.provider == "deepseek-2")
            .unwrap();
        assert_eq!(copied.fallbacks, ["box-2"]);
        assert_eq!(s.active_provider.as_deref(), Some("deepseek"), "unchanged");
    }

    #[test]
    fn links_fill_a_form_and_never_carry_keys() {
        let p = parse_link("plugboard://add-provider?preset=deepseek&name=Team%20DeepSeek&base_url=https%3A%2F%2Fgw.example%2Fv1&default_model=deepseek-chat").unwrap();
        assert_eq!(p.preset, "deepseek");
        assert_eq!(p.name.as_deref(), Some("Team DeepSeek"));
        assert_eq!(p.base_url.as_deref(), Some("https://gw.example/v1"));
        for bad in [
            "plugboard://add-provider?preset=deepseek&api_key=sk-1",
            "plugboard://remove-everything",
            "https://add-provider?preset=deepseek",
            "plugboard://add-provider?preset=nope",
            "plugboard://add-provider?base_url=file:///etc/passwd",
        ] {
            assert!(parse_link(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn other_files_are_refused_with_a_reason() {
        let e = import(&Settings::default(), "model = \"o3\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a Plugboard providers file"), "{e}");
        let e = import(&Settings::default(), "plugboard_providers = 9\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("newer Plugboard"), "{e}");
    }
}
