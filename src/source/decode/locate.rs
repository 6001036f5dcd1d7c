//! Where values sit in YAML or JSON text. serde_norway gives no positions,
//! so the parsed tree is walked in document order (its mappings keep
//! order) while a cursor moves forward through the text to each key at the
//! start of a line (`key:`, `"key":`, `- key:`). kubectl's YAML and JSON
//! put every key on its own line; a key written in flow style (`{a: 1}`) or
//! hidden inside a block scalar may be missed or mislocated, and then the
//! value is reported at the last key found before it.

use std::collections::HashMap;
use std::ops::Range;

use memchr::memmem;
use serde_norway::Value;

/// 1-based line and byte column in the blob's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

impl Pos {
    pub const START: Pos = Pos { line: 1, column: 1 };
}

/// A parsed value's start in the text, by the value's address in its tree.
pub struct Positions {
    starts: HashMap<usize, (Pos, usize)>,
}

impl Positions {
    /// Where `v` starts and its byte offset, if its key was found.
    pub fn of(&self, v: &Value) -> Option<(Pos, usize)> {
        self.starts.get(&(v as *const Value as usize)).copied()
    }
}

/// A key search that misses scans ahead as far as [`MAX_REACH`]: give up
/// locating after this many misses so a flow-style document stays linear.
const MAX_MISSES: u32 = 64;
/// How far past the cursor a key is looked for (the values between two
/// keys, a Helm release payload included, are smaller).
const MAX_REACH: usize = 64 << 20;

/// Locates every mapping value of `root`, parsed from `text[doc]`. `lines`
/// counts lines of `text`; kept across the documents of a stream, each is
/// counted once.
pub fn locate(text: &[u8], doc: Range<usize>, root: &Value, lines: &mut LineCounter) -> Positions {
    let mut w = Walker {
        text,
        end: doc.end.min(text.len()),
        cursor: doc.start,
        misses: 0,
        lines,
        starts: HashMap::new(),
    };
    w.walk(root);
    Positions { starts: w.starts }
}

/// The byte ranges of the documents of a YAML stream: each starts at a
/// `---` line (or the top of the text) and runs to the next one.
pub fn documents(text: &[u8]) -> Vec<Range<usize>> {
    let mut starts = vec![0];
    for nl in memmem::find_iter(text, b"\n---") {
        let at = nl + 1;
        let after = text.get(at + 3).copied();
        if matches!(after, None | Some(b' ' | b'\t' | b'\r' | b'\n')) {
            starts.push(at);
        }
    }
    let mut docs = Vec::with_capacity(starts.len());
    for (i, &s) in starts.iter().enumerate() {
        let e = starts.get(i + 1).copied().unwrap_or(text.len());
        docs.push(s..e);
    }
    docs
}

/// 1-based line and column of a byte offset; queries that move forward
/// count only the newlines in between.
#[derive(Default)]
pub struct LineCounter {
    offset: usize,
    /// Newlines before `offset`.
    newlines: u32,
}

impl LineCounter {
    pub fn pos(&mut self, text: &[u8], offset: usize) -> Pos {
        let offset = offset.min(text.len());
        if offset < self.offset {
            *self = LineCounter::default();
        }
        self.newlines += memchr::memchr_iter(b'\n', &text[self.offset..offset]).count() as u32;
        self.offset = offset;
        let line_start = memchr::memrchr(b'\n', &text[..offset]).map_or(0, |i| i + 1);
        Pos {
            line: self.newlines + 1,
            column: (offset - line_start + 1) as u32,
        }
    }
}

struct Walker<'t, 'l> {
    text: &'t [u8],
    end: usize,
    cursor: usize,
    misses: u32,
    lines: &'l mut LineCounter,
    starts: HashMap<usize, (Pos, usize)>,
}

impl Walker<'_, '_> {
    fn walk(&mut self, v: &Value) {
        match v {
            Value::Mapping(m) => {
                for (k, child) in m {
                    // Not found: the last key found before it is the best guess.
                    let at = match key_text(k).and_then(|k| self.find_key(&k)) {
                        Some(after_colon) => self.value_start(after_colon),
                        None => self.cursor,
                    };
                    let pos = self.lines.pos(self.text, at);
                    self.starts
                        .insert(child as *const Value as usize, (pos, at));
                    self.walk(child);
                }
            }
            Value::Sequence(items) => items.iter().for_each(|i| self.walk(i)),
            Value::Tagged(t) => self.walk(&t.value),
            _ => {}
        }
    }

    /// Finds `key` at the start of a line after the cursor; returns the
    /// offset just past its colon and moves the cursor to it.
    fn find_key(&mut self, key: &str) -> Option<usize> {
        if self.misses >= MAX_MISSES || key.is_empty() || self.cursor >= self.end {
            return None;
        }
        let hay = &self.text[self.cursor..self.end.min(self.cursor.saturating_add(MAX_REACH))];
        for hit in memmem::find_iter(hay, key.as_bytes()) {
            let at = self.cursor + hit;
            let Some(quote) = line_prefix_ok(self.text, at) else {
                continue;
            };
            if let Some(after) = colon_after(self.text, at + key.len(), self.end, quote) {
                self.cursor = after;
                return Some(after);
            }
        }
        self.misses += 1;
        None
    }

