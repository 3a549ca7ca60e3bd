//! Judging each step from what came back: pure functions from a [`Turn`] to a sentence and,
//! where Plugboard has a switch for the failure, the fix.

use crate::diagnose::{self, excerpt};
use crate::fix::Fix;
use crate::patch::{check_patch, Hunk};
use crate::report::{Status, StepId, StepReport};
use crate::turn::Turn;
use plugboard_translate::Dialect;
use serde_json::Value;

pub struct Ctx<'a> {
    pub dialect: &'a Dialect,
    /// Plugboard translates (chat): dialect fixes apply. A Responses provider gets none.
    pub chat: bool,
    pub provider: &'a str,
}

impl Ctx<'_> {
    fn fix(&self, f: Option<Fix>) -> Option<Fix> {
        f.filter(|_| self.chat)
    }

    /// A refusal in a sentence, with the fix its words point to: a dialect switch where
    /// Plugboard translates, a pass-through repair where it relays.
    fn refused(&self, id: StepId, what: &str, t: &Turn) -> StepReport {
        let e = t.error.as_ref().expect("called for a turn with an error");
        if let Some((window, needed)) = crate::window::window_too_small(e) {
            let needs = match needed {
                Some(n) => format!("the {} tokens", crate::window::group(n)),
                None => "what".to_string(),
            };
            return StepReport::new(
                id,
                Status::Failed,
                format!(
                    "{what}: the model is served with a {}-token window, smaller than {needs} Codex's instructions and tools take before any work (\"{}\"). Serve it with a larger context (llama.cpp: `-c 32768`; Ollama: `num_ctx`; LM Studio: its context length) or pick a model served with at least 32,768 tokens",
                    crate::window::group(window),
                    e.trim().trim_end_matches('.')
                ),
            );
        }
        let fix = if self.chat {
            diagnose::refusal_fix(e, self.dialect)
        } else {
            diagnose::pass_through_fix(e)
        };
        StepReport::new(
            id,
            Status::Failed,
            format!("{what}: \"{}\"", e.trim().trim_end_matches('.')),
        )
        .with_fix(fix)
    }
}

/// A relayed stream whose items never finished: Codex acts on an item at its
/// `output_item.done`, so such a step fails whatever else it shows, with the repair that
/// writes the missing events back.
pub fn unfinished(ctx: &Ctx, id: StepId, t: &Turn, report: StepReport) -> StepReport {
    let missing = t.unfinished_items();
    if ctx.chat || t.error.is_some() || missing == 0 {
        return report;
    }
    StepReport::new(
        id,
        Status::Failed,
        format!(
            "the provider's stream never finished {missing} of its output item{} (no `response.output_item.done`): Codex acts on an item only when it is done, so it would use tokens and do nothing",
            if missing == 1 { "" } else { "s" }
        ),
    )
    .with_fix(Some(Fix::repair(
        "lifecycle_events",
        "Write back the stream's missing events",
    )))
}

pub fn streamed_text(ctx: &Ctx, t: &Turn) -> StepReport {
    let id = StepId::StreamedText;
    if t.error.is_some() {
        return ctx.refused(
            id,
            &format!("{} did not answer a plain request", ctx.provider),
            t,
        );
    }
    if diagnose::has_think_tags(&t.text) && !ctx.dialect.think_tags {
        return StepReport::new(
            id,
            Status::Failed,
            format!(
                "the model prints its thinking into the answer (\"{}\"): Codex would show it as text",
                excerpt(&t.text)
            ),
        )
        .with_fix(ctx.fix(Some(Fix::dialect("think_tags", "Turn on inline-thinking split"))));
    }
    if t.text.trim().is_empty() {
        let why = match t.incomplete.as_deref() {
            Some(r) => format!("the answer stopped before any text ({r})"),
            None => "the model answered with no text".to_string(),
        };
        return StepReport::new(id, Status::Failed, why);
    }
    StepReport::new(
        id,
        Status::Passed,
        format!(
            "\"{}\" in {} streamed piece{}",
            excerpt(&t.text),
            t.text_deltas,
            if t.text_deltas == 1 { "" } else { "s" }
        ),
    )
}

