//! What the Codex panel shows of a change to Codex's config: the file, the diff, and what
//! Apply did about the model catalog, in a sentence.

use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct CodexChange {
    path: String,
    diff: String,
    after: String,
    /// What Apply did about Codex's model catalog, in a sentence.
    #[serde(skip_serializing_if = "Option::is_none")]
    catalog: Option<String>,
}

impl From<plugboard_codex::Preview> for CodexChange {
    fn from(p: plugboard_codex::Preview) -> Self {
        Self {
            path: p.path.display().to_string(),
            diff: p.diff,
            after: p.after,
            catalog: None,
        }
    }
}

impl From<plugboard_codex::Applied> for CodexChange {
    fn from(a: plugboard_codex::Applied) -> Self {
        let catalog = Some(match a.catalog {
            plugboard_codex::CatalogOutcome::Written { models, .. } if models.is_empty() => {
                "Codex's model catalog written; every model name is one Codex knows.".to_string()
            }
            plugboard_codex::CatalogOutcome::Written { models, .. } => format!(
                "Codex now knows {} with its full tool set.",
                models.join(", ")
            ),
            plugboard_codex::CatalogOutcome::Skipped { reason } => reason,
        })
        .map(|c| match (&a.codex_version, &a.version_note) {
            (_, Some(note)) => format!("{c}\n{note}."),
            (Some(v), None) => format!("{c}\nCodex {v} found."),
            (None, None) => c,
        });
        Self {
            catalog,
            ..a.preview.into()
        }
    }
}
