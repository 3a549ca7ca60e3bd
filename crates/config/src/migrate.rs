//! Settings file migrations, applied whenever a file is read (by the app and by
//! `plugboard-proxy` alike), oldest first. The file on disk is rewritten only when the app
//! saves.

/// Schema migrations, oldest first. Version 0 (files without `version`, written before the
/// schema was versioned) named the active provider `default_provider`.
pub fn migrate(text: &str) -> String {
    let Ok(mut table) = text.parse::<toml::Table>() else {
        return text.to_string();
    };
    let version = table
        .get("version")
        .and_then(|v| v.as_integer())
        .unwrap_or(0);
    if version >= 1 {
        return text.to_string();
    }
    if let Some(v) = table.remove("default_provider") {
        table.entry("active_provider").or_insert(v);
    }
    table.insert("version".into(), 1.into());
    toml::to_string(&table).unwrap_or_else(|_| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::migrate;

    #[test]
    fn version_0_named_the_active_provider_default_provider() {
        let out = migrate("default_provider = \"ds\"\n");
        let t: toml::Table = out.parse().unwrap();
        assert_eq!(t["active_provider"].as_str(), Some("ds"));
        assert_eq!(t["version"].as_integer(), Some(1));
        assert!(t.get("default_provider").is_none());
        let current = "version = 1\nactive_provider = \"x\"\n";
        assert_eq!(migrate(current), current, "a current file is left as it is");
    }
}
