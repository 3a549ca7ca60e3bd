//! The streaming state machine: Chat Completions chunks in, Responses events out.
//!
//! Items are opened in the order their first delta arrives (reasoning, text, tool calls) and
//! each is closed with its `.done` events before the terminal event, because Codex builds
//! its history only from `response.output_item.done`.

pub(crate) mod calls;
mod text;

use crate::context::ResponseContext;
use crate::reasoning_blob;
use crate::text_tool_calls::{Found, TextCallScanner};
use crate::think_tags::{Piece, ThinkSplitter};
use crate::tool_names::ToolOrigin;
use plugboard_wire::chat::{ChatChunk, ChatUsage, FinishReason, FunctionDelta, ToolCallDelta};
use plugboard_wire::responses::{
    IncompleteDetails, ItemStatus, OutputItem, OutputText, ResponseError, ResponseObject,
    ResponseStatus, StreamEvent, SummaryText, Usage,
};
use serde_json::{json, Map, Value};

/// Chunk indices of calls found in text start here, apart from the provider's own.
const TEXT_CALL_INDEX: u32 = 1 << 20;

/// How the upstream stream ended.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEnd {
    /// `data: [DONE]`.
    Done,
    /// The body ended without `[DONE]`: fine after a `finish_reason`, a cut otherwise.
    Eof,
    /// The upstream failed (timeout, dropped connection, bad data): `response.failed`.
    Failed(ResponseError),
}

pub struct StreamTranslator {
    ctx: ResponseContext,
    /// Finished items by output index; `None` while an item is still open.
    output: Vec<Option<OutputItem>>,
    reasoning: Option<OpenText>,
    message: Option<OpenText>,
    calls: Vec<OpenCall>,
    usage: Option<ChatUsage>,
    finish_reason: Option<FinishReason>,
    next_item: usize,
    final_response: Option<ResponseObject>,
    /// Inline thinking split from the content (dialects with `think_tags`).
    think: Option<ThinkSplitter>,
    /// Tool calls printed as text, taken out of the content (dialects with
    /// `text_tool_calls`, when tools were declared).
    scanner: Option<TextCallScanner>,
    /// Calls found in text so far (their chunk `index` is kept apart from the provider's).
    text_calls: u32,
}

struct OpenText {
    output_index: usize,
    id: String,
    text: String,
}

struct OpenCall {
    /// The chunk's `index`, where the provider sends one.
    index: Option<u32>,
    call_id: Option<String>,
    name: String,
    arguments: String,
    /// Set once `output_item.added` went out (as soon as the name is known).
    announced: Option<Announced>,
}

struct Announced {
    output_index: usize,
    item_id: String,
    call_id: String,
    origin: ToolOrigin,
}

impl StreamTranslator {
    pub fn new(ctx: ResponseContext) -> Self {
        Self {
            think: ctx.think_tags.then(ThinkSplitter::default),
            scanner: ctx.text_tool_calls.then(TextCallScanner::default),
            text_calls: 0,
            ctx,
            output: Vec::new(),
            reasoning: None,
            message: None,
            calls: Vec::new(),
            usage: None,
            finish_reason: None,
            next_item: 0,
            final_response: None,
        }
    }

    pub fn context(&self) -> &ResponseContext {
        &self.ctx
    }

    /// `response.created` and `response.in_progress`: sent before the first chunk.
    pub fn start(&self) -> Vec<StreamEvent> {
        let r = self.response(ResponseStatus::InProgress);
        vec![
            StreamEvent::Created {
                response: r.clone(),
            },
            StreamEvent::InProgress { response: r },
        ]
    }

    /// Whether the terminal event has been produced.
    pub fn is_finished(&self) -> bool {
        self.final_response.is_some()
    }

    /// The response as it ended (after [`StreamTranslator::finish`]).
    pub fn final_response(&self) -> Option<&ResponseObject> {
        self.final_response.as_ref()
    }

    /// Usage reported by the upstream so far, in Responses terms.
    pub fn usage(&self) -> Option<Usage> {
        self.usage.as_ref().map(map_usage)
    }

    pub fn push(&mut self, chunk: ChatChunk) -> Vec<StreamEvent> {
        let mut ev = Vec::new();
        if self.is_finished() {
            return ev;
        }
        if let Some(err) = chunk.error {
            return self.finish(StreamEnd::Failed(error_from_value(&err)));
        }
        // Only the first choice: Plugboard never asks for `n > 1`.
        if let Some(choice) = chunk.choices.into_iter().find(|c| c.index == 0) {
            let d = choice.delta;
            if let Some(r) = d
                .reasoning_content
                .or(d.reasoning)
                .filter(|s| !s.is_empty())
            {
                self.reasoning_delta(r, &mut ev);
            }
            if let Some(t) = d.content.or(d.refusal).filter(|s| !s.is_empty()) {
                self.content_delta(t, &mut ev);
            }
            for tc in d.tool_calls {
                self.tool_delta(tc, &mut ev);
            }
            if let Some(f) = choice.finish_reason {
                self.finish_reason = Some(f);
            }
        }
        if let Some(u) = chunk.usage {
            self.usage = Some(u);
        }
        ev
    }

