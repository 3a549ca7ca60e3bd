//! What the binary's tests share beyond the workspace's test kit: reading the proxy's output
//! up to a line.

pub use plugboard_e2e::free_port;
use std::io::BufRead;

/// Reads the proxy's stdout until what it printed contains `needle`; everything read. The
/// proxy ending its output first fails the test with what it did print.
pub fn read_until(stdout: &mut impl BufRead, needle: &str) -> String {
    let mut printed = String::new();
    while !printed.contains(needle) {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "the proxy stopped printing before `{needle}`: {printed}"
        );
        printed.push_str(&line);
    }
    printed
}

/// What one `codex exec -m MODEL PROMPT` printed, run in `dir/work` with `CODEX_HOME` at
/// `home`, through `plugboard-proxy serve --no-usage --config SETTINGS` (with `serve_env`)
/// started for it and stopped after.
#[allow(dead_code)] // Not every test binary that shares this module runs Codex.
pub async fn codex_through_serve(
    settings: &std::path::Path,
    serve_env: &[(&str, &str)],
    codex: &std::path::Path,
    dir: &std::path::Path,
    home: &std::path::Path,
    model: &str,
    prompt: &str,
) -> (bool, String, String) {
    use std::process::{Command, Stdio};
    let mut serve = Command::new(env!("CARGO_BIN_EXE_plugboard-proxy"));
    serve
        .args(["serve", "--no-usage", "--config"])
        .arg(settings)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in serve_env {
        serve.env(k, v);
    }
    let mut serve = serve.spawn().unwrap();
    let mut stdout = std::io::BufReader::new(serve.stdout.take().unwrap());
    read_until(&mut stdout, "listening on");
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(180),
        tokio::process::Command::new(codex)
            .args([
                "exec",
                "--skip-git-repo-check",
                "--color",
                "never",
                "-m",
                model,
                prompt,
            ])
            .current_dir(dir.join("work"))
            .env("CODEX_HOME", home)
            .env("HOME", dir)
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env_remove("OPENAI_API_KEY")
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("codex exec finished")
    .unwrap();
    let _ = serve.kill();
    let _ = serve.wait();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
