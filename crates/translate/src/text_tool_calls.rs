//! Tool calls printed as text. Small local models, served without a tool-call parser, write
//! their calls into the content: Hermes/Qwen `<tool_call>{…}</tool_call>`, Mistral
//! `[TOOL_CALLS][{…}]`, Llama `<|python_tag|>{…}`, or a bare `{"name": …, "arguments": …}`
//! as the whole message. When tools were declared, the scanner turns a complete call in a
//! known format, naming a declared tool, into a call; everything else stays text: the text
//! around the markup, a call inside a code block, a call to a tool nobody declared, a block
//! that does not parse.
//!
//! Text streams on as it comes; only a possible marker (or a whole message that starts like
//! a JSON object) is held back until it can be decided.

use serde_json::Value;

/// What the scanner hands on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    Text(String),
    /// A call: the tool's (chat) name and its arguments as a JSON text.
    Call {
        name: String,
        arguments: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Markup {
    /// `<tool_call>…</tool_call>`, as often as the model likes.
    Hermes,
    /// `[TOOL_CALLS]` then a list of calls, to the end of the message.
    Mistral,
    /// `<|python_tag|>` then a call, to the end of the message.
    PythonTag,
}

const OPENERS: [(&str, Markup); 3] = [
    ("<tool_call>", Markup::Hermes),
    ("[TOOL_CALLS]", Markup::Mistral),
    ("<|python_tag|>", Markup::PythonTag),
];
const HERMES_CLOSE: &str = "</tool_call>";
const FENCE: &str = "```";

#[derive(Debug, Default)]
enum State {
    /// Plain text; `pending` holds a possible start of a marker.
    #[default]
    Text,
    /// Inside markup, collecting its body.
    Markup(Markup),
    /// The message began with `{`: held whole, decided at its end.
    WholeJson,
}

#[derive(Debug, Default)]
pub struct TextCallScanner {
    state: State,
    pending: String,
    /// Any non-space content seen yet (a bare JSON call must be the whole message).
    started: bool,
    /// Inside a ``` code block of the text handed on: markers there are just text.
    in_fence: bool,
    /// The last two characters handed on, to see a fence cut across deltas.
    tail: String,
}

impl TextCallScanner {
    /// Whether `delta` is plain text to hand on as it is (the common case: nothing held
    /// back, no character that could begin a marker or a fence); if so, it is noted as
    /// handed on and the caller passes it on itself.
    pub fn passes(&mut self, delta: &str) -> bool {
        let plain = matches!(self.state, State::Text)
            && self.started
            && self.pending.is_empty()
            && !delta.bytes().any(|b| matches!(b, b'<' | b'[' | b'`'));
        if plain {
            self.set_tail(delta);
        }
        plain
    }

    pub fn push(&mut self, delta: &str, known: &dyn Fn(&str) -> bool, out: &mut Vec<Found>) {
        if delta.is_empty() {
            return;
        }
        if self.passes(delta) {
            out.push(Found::Text(delta.to_string()));
            return;
        }
        self.pending.push_str(delta);
        self.scan(known, out);
    }

    /// The end of the content: held-back markup is decided now.
    pub fn finish(&mut self, known: &dyn Fn(&str) -> bool, out: &mut Vec<Found>) {
        let body = std::mem::take(&mut self.pending);
        match std::mem::take(&mut self.state) {
            State::Text => self.text(body, out),
            State::WholeJson => match calls_in(&body, known) {
                Some(calls) => out.extend(calls),
                None => self.text(body, out),
            },
            State::Markup(m) => {
                let cleaned = body.replace("<|eom_id|>", "").replace("<|eot_id|>", "");
                match calls_in(&cleaned, known) {
                    Some(calls) => out.extend(calls),
                    None => self.text(opener(m).to_string() + &body, out),
                }
            }
        }
    }

    fn scan(&mut self, known: &dyn Fn(&str) -> bool, out: &mut Vec<Found>) {
        loop {
            match self.state {
                State::WholeJson => return,
                State::Markup(Markup::Hermes) => {
                    let Some(at) = self.pending.find(HERMES_CLOSE) else {
                        return;
                    };
                    let body = self.pending[..at].to_string();
                    self.pending.drain(..at + HERMES_CLOSE.len());
                    self.state = State::Text;
                    match calls_in(&body, known) {
                        Some(calls) => out.extend(calls),
                        None => self.text(format!("<tool_call>{body}{HERMES_CLOSE}"), out),
                    }
                }
                // To the end of the message.
                State::Markup(_) => return,
                State::Text => {
                    if !self.started {
                        let head = self.pending.trim_start();
                        if head.is_empty() {
                            return;
                        }
                        self.started = true;
                        if head.starts_with('{') {
                            self.state = State::WholeJson;
                            return;
                        }
                    }
                    if !self.scan_text(out) {
                        return;
                    }
                }
            }
        }
    }

    /// Hands on text up to the next marker outside a code block and enters its markup
    /// (`true`), or hands on all it can and holds back a possible marker start (`false`).
    fn scan_text(&mut self, out: &mut Vec<Found>) -> bool {
        let mut from = 0;
        loop {
            let next = OPENERS
                .iter()
                .filter_map(|(m, kind)| self.pending[from..].find(m).map(|i| (from + i, *m, *kind)))
                .min_by_key(|(i, ..)| *i);
            let Some((at, marker, kind)) = next else {
                break;
            };
            let before_fence = self.in_fence ^ (fences(&self.tail, &self.pending[..at]) % 2 == 1);
            if before_fence {
                // In a code block: the marker is text; look further.
                from = at + marker.len();
                continue;
            }
            let before: String = self.pending.drain(..at + marker.len()).collect();
            self.text(before[..at].to_string(), out);
            self.state = State::Markup(kind);
            return true;
        }
        // No marker: keep back the longest tail that could start one.
        let keep = OPENERS
            .iter()
            .filter_map(|(m, _)| {
                (1..m.len())
                    .rev()
                    .find(|&n| self.pending.ends_with(&m[..n]))
            })
            .max()
            .unwrap_or(0);
        let emit = self.pending.len() - keep;
        if emit > 0 {
            let text: String = self.pending.drain(..emit).collect();
            self.text(text, out);
        }
        false
    }

    /// Text handed on, with the code-block state kept up to date.
    fn text(&mut self, text: String, out: &mut Vec<Found>) {
        if text.is_empty() {
            return;
        }
        if (text.contains('`') || self.tail.contains('`')) && fences(&self.tail, &text) % 2 == 1 {
            self.in_fence = !self.in_fence;
        }
        self.set_tail(&text);
        out.push(Found::Text(text));
    }

    /// Keeps the last two characters handed on (a fence may begin in them).
    fn set_tail(&mut self, text: &str) {
        let mut last: Vec<char> = text.chars().rev().take(2).collect();
        if last.len() < 2 {
            last.extend(self.tail.chars().rev().take(2 - last.len()));
        }
        self.tail.clear();
        self.tail.extend(last.into_iter().rev());
    }
}

fn opener(m: Markup) -> &'static str {
    OPENERS
        .iter()
        .find(|(_, k)| *k == m)
        .map(|(o, _)| *o)
        .unwrap_or("")
}

