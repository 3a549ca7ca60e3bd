//! Running a check: a proxy with only this provider on a free loopback port, the steps in
//! order through it, and the few direct calls (model list, Responses probe) that need the
//! provider itself, refused like the proxy refuses when local-only is on.

use crate::codex_tools as codex;
use crate::report::{fingerprint, CheckReport, Status, StepId, StepReport};
use crate::steps;
use crate::turn::{self, Turn};
use plugboard_config::{Provider, Settings, WireApi};
use plugboard_server::{HostResolver, KeySource, ServeOptions, SystemResolver};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone, Default)]
pub struct CheckOptions {
    /// The upstream model to check; the provider's default model when `None`.
    pub model: Option<String>,
    /// Refuse a provider off this machine and the local network, as the proxy does.
    pub local_only: bool,
    /// Name resolution for local-only (tests give fixed answers).
    pub resolver: Option<Arc<dyn HostResolver>>,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("provider `{0}`: no model to check: set a default model or name one")]
    NoModel(String),
    #[error("provider `{id}`: {reason}")]
    Invalid { id: String, reason: String },
    #[error(transparent)]
    Key(#[from] plugboard_server::KeyError),
    #[error("the check could not start its proxy: {0}")]
    Proxy(#[from] plugboard_server::StartError),
}

/// Runs every step against `p` and reports each. Spends a few thousand tokens of the
/// provider's: four short turns and, when the model list does not name the window, one
/// request the provider refuses. A provider that serves both APIs is checked on both, and
/// the last step says which serves Codex better (see `paths`).
pub async fn check_provider(
    p: &Provider,
    keys: Arc<dyn KeySource>,
    opts: CheckOptions,
) -> Result<CheckReport, CheckError> {
    let started = Instant::now();
    let mut report = check_one(p, keys.clone(), opts.clone()).await?;
    let took = started.elapsed();
    let Some(other) = other_path(p, &report) else {
        return Ok(report);
    };
    tracing::info!(provider = %p.id, "Codex check: the provider serves both APIs; checking the other path");
    let started = Instant::now();
    let other_report = check_one(&other, keys, opts).await?;
    let step = crate::paths::best_path(
        &crate::paths::PathRun {
            provider: p,
            report: &report,
            took,
        },
        &crate::paths::PathRun {
            provider: &other,
            report: &other_report,
            took: started.elapsed(),
        },
    );
    // The switch is offered once, by the comparison.
    if let Some(native) = report
        .steps
        .iter_mut()
        .find(|s| s.id == StepId::NativeResponses)
    {
        native.fix = None;
    }
    report.steps.push(step);
    Ok(report)
}

/// The same provider on its other API, when the check found it serves that one too.
fn other_path(p: &Provider, report: &CheckReport) -> Option<Provider> {
    let offers = report
        .step(StepId::NativeResponses)
        .and_then(|s| s.fix.as_ref())
        .map(|f| &f.change)?;
    let wire = match offers {
        crate::FixChange::PassThrough => WireApi::Responses,
        crate::FixChange::Translate => WireApi::Chat,
        _ => return None,
    };
    let mut other = p.clone();
    other.wire_api = wire;
    Some(other)
}

async fn check_one(
    p: &Provider,
    keys: Arc<dyn KeySource>,
    opts: CheckOptions,
) -> Result<CheckReport, CheckError> {
    let model = opts
        .model
        .clone()
        .filter(|m| !m.is_empty())
        .or_else(|| p.default_model.clone())
        .ok_or_else(|| CheckError::NoModel(p.id.clone()))?;
    let dialect = p.dialect().map_err(|reason| CheckError::Invalid {
        id: p.id.clone(),
        reason: reason.to_string(),
    })?;
    let key = keys.key(p)?;
    let resolver = opts
        .resolver
        .clone()
        .unwrap_or_else(|| Arc::new(SystemResolver));

    // The model map is left out: the check names the upstream model itself.
    let mut alone = p.clone();
    alone.model_map.clear();
    let settings = Settings {
        providers: vec![alone],
        active_provider: Some(p.id.clone()),
        local_only: opts.local_only,
        ..Settings::default()
    };
    let proxy = plugboard_server::start(
        settings,
        keys,
        ServeOptions {
            listen: Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0))),
            stored_responses: 16,
            resolver: Some(resolver.clone()),
            ..ServeOptions::default()
        },
    )
    .await?;
    tracing::info!(provider = %p.id, %model, "Codex check started");
    // Our own proxy on loopback: a user's HTTP_PROXY must not see these requests.
    let local = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("a plain client builds");
    let url = format!("{}/responses", proxy.base_url());
    let chat = p.wire_api == WireApi::Chat;
    let ctx = steps::Ctx {
        dialect: &dialect,
        chat,
        provider: p.display_name(),
    };

    let mut out: Vec<StepReport> = Vec::new();
    let mut turns: Vec<Turn> = Vec::new();
    let text = turn::send(
        &local,
        &url,
        &codex::request(&model, codex::text_turn(), false),
    )
    .await;
    out.push(steps::unfinished(
        &ctx,
        StepId::StreamedText,
        &text,
        steps::streamed_text(&ctx, &text),
    ));
    let unreachable = text.error.is_some();
    turns.push(text);

    if unreachable {
        let why = "not run: the first step got no answer";
        for id in [
            StepId::ShellCall,
            StepId::ToolResult,
            StepId::ApplyPatch,
            StepId::Usage,
        ] {
            out.push(StepReport::new(id, Status::Skipped, why));
        }
    } else {
        let shell = turn::send(
            &local,
            &url,
            &codex::request(&model, codex::shell_turn(), true),
        )
        .await;
        let (report, call_id) = steps::shell_call(&ctx, &shell);
        out.push(steps::unfinished(&ctx, StepId::ShellCall, &shell, report));
        let tools_refused = shell.error.is_some();
        match call_id {
            Some(id) => {
                let input = codex::result_turn(codex::shell_turn(), &shell.output, &id);
                let back = turn::send(&local, &url, &codex::request(&model, input, true)).await;
                let report = steps::tool_result(&ctx, &shell, &back);
                out.push(steps::unfinished(&ctx, StepId::ToolResult, &back, report));
                turns.push(back);
            }
            None => out.push(StepReport::new(
                StepId::ToolResult,
                Status::Skipped,
                "not run: it needs the shell call of the step before",
            )),
        }
        turns.push(shell);
        if tools_refused {
            out.push(StepReport::new(
                StepId::ApplyPatch,
                Status::Skipped,
                "not run: the provider refused Codex's tools in the shell call step",
            ));
        } else {
            let patch = turn::send(
                &local,
                &url,
                &codex::request(&model, codex::patch_turn(), true),
            )
            .await;
            let report = steps::apply_patch(&ctx, &patch);
            out.push(steps::unfinished(&ctx, StepId::ApplyPatch, &patch, report));
            turns.push(patch);
        }
        out.push(steps::usage(&ctx, &turns));
        if !chat {
            let responses = p.responses_dialect().unwrap_or_default();
            out.push(crate::continuation::step(&local, &url, &model, &responses).await);
        }
    }

    // The direct calls: refused before connecting when local-only says so.
    let direct = if opts.local_only {
        plugboard_server::local_only::check(p, resolver.as_ref())
            .await
            .map_err(|e| e.message())
            .map(|_| direct_client(Some(resolver.clone())))
    } else {
        Ok(direct_client(None))
    };
    let key = key.as_ref().map(|k| k.expose());
    if unreachable {
        out.push(StepReport::new(
            StepId::ContextWindow,
            Status::Skipped,
            "not run: the first step got no answer",
        ));
    } else {
        let served = match &direct {
            Ok(client) => served_window(client, p, key, &model).await,
            Err(_) => None,
        };
        let served = match served {
            Some(s) => Some(s),
            None => probe_window(&local, &url, &model).await,
        };
        out.push(crate::window::context_window(&ctx, p, &model, served));
    }
    out.push(match (&direct, chat) {
        (Ok(client), false) if crate::native::speaks_chat(client, p, key, &model).await => {
            StepReport::new(
                StepId::NativeResponses,
                Status::Info,
                "Plugboard passes Codex's requests through: the provider speaks the Responses API, and Chat Completions too",
            )
            .with_fix(Some(crate::Fix {
                label: "Use Chat Completions (translated)".into(),
                change: crate::FixChange::Translate,
            }))
        }
        (_, false) => StepReport::new(
            StepId::NativeResponses,
            Status::Info,
            "Plugboard passes Codex's requests through: the provider speaks the Responses API",
        ),
        (Err(why), true) => StepReport::new(
            StepId::NativeResponses,
            Status::Skipped,
            format!("not asked: {why}"),
        ),
        (Ok(client), true) => {
            crate::native::step(crate::native::speaks_responses(client, p, key, &model).await)
        }
    });

    proxy.stop().await;
    let report = CheckReport {
        provider_id: p.id.clone(),
        provider_name: p.display_name().to_string(),
        model,
        checked_at: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default(),
        fingerprint: fingerprint(p),
        steps: out,
    };
    tracing::info!(provider = %p.id, model = %report.model, summary = %report.summary(), "Codex check ended");
    Ok(report)
}

