//! Requests for Chat Completions providers: translate, send, and translate every chunk back
//! as it arrives.

mod relay;

use crate::error::ProxyError;
use crate::references;
use crate::request_log::RequestLog;
use crate::response_store::Entry;
use crate::routing::Target;
use crate::state::{Incoming, ProxyState};
use crate::upstream;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use plugboard_core::ApiKey;
use plugboard_core::Outcome;
use plugboard_translate::compaction;
use plugboard_translate::provenance::keys_of_output;
use plugboard_translate::Translation;
use plugboard_translate::{completion_to_response, translate_request, TranslateOptions};
use plugboard_wire::chat::ChatCompletion;
use plugboard_wire::responses::{Input, ResponsesRequest};
use plugboard_wire::responses::{ResponseObject, ResponseStatus};
use serde_json::Value;
use std::borrow::Cow;
use std::sync::Arc;

/// A request at a chat provider: prepared (references resolved, history joined, translated),
/// sent, then answered whole or relayed as a stream.
pub async fn bridge(
    state: &Arc<ProxyState>,
    inc: &Incoming,
    target: &Target<'_>,
    key: Option<ApiKey>,
    log_slot: &mut Option<RequestLog>,
) -> Result<Response, ProxyError> {
    if let Input::Items(items) = &inc.req.input {
        if items.last().is_some_and(|raw| compaction::is_trigger(raw)) {
            return crate::compact::answer_trigger(state, inc, target, key, log_slot).await;
        }
    }
    let Prepared {
        req,
        parent,
        translation,
    } = prepare(state, inc, target)?;
    let resp = post_chat(target, key.as_ref(), &translation.chat).await?;
    let keep = Keep {
        state: state.clone(),
        provider: target.provider.id.clone(),
        owner: inc.who().map(Arc::from),
        // What `previous_response_id` needs later: this turn's input and output items.
        turn: req
            .store
            .unwrap_or(true)
            .then(|| (parent, req.input.to_item_values())),
    };
    if !req.stream {
        return answer_whole(resp, target, translation, log_slot, keep).await;
    }
    Ok(relay::stream(state, target, resp, translation, log_slot.take(), keep).await)
}

/// A request ready to send: the input with references put back, the stored turn it follows,
/// and its translation.
struct Prepared<'r> {
    req: Cow<'r, ResponsesRequest>,
    parent: Option<Arc<Entry>>,
    translation: Translation,
}

fn prepare<'r>(
    state: &ProxyState,
    inc: &'r Incoming,
    target: &Target<'_>,
) -> Result<Prepared<'r>, ProxyError> {
    // Earlier items named by reference, put back in place (a copy only when there are any).
    let req = match references::resolve(&inc.req.input, &state.store, inc.who())? {
        Some(input) => Cow::Owned(ResponsesRequest {
            input,
            ..inc.req.clone()
        }),
        None => Cow::Borrowed(&inc.req),
    };
    let parent = previous(state, req.previous_response_id.as_deref(), inc.who())?;
    let history = parent.as_ref().map(|p| p.history()).unwrap_or_default();
    let translation = translate_request(
        &req,
        &history,
        &TranslateOptions {
            upstream_model: &target.upstream_model,
            dialect: target.dialect,
            response_id: plugboard_translate::new_id("resp"),
            created_at: plugboard_translate::unix_now(),
        },
    )
    .map_err(|e| translate_error(e, target))?;
    if translation.chat.messages.is_empty() {
        return Err(ProxyError::invalid_request(
            Some("input"),
            "missing_input",
            "the request has no message a chat model can answer",
        ));
    }
    Ok(Prepared {
        req,
        parent,
        translation,
    })
}