/// A tool printed as text, or plain text where a call was asked for.
fn no_call(ctx: &Ctx, id: StepId, t: &Turn, tool: &str) -> StepReport {
    if diagnose::has_text_tool_call(&t.text, tool) {
        let (detail, fix) = if ctx.dialect.text_tool_calls {
            (
                format!("the model wrote its tool call as text in a shape Plugboard's repair does not read: \"{}\"", excerpt(&t.text)),
                None,
            )
        } else {
            (
                format!("the model wrote its tool call as text instead of calling the tool: \"{}\": Codex would print it and run nothing", excerpt(&t.text)),
                Some(Fix::dialect("text_tool_calls", "Turn on text tool-call repair")),
            )
        };
        return StepReport::new(id, Status::Failed, detail).with_fix(ctx.fix(fix));
    }
    let said = if t.text.trim().is_empty() {
        "nothing".to_string()
    } else {
        format!("\"{}\"", excerpt(&t.text))
    };
    StepReport::new(
        id,
        Status::Failed,
        format!("the model called no tool and answered {said}: Codex needs a model that calls its tools"),
    )
}

/// The call's id when the model called `exec_command` with arguments Codex can run.
pub fn shell_call(ctx: &Ctx, t: &Turn) -> (StepReport, Option<String>) {
    let id = StepId::ShellCall;
    if t.error.is_some() {
        return (
            ctx.refused(id, "the provider refused a request with Codex's tools", t),
            None,
        );
    }
    let call = t
        .output
        .iter()
        .find(|i| i["type"] == "function_call" || i["type"] == "custom_tool_call");
    let Some(call) = call else {
        return (no_call(ctx, id, t, "exec_command"), None);
    };
    let name = call["name"].as_str().unwrap_or_default();
    if name != "exec_command" {
        return (
            StepReport::new(
                id,
                Status::Failed,
                format!("the model called `{name}` where a shell command was asked for"),
            ),
            None,
        );
    }
    let raw = call["arguments"].as_str().unwrap_or_default();
    let args: Value = match serde_json::from_str(raw) {
        Ok(v) => v,
        Err(e) => {
            return (
                StepReport::new(
                    id,
                    Status::Failed,
                    format!(
                        "the call's arguments are not valid JSON ({e}): `{}`",
                        excerpt(raw)
                    ),
                ),
                None,
            )
        }
    };
    let Some(cmd) = args.get("cmd").and_then(Value::as_str) else {
        return (
            StepReport::new(
                id,
                Status::Failed,
                format!(
                    "the arguments lack the `cmd` string Codex requires: `{}`",
                    excerpt(raw)
                ),
            ),
            None,
        );
    };
    let call_id = call["call_id"].as_str().unwrap_or_default().to_string();
    (
        StepReport::new(
            id,
            Status::Passed,
            format!("exec_command with valid JSON: cmd `{}`", excerpt(cmd)),
        ),
        Some(call_id).filter(|c| !c.is_empty()),
    )
}

pub fn tool_result(ctx: &Ctx, shell: &Turn, back: &Turn) -> StepReport {
    let id = StepId::ToolResult;
    if back.error.is_some() {
        return ctx.refused(
            id,
            "the provider refused the turn that sends the command's output back",
            back,
        );
    }
    let reasoning = if !shell.has("reasoning") {
        ""
    } else if !ctx.chat || ctx.dialect.reasoning_echo {
        " (the model's reasoning went back with it)"
    } else {
        " (the model's reasoning was not sent back; the provider did not ask for it)"
    };
    let next = match back
        .output
        .iter()
        .find(|i| i["type"] == "function_call" || i["type"] == "custom_tool_call")
    {
        Some(call) => format!(
            "called `{}` next",
            call["name"].as_str().unwrap_or_default()
        ),
        None if back.text.trim().is_empty() => {
            return StepReport::new(
                id,
                Status::Failed,
                "the model answered the command's output with nothing",
            );
        }
        None => format!("answered \"{}\"", excerpt(&back.text)),
    };
    StepReport::new(
        id,
        Status::Passed,
        format!("the model read the command's output and {next}{reasoning}"),
    )
}