fn direct_client(local_only: Option<Arc<dyn HostResolver>>) -> reqwest::Client {
    let b = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30));
    match local_only {
        Some(r) => b.dns_resolver(Arc::new(plugboard_server::local_only::LocalOnlyDns(r))),
        None => b,
    }
    .build()
    .expect("a plain client builds")
}

async fn get_json(
    client: &reqwest::Client,
    url: &str,
    p: &Provider,
    key: Option<&str>,
) -> Option<serde_json::Value> {
    let resp = crate::native::to_provider(client.get(url), p, key)
        .send()
        .await
        .ok()?;
    if !resp.status().is_success() {
        return None;
    }
    resp.json().await.ok()
}

/// The window from the provider's model list, or (a local runtime) from Ollama's list of
/// loaded models, with where it came from.
async fn served_window(
    client: &reqwest::Client,
    p: &Provider,
    key: Option<&str>,
    model: &str,
) -> Option<(u64, &'static str)> {
    let base = p.base_url.trim_end_matches('/');
    if let Some(list) = get_json(client, &format!("{base}/models"), p, key).await {
        if let Some(w) = crate::window::window_from_model_list(&list, model) {
            return Some((w, "its model list"));
        }
    }
    if p.is_local_runtime() {
        let root = base.strip_suffix("/v1").unwrap_or(base);
        if let Some(ps) = get_json(client, &format!("{root}/api/ps"), p, key).await {
            if let Some(w) = crate::window::window_from_ollama_ps(&ps, model) {
                return Some((w, "the runtime's loaded models"));
            }
        }
    }
    None
}