    /// The first byte of the value after a key's colon: past blanks, an
    /// opening quote, or to the next line for block scalars and nested
    /// collections.
    fn value_start(&self, mut i: usize) -> usize {
        let t = self.text;
        while i < self.end && matches!(t[i], b' ' | b'\t') {
            i += 1;
        }
        match t.get(i) {
            Some(b'"' | b'\'') => i + 1,
            Some(b'|' | b'>' | b'\r' | b'\n' | b'#') => {
                let Some(nl) = memchr::memchr(b'\n', &t[i..self.end]) else {
                    return i;
                };
                let mut j = i + nl + 1;
                while j < self.end && matches!(t[j], b' ' | b'\t' | b'-' | b'\r' | b'\n') {
                    if t[j] == b'-' && !matches!(t.get(j + 1), Some(b' ')) {
                        break;
                    }
                    j += 1;
                }
                j
            }
            _ => i,
        }
    }
}

/// A key as it would be written (numbers and booleans as text).
fn key_text(k: &Value) -> Option<String> {
    match k {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Whether `at` starts a key: only indentation and sequence dashes stand
/// before it on its line, or it follows `{` or `,` (flow style, one-line
/// JSON), with at most one opening quote; returns the quote (or 0).
fn line_prefix_ok(text: &[u8], at: usize) -> Option<u8> {
    let line_start = memchr::memrchr(b'\n', &text[..at]).map_or(0, |i| i + 1);
    let prefix = &text[line_start..at];
    let (body, quote) = match prefix.last() {
        Some(&q @ (b'"' | b'\'')) => (&prefix[..prefix.len() - 1], q),
        _ => (prefix, 0),
    };
    let trimmed = body.trim_ascii_end();
    let indentation = trimmed.iter().all(|b| matches!(b, b' ' | b'\t' | b'-'))
        && (trimmed.is_empty() || body.len() > trimmed.len());
    let flow = matches!(trimmed.last(), Some(b'{' | b','));
    (indentation || flow).then_some(quote)
}

/// After a key ending at `i`: its closing quote, blanks and a colon that
/// ends the key (followed by a blank or line end, or anything after a
/// quoted key); returns the offset past the colon.
fn colon_after(text: &[u8], mut i: usize, end: usize, quote: u8) -> Option<usize> {
    if quote != 0 {
        if text.get(i) != Some(&quote) {
            return None;
        }
        i += 1;
    }
    while i < end && matches!(text[i], b' ' | b'\t') {
        i += 1;
    }
    if text.get(i) != Some(&b':') {
        return None;
    }
    let next = text.get(i + 1).copied();
    if quote != 0 || matches!(next, None | Some(b' ' | b'\t' | b'\r' | b'\n')) {
        Some(i + 1)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn positions_of(text: &str, path: &[&str]) -> Option<Pos> {
        let v: Value = serde_norway::from_str(text).expect("valid");
        let p = locate(
            text.as_bytes(),
            0..text.len(),
            &v,
            &mut LineCounter::default(),
        );
        let mut cur = &v;
        for k in path {
            cur = match k.parse::<usize>() {
                Ok(i) => cur.get(i)?,
                Err(_) => cur.get(*k)?,
            };
        }
        p.of(cur).map(|(pos, _)| pos)
    }

    #[test]
    fn yaml_keys_are_found_in_order() {
        let text = "apiVersion: v1\nitems:\n- data:\n    password: abc\n  metadata:\n    name: one\n- data:\n    password: \"def\"\n";
        assert_eq!(
            positions_of(text, &["items", "0", "data", "password"]),
            Some(Pos {
                line: 4,
                column: 15
            })
        );
        assert_eq!(
            positions_of(text, &["items", "1", "data", "password"]),
            Some(Pos {
                line: 8,
                column: 16
            })
        );
    }

    #[test]
    fn json_keys_and_block_scalars() {
        let json =
            "{\n  \"metadata\": {\"x\": 1},\n  \"data\": {\n    \"token\": \"dG9r\"\n  }\n}\n";
        assert_eq!(
            positions_of(json, &["data", "token"]),
            Some(Pos {
                line: 4,
                column: 15
            })
        );
        let block = "data:\n  key.pem: |\n    -----BEGIN\n";
        assert_eq!(
            positions_of(block, &["data", "key.pem"]),
            Some(Pos { line: 3, column: 5 })
        );
    }

    #[test]
    fn flow_style_keys_on_one_line() {
        let json = "{\n  \"data\": {\"token\": \"dG9r\", \"b\": \"x\"},\n  \"note\": \"{\\\"b\\\": 1}\"\n}\n";
        assert_eq!(
            positions_of(json, &["data", "b"]),
            Some(Pos {
                line: 2,
                column: 35
            })
        );
    }

    #[test]
    fn document_ranges() {
        let text = b"a: 1\n---\nb: 2\n--- \nc: 3\n----x: 4\n";
        let docs = documents(text);
        assert_eq!(docs.len(), 3);
        assert_eq!(&text[docs[1].clone()], b"---\nb: 2\n");
    }
}
