//! One clock for the mock and the load generator, which share this process: the mock stamps
//! its first text chunk with when the request reached it and when the chunk left, and the
//! load generator subtracts the upstream's own time from what it measured.

use std::sync::OnceLock;
use std::time::Instant;

static START: OnceLock<Instant> = OnceLock::new();

/// Nanoseconds since this process first asked.
pub fn now_ns() -> u64 {
    START.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// The text of the stamped first text chunk: `token0@<received>@<sent> `.
pub fn stamp(received: u64, sent: u64) -> String {
    format!("{STAMP}{received}@{sent} ")
}

pub const STAMP: &str = "token0@";

/// Reads a stamp back from a piece of a stream: (received, sent) in nanoseconds, or `None`
/// when there is none or it is cut off at the end of `hay`.
pub fn read_stamp(hay: &[u8]) -> Option<(u64, u64)> {
    let at = hay
        .windows(STAMP.len())
        .position(|w| w == STAMP.as_bytes())?;
    let rest = &hay[at + STAMP.len()..];
    let number = |s: &[u8]| -> Option<(u64, usize)> {
        let digits = s.iter().take_while(|b| b.is_ascii_digit()).count();
        // A number that runs to the end of the piece may go on in the next one.
        if digits == 0 || digits == s.len() {
            return None;
        }
        let n = std::str::from_utf8(&s[..digits]).ok()?.parse().ok()?;
        Some((n, digits))
    };
    let (received, len) = number(rest)?;
    if rest.get(len) != Some(&b'@') {
        return None;
    }
    let (sent, _) = number(&rest[len + 1..])?;
    Some((received, sent))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_read_back_whole_or_not_at_all() {
        let text = format!("data: {{\"content\":\"{}\"}}", stamp(12, 345));
        assert_eq!(read_stamp(text.as_bytes()), Some((12, 345)));
        let cut = &text.as_bytes()[..text.find("345").unwrap() + 2];
        assert_eq!(read_stamp(cut), None);
        assert_eq!(read_stamp(b"token0 "), None);
        assert!(now_ns() <= now_ns());
    }
}
