//! Server-sent events both ways: numbering and writing the events Plugboard emits, and
//! reading the `data` of a provider's events as its bytes arrive.

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

/// A line of the stream grew past the limit without ending.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a line of the stream is longer than {0} bytes")]
pub struct LineTooLong(pub usize);

/// Reads the `data` of each event from bytes pushed in as they arrive, after the event
/// stream format of the HTML standard: lines end in LF, CRLF or CR; `data` lines of one
/// event are joined with LF; a blank line ends an event; comments, `event`, `id` and `retry`
/// are skipped (the chat stream only needs `data`).
///
/// Written here rather than taken from a crate: the one in use before (eventsource-stream)
/// built every event through a parser combinator and re-grown strings (its event parsing
/// alone was 8 % of the proxy's CPU samples); this reads each line in place.
#[derive(Debug)]
pub struct SseReader {
    buf: Vec<u8>,
    /// Where the unread part of `buf` starts.
    pos: usize,
    data: Vec<u8>,
    has_data: bool,
    /// The last line ended in CR: an LF right after it belongs to the same line end.
    skip_lf: bool,
    /// A comment line (`: keep-alive`) was read since the last [`SseReader::take_comment`].
    comment: bool,
    max_line: usize,
}

impl SseReader {
    /// `max_line`: the longest line, and the largest event data, accepted, so that a broken
    /// upstream cannot make the reader buffer without bound.
    pub fn new(max_line: usize) -> Self {
        Self {
            buf: Vec::new(),
            pos: 0,
            data: Vec::new(),
            has_data: false,
            skip_lf: false,
            comment: false,
            max_line,
        }
    }

    pub fn push(&mut self, bytes: &[u8]) {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete event's data, `None` until more bytes are pushed.
    pub fn next_event(&mut self) -> Result<Option<Vec<u8>>, LineTooLong> {
        loop {
            let rest = &self.buf[self.pos..];
            if self.skip_lf && !rest.is_empty() {
                self.skip_lf = false;
                if rest[0] == b'\n' {
                    self.pos += 1;
                    continue;
                }
            }
            let Some(len) = memchr::memchr2(b'\n', b'\r', rest) else {
                if rest.len() > self.max_line {
                    return Err(LineTooLong(self.max_line));
                }
                return Ok(None);
            };
            if len > self.max_line {
                return Err(LineTooLong(self.max_line));
            }
            let start = self.pos;
            self.skip_lf = rest[len] == b'\r';
            self.pos += len + 1;
            if let Some(event) = self.line(start, start + len)? {
                return Ok(Some(event));
            }
        }
    }

    /// At the end of the body: an event cut short of its blank line still counts (some
    /// servers close right after their last `data:` line).
    pub fn finish(&mut self) -> Option<Vec<u8>> {
        let (start, end) = (self.pos, self.buf.len());
        self.pos = end;
        // The unended last line (a non-empty line never completes an event), then the blank
        // line the server did not send.
        if start < end && self.line(start, end).is_err() {
            return None;
        }
        self.line(end, end).ok().flatten()
    }

    /// Whether a comment line came since the last call: providers keep a waiting stream
    /// alive with them (DeepSeek sends `: keep-alive` for minutes), and that is a sign of
    /// life for the idle timer even though it carries no event.
    pub fn take_comment(&mut self) -> bool {
        std::mem::take(&mut self.comment)
    }

    /// One line (`buf[start..end]`, without its end): the event it completes, if any.
    fn line(&mut self, start: usize, end: usize) -> Result<Option<Vec<u8>>, LineTooLong> {
        let line = &self.buf[start..end];
        if line.is_empty() {
            if !self.has_data {
                return Ok(None);
            }
            self.has_data = false;
            // Each data line added an LF; the last one is not part of the data.
            self.data.pop();
            return Ok(Some(std::mem::take(&mut self.data)));
        }
        let (field, value) = match memchr::memchr(b':', line) {
            Some(0) => {
                self.comment = true;
                return Ok(None);
            }
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &[][..]),
        };
        if field == b"data" {
            // Many short `data:` lines add up to one event: capped like a single line.
            if self.data.len() + value.len() > self.max_line {
                self.data.clear();
                self.has_data = false;
                return Err(LineTooLong(self.max_line));
            }
            self.data.extend_from_slice(value);
            self.data.push(b'\n');
            self.has_data = true;
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(pieces: &[&[u8]]) -> Vec<String> {
        let mut r = SseReader::new(1024);
        let mut out = Vec::new();
        for p in pieces {
            r.push(p);
            while let Some(e) = r.next_event().unwrap() {
                out.push(String::from_utf8(e).unwrap());
            }
        }
        out.extend(r.finish().map(|e| String::from_utf8(e).unwrap()));
        out
    }

    #[test]
    fn events_lines_and_fields() {
        let body = b": keep-alive\n\ndata: {\"a\":1}\n\nevent: x\nid: 7\nretry: 10\ndata:first\ndata: second\n\ndata\n\ndata: [DONE]\n\n";
        let want = ["{\"a\":1}", "first\nsecond", "", "[DONE]"];
        assert_eq!(read_all(&[body]), want);
        // Any split into pieces reads the same.
        for at in 0..body.len() {
            assert_eq!(read_all(&[&body[..at], &body[at..]]), want, "split at {at}");
        }
    }

    #[test]
    fn every_line_end() {
        assert_eq!(
            read_all(&[b"data: a\r\n\r\ndata: b\r\rdata: c\n\n"]),
            ["a", "b", "c"]
        );
        // CR and LF in different pieces are one line end, not two.
        assert_eq!(
            read_all(&[b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]),
            ["a\nb"]
        );
    }

    #[test]
    fn an_event_cut_short_at_the_end_still_counts() {
        assert_eq!(read_all(&[b"data: a\n\ndata: [DONE]\n"]), ["a", "[DONE]"]);
        assert_eq!(read_all(&[b"data: a\n\ndata: [DONE]"]), ["a", "[DONE]"]);
        assert_eq!(read_all(&[b"data: a\n\n: bye"]), ["a"]);
    }

    #[test]
    fn comments_are_noticed_and_data_lines_are_capped_together() {
        let mut r = SseReader::new(16);
        r.push(b": keep-alive\n\n");
        assert_eq!(r.next_event(), Ok(None));
        assert!(r.take_comment());
        assert!(!r.take_comment(), "taken once");
        let mut r = SseReader::new(16);
        r.push(b"data: 0123456\ndata: 0123456\ndata: 0123456\n\n");
        assert_eq!(r.next_event(), Err(LineTooLong(16)));
    }

    #[test]
    fn a_line_over_the_limit_fails_even_before_it_ends() {
        let mut r = SseReader::new(8);
        r.push(b"data: 0123456789");
        assert_eq!(r.next_event(), Err(LineTooLong(8)));
        let mut r = SseReader::new(8);
        r.push(b"data: 0123456789\n\n");
        assert_eq!(r.next_event(), Err(LineTooLong(8)));
        let mut r = SseReader::new(8);
        r.push(b"data: 01\n\n");
        assert_eq!(r.next_event(), Ok(Some(b"01".to_vec())));
    }
}
