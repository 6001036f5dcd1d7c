//! Shell-style `NAME=VALUE` lines: `env`/`printenv` output, `export -p` and
//! `declare -x`, `.env` files (quotes, `export ` prefix, multi-line quoted
//! values, comments), crash-report blocks, and `systemctl show`'s
//! `Environment=` lines.

use std::borrow::Cow;

use super::Var;

/// A quoted value may span lines (`.env`), but not without end.
const MAX_QUOTED: usize = 64 * 1024;

/// Every assignment in `text`, one per line (a quoted value may continue
/// on the following lines).
pub fn lines(text: &[u8]) -> Vec<Var<'_>> {
    let mut out = Vec::new();
    let mut pos = 0;
    let mut line = 1u32;
    while pos < text.len() {
        let eol = memchr::memchr(b'\n', &text[pos..]).map_or(text.len(), |i| pos + i);
        let mut next = eol + 1;
        if let Some(a) = parse(text, pos, eol, true) {
            // A quoted value that ran past its line moves the cursor on.
            next = next.max(a.end + 1);
            let column = (a.value_start - pos + 1) as u32;
            out.push(Var {
                name: String::from_utf8_lossy(&text[a.name.clone()]).into_owned(),
                value: a.value,
                line,
                column,
                verbatim: a.verbatim,
            });
        }
        line += text[pos..next.min(text.len())]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u32;
        pos = next;
    }
    out
}

/// One parsed assignment: where its name is, its value (unescaped when
/// it was quoted with escapes) and where that value starts.
pub struct Assignment<'a> {
    pub name: std::ops::Range<usize>,
    pub value: Cow<'a, [u8]>,
    /// Offset of the value's first byte (inside the quotes).
    pub value_start: usize,
    pub verbatim: bool,
    /// Offset of the last byte the assignment covers.
    pub end: usize,
}

/// The assignment on the line `text[start..eol]`, if it is one. With
/// `multiline`, a quoted value may run on past `eol`.
pub fn parse(text: &[u8], start: usize, eol: usize, multiline: bool) -> Option<Assignment<'_>> {
    let mut i = start;
    skip_blanks(text, &mut i, eol);
    if text.get(i) == Some(&b'#') {
        return None;
    }
    for prefix in [&b"export "[..], b"declare -x ", b"declare -- ", b"setenv "] {
        if text[i..eol].starts_with(prefix) {
            i += prefix.len();
            skip_blanks(text, &mut i, eol);
            break;
        }
    }
    let name_start = i;
    if !text
        .get(i)
        .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
    {
        return None;
    }
    while i < eol && (text[i].is_ascii_alphanumeric() || text[i] == b'_') {
        i += 1;
    }
    let name = name_start..i;
    if text.get(i) != Some(&b'=') || i >= eol {
        return None;
    }
    i += 1;
    let limit = if multiline {
        text.len().min(i + MAX_QUOTED)
    } else {
        eol
    };
    match text.get(i) {
        Some(&q @ (b'"' | b'\'')) if i < eol => {
            if let Some(close) = closing_quote(text, i + 1, limit, q) {
                let inner = &text[i + 1..close];
                let escaped = q == b'"' && inner.contains(&b'\\');
                return Some(Assignment {
                    name,
                    value: if escaped {
                        Cow::Owned(unescape(inner))
                    } else {
                        Cow::Borrowed(inner)
                    },
                    value_start: i + 1,
                    verbatim: !escaped,
                    end: close,
                });
            }
        }
        Some(b'$') if text.get(i + 1) == Some(&b'\'') && i + 1 < eol => {
            // Bash's $'...' (declare -x of a value with control characters).
            if let Some(close) = closing_quote(text, i + 2, limit, b'\'') {
                return Some(Assignment {
                    name,
                    value: Cow::Owned(unescape(&text[i + 2..close])),
                    value_start: i + 2,
                    verbatim: false,
                    end: close,
                });
            }
        }
        _ => {}
    }
    let mut end = eol;
    // `.env` comments after an unquoted value.
    if let Some(c) = memchr::memmem::find(&text[i..eol], b" #") {
        end = i + c;
    }
    while end > i && text[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    Some(Assignment {
        name,
        value: Cow::Borrowed(&text[i..end]),
        value_start: i,
        verbatim: true,
        end: eol.saturating_sub(1).max(i),
    })
}

