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

/// Everything a child writes to `stderr`, gathered on a thread of its own (so that it never
/// blocks on a full pipe) for the test to read.
#[allow(dead_code)] // Not every test binary that shares this module reads a log.
pub fn collect(mut stderr: std::process::ChildStderr) -> std::sync::Arc<std::sync::Mutex<String>> {
    use std::io::Read;
    let logs = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let sink = logs.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    logs
}

/// A `plugboard-proxy serve` replica of a gateway in front of `upstream` (the deepseek
/// preset, its key from the environment), with `shared` naming the shared stores; its log
/// collected, killed when dropped.
#[allow(dead_code)] // Not every test binary that shares this module runs a gateway.
pub struct Replica {
    /// What it printed before it listened.
    pub printed: String,
    child: std::process::Child,
    logs: std::sync::Arc<std::sync::Mutex<String>>,
}

#[allow(dead_code)]
impl Replica {
    pub fn start(port: u16, upstream: &str, shared: &[&str]) -> Replica {
        use std::process::{Command, Stdio};
        let mut child = Command::new(env!("CARGO_BIN_EXE_plugboard-proxy"))
            .args([
                "serve",
                "--no-keyring",
                "--preset",
                "deepseek",
                "--upstream",
                upstream,
            ])
            .args(["--api-key-env", "GATEWAY_TEST_PROVIDER_KEY", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .args(shared)
            .env("PLUGBOARD_LOG", "info")
            .env("GATEWAY_TEST_PROVIDER_KEY", "sk-gateway-provider")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let printed = read_until(&mut stdout, "listening on");
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let logs = collect(child.stderr.take().unwrap());
        Replica {
            printed,
            child,
            logs,
        }
    }

    /// Requests it logged as served.
    pub fn served(&self) -> usize {
        self.logs
            .lock()
            .unwrap()
            .matches(" request request_id=")
            .count()
    }

    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().clone()
    }

    /// Killed at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}
