//! Writing a file so that a crash leaves the old one or the new one, never half: a temp file
//! in the same directory, synced, then renamed over. Every file Plugboard writes goes
//! through here (its settings, Codex's config and catalog, the check history).

use std::io::Write;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Owner-only (0600 on Unix): Plugboard's own files.
    Private,
    /// The replaced file's permissions, or the default for a new one: a file that belongs
    /// to someone else's tool (Codex's config).
    Keep,
}

pub fn write_atomic(path: &Path, bytes: &[u8], mode: Mode) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    // One temp name per file and process: writers in one process are serialised by their
    // callers (the app's lock), another process gets its own.
    let tmp = dir.join(format!(
        ".{}.plugboard-tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        std::process::id()
    ));
    let write = || -> std::io::Result<()> {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        if mode == Mode::Private {
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        }
        let mut f = opts.open(&tmp)?;
        if mode == Mode::Keep {
            if let Ok(meta) = std::fs::metadata(path) {
                f.set_permissions(meta.permissions())?;
            }
        }
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_files_with_the_permissions_asked() {
        let dir = std::env::temp_dir().join(format!("plugboard-atomic-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("sub/a.toml");
        write_atomic(&path, b"one", Mode::Private).unwrap();
        write_atomic(&path, b"two", Mode::Private).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            let theirs = dir.join("theirs.toml");
            std::fs::write(&theirs, "x").unwrap();
            std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o640)).unwrap();
            write_atomic(&theirs, b"y", Mode::Keep).unwrap();
            assert_eq!(mode(&theirs), 0o640, "someone else's file keeps its mode");
        }
        let left: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left.len(), 1, "no temp file left: {left:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
