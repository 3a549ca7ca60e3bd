//! Thinking printed inline: Qwen3, QwQ, DeepSeek-R1 distills and MiniMax on Ollama, LM
//! Studio or vLLM without a reasoning parser start their content with `<think>…</think>`
//! (or `<thinking>…</thinking>`). The splitter turns that opening block into reasoning and
//! the rest into text, as the content streams, with tags cut anywhere across chunks.
//!
//! Only a block at the very start counts (after white space): a tag later in the answer is
//! the model talking about tags. Once the answer is known to be plain text, each delta is
//! passed on untouched, so the cost per chunk is a state check.

use plugboard_wire::chat::{ChatContent, ChatPart};

/// A piece of content, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Reasoning(String),
    Text(String),
}

const TAGS: [(&str, &str); 2] = [("<think>", "</think>"), ("<thinking>", "</thinking>")];

#[derive(Debug, Default)]
enum State {
    /// Nothing but white space yet: the content may still open a block.
    #[default]
    Start,
    /// Inside the block, until this closing tag.
    Thinking { close: &'static str },
    /// Just after the block: white space before the answer is dropped.
    AfterBlock,
    /// Plain text from here on.
    Text,
}

#[derive(Debug, Default)]
pub struct ThinkSplitter {
    state: State,
    /// Held back: a possible opening tag (Start), or a possible partial closing tag.
    pending: String,
    /// Some reasoning went out: white space after the opening tag is dropped until then.
    reasoned: bool,
}

impl ThinkSplitter {
    /// Whether the content is known to be plain text from here on.
    pub fn is_past(&self) -> bool {
        matches!(self.state, State::Text)
    }

    pub fn push(&mut self, delta: &str, out: &mut Vec<Piece>) {
        match self.state {
            State::Text => out.push(Piece::Text(delta.to_string())),
            State::Start => {
                self.pending.push_str(delta);
                let head = self.pending.trim_start();
                if head.is_empty() {
                    return;
                }
                if let Some((open, close)) = TAGS.iter().find(|(open, _)| head.starts_with(open)) {
                    let rest = head[open.len()..].to_string();
                    self.pending.clear();
                    self.state = State::Thinking { close };
                    self.thinking(&rest, out);
                } else if TAGS.iter().any(|(open, _)| open.starts_with(head)) {
                    // `<thi` so far: wait for the rest of the tag.
                } else {
                    self.state = State::Text;
                    out.push(Piece::Text(std::mem::take(&mut self.pending)));
                }
            }
            State::Thinking { .. } => self.thinking(delta, out),
            State::AfterBlock => self.after_block(delta, out),
        }
    }

    /// The end of the content: whatever was held back goes out as it stands.
    pub fn finish(&mut self, out: &mut Vec<Piece>) {
        let pending = std::mem::take(&mut self.pending);
        if pending.is_empty() {
            return;
        }
        match self.state {
            State::Thinking { .. } => out.push(Piece::Reasoning(pending)),
            _ => out.push(Piece::Text(pending)),
        }
    }

    fn thinking(&mut self, delta: &str, out: &mut Vec<Piece>) {
        let State::Thinking { close } = self.state else {
            return;
        };
        self.pending.push_str(delta);
        if !self.reasoned {
            let start = self.pending.len() - self.pending.trim_start().len();
            self.pending.drain(..start);
        }
        if let Some(at) = self.pending.find(close) {
            let reasoning = self.pending[..at].to_string();
            let rest = self.pending[at + close.len()..].to_string();
            self.pending.clear();
            if !reasoning.is_empty() {
                self.reasoned = true;
                out.push(Piece::Reasoning(reasoning));
            }
            self.state = State::AfterBlock;
            self.after_block(&rest, out);
            return;
        }
        // Keep back the longest tail that could begin the closing tag.
        let keep = (1..close.len().min(self.pending.len() + 1))
            .rev()
            .find(|&n| {
                self.pending.is_char_boundary(self.pending.len() - n)
                    && close.starts_with(&self.pending[self.pending.len() - n..])
            })
            .unwrap_or(0);
        let emit = self.pending.len() - keep;
        if emit > 0 {
            let reasoning: String = self.pending.drain(..emit).collect();
            self.reasoned = true;
            out.push(Piece::Reasoning(reasoning));
        }
    }