/// Asks for more output than any window holds: providers that check refuse and most name
/// the window while doing so. The prompt is a few tokens; one that accepts answers briefly.
async fn probe_window(
    local: &reqwest::Client,
    url: &str,
    model: &str,
) -> Option<(u64, &'static str)> {
    let mut body = codex::request(model, codex::text_turn(), false);
    body["max_output_tokens"] = 10_000_000.into();
    let t = turn::send(local, url, &body).await;
    let message = t.error?;
    crate::window::window_from_error(&message).map(|w| (w, "its refusal of an oversized request"))
}

fn is_switch(f: &crate::Fix) -> bool {
    matches!(
        f.change,
        crate::FixChange::PassThrough | crate::FixChange::Translate
    )
}

/// Runs the check, applies every repair it offers and runs it again, until it passes or
/// offers nothing new (four rounds at most). A provider that serves both APIs is moved to the
/// one the comparison found better, first and once; then that path's repairs follow. Returns
/// the provider as repaired and each round's report.
pub async fn check_and_fix(
    p: &Provider,
    keys: Arc<dyn KeySource>,
    opts: CheckOptions,
) -> Result<(Provider, Vec<CheckReport>), CheckError> {
    let mut fixed = p.clone();
    let mut reports = Vec::new();
    let mut switched = false;
    for _ in 0..4 {
        let report = check_provider(&fixed, keys.clone(), opts.clone()).await?;
        let mut repairs: Vec<crate::Fix> = report
            .fixes()
            .into_iter()
            .filter(|f| !is_switch(f))
            .collect();
        // The better path, taken once (a second comparison must not undo it on a close call).
        if let Some(f) = report.step(StepId::BestPath).and_then(|s| s.fix.clone()) {
            if !switched {
                switched = true;
                repairs = vec![f];
            }
        }
        reports.push(report);
        let mut changed = false;
        for f in repairs {
            let before = fixed.clone();
            match f.apply(&mut fixed) {
                Ok(()) => changed |= fixed != before,
                Err(e) => {
                    tracing::warn!(fix = %f.label, error = %e, "a check's fix could not be applied");
                    fixed = before;
                }
            }
        }
        if !changed {
            break;
        }
    }
    Ok((fixed, reports))
}
