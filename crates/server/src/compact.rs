//! `POST /v1/responses/compact` (Open Responses `compactResponse`): a provider that speaks
//! Responses gets it passed through; a chat provider is asked for a summary of the history,
//! and the compacted window (recent user messages and a `compaction` item holding the
//! summary) comes back in the specification's `response.compaction` shape.

use crate::chat_bridge::{bad_upstream, post_chat, previous, read_completion, translate_error};
use crate::endpoint::{entry, require_input, session_of, JsonBody};
use crate::error::ProxyError;
use crate::failover::{self, Attempt, RequestFacts};
use crate::passthrough::{body_for, credentials};
use crate::references;
use crate::request_log::RequestLog;
use crate::routing::Target;
use crate::state::Incoming;
use crate::state::ProxyState;
use crate::upstream;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use plugboard_config::WireApi;
use plugboard_core::Caller;
use plugboard_core::{ApiKey, Outcome};
use plugboard_translate::compaction::{self, CompactRequest};
use plugboard_translate::provenance::keys_of_answer;
use plugboard_translate::{completion_to_response, TranslateOptions};
use plugboard_wire::responses::{
    Input, OutputItem, RequestEcho, ResponseObject, ResponseStatus, StreamEvent, Usage,
};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Instant;

pub async fn compact_response(
    State(state): State<Arc<ProxyState>>,
    caller: Option<axum::Extension<Caller>>,
    headers: HeaderMap,
    body: Result<JsonBody<CompactRequest>, ProxyError>,
) -> Response {
    let work = state.clone();
    let caller = caller.map(|axum::Extension(c)| c);
    entry(&state, move |request_id, started| {
        handle(work, headers, caller, body, request_id, started)
    })
    .await
}

async fn handle(
    state: Arc<ProxyState>,
    headers: HeaderMap,
    caller: Option<Caller>,
    body: Result<JsonBody<CompactRequest>, ProxyError>,
    request_id: String,
    started: Instant,
) -> Response {
    if let (Some(_), Ok(b)) = (&state.shared, &body) {
        let named = crate::shared_state::Named {
            previous: b.value.previous_response_id.as_deref(),
            items: crate::shared_state::items_of(&b.value.input),
            patient: b.value.previous_response_id.is_some(),
        };
        crate::shared_state::hydrate(&state, named).await;
    }
    let parsed = body.and_then(
        |JsonBody {
             bytes: body,
             value: mut req,
         }| {
            require_input(&req.input, req.previous_response_id.is_some())?;
            let who = caller.as_ref().map(Caller::name);
            if let Some(input) = references::resolve(&req.input, &state.store, who)? {
                req.input = input;
            }
            let history = previous(&state, req.previous_response_id.as_deref(), who)?
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
    let session = session_of(&headers);
    let facts = RequestFacts {
        model: &req.model,
        stream: false,
        request_id: &request_id,
        started,
        session: session.as_deref(),
        user: caller.as_ref().map(Caller::name),
        signals: crate::routing::Signals::of(&headers),
    };
    let work = CompactAttempt {
        state: &state,
        who: caller.as_ref().map(Caller::name),
        headers: &headers,
        body: &body,
        req: &req,
        history: &history,
    };
    failover::serve(&state, &routes, facts, &work).await
}

struct CompactAttempt<'r> {
    state: &'r ProxyState,
    who: Option<&'r str>,
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
            WireApi::Responses if target.responses_dialect.compaction => {
                self.pass_through(target, key, log).await
            }
            _ => self.summarise(target, key, log).await,
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
        let asked = crate::passthrough::Asked::history_only(
            &self.req.model,
            &self.req.input,
            self.req.previous_response_id.as_ref(),
            self.who,
        );
        let body = body_for(self.state, target, asked, self.body)?.body;
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
        let asker = Asker {
            state: self.state,
            headers: self.headers,
            target,
        };
        let s = asker.summary(key, self.req, self.history, log).await?;
        let mut items = self.history.to_vec();
        items.extend(self.req.input.to_item_values());
        let output = compaction::compacted_output(&items, &s.text, &s.response_id);
        tracing::info!(
            kept_items = output.len(),
            summary_chars = s.text.len(),
            "history compacted"
        );
        Ok(axum::Json(json!({
            "id": s.response_id,
            "object": "response.compaction",
            "output": output,
            "created_at": s.created_at,
            "usage": s.usage,
        }))
        .into_response())
    }
}

/// A model's summary of a history.
struct Summary {
    text: String,
    usage: Usage,
    response_id: String,
    created_at: u64,
}

/// Who writes a summary: the routed model, over its provider's own API.
struct Asker<'a> {
    state: &'a ProxyState,
    headers: &'a HeaderMap,
    target: &'a Target<'a>,
}

