//! Starting the systems under test: the mock upstream, `plugboard-proxy` as its own process
//! (so its CPU and memory are its own), or in process for the smoke test, and LiteLLM's proxy.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

pub struct Proxy {
    pub name: &'static str,
    pub auth: Option<String>,
    /// `http://127.0.0.1:PORT/v1/responses`.
    pub responses_url: String,
    pub pid: Option<u32>,
    child: Option<tokio::process::Child>,
    in_process: Option<plugboard_server::ProxyHandle>,
}

impl Proxy {
    pub async fn stop(mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill().await;
        }
        if let Some(h) = self.in_process.take() {
            h.stop().await;
        }
    }
}

/// Cold start of the headless binary.
#[derive(Debug, Clone, Copy)]
pub struct ColdStart {
    pub to_health: Duration,
    pub to_first_response: Duration,
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `url` until it answers 2xx; gives up early when `child` exits.
async fn wait_ok(
    url: &str,
    timeout: Duration,
    child: &mut tokio::process::Child,
) -> Result<(), String> {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let start = Instant::now();
    while start.elapsed() < timeout {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "the process exited ({status}) before {url} answered"
            ));
        }
        if let Ok(r) = client.get(url).send().await {
            if r.status().is_success() {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    Err(format!(
        "{url} did not answer within {}s",
        timeout.as_secs()
    ))
}

/// `plugboard-proxy serve` in front of the mock, with the time it took to serve. It records
/// usage as users run it, into a database of the run's own (`usage_db`).
pub async fn start_plugboard(
    bin: &Path,
    mock_base: &str,
    probe_body: bytes::Bytes,
    usage_db: &Path,
) -> Result<(Proxy, ColdStart), String> {
    let port = free_port();
    let log_path = usage_db.with_file_name("plugboard.log");
    if let Some(dir) = log_path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let log =
        std::fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let started = Instant::now();
    let mut child = tokio::process::Command::new(bin)
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--upstream",
            mock_base,
            "--model-map",
            "*=mock-model",
            "--usage-db",
        ])
        .arg(usage_db)
        // Logged as users run it: a line per request, into a file.
        .env("PLUGBOARD_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("{}: {e}", bin.display()))?;
    wait_ok(
        &format!("http://127.0.0.1:{port}/health"),
        Duration::from_secs(30),
        &mut child,
    )
    .await?;
    let to_health = started.elapsed();
    let url = format!("http://127.0.0.1:{port}/v1/responses");
    let client = crate::load::client(1);
    let first = crate::load::run(
        &client,
        &crate::load::Target {
            url: url.clone(),
            body: probe_body,
            api: crate::load::Api::Responses,
            auth: None,
        },
        1,
        1,
    )
    .await;
    if !first.samples[0].ok {
        return Err("plugboard-proxy did not serve its first request".into());
    }
    let to_first_response = started.elapsed();
    let pid = child.id();
    Ok((
        Proxy {
            name: "plugboard",
            auth: None,
            responses_url: url,
            pid,
            child: Some(child),
            in_process: None,
        },
        ColdStart {
            to_health,
            to_first_response,
        },
    ))
}

/// The proxy in this process (smoke test: no binary to find).
pub async fn start_plugboard_in_process(mock_base: &str) -> Proxy {
    let mut p = plugboard_config::Provider::from_preset("mock", "custom").unwrap();
    p.base_url = mock_base.to_string();
    p.model_map.insert("*".into(), "mock-model".into());
    let settings = plugboard_config::Settings {
        listen: "127.0.0.1:0".into(),
        active_provider: Some("mock".into()),
        providers: vec![p],
        ..Default::default()
    };
    let h = plugboard_server::start(
        settings,
        std::sync::Arc::new(plugboard_server::EnvKeys),
        Default::default(),
    )
    .await
    .expect("proxy starts");
    Proxy {
        name: "plugboard",
        auth: None,
        responses_url: format!("{}/responses", h.base_url()),
        pid: None,
        child: None,
        in_process: Some(h),
    }
}

/// LiteLLM's proxy (from its own virtualenv) bridging `/v1/responses` to the mock as a chat
/// model. The `deepseek/` provider is one LiteLLM serves through its chat bridge (for
/// `openai/` and `hosted_vllm/` it calls the upstream's own `/responses`).
pub async fn start_litellm(
    litellm: &Path,
    mock_base: &str,
    workdir: &Path,
) -> Result<Proxy, String> {
    let port = free_port();
    std::fs::create_dir_all(workdir).map_err(|e| e.to_string())?;
    let config = workdir.join("litellm.yaml");
    std::fs::write(
        &config,
        format!(
            "model_list:\n  - model_name: gpt-5.5\n    litellm_params:\n      model: deepseek/mock-model\n      api_base: {mock_base}\n      api_key: unused\nlitellm_settings:\n  drop_params: true\n  telemetry: false\n"
        ),
    )
    .map_err(|e| e.to_string())?;
    let log = std::fs::File::create(workdir.join("litellm.log")).map_err(|e| e.to_string())?;
    // LiteLLM refuses to start without a master key; a random one per run.
    let master = format!(
        "sk-bench-{:016x}{:016x}",
        std::process::id(),
        Instant::now().elapsed().as_nanos() as u64 ^ 0x9e37_79b9_7f4a_7c15
    );
    let mut child = tokio::process::Command::new(litellm)
        .args([
            "--config",
            &config.to_string_lossy(),
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--num_workers",
            "1",
        ])
        .env("LITELLM_MASTER_KEY", &master)
        .env("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        .env("LITELLM_TELEMETRY", "False")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("{}: {e}", litellm.display()))?;
    wait_ok(
        &format!("http://127.0.0.1:{port}/health/liveliness"),
        Duration::from_secs(180),
        &mut child,
    )
    .await
    .map_err(|e| {
        format!(
            "LiteLLM: {e}; see {}",
            workdir.join("litellm.log").display()
        )
    })?;
    let pid = child.id();
    Ok(Proxy {
        name: "litellm",
        auth: Some(format!("Bearer {master}")),
        responses_url: format!("http://127.0.0.1:{port}/v1/responses"),
        pid,
        child: Some(child),
        in_process: None,
    })
}

/// `target/release/plugboard-proxy` under `CARGO_TARGET_DIR` (or `./target`).
pub fn default_plugboard_bin() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"));
    target.join("release/plugboard-proxy")
}