/// `stream: false`: the completion read whole and answered as one response object.
async fn answer_whole(
    resp: reqwest::Response,
    target: &Target<'_>,
    translation: Translation,
    log_slot: &mut Option<RequestLog>,
    keep: Keep,
) -> Result<Response, ProxyError> {
    let completion = read_completion(resp, target).await?;
    let response = completion_to_response(translation.context, completion);
    if let Some(log) = log_slot.as_mut() {
        log.mark_first_event();
        finish_log(log, &response);
    }
    keep.save(&response).wait().await;
    Ok((StatusCode::OK, axum::Json(response)).into_response())
}

/// The stored response `previous_response_id` names, if any.
pub(crate) fn previous(
    state: &ProxyState,
    id: Option<&str>,
    who: Option<&str>,
) -> Result<Option<Arc<Entry>>, ProxyError> {
    let Some(id) = id else { return Ok(None) };
    state.store.get_for(id, who).map(Some).ok_or_else(|| {
        ProxyError::invalid_request(
            Some("previous_response_id"),
            "previous_response_not_found",
            format!("Previous response with id '{id}' not found: Plugboard keeps stored responses in memory until it restarts, and a `store: false` one only on the WebSocket that made it."),
        )
    })
}

/// Sends a chat request to the target's provider; the answer streams when the request asks
/// for a stream.
pub(crate) async fn post_chat(
    target: &Target<'_>,
    key: Option<&ApiKey>,
    chat: &plugboard_wire::chat::ChatRequest,
) -> Result<reqwest::Response, ProxyError> {
    let body = serde_json::to_vec(chat).expect("a chat request always serializes");
    let accept = if chat.stream {
        "text/event-stream"
    } else {
        "application/json"
    };
    upstream::post(
        target.client,
        target.provider,
        "chat/completions",
        key,
        body,
        accept,
        &[],
    )
    .await
}

/// A request the translator refused, as a 400 naming the field and the provider.
pub(crate) fn translate_error(e: plugboard_wire::ParseError, target: &Target<'_>) -> ProxyError {
    ProxyError::invalid_request(
        Some(&e.path),
        "invalid_request",
        format!("{e} (for provider `{}`)", target.provider.id),
    )
}

/// A whole (non-streamed) chat completion.
pub(crate) async fn read_completion(
    resp: reqwest::Response,
    target: &Target<'_>,
) -> Result<ChatCompletion, ProxyError> {
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| bad_upstream(target, &format!("reading the answer failed: {e}")))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| bad_upstream(target, &format!("the answer is not a chat completion: {e}")))
}

pub(crate) fn bad_upstream(target: &Target<'_>, what: &str) -> ProxyError {
    ProxyError::BadUpstream {
        message: format!("provider `{}`: {what}", target.provider.id),
    }
}

pub(super) fn finish_log(log: &mut RequestLog, response: &ResponseObject) {
    if let Some(u) = &response.usage {
        log.set_usage(u);
    }
    let status = match response.status {
        ResponseStatus::Completed => Outcome::Completed,
        ResponseStatus::Incomplete => Outcome::Incomplete,
        ResponseStatus::Failed => Outcome::Failed,
        // A response still in progress when its log ends was cut short.
        ResponseStatus::InProgress => Outcome::StreamInterrupted,
    };
    log.finish(status, response.error.as_ref().map(|e| e.code.as_str()));
}

/// What is kept of an answer: whose its items are, always; the turn itself when the client
/// asked for it to be stored.
pub(super) struct Keep {
    state: Arc<ProxyState>,
    provider: String,
    owner: Option<Arc<str>>,
    turn: Option<(Option<Arc<Entry>>, Vec<Value>)>,
}

impl Keep {
    /// Keeps the answer; what it returns resolves once a gateway's shared store has it.
    pub(super) fn save(self, response: &ResponseObject) -> crate::shared_state::Written {
        self.state
            .issuers
            .note(&self.provider, keys_of_output(&response.output));
        let Some((parent, mut items)) = self.turn else {
            return crate::shared_state::Written::none();
        };
        items.extend(
            response
                .output
                .iter()
                .filter_map(|i| serde_json::to_value(i).ok()),
        );
        self.state
            .store
            .put_owned(response.id.clone(), parent, items, self.owner)
    }
}