impl Asker<'_> {
    /// The routed model's summary of the history, the request's log finished with its usage.
    async fn summary(
        &self,
        key: Option<ApiKey>,
        req: &CompactRequest,
        history: &[Value],
        log: &mut Option<RequestLog>,
    ) -> Result<Summary, ProxyError> {
        let response_id = plugboard_translate::new_id("resp");
        let created_at = plugboard_translate::unix_now();
        let (text, usage) = match self.target.provider.wire_api {
            WireApi::Chat => {
                self.over_chat(key, req, history, &response_id, created_at)
                    .await?
            }
            WireApi::Responses => self.over_responses(key, req, history).await?,
        };
        if text.trim().is_empty() {
            return Err(bad_upstream(
                self.target,
                "the model wrote no summary of the conversation",
            ));
        }
        if let Some(l) = log.as_mut() {
            l.mark_first_event();
            l.set_usage(&usage);
            l.finish(Outcome::Completed, None);
        }
        Ok(Summary {
            text: text.trim().to_string(),
            usage,
            response_id,
            created_at,
        })
    }

    async fn over_chat(
        &self,
        key: Option<ApiKey>,
        req: &CompactRequest,
        history: &[Value],
        response_id: &str,
        created_at: u64,
    ) -> Result<(String, Usage), ProxyError> {
        let target = self.target;
        let translation = compaction::summary_request(
            req,
            history,
            &TranslateOptions {
                upstream_model: &target.upstream_model,
                dialect: target.dialect,
                response_id: response_id.to_string(),
                created_at,
            },
        )
        .map_err(|e| translate_error(e, target))?;
        let resp = post_chat(target, key.as_ref(), &translation.chat).await?;
        let completion = read_completion(resp, target).await?;
        let answer = completion_to_response(translation.context, completion);
        let text = answer
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
        Ok((text, answer.usage.unwrap_or_default()))
    }

    /// A provider that speaks Responses but has no compaction: one ordinary request (the
    /// history, then the summary prompt), prepared as any request to it is.
    async fn over_responses(
        &self,
        key: Option<ApiKey>,
        req: &CompactRequest,
        history: &[Value],
    ) -> Result<(String, Usage), ProxyError> {
        let target = self.target;
        let mut items = history.to_vec();
        items.extend(req.input.to_item_values());
        items.push(json!({"type": "message", "role": "user",
            "content": [{"type": "input_text", "text": compaction::SUMMARY_PROMPT}]}));
        let mut body = json!({"model": req.model, "input": items, "stream": false, "store": false});
        if let Some(i) = &req.instructions {
            body["instructions"] = i.clone().into();
        }
        let bytes = serde_json::to_vec(&body).expect("a JSON value serializes");
        let input: Input = serde_json::from_value(body["input"].clone()).map_err(|e| {
            ProxyError::invalid_request(Some("input"), "invalid_request", e.to_string())
        })?;
        // The history is in the input itself: nothing stored is named.
        let asked = crate::passthrough::Asked::history_only(&req.model, &input, None, None);
        let prepared = body_for(self.state, target, asked, &bytes)?;
        let (key, forwarded) = credentials(target.provider, key, self.headers)?;
        let resp = upstream::post(
            target.client,
            target.provider,
            "responses",
            key.as_ref(),
            prepared.body,
            "application/json",
            &forwarded,
        )
        .await?;
        let answer: ResponsesAnswer = resp
            .json()
            .await
            .map_err(|e| bad_upstream(target, &format!("its answer is not a response: {e}")))?;
        let text = answer
            .output
            .iter()
            .filter(|i| i["type"] == "message")
            .flat_map(|i| i["content"].as_array().cloned().unwrap_or_default())
            .filter_map(|c| c["text"].as_str().map(str::to_string))
            .collect::<Vec<_>>()
            .join("\n");
        Ok((text, answer.usage.unwrap_or_default()))
    }
}

/// What is read of a Responses provider's whole answer.
#[derive(serde::Deserialize)]
struct ResponsesAnswer {
    #[serde(default)]
    output: Vec<Value>,
    #[serde(default)]
    usage: Option<Usage>,
}

/// A `POST /responses` whose input ends with Codex's `compaction_trigger` (remote compaction
/// v2), at a chat provider: the history summarised by the routed model, answered as a
/// response with exactly one `compaction` item, streamed when asked.
pub(crate) async fn answer_trigger(
    state: &ProxyState,
    inc: &Incoming,
    target: &Target<'_>,
    key: Option<ApiKey>,
    log: &mut Option<RequestLog>,
) -> Result<Response, ProxyError> {
    let input = match &inc.req.input {
        Input::Items(items) => Input::Items(
            items
                .iter()
                .filter(|raw| !compaction::is_trigger(raw))
                .cloned()
                .collect(),
        ),
        text => text.clone(),
    };
    let req = CompactRequest {
        model: inc.req.model.clone(),
        input,
        previous_response_id: inc.req.previous_response_id.clone(),
        instructions: inc.req.instructions.clone(),
    };
    let history = previous(state, req.previous_response_id.as_deref(), inc.who())?
        .map(|p| p.history())
        .unwrap_or_default();
    let asker = Asker {
        state,
        headers: &inc.headers,
        target,
    };
    let s = asker.summary(key, &req, &history, log).await?;
    tracing::info!(
        summary_chars = s.text.len(),
        "history compacted (compaction trigger)"
    );
    let item = compaction::compaction_item(&s.text, &s.response_id);
    let mut response = ResponseObject {
        id: s.response_id,
        object: "response",
        created_at: s.created_at,
        completed_at: None,
        status: ResponseStatus::InProgress,
        model: inc.req.model.clone(),
        output: Vec::new(),
        usage: None,
        error: None,
        incomplete_details: None,
        echo: Arc::new(RequestEcho::of(&inc.req)),
    };
    let created = response.clone();
    response.status = ResponseStatus::Completed;
    response.completed_at = Some(plugboard_translate::unix_now());
    response.output = vec![item.clone()];
    response.usage = Some(s.usage);
    if !inc.req.stream {
        return Ok(axum::Json(response).into_response());
    }
    let events = [
        StreamEvent::Created { response: created },
        StreamEvent::OutputItemAdded {
            output_index: 0,
            item: item.clone(),
        },
        StreamEvent::OutputItemDone {
            output_index: 0,
            item,
        },
        StreamEvent::Completed { response },
    ];
    let body = plugboard_translate::SseWriter::default().to_bytes(&events);
    Ok(([(header::CONTENT_TYPE, "text/event-stream")], body).into_response())
}
