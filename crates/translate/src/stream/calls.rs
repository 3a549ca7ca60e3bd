//! Tool calls in a chat stream: each call given its slot (providers number them in
//! different ways), announced once its name is known, its arguments streamed, and closed
//! as the Responses item Codex runs (a function call, a freeform tool's text, a shell call).

use super::*;

impl StreamTranslator {
    pub(super) fn tool_delta(&mut self, tc: ToolCallDelta, ev: &mut Vec<StreamEvent>) {
        if tc.index.is_none_or(|i| i < TEXT_CALL_INDEX) {
            self.flush_content(ev);
        }
        self.close_reasoning(ev);
        self.close_message(ev);
        let slot = self.call_slot(&tc);
        let call = &mut self.calls[slot];
        if call.call_id.is_none() {
            call.call_id = tc.id.filter(|s| !s.is_empty());
        }
        let (name, args) = match tc.function {
            Some(f) => (f.name, f.arguments.unwrap_or_default()),
            None => (None, String::new()),
        };
        if let Some(n) = name.filter(|n| !n.is_empty()) {
            if call.announced.is_none() {
                // A few servers stream the name in pieces; it is complete once arguments flow.
                call.name.push_str(&n);
            }
        }
        call.arguments.push_str(&args);
        if call.announced.is_none() {
            if call.name.is_empty() {
                return;
            }
            self.announce(slot, ev);
            let call = &self.calls[slot];
            if !call.arguments.is_empty() {
                let delta = call.arguments.clone();
                self.argument_delta(slot, delta, ev);
            }
        } else if !args.is_empty() {
            self.argument_delta(slot, args, ev);
        }
    }

    /// Finds the call a delta belongs to. Providers differ: `index` on every chunk, `id`
    /// only on the first, several calls in one chunk, or no `index` at all.
    pub(super) fn call_slot(&mut self, tc: &ToolCallDelta) -> usize {
        let id = tc.id.as_deref().filter(|s| !s.is_empty());
        let found = match tc.index {
            Some(i) => self
                .calls
                .iter()
                .rposition(|c| c.index == Some(i))
                .filter(|&p| {
                    // The same index with another id is a new call (seen on some servers).
                    match (id, self.calls[p].call_id.as_deref()) {
                        (Some(new), Some(old)) => new == old,
                        _ => true,
                    }
                }),
            None => match id {
                Some(id) => self
                    .calls
                    .iter()
                    .position(|c| c.call_id.as_deref() == Some(id)),
                None => self.calls.len().checked_sub(1),
            },
        };
        found.unwrap_or_else(|| {
            self.calls.push(OpenCall {
                index: tc.index,
                call_id: None,
                name: String::new(),
                arguments: String::new(),
                announced: None,
            });
            self.calls.len() - 1
        })
    }

    pub(super) fn announce(&mut self, slot: usize, ev: &mut Vec<StreamEvent>) {
        let origin = self.ctx.tool_names.origin(&self.calls[slot].name);
        let prefix = match origin {
            ToolOrigin::Function { .. } => "fc",
            ToolOrigin::Custom { .. } => "ctc",
            ToolOrigin::LocalShell => "lsh",
            ToolOrigin::ToolSearch => "tsc",
        };
        let (output_index, item_id) = self.allocate(prefix);
        let call = &mut self.calls[slot];
        let call_id = call.call_id.clone().unwrap_or_else(|| {
            let tail = item_id.split_once('_').map(|(_, t)| t).unwrap_or(&item_id);
            format!("call_{tail}")
        });
        let announced = Announced {
            output_index,
            item_id,
            call_id,
            origin,
        };
        let item = call_item(&announced, "", ItemStatus::InProgress);
        ev.push(StreamEvent::OutputItemAdded { output_index, item });
        call.announced = Some(announced);
    }

    pub(super) fn argument_delta(&mut self, slot: usize, delta: String, ev: &mut Vec<StreamEvent>) {
        let Some(a) = &self.calls[slot].announced else {
            return;
        };
        // Freeform input arrives JSON-wrapped; it is unwrapped whole when the call closes.
        if let ToolOrigin::Function { .. } = a.origin {
            ev.push(StreamEvent::FunctionCallArgumentsDelta {
                item_id: a.item_id.clone(),
                output_index: a.output_index,
                delta,
            });
        }
    }

