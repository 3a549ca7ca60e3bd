//! Looking for a secret where it must not be: a log writer that keeps what is logged, and a
//! walk of every file under a folder.

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// A log writer keeping every byte (give clones to `tracing_subscriber`'s `with_writer`).
#[derive(Clone, Default)]
pub struct Captured(pub Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// Every log line of this test process, at trace level, from now on (installs the global
    /// subscriber: once per test binary).
    pub fn install() -> Captured {
        let logs = Captured::default();
        let sink = logs.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || sink.clone())
            .init();
        logs
    }

    pub fn contains(&self, needle: &str) -> bool {
        let bytes = self.0.lock().unwrap();
        bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every file under `dir` (or `dir` itself, a file) whose bytes contain `needle`.
pub fn files_containing(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut hits = Vec::new();
    if dir.is_file() {
        if std::fs::read(dir).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle)) {
            hits.push(dir.display().to_string());
        }
        return hits;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return hits;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            hits.extend(files_containing(&p, needle));
        } else if std::fs::read(&p).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle)) {
            hits.push(p.display().to_string());
        }
    }
    hits
}
