//! Reasoning and text in a chat stream: reasoning deltas as a reasoning item's summary,
//! content as the message's text, with inline `<think>` split off and tool calls printed as
//! text turned into calls where the dialect says so; each item closed with its `.done` events.

use super::*;

impl StreamTranslator {
    pub(super) fn reasoning_delta(&mut self, delta: String, ev: &mut Vec<StreamEvent>) {
        if self.reasoning.is_none() {
            self.close_message(ev);
            let (output_index, id) = self.allocate("rs");
            ev.push(StreamEvent::OutputItemAdded {
                output_index,
                item: OutputItem::Reasoning {
                    id: id.clone(),
                    summary: vec![],
                    encrypted_content: None,
                },
            });
            ev.push(StreamEvent::ReasoningSummaryPartAdded {
                item_id: id.clone(),
                output_index,
                summary_index: 0,
                part: SummaryText::new(String::new()),
            });
            self.reasoning = Some(OpenText {
                output_index,
                id,
                text: String::new(),
            });
        }
        let r = self.reasoning.as_mut().expect("opened above");
        r.text.push_str(&delta);
        ev.push(StreamEvent::ReasoningSummaryTextDelta {
            item_id: r.id.clone(),
            output_index: r.output_index,
            summary_index: 0,
            delta,
        });
    }

    /// Content as the model wrote it: text, or inline thinking and tool calls printed as
    /// text for the splitter and the scanner to take out.
    pub(super) fn content_delta(&mut self, delta: String, ev: &mut Vec<StreamEvent>) {
        let Some(splitter) = self.think.as_mut().filter(|s| !s.is_past()) else {
            return self.scan_text(delta, ev);
        };
        let mut pieces = Vec::new();
        splitter.push(&delta, &mut pieces);
        self.emit_pieces(pieces, ev);
    }

    /// Whatever the splitter and the scanner held back, before the answer ends or a tool
    /// call starts.
    pub(super) fn flush_content(&mut self, ev: &mut Vec<StreamEvent>) {
        let mut pieces = Vec::new();
        if let Some(splitter) = self.think.as_mut() {
            splitter.finish(&mut pieces);
        }
        self.emit_pieces(pieces, ev);
        if let Some(mut scanner) = self.scanner.take() {
            let mut found = Vec::new();
            let names = self.ctx.tool_names.clone();
            scanner.finish(&|n| names.contains(n), &mut found);
            self.emit_found(found, ev);
            self.scanner = Some(TextCallScanner::default());
        }
    }

    pub(super) fn emit_pieces(&mut self, pieces: Vec<Piece>, ev: &mut Vec<StreamEvent>) {
        for p in pieces {
            match p {
                Piece::Reasoning(r) => self.reasoning_delta(r, ev),
                Piece::Text(t) => self.scan_text(t, ev),
            }
        }
    }

    pub(super) fn scan_text(&mut self, text: String, ev: &mut Vec<StreamEvent>) {
        let Some(scanner) = self.scanner.as_mut() else {
            return self.text_delta(text, ev);
        };
        if scanner.passes(&text) {
            return self.text_delta(text, ev);
        }
        let mut found = Vec::new();
        let names = &self.ctx.tool_names;
        scanner.push(&text, &|n| names.contains(n), &mut found);
        self.emit_found(found, ev);
    }

    pub(super) fn emit_found(&mut self, found: Vec<Found>, ev: &mut Vec<StreamEvent>) {
        for f in found {
            match f {
                Found::Text(t) => self.text_delta(t, ev),
                Found::Call { name, arguments } => {
                    // Apart from the provider's own indices, which start at 0.
                    let index = TEXT_CALL_INDEX + self.text_calls;
                    self.text_calls += 1;
                    self.tool_delta(
                        ToolCallDelta {
                            index: Some(index),
                            id: None,
                            function: Some(FunctionDelta {
                                name: Some(name),
                                arguments: Some(arguments),
                            }),
                        },
                        ev,
                    );
                }
            }
        }
    }

    pub(super) fn text_delta(&mut self, delta: String, ev: &mut Vec<StreamEvent>) {
        if self.message.is_none() {
            self.close_reasoning(ev);
            let (output_index, id) = self.allocate("msg");
            ev.push(StreamEvent::OutputItemAdded {
                output_index,
                item: OutputItem::Message {
                    id: id.clone(),
                    status: ItemStatus::InProgress,
                    role: "assistant",
                    content: vec![],
                },
            });
            ev.push(StreamEvent::ContentPartAdded {
                item_id: id.clone(),
                output_index,
                content_index: 0,
                part: OutputText::new(String::new()),
            });
            self.message = Some(OpenText {
                output_index,
                id,
                text: String::new(),
            });
        }
        let m = self.message.as_mut().expect("opened above");
        m.text.push_str(&delta);
        ev.push(StreamEvent::OutputTextDelta {
            item_id: m.id.clone(),
            output_index: m.output_index,
            content_index: 0,
            delta,
            logprobs: [],
        });
    }

    pub(super) fn close_reasoning(&mut self, ev: &mut Vec<StreamEvent>) {
        let Some(r) = self.reasoning.take() else {
            return;
        };
        ev.push(StreamEvent::ReasoningSummaryTextDone {
            item_id: r.id.clone(),
            output_index: r.output_index,
            summary_index: 0,
            text: r.text.clone(),
        });
        ev.push(StreamEvent::ReasoningSummaryPartDone {
            item_id: r.id.clone(),
            output_index: r.output_index,
            summary_index: 0,
            part: SummaryText::new(r.text.clone()),
        });
        let item = OutputItem::Reasoning {
            id: r.id,
            encrypted_content: Some(reasoning_blob::encode(&r.text)),
            summary: vec![SummaryText::new(r.text)],
        };
        self.done(r.output_index, item, ev);
    }

    pub(super) fn close_message(&mut self, ev: &mut Vec<StreamEvent>) {
        let Some(m) = self.message.take() else { return };
        ev.push(StreamEvent::OutputTextDone {
            item_id: m.id.clone(),
            output_index: m.output_index,
            content_index: 0,
            text: m.text.clone(),
            logprobs: [],
        });
        ev.push(StreamEvent::ContentPartDone {
            item_id: m.id.clone(),
            output_index: m.output_index,
            content_index: 0,
            part: OutputText::new(m.text.clone()),
        });
        let item = OutputItem::Message {
            id: m.id,
            status: ItemStatus::Completed,
            role: "assistant",
            content: vec![OutputText::new(m.text)],
        };
        self.done(m.output_index, item, ev);
    }
}
