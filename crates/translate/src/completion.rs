//! Whole Chat completion → whole Responses response, through the same state machine as the
//! stream so that both paths give the same items.

use crate::context::ResponseContext;
use crate::stream::{StreamEnd, StreamTranslator};
use plugboard_wire::chat::{
    ChatChunk, ChatCompletion, ChunkChoice, Delta, FinishReason, ToolCallDelta,
};
use plugboard_wire::responses::ResponseObject;

pub fn completion_to_response(ctx: ResponseContext, completion: ChatCompletion) -> ResponseObject {
    let mut t = StreamTranslator::new(ctx);
    t.push(completion_to_chunk(completion));
    t.finish(StreamEnd::Done);
    t.final_response()
        .cloned()
        .expect("finish always sets the final response")
}

/// A whole completion as the one chunk that carries all of it (servers that ignore
/// `stream: true` answer this way).
pub fn completion_to_chunk(completion: ChatCompletion) -> ChatChunk {
    let choice = completion.choices.into_iter().find(|c| c.index == 0);
    ChatChunk {
        id: completion.id,
        model: completion.model,
        choices: choice
            .map(|c| {
                let m = c.message;
                vec![ChunkChoice {
                    index: 0,
                    delta: Delta {
                        content: m.content,
                        reasoning_content: m.reasoning_content,
                        reasoning: m.reasoning,
                        refusal: m.refusal,
                        tool_calls: m
                            .tool_calls
                            .into_iter()
                            .enumerate()
                            .map(|(i, tc)| ToolCallDelta {
                                index: Some(i as u32),
                                id: tc.id,
                                function: Some(tc.function),
                            })
                            .collect(),
                    },
                    finish_reason: Some(c.finish_reason.unwrap_or(FinishReason::Stop)),
                }]
            })
            .unwrap_or_default(),
        usage: completion.usage,
        error: None,
    }
}