/// `systemctl show`'s `Environment=A=1 "B=two words" C=3` lines.
pub fn systemd(text: &[u8]) -> Vec<Var<'_>> {
    let mut out = Vec::new();
    for (n, (_, line)) in line_spans(text).enumerate() {
        let Some(rest) = line.strip_prefix(b"Environment=") else {
            continue;
        };
        let mut i = line.len() - rest.len();
        while i < line.len() {
            skip_blanks(line, &mut i, line.len());
            if i >= line.len() {
                break;
            }
            let (token, token_start, next) = if line[i] == b'"' {
                let close = closing_quote(line, i + 1, line.len(), b'"').unwrap_or(line.len());
                (&line[i + 1..close], i + 1, close + 1)
            } else {
                let end = memchr::memchr2(b' ', b'\t', &line[i..]).map_or(line.len(), |e| i + e);
                (&line[i..end], i, end)
            };
            // `="value"` names nothing: not a variable.
            if let Some(eq) = memchr::memchr(b'=', token).filter(|&eq| eq > 0) {
                out.push(Var {
                    name: String::from_utf8_lossy(&token[..eq]).into_owned(),
                    value: Cow::Borrowed(&token[eq + 1..]),
                    line: n as u32 + 1,
                    column: (token_start + eq + 2) as u32,
                    verbatim: true,
                });
            }
            i = next;
        }
    }
    out
}

/// Each line with its start offset (without the newline).
pub fn line_spans(text: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= text.len() {
            return None;
        }
        let eol = memchr::memchr(b'\n', &text[pos..]).map_or(text.len(), |i| pos + i);
        let start = pos;
        pos = eol + 1;
        let line = &text[start..eol];
        Some((start, line.strip_suffix(b"\r").unwrap_or(line)))
    })
}

fn skip_blanks(text: &[u8], i: &mut usize, end: usize) {
    while *i < end && (text[*i] == b' ' || text[*i] == b'\t') {
        *i += 1;
    }
}

/// The offset of the quote closing one opened before `from` (a backslash
/// escapes the next byte in double quotes), searching up to `limit`.
fn closing_quote(text: &[u8], from: usize, limit: usize, quote: u8) -> Option<usize> {
    let mut i = from;
    while i < limit {
        match text[i] {
            b'\\' if quote == b'"' => i += 2,
            b if b == quote => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// Backslash escapes as shells and `.env` loaders read them.
fn unescape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'\\' && i + 1 < s.len() {
            out.push(match s[i + 1] {
                b'n' => b'\n',
                b't' => b'\t',
                b'r' => b'\r',
                other => other,
            });
            i += 2;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(text: &str) -> Vec<(String, String, u32, u32)> {
        lines(text.as_bytes())
            .into_iter()
            .map(|v| {
                (
                    v.name,
                    String::from_utf8_lossy(&v.value).into_owned(),
                    v.line,
                    v.column,
                )
            })
            .collect()
    }

    #[test]
    fn dotenv_and_export_forms() {
        let got = vars(
            "# comment\nexport A=1\nB=\"two\nlines\"\nC='x y' \ndeclare -x D=\"q\\\"z\"\nE=v # note\nnot an assignment\n",
        );
        assert_eq!(
            got,
            vec![
                ("A".into(), "1".into(), 2, 10),
                ("B".into(), "two\nlines".into(), 3, 4),
                ("C".into(), "x y".into(), 5, 4),
                ("D".into(), "q\"z".into(), 6, 15),
                ("E".into(), "v".into(), 7, 3),
            ]
        );
    }

    #[test]
    fn systemd_environment_line() {
        let got: Vec<(String, u32)> =
            systemd(b"Id=x.service\nEnvironment=A=1 \"B=two words\" C=3\n")
                .into_iter()
                .map(|v| {
                    (
                        format!("{}={}", v.name, String::from_utf8_lossy(&v.value)),
                        v.column,
                    )
                })
                .collect();
        assert_eq!(
            got,
            vec![
                ("A=1".into(), 15),
                ("B=two words".into(), 20),
                ("C=3".into(), 33)
            ]
        );
    }
}
