//! The server-sent events of a streamed response, and how each is written.

use super::output::{OutputItem, OutputText, ResponseObject, SummaryText};
use serde::Serialize;
use std::sync::OnceLock;

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

/// The variants, counted: each variant's name is learnt from its serde rename the first time
/// it is written, and kept.
const VARIANTS: usize = 19;
static NAMES: [OnceLock<&'static str>; VARIANTS] = [const { OnceLock::new() }; VARIANTS];

impl StreamEvent {
    fn variant(&self) -> usize {
        use StreamEvent::*;
        match self {
            Created { .. } => 0,
            InProgress { .. } => 1,
            Completed { .. } => 2,
            Incomplete { .. } => 3,
            Failed { .. } => 4,
            OutputItemAdded { .. } => 5,
            OutputItemDone { .. } => 6,
            ContentPartAdded { .. } => 7,
            ContentPartDone { .. } => 8,
            OutputTextDelta { .. } => 9,
            OutputTextDone { .. } => 10,
            ReasoningSummaryPartAdded { .. } => 11,
            ReasoningSummaryPartDone { .. } => 12,
            ReasoningSummaryTextDelta { .. } => 13,
            ReasoningSummaryTextDone { .. } => 14,
            FunctionCallArgumentsDelta { .. } => 15,
            FunctionCallArgumentsDone { .. } => 16,
            CustomToolCallInputDelta { .. } => 17,
            CustomToolCallInputDone { .. } => 18,
        }
    }

    /// The SSE `event:` name, equal to the JSON `type`: read from the serde rename above (the
    /// only place the names are written) once per variant, then kept.
    pub fn event_type(&self) -> &'static str {
        NAMES[self.variant()].get_or_init(|| {
            let name = serde_json::to_value(self)
                .ok()
                .and_then(|v| v.get("type")?.as_str().map(str::to_string))
                .expect("every event serializes with its type");
            // One small string per variant, for the life of the process.
            Box::leak(name.into_boxed_str())
        })
    }

    /// Writes `event: <type>\ndata: <json>\n\n`, the JSON carrying `sequence_number`.
    pub fn write_sse(&self, sequence_number: u64, out: &mut Vec<u8>) {
        #[derive(Serialize)]
        struct Numbered<'a> {
            #[serde(flatten)]
            event: &'a StreamEvent,
            sequence_number: u64,
        }
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(self.event_type().as_bytes());
        out.extend_from_slice(b"\ndata: ");
        serde_json::to_writer(
            &mut *out,
            &Numbered {
                event: self,
                sequence_number,
            },
        )
        .expect("serializing an event into memory cannot fail");
        out.extend_from_slice(b"\n\n");
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

    #[test]
    fn every_sse_name_is_the_json_type() {
        let events = [
            StreamEvent::OutputTextDelta {
                item_id: "m".into(),
                output_index: 0,
                content_index: 0,
                delta: "d".into(),
                logprobs: [],
            },
            StreamEvent::FunctionCallArgumentsDelta {
                item_id: "f".into(),
                output_index: 0,
                delta: "{".into(),
            },
            StreamEvent::CustomToolCallInputDone {
                item_id: "c".into(),
                output_index: 0,
                input: "i".into(),
            },
        ];
        for ev in events {
            let mut out = Vec::new();
            ev.write_sse(1, &mut out);
            let text = String::from_utf8(out).unwrap();
            let (line, data) = text.split_once('\n').unwrap();
            let json: serde_json::Value =
                serde_json::from_str(data.trim().strip_prefix("data: ").unwrap()).unwrap();
            assert_eq!(line, format!("event: {}", json["type"].as_str().unwrap()));
        }
    }
}
