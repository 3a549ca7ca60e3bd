//! The server-sent events of a streamed response, and how each is written.

use super::output::{OutputItem, OutputText, ResponseObject, SummaryText};
use serde::Serialize;

/// A server-sent event of a streamed response, without its `sequence_number`
/// (added when the event is written).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type")]
pub enum StreamEvent {
    #[serde(rename = "response.created")]
    Created { response: ResponseObject },
    #[serde(rename = "response.in_progress")]
    InProgress { response: ResponseObject },
    #[serde(rename = "response.completed")]
    Completed { response: ResponseObject },
    #[serde(rename = "response.incomplete")]
    Incomplete { response: ResponseObject },
    #[serde(rename = "response.failed")]
    Failed { response: ResponseObject },
    #[serde(rename = "response.output_item.added")]
    OutputItemAdded {
        output_index: usize,
        item: OutputItem,
    },
    #[serde(rename = "response.output_item.done")]
    OutputItemDone {
        output_index: usize,
        item: OutputItem,
    },
    #[serde(rename = "response.content_part.added")]
    ContentPartAdded {
        item_id: String,
        output_index: usize,
        content_index: usize,
        part: OutputText,
    },
    #[serde(rename = "response.content_part.done")]
    ContentPartDone {
        item_id: String,
        output_index: usize,
        content_index: usize,
        part: OutputText,
    },
    #[serde(rename = "response.output_text.delta")]
    OutputTextDelta {
        item_id: String,
        output_index: usize,
        content_index: usize,
        delta: String,
        logprobs: [(); 0],
    },
    #[serde(rename = "response.output_text.done")]
    OutputTextDone {
        item_id: String,
        output_index: usize,
        content_index: usize,
        text: String,
        logprobs: [(); 0],
    },
    #[serde(rename = "response.reasoning_summary_part.added")]
    ReasoningSummaryPartAdded {
        item_id: String,
        output_index: usize,
        summary_index: usize,
        part: SummaryText,
    },
    #[serde(rename = "response.reasoning_summary_part.done")]
    ReasoningSummaryPartDone {
        item_id: String,
        output_index: usize,
        summary_index: usize,
        part: SummaryText,
    },
    #[serde(rename = "response.reasoning_summary_text.delta")]
    ReasoningSummaryTextDelta {
        item_id: String,
        output_index: usize,
        summary_index: usize,
        delta: String,
    },
    #[serde(rename = "response.reasoning_summary_text.done")]
    ReasoningSummaryTextDone {
        item_id: String,
        output_index: usize,
        summary_index: usize,
        text: String,
    },
    #[serde(rename = "response.function_call_arguments.delta")]
    FunctionCallArgumentsDelta {
        item_id: String,
        output_index: usize,
        delta: String,
    },
    #[serde(rename = "response.function_call_arguments.done")]
    FunctionCallArgumentsDone {
        item_id: String,
        output_index: usize,
        name: String,
        arguments: String,
    },
    #[serde(rename = "response.custom_tool_call_input.delta")]
    CustomToolCallInputDelta {
        item_id: String,
        output_index: usize,
        delta: String,
    },
    #[serde(rename = "response.custom_tool_call_input.done")]
    CustomToolCallInputDone {
        item_id: String,
        output_index: usize,
        input: String,
    },
}

impl StreamEvent {
    /// The event's name: its JSON `type`, as the serde rename above says (the only place the
    /// names are written). For tests and logs; [`Self::write_sse`] reads it from the bytes.
    pub fn event_type(&self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.get("type")?.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// Writes `event: <type>\ndata: <json>\n\n`, the JSON carrying `sequence_number`.
    pub fn write_sse(&self, sequence_number: u64, out: &mut Vec<u8>) {
        #[derive(Serialize)]
        struct Numbered<'a> {
            #[serde(flatten)]
            event: &'a StreamEvent,
            sequence_number: u64,
        }
        let start = out.len();
        out.extend_from_slice(b"data: ");
        let json = out.len();
        serde_json::to_writer(
            &mut *out,
            &Numbered {
                event: self,
                sequence_number,
            },
        )
        .expect("serializing an event into memory cannot fail");
        out.extend_from_slice(b"\n\n");
        // Serde writes an internally tagged enum's tag first: `{"type":"<name>",...`.
        const TAG: &[u8] = b"{\"type\":\"";
        let written = &out[json..];
        debug_assert!(written.starts_with(TAG));
        let name_len = written[TAG.len()..]
            .iter()
            .position(|&b| b == b'"')
            .unwrap_or(0);
        let mut line = [0u8; 96];
        let name = &written[TAG.len()..TAG.len() + name_len.min(line.len() - 8)];
        let n = name.len();
        line[..7].copy_from_slice(b"event: ");
        line[7..7 + n].copy_from_slice(name);
        line[7 + n] = b'\n';
        out.splice(start..start, line[..8 + n].iter().copied());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_line_has_type_and_sequence_number() {
        let ev = StreamEvent::FunctionCallArgumentsDelta {
            item_id: "fc_1".into(),
            output_index: 0,
            delta: "{".into(),
        };
        let mut out = Vec::new();
        ev.write_sse(7, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "event: response.function_call_arguments.delta\ndata: {\"type\":\"response.function_call_arguments.delta\",\"item_id\":\"fc_1\",\"output_index\":0,\"delta\":\"{\",\"sequence_number\":7}\n\n"
        );
    }
}
