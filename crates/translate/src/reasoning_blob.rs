//! Plugboard's own `encrypted_content` for the reasoning items it emits: the reasoning text,
//! versioned and base64-encoded, so that it comes back on the next turn even with
//! `store: false` and can be handed to providers that need it (`reasoning_content`).
//! It is not encrypted: it holds what the client already received as summary text.
//! Compaction items carry the same kind of blob under a prefix of their own.

use base64::{engine::general_purpose::STANDARD, Engine};

const PREFIX: &str = "plugboard.v1:";

pub fn encode(text: &str) -> String {
    encode_with(PREFIX, text)
}

/// The text of a blob Plugboard wrote; `None` for anything else (e.g. OpenAI's own blobs).
pub fn decode(blob: &str) -> Option<String> {
    decode_with(PREFIX, blob)
}

pub(crate) fn encode_with(prefix: &str, text: &str) -> String {
    let mut out = String::with_capacity(prefix.len() + text.len() * 4 / 3 + 4);
    out.push_str(prefix);
    STANDARD.encode_string(text, &mut out);
    out
}

pub(crate) fn decode_with(prefix: &str, blob: &str) -> Option<String> {
    let b64 = blob.strip_prefix(prefix)?;
    String::from_utf8(STANDARD.decode(b64).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let t = "Thinking… about `ls` — 思考";
        assert_eq!(decode(&encode(t)).as_deref(), Some(t));
    }

    #[test]
    fn foreign_blobs_are_not_decoded() {
        assert_eq!(decode("opaque-blob-1"), None);
        assert_eq!(decode("plugboard.v1:***"), None);
    }
}
