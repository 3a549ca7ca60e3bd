//! Whether a patch is one Codex's `apply_patch` accepts, after the grammar Codex gives the
//! model in the tool's definition (`*** Begin Patch`, hunks to add, delete or update files,
//! `*** End Patch`). A model that gets this wrong makes every edit of a session fail.

/// What a patch does to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hunk {
    Add { path: String, lines: Vec<String> },
    Delete { path: String },
    Update { path: String, changes: usize },
}

/// What is wrong with a patch, in a sentence naming the line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PatchError(pub String);

/// The hunks of `patch`, or what is wrong with it.
pub fn check_patch(patch: &str) -> Result<Vec<Hunk>, PatchError> {
    hunks(patch).map_err(PatchError)
}

fn hunks(patch: &str) -> Result<Vec<Hunk>, String> {
    // Codex trims the text around the patch, as models often add a blank line.
    let lines: Vec<&str> = patch
        .trim()
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .collect();
    let first = lines.first().copied().unwrap_or_default();
    if first.trim() != "*** Begin Patch" {
        return Err(format!(
            "the patch does not start with `*** Begin Patch` (it starts with `{}`)",
            excerpt(first)
        ));
    }
    if lines.last().map(|l| l.trim()) != Some("*** End Patch") || lines.len() < 2 {
        return Err("the patch does not end with `*** End Patch`".into());
    }
    let body = &lines[1..lines.len() - 1];
    let mut hunks = Vec::new();
    let mut i = 0;
    while i < body.len() {
        let line = body[i];
        let at = i + 2; // 1-based, after the Begin line
        if let Some(path) = line.strip_prefix("*** Add File: ") {
            let path = filename(path, at)?;
            let mut added = Vec::new();
            i += 1;
            while i < body.len() && !body[i].starts_with("*** ") {
                match body[i].strip_prefix('+') {
                    Some(text) => added.push(text.to_string()),
                    None => {
                        return Err(format!(
                            "line {}: a line of a new file must start with `+` (found `{}`)",
                            i + 2,
                            excerpt(body[i])
                        ))
                    }
                }
                i += 1;
            }
            if added.is_empty() {
                return Err(format!("line {at}: `*** Add File: {path}` adds no line"));
            }
            hunks.push(Hunk::Add { path, lines: added });
        } else if let Some(path) = line.strip_prefix("*** Delete File: ") {
            hunks.push(Hunk::Delete {
                path: filename(path, at)?,
            });
            i += 1;
        } else if let Some(path) = line.strip_prefix("*** Update File: ") {
            let path = filename(path, at)?;
            i += 1;
            if i < body.len() {
                if let Some(to) = body[i].strip_prefix("*** Move to: ") {
                    filename(to, i + 2)?;
                    i += 1;
                }
            }
            let mut changes = 0;
            while i < body.len() && !body[i].starts_with("*** ") {
                let l = body[i];
                let ok = l == "@@"
                    || l.starts_with("@@ ")
                    || l.starts_with('+')
                    || l.starts_with('-')
                    || l.starts_with(' ')
                    // Codex reads an empty line inside a hunk as an empty context line.
                    || l.is_empty();
                if !ok {
                    return Err(format!(
                        "line {}: a changed line must start with `+`, `-`, a space or `@@` (found `{}`)",
                        i + 2,
                        excerpt(l)
                    ));
                }
                if l.starts_with('+') || l.starts_with('-') {
                    changes += 1;
                }
                i += 1;
            }
            if i < body.len() && body[i] == "*** End of File" {
                i += 1;
            }
            hunks.push(Hunk::Update { path, changes });
        } else {
            return Err(format!(
                "line {at}: expected `*** Add File:`, `*** Update File:` or `*** Delete File:` (found `{}`)",
                excerpt(line)
            ));
        }
    }
    if hunks.is_empty() {
        return Err("the patch changes no file".into());
    }
    Ok(hunks)
}

fn filename(raw: &str, line: usize) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(format!("line {line}: a file name is missing"));
    }
    Ok(name.to_string())
}

fn excerpt(s: &str) -> String {
    let s = s.trim();
    match s.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codex_patches_pass() {
        let add = "*** Begin Patch\n*** Add File: a.txt\n+hello from patch\n*** End Patch\n";
        assert_eq!(
            check_patch(add).unwrap(),
            vec![Hunk::Add {
                path: "a.txt".into(),
                lines: vec!["hello from patch".into()]
            }]
        );
        let update = "\n*** Begin Patch\n*** Update File: src/lib.rs\n*** Move to: src/main.rs\n@@ fn main\n-    old();\n+    new();\n \n*** End of File\n*** Delete File: old.txt\n*** End Patch";
        assert_eq!(
            check_patch(update).unwrap(),
            vec![
                Hunk::Update {
                    path: "src/lib.rs".into(),
                    changes: 2
                },
                Hunk::Delete {
                    path: "old.txt".into()
                }
            ]
        );
    }

    #[test]
    fn what_codex_refuses_is_named() {
        let cases = [
            (
                "--- a/x\n+++ b/x\n@@\n+y\n",
                "does not start with `*** Begin Patch`",
            ),
            (
                "*** Begin Patch\n*** Add File: x\n+y\n",
                "does not end with",
            ),
            (
                "*** Begin Patch\n*** Add File: x\ny\n*** End Patch",
                "line 3: a line of a new file",
            ),
            (
                "*** Begin Patch\n*** Create File: x\n+y\n*** End Patch",
                "line 2: expected",
            ),
            ("*** Begin Patch\n*** End Patch", "changes no file"),
            (
                "*** Begin Patch\n*** Add File: \n+y\n*** End Patch",
                "file name is missing",
            ),
        ];
        for (patch, want) in cases {
            let e = check_patch(patch).unwrap_err();
            assert!(e.0.contains(want), "{patch:?}: {e}");
        }
    }
}
