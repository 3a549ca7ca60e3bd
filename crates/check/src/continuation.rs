//! The continuation step, for a provider reached over its own Responses API: a stored
//! response, then a follow-up that names it by `previous_response_id` (what the OpenAI SDKs,
//! the Agents SDK and the Vercel AI SDK send with `store` on; Codex itself sends its whole
//! history). A provider that keeps no responses refuses the follow-up; the repair keeps the
//! conversation in Plugboard instead.

use crate::diagnose::excerpt;
use crate::fix::Fix;
use crate::report::{Status, StepId, StepReport};
use crate::turn;
use plugboard_translate::responses_dialect::ResponsesDialect;
use serde_json::json;

pub async fn step(
    client: &reqwest::Client,
    url: &str,
    model: &str,
    dialect: &ResponsesDialect,
) -> StepReport {
    let id = StepId::Continuation;
    let first = turn::send(
        client,
        url,
        &json!({"model": model, "stream": true, "store": true,
            "input": "Remember the word kiwi. Answer with OK only."}),
    )
    .await;
    let Some(first_id) = first.id.clone().filter(|_| first.error.is_none()) else {
        return StepReport::new(
            id,
            Status::Skipped,
            "not run: the stored request got no whole answer",
        );
    };
    let next = turn::send(
        client,
        url,
        &json!({"model": model, "stream": true, "store": true, "previous_response_id": first_id,
            "input": "Which word did I ask you to remember? One word."}),
    )
    .await;
    let kept_here = if dialect.stateless {
        " (Plugboard keeps the conversation for this provider)"
    } else {
        ""
    };
    match &next.error {
        None => StepReport::new(
            id,
            Status::Passed,
            format!(
                "a follow-up naming the previous response was answered: \"{}\"{kept_here}",
                excerpt(&next.text)
            ),
        ),
        Some(e) => StepReport::new(
            id,
            Status::Failed,
            format!(
                "the provider refused a follow-up naming the previous response: \"{}\": clients that keep their conversation on the server would fail",
                e.trim().trim_end_matches('.')
            ),
        )
        .with_fix((!dialect.stateless).then(|| {
            Fix::repair(
                "stateless",
                "Keep the conversation in Plugboard (the provider stores no responses)",
            )
        })),
    }
}