/// Fences that end in `text`, counting one that begins in the characters before it.
fn fences(tail: &str, text: &str) -> usize {
    let joined = format!("{tail}{text}");
    joined.matches(FENCE).count() - tail.matches(FENCE).count()
}

/// The calls a block holds: one object, a list of them, or objects one per line; `None`
/// unless every one is a call to a known tool.
fn calls_in(body: &str, known: &dyn Fn(&str) -> bool) -> Option<Vec<Found>> {
    let body = body.trim();
    let values: Vec<Value> = match serde_json::from_str::<Value>(body) {
        Ok(Value::Array(list)) => list,
        Ok(v @ Value::Object(_)) => vec![v],
        _ => body
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str::<Value>(l.trim()).ok())
            .collect::<Option<Vec<_>>>()?,
    };
    if values.is_empty() {
        return None;
    }
    values.iter().map(|v| call_of(v, known)).collect()
}

fn call_of(v: &Value, known: &dyn Fn(&str) -> bool) -> Option<Found> {
    let name = v.get("name")?.as_str()?;
    if !known(name) {
        return None;
    }
    let arguments = match v.get("arguments").or_else(|| v.get("parameters")) {
        None => "{}".to_string(),
        Some(Value::String(s)) => {
            // Arguments given as a JSON text must be one.
            serde_json::from_str::<Value>(s).ok()?;
            s.clone()
        }
        Some(a @ Value::Object(_)) => a.to_string(),
        Some(_) => return None,
    };
    Some(Found::Call {
        name: name.to_string(),
        arguments,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(n: &str) -> bool {
        matches!(n, "exec_command" | "apply_patch")
    }

    /// The content pushed in the given pieces, consecutive texts joined.
    fn scan(pieces: &[&str]) -> Vec<Found> {
        let mut s = TextCallScanner::default();
        let mut out = Vec::new();
        for p in pieces {
            s.push(p, &known, &mut out);
        }
        s.finish(&known, &mut out);
        let mut joined: Vec<Found> = Vec::new();
        for f in out {
            match (joined.last_mut(), f) {
                (Some(Found::Text(a)), Found::Text(b)) => a.push_str(&b),
                (_, f) => joined.push(f),
            }
        }
        joined
    }

    fn ls() -> Found {
        Found::Call {
            name: "exec_command".into(),
            arguments: r#"{"cmd":"ls"}"#.into(),
        }
    }

    #[test]
    fn hermes_calls_with_text_around_at_every_cut() {
        let content = "Let me look.\n<tool_call>\n{\"name\": \"exec_command\", \"arguments\": {\"cmd\": \"ls\"}}\n</tool_call>";
        let want = vec![Found::Text("Let me look.\n".into()), ls()];
        for at in 0..=content.len() {
            assert_eq!(scan(&[&content[..at], &content[at..]]), want, "cut at {at}");
        }
    }

    #[test]
    fn every_known_format() {
        assert_eq!(
            scan(&[
                "[TOOL_CALLS] [{\"name\": \"exec_command\", \"arguments\": {\"cmd\": \"ls\"}}]"
            ]),
            vec![ls()]
        );
        assert_eq!(
            scan(&["<|python_tag|>{\"name\": \"exec_command\", \"parameters\": {\"cmd\": \"ls\"}}<|eom_id|>"]),
            vec![ls()]
        );
        assert_eq!(
            scan(&[
                "  {\"name\": \"exec_command\",",
                " \"arguments\": \"{\\\"cmd\\\":\\\"ls\\\"}\"}"
            ]),
            vec![ls()]
        );
        // Two Hermes calls in a row.
        let two = "<tool_call>{\"name\":\"exec_command\",\"arguments\":{\"cmd\":\"ls\"}}</tool_call>\n<tool_call>{\"name\":\"exec_command\",\"arguments\":{\"cmd\":\"ls\"}}</tool_call>";
        assert_eq!(scan(&[two]), vec![ls(), Found::Text("\n".into()), ls()]);
    }

    #[test]
    fn look_alikes_stay_text() {
        let fenced = "Example:\n```\n<tool_call>{\"name\": \"exec_command\", \"arguments\": {}}</tool_call>\n```\nDone.";
        assert_eq!(scan(&[fenced]), vec![Found::Text(fenced.into())]);
        // The fence cut across deltas.
        assert_eq!(
            scan(&["Example:\n``", "`\n<tool_call>x</tool_call>\n```"]),
            vec![Found::Text(
                "Example:\n```\n<tool_call>x</tool_call>\n```".into()
            )]
        );
        let unknown = "<tool_call>{\"name\": \"rm_everything\", \"arguments\": {}}</tool_call>";
        assert_eq!(scan(&[unknown]), vec![Found::Text(unknown.into())]);
        let broken = "<tool_call>{\"name\": \"exec_command\", \"arguments\": {</tool_call>";
        assert_eq!(scan(&[broken]), vec![Found::Text(broken.into())]);
        let json_answer = "{\"result\": 42}";
        assert_eq!(scan(&[json_answer]), vec![Found::Text(json_answer.into())]);
        assert_eq!(
            scan(&["a < b and [TOOL"]),
            vec![Found::Text("a < b and [TOOL".into())]
        );
        let unclosed = "<tool_call>{\"name\": \"exec_command\"";
        assert_eq!(scan(&[unclosed]), vec![Found::Text(unclosed.into())]);
    }
}
