//! One address serving both APIs, as DeepSeek, Qwen or vLLM do: Chat Completions (and the
//! model list) from a scripted chat model, the Responses API from a scripted Responses
//! provider, each request forwarded as it came and its answer streamed back.

use crate::scripted_model::ScriptedModel;
use crate::scripted_responses::ScriptedResponses;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use axum::Router;
use futures_util::StreamExt;
use std::net::SocketAddr;
use std::sync::Arc;

pub struct TwoPaths {
    pub chat: ScriptedModel,
    pub responses: ScriptedResponses,
    pub addr: SocketAddr,
    _server: crate::LoopbackServer,
}

#[derive(Clone)]
struct Targets {
    chat: Arc<str>,
    responses: Arc<str>,
    client: reqwest::Client,
}

impl TwoPaths {
    pub async fn start(chat: ScriptedModel, responses: ScriptedResponses) -> Self {
        let targets = Targets {
            chat: format!("http://{}", chat.addr).into(),
            responses: format!("http://{}", responses.addr).into(),
            client: reqwest::Client::builder().no_proxy().build().unwrap(),
        };
        let app = Router::new().fallback(forward).with_state(targets);
        let server = crate::LoopbackServer::start(app).await;
        Self {
            chat,
            responses,
            addr: server.addr,
            _server: server,
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }
}

async fn forward(State(t): State<Targets>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let to = if path.ends_with("/responses") {
        &t.responses
    } else {
        &t.chat
    };
    let (parts, body) = req.into_parts();
    let body: Bytes = axum::body::to_bytes(body, 64 << 20)
        .await
        .unwrap_or_default();
    let mut out = t
        .client
        .request(parts.method, format!("{to}{path}"))
        .body(body);
    for (name, value) in parts.headers.iter().filter(|(n, _)| *n != "host") {
        out = out.header(name, value);
    }
    let resp = out.send().await.expect("the scripted upstream answers");
    let mut back = Response::builder().status(resp.status().as_u16());
    for (name, value) in resp.headers() {
        back = back.header(name, value);
    }
    back.body(Body::from_stream(
        resp.bytes_stream()
            .map(|c| c.map_err(std::io::Error::other)),
    ))
    .unwrap()
}
