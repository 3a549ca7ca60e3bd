//! Numbers events and writes them as server-sent events.

use plugboard_wire::responses::StreamEvent;

#[derive(Debug, Default)]
pub struct SseWriter {
    next_sequence: u64,
}

impl SseWriter {
    pub fn write(&mut self, events: &[StreamEvent], out: &mut Vec<u8>) {
        for e in events {
            e.write_sse(self.next_sequence, out);
            self.next_sequence += 1;
        }
    }

    pub fn to_bytes(&mut self, events: &[StreamEvent]) -> Vec<u8> {
        let mut out = Vec::with_capacity(events.len() * 256);
        self.write(events, &mut out);
        out
    }
}