    pub(super) fn close_calls(&mut self, ev: &mut Vec<StreamEvent>) {
        for call in std::mem::take(&mut self.calls) {
            let Some(a) = call.announced else {
                tracing::debug!(
                    arguments_len = call.arguments.len(),
                    "dropping a tool call that never got a name"
                );
                continue;
            };
            let item = match &a.origin {
                ToolOrigin::Function { name, .. } => {
                    let arguments = if call.arguments.trim().is_empty() {
                        "{}".to_string()
                    } else {
                        call.arguments
                    };
                    ev.push(StreamEvent::FunctionCallArgumentsDone {
                        item_id: a.item_id.clone(),
                        output_index: a.output_index,
                        name: name.clone(),
                        arguments: arguments.clone(),
                    });
                    call_item(&a, &arguments, ItemStatus::Completed)
                }
                ToolOrigin::Custom { .. } => {
                    let input = custom_input(&call.arguments);
                    ev.push(StreamEvent::CustomToolCallInputDelta {
                        item_id: a.item_id.clone(),
                        output_index: a.output_index,
                        delta: input.clone(),
                    });
                    ev.push(StreamEvent::CustomToolCallInputDone {
                        item_id: a.item_id.clone(),
                        output_index: a.output_index,
                        input: input.clone(),
                    });
                    call_item(&a, &input, ItemStatus::Completed)
                }
                ToolOrigin::LocalShell | ToolOrigin::ToolSearch => {
                    call_item(&a, &call.arguments, ItemStatus::Completed)
                }
            };
            self.done(a.output_index, item, ev);
        }
    }
}

/// The output item of a call; `payload` is the arguments, the freeform input, or the
/// local shell arguments, by the tool's kind.
pub(super) fn call_item(a: &Announced, payload: &str, status: ItemStatus) -> OutputItem {
    match &a.origin {
        ToolOrigin::Function { name, namespace } => OutputItem::FunctionCall {
            id: a.item_id.clone(),
            status,
            call_id: a.call_id.clone(),
            name: name.clone(),
            namespace: namespace.clone(),
            arguments: payload.to_string(),
        },
        ToolOrigin::Custom { name } => OutputItem::CustomToolCall {
            id: a.item_id.clone(),
            status,
            call_id: a.call_id.clone(),
            name: name.clone(),
            input: payload.to_string(),
        },
        ToolOrigin::LocalShell => OutputItem::LocalShellCall {
            id: a.item_id.clone(),
            status,
            call_id: a.call_id.clone(),
            action: local_shell_action(payload),
        },
        ToolOrigin::ToolSearch => OutputItem::ToolSearchCall {
            id: a.item_id.clone(),
            status,
            call_id: a.call_id.clone(),
            execution: "client",
            arguments: serde_json::from_str(payload).unwrap_or_else(|_| json!({})),
        },
    }
}

/// The freeform text of a custom tool call: `{"input": "..."}` as asked, but models also
/// answer with a bare JSON string or the raw text itself.
pub(crate) fn custom_input(arguments: &str) -> String {
    match serde_json::from_str::<Value>(arguments) {
        Ok(Value::Object(o)) => match o.get("input") {
            Some(Value::String(s)) => s.clone(),
            _ => o
                .values()
                .find_map(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
        },
        Ok(Value::String(s)) => s,
        _ => arguments.to_string(),
    }
}

pub(super) fn local_shell_action(arguments: &str) -> Value {
    let args: Map<String, Value> = serde_json::from_str(arguments).unwrap_or_default();
    let command = match args.get("command") {
        Some(Value::String(s)) => json!(["bash", "-lc", s]),
        Some(v) => v.clone(),
        None => json!([]),
    };
    let mut action = json!({"type": "exec", "command": command, "env": {}});
    if let Some(dir) = args.get("workdir") {
        action["working_directory"] = dir.clone();
    }
    if let Some(t) = args.get("timeout_ms") {
        action["timeout_ms"] = t.clone();
    }
    action
}