    fn after_block(&mut self, delta: &str, out: &mut Vec<Piece>) {
        let text = delta.trim_start();
        if !text.is_empty() {
            self.state = State::Text;
            out.push(Piece::Text(text.to_string()));
        }
    }
}

/// Earlier reasoning sent back inline, the way the model wrote it, for providers that want
/// their thinking back but read it only from the content.
pub fn inline(reasoning: &str, content: Option<ChatContent>) -> ChatContent {
    let block = format!("<think>\n{}\n</think>\n\n", reasoning.trim());
    match content {
        None => ChatContent::Text(block.trim_end().to_string()),
        Some(ChatContent::Text(t)) => ChatContent::Text(block + &t),
        Some(ChatContent::Parts(mut parts)) => {
            parts.insert(0, ChatPart::Text { text: block });
            ChatContent::Parts(parts)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The content pushed in the given pieces, with consecutive pieces of a kind joined.
    fn split(pieces: &[&str]) -> Vec<Piece> {
        let mut s = ThinkSplitter::default();
        let mut out = Vec::new();
        for p in pieces {
            s.push(p, &mut out);
        }
        s.finish(&mut out);
        let mut joined: Vec<Piece> = Vec::new();
        for p in out {
            match (joined.last_mut(), p) {
                (Some(Piece::Reasoning(a)), Piece::Reasoning(b)) => a.push_str(&b),
                (Some(Piece::Text(a)), Piece::Text(b)) => a.push_str(&b),
                (_, p) => joined.push(p),
            }
        }
        joined
    }

    #[test]
    fn a_leading_block_is_reasoning_at_every_cut() {
        let content = "<think>\nThe user wants ls. </thin not yet.\n</think>\n\nRun `ls`.";
        let want = vec![
            Piece::Reasoning("The user wants ls. </thin not yet.\n".into()),
            Piece::Text("Run `ls`.".into()),
        ];
        for at in 0..=content.len() {
            if !content.is_char_boundary(at) {
                continue;
            }
            assert_eq!(
                split(&[&content[..at], &content[at..]]),
                want,
                "cut at {at}"
            );
        }
        // One byte at a time.
        let bytes: Vec<String> = content.chars().map(String::from).collect();
        let refs: Vec<&str> = bytes.iter().map(String::as_str).collect();
        assert_eq!(split(&refs), want);
    }

    #[test]
    fn the_thinking_variant_and_leading_white_space() {
        assert_eq!(
            split(&["  \n<thinking>plan", "</thinking>answer"]),
            vec![
                Piece::Reasoning("plan".into()),
                Piece::Text("answer".into())
            ]
        );
    }

    #[test]
    fn text_that_only_looks_like_a_block_stays_text() {
        assert_eq!(
            split(&["Use <think> tags"]),
            vec![Piece::Text("Use <think> tags".into())]
        );
        assert_eq!(split(&["<thin", "g>"]), vec![Piece::Text("<thing>".into())]);
        assert_eq!(
            split(&["Hello", " <think>x</think>"]),
            vec![Piece::Text("Hello <think>x</think>".into())]
        );
    }

    #[test]
    fn reasoning_goes_back_inline() {
        let got = inline(" plan ", Some(ChatContent::Text("answer".into())));
        assert_eq!(
            got,
            ChatContent::Text("<think>\nplan\n</think>\n\nanswer".into())
        );
        assert_eq!(
            inline("plan", None),
            ChatContent::Text("<think>\nplan\n</think>".into())
        );
        // And it reads back as it went out.
        let ChatContent::Text(t) = got else {
            unreachable!()
        };
        assert_eq!(
            split(&[&t]),
            vec![
                Piece::Reasoning("plan\n".into()),
                Piece::Text("answer".into())
            ]
        );
    }

    #[test]
    fn an_unclosed_block_is_all_reasoning_and_non_ascii_is_never_split() {
        assert_eq!(
            split(&["<think>思考中…"]),
            vec![Piece::Reasoning("思考中…".into())]
        );
        assert_eq!(
            split(&["<think>é</", "think>ü"]),
            vec![Piece::Reasoning("é".into()), Piece::Text("ü".into())]
        );
    }
}