pub fn apply_patch(ctx: &Ctx, t: &Turn) -> StepReport {
    let id = StepId::ApplyPatch;
    if t.error.is_some() {
        return ctx.refused(id, "the provider refused the request", t);
    }
    if let Some(call) = t
        .item("custom_tool_call")
        .filter(|c| c["name"] == "apply_patch")
    {
        let input = call["input"].as_str().unwrap_or_default();
        return match check_patch(input) {
            Ok(hunks) => {
                let adds = hunks
                    .iter()
                    .any(|h| matches!(h, Hunk::Add { path, .. } if path.ends_with("hello.txt")));
                if adds {
                    StepReport::new(
                        id,
                        Status::Passed,
                        "a patch Codex accepts, adding hello.txt",
                    )
                } else {
                    StepReport::new(id, Status::Warning, format!("a patch Codex accepts, but not the one asked for ({} file change(s), no new hello.txt)", hunks.len()))
                }
            }
            Err(why) => StepReport::new(
                id,
                Status::Failed,
                format!("Codex would refuse the patch: {why}"),
            ),
        };
    }
    if let Some(call) = t.item("function_call") {
        let name = call["name"].as_str().unwrap_or_default();
        return StepReport::new(
            id,
            Status::Warning,
            format!("the model edited through `{name}` instead of apply_patch: Codex works, but its edits skip the patch review"),
        );
    }
    no_call(ctx, id, t, "apply_patch")
}

pub fn usage(ctx: &Ctx, turns: &[Turn]) -> StepReport {
    let id = StepId::Usage;
    let answered: Vec<&Turn> = turns.iter().filter(|t| t.error.is_none()).collect();
    if answered.is_empty() {
        return StepReport::new(
            id,
            Status::Skipped,
            "not judged: no step got a whole answer",
        );
    }
    let counted = answered.iter().filter_map(|t| t.usage.as_ref()).find(|u| {
        u["input_tokens"].as_u64().unwrap_or(0) > 0 || u["output_tokens"].as_u64().unwrap_or(0) > 0
    });
    match counted {
        Some(u) => StepReport::new(
            id,
            Status::Passed,
            format!(
                "{} input and {} output tokens on a step",
                u["input_tokens"].as_u64().unwrap_or(0),
                u["output_tokens"].as_u64().unwrap_or(0)
            ),
        ),
        None if ctx.chat && !ctx.dialect.stream_usage => StepReport::new(
            id,
            Status::Failed,
            "no token counts came back: Plugboard does not ask this provider for usage in the stream, so the usage page and Codex's context meter stay empty",
        )
        .with_fix(Some(Fix::dialect("stream_usage", "Ask for usage in the stream"))),
        None => StepReport::new(
            id,
            Status::Failed,
            format!("{} sent no token counts even when asked: the usage page and Codex's context meter stay empty", ctx.provider),
        ),
    }
}

/// A chat provider named "Box" with dialect `d`, for the steps' tests.
#[cfg(test)]
pub(crate) fn test_ctx(d: &Dialect) -> Ctx<'_> {
    Ctx {
        dialect: d,
        chat: true,
        provider: "Box",
    }
}

#[cfg(test)]
mod tests {
    use super::test_ctx as ctx;
    use super::*;
    use serde_json::json;

    #[test]
    fn a_shell_call_needs_json_with_cmd() {
        let d = Dialect::default();
        let turn = |args: &str| Turn {
            output: vec![
                json!({"type": "function_call", "name": "exec_command", "call_id": "c1", "arguments": args}),
            ],
            ..Turn::default()
        };
        let (r, id) = shell_call(&ctx(&d), &turn(r#"{"cmd":"echo plugboard"}"#));
        assert_eq!((r.status, id.as_deref()), (Status::Passed, Some("c1")));
        let (r, id) = shell_call(&ctx(&d), &turn(r#"{"cmd": "echo"#));
        assert_eq!((r.status, id), (Status::Failed, None));
        assert!(r.detail.contains("not valid JSON"), "{}", r.detail);
        let (r, _) = shell_call(&ctx(&d), &turn(r#"{"command":"ls"}"#));
        assert!(r.detail.contains("lack the `cmd`"), "{}", r.detail);
    }

    #[test]
    fn a_refusal_keeps_the_providers_words_and_offers_the_switch() {
        let d = Dialect::default();
        let t = Turn {
            error: Some("Unknown name \"additionalProperties\" at 'tools[0].function_declarations[0].parameters'.".into()),
            ..Turn::default()
        };
        let (r, _) = shell_call(&ctx(&d), &t);
        assert!(
            r.detail.contains("Unknown name \"additionalProperties\""),
            "{}",
            r.detail
        );
        assert_eq!(
            r.fix.unwrap().label,
            "Drop `additionalProperties` from tool schemas"
        );
        // A Responses provider gets no dialect fix: Plugboard does not translate for it.
        let pass = Ctx {
            chat: false,
            ..ctx(&d)
        };
        assert!(shell_call(&pass, &t).0.fix.is_none());
    }
}
