//! The tray menu as data, built from one snapshot of the app state. The shell turns it into
//! native menu items; tests check it without a display. On Linux any click opens the menu,
//! so everything the tray does is in it.

use crate::controller::{ProxyStatus, Snapshot};

#[derive(Debug, Clone, PartialEq)]
pub enum MenuItem {
    Text {
        id: String,
        label: String,
        enabled: bool,
    },
    Check {
        id: String,
        label: String,
        checked: bool,
        enabled: bool,
    },
    Submenu {
        label: String,
        items: Vec<MenuItem>,
    },
    Separator,
}

/// What a click on a menu item asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrayAction {
    ActivateProvider(String),
    ToggleProxy,
    CopyBaseUrl,
    ApplyToCodex,
    OpenSettings,
    OpenLog,
    ToggleAutostart,
    ToggleLocalOnly,
    Quit,
}

impl TrayAction {
    pub fn id(&self) -> String {
        match self {
            TrayAction::ActivateProvider(p) => format!("provider:{p}"),
            TrayAction::ToggleProxy => "proxy:toggle".into(),
            TrayAction::CopyBaseUrl => "copy-base-url".into(),
            TrayAction::ApplyToCodex => "codex:apply".into(),
            TrayAction::OpenSettings => "open-settings".into(),
            TrayAction::OpenLog => "open-log".into(),
            TrayAction::ToggleAutostart => "autostart".into(),
            TrayAction::ToggleLocalOnly => "local-only".into(),
            TrayAction::Quit => "quit".into(),
        }
    }

    pub fn from_id(id: &str) -> Option<TrayAction> {
        if let Some(p) = id.strip_prefix("provider:") {
            return Some(TrayAction::ActivateProvider(p.to_string()));
        }
        Some(match id {
            "proxy:toggle" => TrayAction::ToggleProxy,
            "copy-base-url" => TrayAction::CopyBaseUrl,
            "codex:apply" => TrayAction::ApplyToCodex,
            "open-settings" => TrayAction::OpenSettings,
            "open-log" => TrayAction::OpenLog,
            "autostart" => TrayAction::ToggleAutostart,
            "local-only" => TrayAction::ToggleLocalOnly,
            "quit" => TrayAction::Quit,
            _ => return None,
        })
    }
}

fn text(action: TrayAction, label: &str, enabled: bool) -> MenuItem {
    MenuItem::Text {
        id: action.id(),
        label: label.into(),
        enabled,
    }
}

fn active_name(s: &Snapshot) -> Option<String> {
    s.settings.active().map(|p| p.display_name().to_string())
}

/// The header's and the tray's first line: the state, the active provider by name, and
/// the last request when it failed.
pub fn status_line(s: &Snapshot) -> String {
    if s.settings.providers.is_empty() {
        return "No provider yet: add one under Providers".into();
    }
    match &s.status {
        ProxyStatus::Running { addr } => {
            let mut line = format!("Running on {addr}");
            if s.settings.local_only {
                line = format!("{line} · Local only");
            }
            if let Some(active) = active_name(s) {
                line = format!("{line} · {active}");
            }
            if !s.keys_waiting.is_empty() {
                line = format!(
                    "{line} · Waiting for the keyring to be unlocked: {}",
                    s.keys_waiting.join(", ")
                );
            }
            match &s.last_request {
                Some(l) if !l.ok => format!(
                    "{line} · Last request failed: {}",
                    l.sentence.as_deref().unwrap_or("unknown error")
                ),
                Some(l) if Some(&l.provider) != active_name(s).as_ref() => {
                    format!("{line} · last answer: {}", l.provider)
                }
                _ => line,
            }
        }
        ProxyStatus::Stopped => "Stopped".into(),
        ProxyStatus::Quitting => "Quitting… requests under way finish first".into(),
        ProxyStatus::Error { message } => format!("Error: {message}"),
    }
}

