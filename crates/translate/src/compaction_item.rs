//! The `compaction` item Plugboard writes: the summary in its own versioned blob, and how
//! that summary reads to the model on the turns after.

use crate::reasoning_blob::{decode_with, encode_with};

const PREFIX: &str = "plugboard.compaction.v1:";

pub fn encode_summary(summary: &str) -> String {
    encode_with(PREFIX, summary)
}

/// The summary in a compaction item Plugboard wrote; `None` for another service's.
pub fn decode_summary(blob: &str) -> Option<String> {
    decode_with(PREFIX, blob)
}

/// How a summary reads to the model on the turns after compaction.
pub fn context_text(summary: &str) -> String {
    format!(
        "Summary of the conversation so far (earlier turns were compacted into it):\n\n{summary}"
    )
}