    /// Closes every open item and emits the terminal event. Idempotent.
    pub fn finish(&mut self, end: StreamEnd) -> Vec<StreamEvent> {
        let mut ev = Vec::new();
        if self.is_finished() {
            return ev;
        }
        let end = match end {
            StreamEnd::Eof if self.finish_reason.is_none() => StreamEnd::Failed(ResponseError {
                code: "stream_interrupted".into(),
                message: "the upstream stream ended before the response was complete".into(),
            }),
            other => other,
        };
        if !matches!(end, StreamEnd::Failed(_)) {
            self.flush_content(&mut ev);
        }
        if let StreamEnd::Failed(error) = end {
            // Half-streamed items are not closed: a client must not run a truncated call.
            let mut r = self.response(ResponseStatus::Failed);
            r.error = Some(error);
            self.final_response = Some(r.clone());
            ev.push(StreamEvent::Failed { response: r });
            return ev;
        }
        self.close_reasoning(&mut ev);
        self.close_message(&mut ev);
        self.close_calls(&mut ev);
        let incomplete = self
            .finish_reason
            .as_ref()
            .and_then(FinishReason::incomplete_reason);
        let mut r = self.response(if incomplete.is_some() {
            ResponseStatus::Incomplete
        } else {
            ResponseStatus::Completed
        });
        r.usage = self.usage();
        // The clock is read once per response, at its end: the only impure step here, and
        // one the tests redact.
        r.completed_at = incomplete
            .is_none()
            .then(|| crate::context::unix_now().max(self.ctx.created_at));
        r.incomplete_details = incomplete.map(|reason| IncompleteDetails {
            reason: reason.into(),
        });
        self.final_response = Some(r.clone());
        ev.push(if incomplete.is_some() {
            StreamEvent::Incomplete { response: r }
        } else {
            StreamEvent::Completed { response: r }
        });
        ev
    }

    fn response(&self, status: ResponseStatus) -> ResponseObject {
        ResponseObject {
            id: self.ctx.response_id.clone(),
            object: "response",
            created_at: self.ctx.created_at,
            completed_at: None,
            status,
            model: self.ctx.model.clone(),
            output: self.output.iter().flatten().cloned().collect(),
            usage: None,
            error: None,
            incomplete_details: None,
            echo: self.ctx.echo.clone(),
        }
    }

    /// Item ids derive from the response id, so a response is reproducible from its chunks.
    fn allocate(&mut self, prefix: &str) -> (usize, String) {
        let index = self.next_item;
        self.next_item += 1;
        self.output.push(None);
        let tail = self
            .ctx
            .response_id
            .strip_prefix("resp_")
            .unwrap_or(&self.ctx.response_id);
        (index, format!("{prefix}_{tail}_{index}"))
    }

    fn done(&mut self, output_index: usize, item: OutputItem, ev: &mut Vec<StreamEvent>) {
        self.output[output_index] = Some(item.clone());
        ev.push(StreamEvent::OutputItemDone { output_index, item });
    }
}

pub(crate) fn map_usage(u: &ChatUsage) -> Usage {
    let input = u.prompt_tokens.unwrap_or(0);
    let output = u.completion_tokens.unwrap_or(0);
    Usage {
        input_tokens: input,
        input_tokens_details: plugboard_wire::responses::InputTokensDetails {
            cached_tokens: u
                .prompt_tokens_details
                .as_ref()
                .and_then(|d| d.cached_tokens)
                .or(u.prompt_cache_hit_tokens)
                .or(u.cached_tokens)
                .unwrap_or(0),
        },
        output_tokens: output,
        output_tokens_details: plugboard_wire::responses::OutputTokensDetails {
            reasoning_tokens: u
                .completion_tokens_details
                .as_ref()
                .and_then(|d| d.reasoning_tokens)
                .unwrap_or(0),
        },
        total_tokens: u.total_tokens.unwrap_or(input + output),
    }
}

/// A provider's error object (in a chunk or a body) as a Responses error with a code Codex
/// reacts to.
pub fn error_from_value(err: &Value) -> ResponseError {
    let parsed = crate::errors::from_value(err);
    let code = crate::errors::classify(&parsed, None);
    ResponseError {
        message: crate::errors::with_wait(&code, &parsed.message, None),
        code,
    }
}