pub fn menu(s: &Snapshot) -> Vec<MenuItem> {
    let running = matches!(s.status, ProxyStatus::Running { .. });
    let mut items = vec![
        MenuItem::Text {
            id: "status".into(),
            label: status_line(s),
            enabled: false,
        },
        MenuItem::Separator,
    ];
    if s.settings.providers.is_empty() {
        items.push(MenuItem::Text {
            id: "no-providers".into(),
            label: "No providers yet: open settings to add one".into(),
            enabled: false,
        });
    }
    let active = s.settings.active().map(|p| p.id.clone());
    for p in &s.settings.providers {
        let label = p.display_name().to_string();
        items.push(MenuItem::Check {
            id: TrayAction::ActivateProvider(p.id.clone()).id(),
            label,
            checked: active.as_deref() == Some(&p.id),
            enabled: true,
        });
    }
    if !s.settings.routes.is_empty() {
        let routes = s
            .settings
            .routes
            .iter()
            .map(|r| MenuItem::Text {
                id: format!("route:{}", r.model),
                label: format!(
                    "{} → {}{}",
                    r.model,
                    r.provider,
                    r.upstream_model
                        .as_deref()
                        .map(|m| format!(" ({m})"))
                        .unwrap_or_default()
                ),
                enabled: false,
            })
            .collect();
        items.push(MenuItem::Submenu {
            label: "Routes".into(),
            items: routes,
        });
    }
    items.push(MenuItem::Separator);
    items.push(MenuItem::Check {
        id: TrayAction::ToggleLocalOnly.id(),
        label: "Local only (nothing leaves this machine or network)".into(),
        checked: s.settings.local_only,
        enabled: true,
    });
    items.push(text(
        TrayAction::ToggleProxy,
        if running { "Stop proxy" } else { "Start proxy" },
        true,
    ));
    items.push(text(TrayAction::CopyBaseUrl, "Copy base URL", running));
    items.push(text(
        TrayAction::ApplyToCodex,
        if s.codex_attached {
            "Apply to Codex (attached)"
        } else {
            "Apply to Codex"
        },
        true,
    ));
    items.push(MenuItem::Separator);
    items.push(text(TrayAction::OpenSettings, "Open settings…", true));
    items.push(text(TrayAction::OpenLog, "Open log file", true));
    items.push(MenuItem::Check {
        id: TrayAction::ToggleAutostart.id(),
        label: "Start at login".into(),
        checked: s.autostart,
        enabled: true,
    });
    items.push(MenuItem::Separator);
    items.push(text(TrayAction::Quit, "Quit Plugboard", true));
    items
}

