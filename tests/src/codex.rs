//! The real Codex CLI as a client: a config with Plugboard as its provider, a home for it
//! (not under /tmp: Codex refuses to set up its helper binaries there), and `codex exec`.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// What one `codex exec` did.
pub struct Run {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

/// The Codex binary the project's test script installed (`CODEX_BIN`).
pub fn codex_bin() -> Option<PathBuf> {
    crate::external_tool("CODEX_BIN").map(PathBuf::from)
}

/// A fresh `BASE/codex-NAME-PID` with a `work` folder inside.
pub fn codex_dir(base: &Path, name: &str) -> PathBuf {
    let d = base.join(format!("codex-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("work")).unwrap();
    d
}

/// A user's config with Plugboard as the default provider, then `extra` (more tables).
pub fn write_config(codex_home: &Path, base_url: &str, extra: &str) {
    std::fs::create_dir_all(codex_home).unwrap();
    std::fs::write(
        codex_home.join("config.toml"),
        format!(
            r#"model = "gpt-5.5"
model_provider = "plugboard"
approval_policy = "never"
sandbox_mode = "danger-full-access"

[model_providers.plugboard]
name = "Plugboard"
base_url = "{base_url}"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
{extra}"#
        ),
    )
    .unwrap();
}

/// Runs `codex exec ARGS...` in `workdir` with `CODEX_HOME` at `home/codex-home`.
pub async fn codex_exec(bin: &Path, home: &Path, workdir: &Path, args: &[&str]) -> Run {
    let mut cmd = tokio::process::Command::new(bin);
    cmd.args(["exec", "--skip-git-repo-check", "--color", "never"])
        .args(args)
        .current_dir(workdir)
        .env("CODEX_HOME", home.join("codex-home"))
        .env("HOME", home)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env_remove("OPENAI_API_KEY")
        .env_remove("HTTP_PROXY")
        .env_remove("HTTPS_PROXY")
        .env_remove("http_proxy")
        .env_remove("https_proxy")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(240), cmd.output())
        .await
        .expect("codex exec finished")
        .expect("codex runs");
    Run {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}
