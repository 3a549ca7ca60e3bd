//! The user's Codex CLI, asked what it knows: its version and its bundled model catalog.
//! These run a process, so callers keep them off async workers.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Overrides where Codex is looked for (a path to the `codex` executable).
pub const CODEX_BIN_ENV: &str = "PLUGBOARD_CODEX_BIN";

/// A Codex CLI that starts slower than this is treated as missing rather than waited for.
const RUN_LIMIT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum CodexCliError {
    #[error("cannot run {bin}: {source}")]
    Spawn { bin: String, source: std::io::Error },
    #[error("{bin} did not answer within {secs} s")]
    Timeout { bin: String, secs: u64 },
    #[error("{bin} failed ({status}): {stderr}")]
    Failed {
        bin: String,
        status: String,
        stderr: String,
    },
    #[error("{bin} printed a model catalog Plugboard cannot read: {message}")]
    BadCatalog { bin: String, message: String },
}

/// `PLUGBOARD_CODEX_BIN`, else the first `codex` on `PATH`.
pub fn find_codex() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(CODEX_BIN_ENV).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let names: &[&str] = if cfg!(windows) {
        &["codex.exe", "codex.cmd"]
    } else {
        &["codex"]
    };
    std::env::split_paths(&std::env::var_os("PATH")?)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// Runs `bin args…` with a deadline; stdout on success.
fn run(bin: &Path, args: &[&str]) -> Result<Vec<u8>, CodexCliError> {
    let name = bin.display().to_string();
    let mut child = Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| CodexCliError::Spawn {
            bin: name.clone(),
            source,
        })?;
    // Read both pipes while waiting: the catalog is larger than a pipe's buffer.
    let mut out = child.stdout.take().expect("piped");
    let mut err = child.stderr.take().expect("piped");
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err.read_to_end(&mut buf);
        buf
    });
    let deadline = Instant::now() + RUN_LIMIT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(CodexCliError::Timeout {
                    bin: name,
                    secs: RUN_LIMIT.as_secs(),
                });
            }
        }
    };
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    if !status.success() {
        let stderr = String::from_utf8_lossy(&stderr);
        return Err(CodexCliError::Failed {
            bin: name,
            status: status.to_string(),
            stderr: stderr.lines().last().unwrap_or("").trim().to_string(),
        });
    }
    Ok(stdout)
}

/// `codex --version` → `0.169.0`.
pub fn codex_version(bin: &Path) -> Result<String, CodexCliError> {
    let out = run(bin, &["--version"])?;
    let text = String::from_utf8_lossy(&out);
    Ok(text
        .split_whitespace()
        .last()
        .unwrap_or_default()
        .to_string())
}

/// The catalog shipped inside this Codex binary (`codex debug models --bundled`).
pub fn bundled_catalog(bin: &Path) -> Result<serde_json::Value, CodexCliError> {
    let out = run(bin, &["debug", "models", "--bundled"])?;
    // A warning line may come before the JSON.
    let start = out.iter().position(|&b| b == b'{').unwrap_or(out.len());
    serde_json::from_slice(&out[start..]).map_err(|e| CodexCliError::BadCatalog {
        bin: bin.display().to_string(),
        message: e.to_string(),
    })
}