/// The tray tooltip (where the panel shows one): the status line.
pub fn tooltip(s: &Snapshot) -> String {
    format!("Plugboard · {}", status_line(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use plugboard_config::{Provider, Route, Settings};

    fn snapshot(status: ProxyStatus) -> Snapshot {
        let mut settings = Settings::default();
        settings
            .providers
            .push(Provider::from_preset("deepseek", "deepseek").unwrap());
        settings
            .providers
            .push(Provider::from_preset("local", "ollama").unwrap());
        settings.active_provider = Some("local".into());
        Snapshot {
            settings,
            status,
            autostart: true,
            codex_attached: false,
            base_url: "http://127.0.0.1:15731/v1".into(),
            warnings: vec![],
            keys_waiting: vec![],
            last_request: None,
            tray_state: crate::status::TrayState::Running,
        }
    }

    fn checks(items: &[MenuItem]) -> Vec<(String, bool)> {
        items
            .iter()
            .filter_map(|i| match i {
                MenuItem::Check { id, checked, .. } => Some((id.clone(), *checked)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn providers_are_check_items_and_the_check_follows_the_active_one() {
        let mut s = snapshot(ProxyStatus::Running {
            addr: "127.0.0.1:15731".into(),
        });
        let items = menu(&s);
        assert_eq!(
            checks(&items),
            vec![
                ("provider:deepseek".into(), false),
                ("provider:local".into(), true),
                ("local-only".into(), false),
                ("autostart".into(), true)
            ]
        );
        s.settings.active_provider = Some("deepseek".into());
        assert_eq!(checks(&menu(&s))[0], ("provider:deepseek".into(), true));
        assert!(
            tooltip(&s).contains("DeepSeek") && tooltip(&s).contains("Running on 127.0.0.1:15731")
        );
    }

    #[test]
    fn proxy_state_changes_the_status_line_and_actions() {
        let running = menu(&snapshot(ProxyStatus::Running {
            addr: "127.0.0.1:15731".into(),
        }));
        assert!(
            matches!(&running[0], MenuItem::Text { label, enabled: false, .. } if label == "Running on 127.0.0.1:15731 · Ollama")
        );
        assert!(running.contains(&text(TrayAction::ToggleProxy, "Stop proxy", true)));
        assert!(running.contains(&text(TrayAction::CopyBaseUrl, "Copy base URL", true)));
        let stopped = menu(&snapshot(ProxyStatus::Stopped));
        assert!(stopped.contains(&text(TrayAction::ToggleProxy, "Start proxy", true)));
        assert!(stopped.contains(&text(TrayAction::CopyBaseUrl, "Copy base URL", false)));
        let err = menu(&snapshot(ProxyStatus::Error {
            message: "127.0.0.1:15731 is in use".into(),
        }));
        assert!(matches!(&err[0], MenuItem::Text { label, .. } if label.contains("in use")));
    }

    #[test]
    fn the_status_line_names_providers_and_says_what_failed() {
        let mut s = snapshot(ProxyStatus::Running {
            addr: "127.0.0.1:15731".into(),
        });
        s.last_request = Some(crate::status::LastRequest {
            provider: "DeepSeek".into(),
            ok: false,
            sentence: Some("DeepSeek rejected the key (401)".into()),
            ts_ms: 1,
        });
        assert_eq!(
            status_line(&s),
            "Running on 127.0.0.1:15731 · Ollama · Last request failed: DeepSeek rejected the key (401)"
        );
        s.last_request = Some(crate::status::LastRequest {
            provider: "DeepSeek".into(),
            ok: true,
            sentence: None,
            ts_ms: 2,
        });
        assert!(status_line(&s).ends_with("· last answer: DeepSeek"));
        s.keys_waiting = vec!["DeepSeek".into()];
        assert!(status_line(&s).contains("Waiting for the keyring to be unlocked: DeepSeek"));
        s.settings.providers.clear();
        assert_eq!(status_line(&s), "No provider yet: add one under Providers");
    }

    #[test]
    fn routes_submenu_only_when_routes_exist() {
        let mut s = snapshot(ProxyStatus::Stopped);
        assert!(!menu(&s)
            .iter()
            .any(|i| matches!(i, MenuItem::Submenu { .. })));
        s.settings.routes.push(Route {
            model: "plan".into(),
            provider: "deepseek".into(),
            upstream_model: Some("deepseek-reasoner".into()),
            fallbacks: Vec::new(),
            context_window: None,
            subagent: false,
        });
        let sub = menu(&s).into_iter().find_map(|i| match i {
            MenuItem::Submenu { items, .. } => Some(items),
            _ => None,
        });
        assert!(
            matches!(&sub.unwrap()[0], MenuItem::Text { label, .. } if label == "plan → deepseek (deepseek-reasoner)")
        );
    }

    #[test]
    fn every_item_id_maps_back_to_its_action() {
        for item in menu(&snapshot(ProxyStatus::Stopped)) {
            if let MenuItem::Text {
                id, enabled: true, ..
            }
            | MenuItem::Check {
                id, enabled: true, ..
            } = &item
            {
                let action = TrayAction::from_id(id).unwrap_or_else(|| panic!("{id}"));
                assert_eq!(&action.id(), id);
            }
        }
        assert_eq!(
            TrayAction::from_id("provider:a:b"),
            Some(TrayAction::ActivateProvider("a:b".into()))
        );
        assert_eq!(TrayAction::from_id("nope"), None);
    }
}
