//! A relay that does nothing but relay: the server and client stack Plugboard uses (axum,
//! reqwest, a multi-threaded tokio runtime), in a process of its own, bytes passed through
//! unchanged. The sequential check runs it beside Plugboard: what one more hop costs on this
//! machine whatever the proxy does (two more loopback crossings and the wake-ups of another
//! process), so that Plugboard's own share of its added time can be told from the hop's.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::serve::ListenerExt;
use std::process::Stdio;
use tokio::io::AsyncBufReadExt;

/// The relay's command-line flag: `plugboard-bench --null-relay ORIGIN` runs only the relay.
pub const FLAG: &str = "--null-relay";

/// Serves on a free loopback port, printed on the first line of stdout; every request is
/// sent to `origin` + its path and the answer streamed back as it comes.
pub async fn serve(origin: String) -> std::io::Result<()> {
    let client = reqwest::Client::builder()
        .tcp_nodelay(true)
        .build()
        .map_err(std::io::Error::other)?;
    let app = axum::Router::new().fallback(move |req: Request| {
        let (client, origin) = (client.clone(), origin.clone());
        async move { relay(&client, &origin, req).await }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("{}", listener.local_addr()?.port());
    // As Plugboard's listener does: without it each small write waits for the peer's
    // delayed acknowledgement (40 ms).
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app).await
}

async fn relay(client: &reqwest::Client, origin: &str, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(body) = axum::body::to_bytes(body, usize::MAX).await else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let mut out = client.request(parts.method, format!("{origin}{}", parts.uri.path()));
    for name in [header::CONTENT_TYPE, header::ACCEPT, header::AUTHORIZATION] {
        if let Some(v) = parts.headers.get(&name) {
            out = out.header(name, v);
        }
    }
    match out.body(body).send().await {
        Ok(resp) => {
            let mut answer = Response::builder().status(resp.status());
            if let Some(ct) = resp.headers().get(header::CONTENT_TYPE) {
                answer = answer.header(header::CONTENT_TYPE, ct);
            }
            answer
                .body(Body::from_stream(resp.bytes_stream()))
                .unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response())
        }
        Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    }
}

/// The relay started by `bin` (a `plugboard-bench`) as a child of this process (killed
/// when dropped), and its port.
pub async fn start(
    bin: &std::path::Path,
    origin: &str,
) -> Result<(tokio::process::Child, u16), String> {
    let mut child = tokio::process::Command::new(bin)
        .args([FLAG, origin])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("the null relay: {e}"))?;
    let stdout = child.stdout.take().ok_or("the null relay: no stdout")?;
    let mut line = String::new();
    tokio::io::BufReader::new(stdout)
        .read_line(&mut line)
        .await
        .map_err(|e| format!("the null relay: {e}"))?;
    let port = line
        .trim()
        .parse()
        .map_err(|_| format!("the null relay printed `{}`, not a port", line.trim()))?;
    Ok((child, port))
}
