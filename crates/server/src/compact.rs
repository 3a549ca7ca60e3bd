//! `POST /v1/responses/compact` (Open Responses `compactResponse`): a provider that speaks
//! Responses gets it passed through; a chat provider is asked for a summary of the history,
//! and the compacted window (recent user messages and a `compaction` item holding the
//! summary) comes back in the specification's `response.compaction` shape.

use crate::chat_bridge::{bad_upstream, post_chat, previous, read_completion, translate_error};
use crate::endpoint::{entry, require_input, JsonBody};
use crate::error::ProxyError;
use crate::failover::{self, Attempt, RequestFacts};
use crate::passthrough::{body_for, credentials};
use crate::references;
use crate::request_log::RequestLog;
use crate::routing::Target;
use crate::state::AppState;
use crate::upstream;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use plugboard_config::WireApi;
use plugboard_core::{ApiKey, Outcome};
use plugboard_translate::compaction::{self, CompactRequest};
use plugboard_translate::provenance::keys_of_answer;
use plugboard_translate::{completion_to_response, TranslateOptions};
use plugboard_wire::responses::OutputItem;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Instant;

pub async fn compact_response(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<JsonBody<CompactRequest>, ProxyError>,
) -> Response {
    let work = state.clone();
    entry(&state, move |request_id, started| {
        handle(work, headers, body, request_id, started)
    })
    .await
}

async fn handle(
    state: Arc<AppState>,
    headers: HeaderMap,
    body: Result<JsonBody<CompactRequest>, ProxyError>,
    request_id: String,
    started: Instant,
) -> Response {
    let parsed = body.and_then(
        |JsonBody {
             bytes: body,
             value: mut req,
         }| {
            require_input(&req.input, req.previous_response_id.is_some())?;
            if let Some(input) = references::resolve(&req.input, &state.store)? {
                req.input = input;
            }
            let history = previous(&state, req.previous_response_id.as_deref())?
                .map(|p| p.history())
                .unwrap_or_default();
            Ok((body, req, history))
        },
    );
    let (body, req, history) = match parsed {
        Ok(p) => p,
        Err(e) => {
            tracing::info!(status = e.status().as_u16(), code = e.code(), message = %e.message(), "compaction refused");
            return e.into_response();
        }
    };
    let routes = state.routes();
    let facts = RequestFacts {
        model: &req.model,
        stream: false,
        request_id: &request_id,
        started,
    };
    let work = CompactAttempt {
        state: &state,
        headers: &headers,
        body: &body,
        req: &req,
        history: &history,
    };
    failover::serve(&state, &routes, facts, &work).await
}

struct CompactAttempt<'r> {
    state: &'r AppState,
    headers: &'r HeaderMap,
    body: &'r Bytes,
    req: &'r CompactRequest,
    history: &'r [Value],
}

impl Attempt for CompactAttempt<'_> {
    async fn attempt<'a>(
        &'a self,
        target: &'a Target<'a>,
        key: Option<ApiKey>,
        log: &'a mut Option<RequestLog>,
    ) -> Result<Response, ProxyError> {
        match target.provider.wire_api {
            WireApi::Responses => self.pass_through(target, key, log).await,
            WireApi::Chat => self.summarise(target, key, log).await,
        }
    }
}

impl CompactAttempt<'_> {
    /// The body as it came (the model renamed if mapped), the answer as it came.
    async fn pass_through(
        &self,
        target: &Target<'_>,
        key: Option<ApiKey>,
        log: &mut Option<RequestLog>,
    ) -> Result<Response, ProxyError> {
        let body = body_for(
            self.state,
            target,
            &self.req.model,
            &self.req.input,
            self.body,
        )?;
        let (key, forwarded) = credentials(target.provider, key, self.headers)?;
        let resp = upstream::post(
            target.client,
            target.provider,
            "responses/compact",
            key.as_ref(),
            body,
            "application/json",
            &forwarded,
        )
        .await?;
        let content_type = resp.headers().get(header::CONTENT_TYPE).cloned();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| bad_upstream(target, &format!("reading the answer failed: {e}")))?;
        self.state
            .issuers
            .note(&target.provider.id, keys_of_answer(&bytes));
        if let Some(l) = log.as_mut() {
            l.mark_first_event();
            l.finish(Outcome::PassedThrough, None);
        }
        let mut out = Response::builder().status(StatusCode::OK);
        if let Some(ct) = content_type {
            out = out.header(header::CONTENT_TYPE, ct);
        }
        Ok(out
            .body(axum::body::Body::from(bytes))
            .expect("headers copied from a valid response"))
    }

    /// Asks the chat model for the summary and builds the compacted window.
    async fn summarise(
        &self,
        target: &Target<'_>,
        key: Option<ApiKey>,
        log: &mut Option<RequestLog>,
    ) -> Result<Response, ProxyError> {
        let response_id = plugboard_translate::new_id("resp");
        let created_at = plugboard_translate::unix_now();
        let translation = compaction::summary_request(
            self.req,
            self.history,
            &TranslateOptions {
                upstream_model: &target.upstream_model,
                dialect: target.dialect,
                response_id: response_id.clone(),
                created_at,
            },
        )
        .map_err(|e| translate_error(e, target))?;
        let resp = post_chat(target, key.as_ref(), &translation.chat).await?;
        let completion = read_completion(resp, target).await?;
        let answer = completion_to_response(translation.context, completion);
        let summary: String = answer
            .output
            .iter()
            .filter_map(|item| match item {
                OutputItem::Message { content, .. } => {
                    Some(content.iter().map(|c| c.text.as_str()).collect::<String>())
                }
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("\n");
        if summary.trim().is_empty() {
            return Err(bad_upstream(
                target,
                "the model wrote no summary of the conversation",
            ));
        }
        let mut items = self.history.to_vec();
        items.extend(self.req.input.to_item_values());
        let output = compaction::compacted_output(&items, summary.trim(), &response_id);
        let usage = answer.usage.unwrap_or_default();
        if let Some(l) = log.as_mut() {
            l.mark_first_event();
            l.set_usage(&usage);
            l.finish(Outcome::Completed, None);
        }
        tracing::info!(
            kept_items = output.len(),
            summary_chars = summary.len(),
            "history compacted"
        );
        Ok(axum::Json(json!({
            "id": response_id,
            "object": "response.compaction",
            "output": output,
            "created_at": created_at,
            "usage": usage,
        }))
        .into_response())
    }
}
