//! The events that end a Responses stream, named once for every reader of a stream (the relay
//! watch, the repairs, the WebSocket session, the provider's own socket).

use memchr::memmem::Finder;
use std::sync::LazyLock;

/// The event types that end a response.
pub const TERMINAL_TYPES: [&str; 3] = [
    "response.completed",
    "response.incomplete",
    "response.failed",
];

/// Whether `kind` ends a response.
pub fn is_terminal(kind: &str) -> bool {
    TERMINAL_TYPES.contains(&kind)
}

/// The quoted types, as they appear in an event's JSON, with their searchers built once: a
/// searcher built per event was the largest single cost of a pass-through stream (measured
/// with `plugboard-counts`).
static QUOTED: LazyLock<[Finder<'static>; 3]> = LazyLock::new(|| {
    [
        Finder::new(b"\"response.completed\""),
        Finder::new(b"\"response.incomplete\""),
        Finder::new(b"\"response.failed\""),
    ]
});

/// Whether an event's JSON may end the response: a quick look for a terminal type's name
/// before the event is parsed to be sure.
pub fn may_end(event_json: &[u8]) -> bool {
    QUOTED.iter().any(|f| f.find(event_json).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_terminal_events_may_end() {
        assert!(may_end(br#"{"type":"response.completed","response":{}}"#));
        assert!(may_end(br#"{"type": "response.failed"}"#));
        assert!(!may_end(
            br#"{"type":"response.output_text.delta","delta":"hi"}"#
        ));
        assert!(is_terminal("response.incomplete") && !is_terminal("error"));
    }
}
