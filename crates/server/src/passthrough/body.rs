//! A request's body as it leaves for a provider that speaks the Responses API: as the client
//! sent it when nothing needs changing (no copy), else with the model mapped, another
//! provider's items cleared (`provenance`), and the repairs the provider's Responses dialect
//! asks for on the request side (hosted tools left out, freeform tools as functions, the
//! history put back for a stateless provider).

use crate::error::ProxyError;
use crate::routing::Target;
use crate::state::ProxyState;
use crate::stateless::{self, Keep};
use plugboard_translate::provenance::History;
use plugboard_translate::responses_dialect::{hosted_tools, ForcedHostedTool};
use plugboard_translate::responses_repair::custom_tools::declare_as_functions;
use plugboard_translate::responses_repair::reasoning::replay;
use plugboard_wire::responses::Input;
use serde_json::Value;
use std::collections::HashSet;

/// What the pass-through reads of a request.
pub(crate) struct Asked<'a> {
    pub model: &'a str,
    pub input: &'a Input,
    /// The response it continues, if any.
    pub previous: Option<&'a String>,
    pub tools: &'a [Value],
    pub tool_choice: Option<&'a Value>,
    pub store: Option<bool>,
    /// The gateway user, whose stored conversations may be continued.
    pub who: Option<&'a str>,
}

impl<'a> Asked<'a> {
    /// A history to be summarized (compaction): no tools, nothing stored.
    pub fn history_only(
        model: &'a str,
        input: &'a Input,
        previous: Option<&'a String>,
        who: Option<&'a str>,
    ) -> Self {
        Asked {
            model,
            input,
            previous,
            tools: &[],
            tool_choice: None,
            store: Some(false),
            who,
        }
    }
}

/// A request as it leaves for the provider.
pub(crate) struct Prepared {
    pub body: Vec<u8>,
    /// Freeform tools declared as functions (the provider cannot take them).
    pub custom_tools: HashSet<String>,
    /// For a stateless provider, the turn to store once answered.
    pub keep: Option<Keep>,
}

/// The client's body for the provider (see the module's note).
pub(crate) fn body_for(
    state: &ProxyState,
    target: &Target<'_>,
    asked: Asked<'_>,
    body: &[u8],
) -> Result<Prepared, ProxyError> {
    let dialect = target.responses_dialect;
    let (resolved, keep) = if dialect.stateless {
        let r = stateless::resolve(
            state,
            asked.input,
            asked.previous.map(String::as_str),
            asked.store,
            asked.who,
        )?;
        (r.input, r.keep)
    } else {
        (None, None)
    };
    // A resolved input is the whole history; the client's may continue a stored response.
    let (items, history) = match (&resolved, asked.input) {
        (Some(items), _) => (Some(items.as_slice()), History::Whole),
        (None, Input::Items(items)) if asked.previous.is_some() => {
            (Some(items.as_slice()), History::Continued)
        }
        (None, Input::Items(items)) => (Some(items.as_slice()), History::Whole),
        (None, Input::Text(_)) => (None, History::Whole),
    };
    let cleaned = items.and_then(|items| {
        state
            .issuers
            .clean(items, history, &target.provider.id)
            .items
    });
    // Reasoning in the history as this provider takes it.
    let cleaned = match cleaned.as_deref().or(items) {
        Some(now) => replay(now, dialect.reasoning_replay).or(cleaned),
        None => cleaned,
    };
    let hosted = if dialect.drop_hosted_tools {
        hosted_tools(asked.tools, asked.tool_choice).map_err(|ForcedHostedTool(forced)| {
            ProxyError::invalid_request(
                Some("tool_choice"),
                "unsupported_tool",
                format!(
                    "provider `{}` cannot run the hosted tool `{forced}` that tool_choice requires; choose another tool or route this model to OpenAI",
                    target.provider.id
                ),
            )
        })?
    } else {
        Vec::new()
    };
    let freeform = dialect.custom_tools_as_functions
        && (asked
            .tools
            .iter()
            .any(|t| t.get("type").and_then(Value::as_str) == Some("custom"))
            || memchr::memmem::find(body, b"\"custom_tool_call").is_some());
    if target.upstream_model == asked.model
        && cleaned.is_none()
        && resolved.is_none()
        && hosted.is_empty()
        && !freeform
    {
        return Ok(Prepared {
            body: body.to_vec(),
            custom_tools: HashSet::new(),
            keep,
        });
    }
    let mut v: Value = serde_json::from_slice(body)
        .map_err(|e| ProxyError::invalid_request(None, "invalid_request", e.to_string()))?;
    v["model"] = Value::String(target.upstream_model.clone());
    if let Some(items) = cleaned.or(resolved) {
        v["input"] = serde_json::to_value(items).expect("parsed JSON reads again");
        if dialect.stateless {
            // The provider is sent everything and asked to keep nothing.
            if let Some(o) = v.as_object_mut() {
                o.remove("previous_response_id");
            }
            v["store"] = Value::Bool(false);
        }
    }
    if !hosted.is_empty() {
        tracing::debug!(provider = %target.provider.id, dropped = hosted.len(), "hosted tools left out: the provider cannot run them");
        if let Some(Value::Array(tools)) = v.get_mut("tools") {
            let mut i = 0;
            tools.retain(|_| {
                i += 1;
                !hosted.contains(&(i - 1))
            });
        }
    }
    let custom_tools = match (freeform, v.as_object_mut()) {
        (true, Some(fields)) => declare_as_functions(fields),
        _ => HashSet::new(),
    };
    Ok(Prepared {
        body: serde_json::to_vec(&v).expect("a JSON value always serializes"),
        custom_tools,
        keep,
    })
}
