//! A masked secret printed again in another form: base64 runs and
//! %-encoded strings in a log's lines are decoded (bounded) so the
//! decoded text can be scanned, each decoded line pointing at the encoded
//! text's place.

use std::sync::LazyLock;

use regex::bytes::Regex;

/// Shortest base64 run worth decoding (12 bytes of text).
const MIN_BASE64: usize = 16;
/// Longest run decoded.
const MAX_RUN: usize = 16 * 1024;
/// Decoded bytes kept per log.
const MAX_TOTAL: usize = 1 << 20;

static BASE64: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z0-9+/_-]{16,}={0,2}").expect("static regex"));
static PERCENT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"[^\s"'<>`]*%[0-9A-Fa-f]{2}[^\s"'<>`]*"#).expect("static regex"));

/// Line widths `base64` (76) and `openssl base64` / PEM (64) wrap at: a
/// value split over lines is decoded whole.
const WRAP_WIDTHS: [usize; 2] = [64, 76];

/// Decoded text, one line per decoded run, and where each of its lines
/// came from: a 0-based line of the log and a 0-based column in it.
#[derive(Default)]
pub struct Decoded {
    pub text: Vec<u8>,
    pub from: Vec<(usize, u32)>,
    /// A wrapped base64 block being gathered.
    wrapped: Option<Wrapped>,
}

struct Wrapped {
    index: usize,
    column: usize,
    width: usize,
    run: Vec<u8>,
}

impl Decoded {
    /// Adds the decodable runs in `line` (0-based `index`). Lines come in
    /// order; call [`Decoded::finish`] after the last.
    pub fn add_line(&mut self, index: usize, line: &[u8]) {
        let column = line.iter().take_while(|b| b.is_ascii_whitespace()).count();
        let body = line[column..].trim_ascii_end();
        let whole_run = is_base64(body);
        if let Some(w) = self.wrapped.as_mut() {
            if whole_run && body.len() <= w.width && w.run.len() + body.len() <= MAX_RUN {
                w.run.extend_from_slice(body);
                if body.len() < w.width || body.ends_with(b"=") {
                    self.finish();
                }
                return;
            }
            self.finish();
        }
        if whole_run && WRAP_WIDTHS.contains(&body.len()) && !body.ends_with(b"=") {
            self.wrapped = Some(Wrapped {
                index,
                column,
                width: body.len(),
                run: body.to_vec(),
            });
            return;
        }
        for m in BASE64.find_iter(line) {
            if m.len() >= MIN_BASE64 && m.len() <= MAX_RUN {
                if let Some(text) = base64(m.as_bytes()) {
                    self.push(index, m.start(), &text);
                }
            }
        }
        let percent_runs = if memchr::memchr(b'%', line).is_some() {
            line
        } else {
            b""
        };
        for m in PERCENT.find_iter(percent_runs) {
            if m.len() <= MAX_RUN {
                if let Some(text) = percent(m.as_bytes()) {
                    self.push(index, m.start(), &text);
                }
            }
        }
    }

    /// Decodes a wrapped block still being gathered.
    pub fn finish(&mut self) {
        if let Some(w) = self.wrapped.take() {
            if let Some(text) = base64(&w.run) {
                self.push(w.index, w.column, &text);
            }
        }
    }

    fn push(&mut self, index: usize, column: usize, text: &[u8]) {
        if self.text.len() + text.len() > MAX_TOTAL {
            return;
        }
        self.text.extend_from_slice(text);
        self.text.push(b'\n');
        let lines = text.iter().filter(|&&b| b == b'\n').count() + 1;
        for _ in 0..lines {
            self.from.push((index, column as u32));
        }
    }
}

/// The whole of `s` is base64 (padding only at the end).
fn is_base64(s: &[u8]) -> bool {
    let body = s
        .strip_suffix(b"==")
        .or_else(|| s.strip_suffix(b"="))
        .unwrap_or(s);
    !body.is_empty()
        && body
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_'))
}

/// Text that came out of decoding: valid UTF-8, printable.
fn readable(bytes: &[u8]) -> bool {
    bytes.len() >= 8
        && std::str::from_utf8(bytes).is_ok()
        && bytes
            .iter()
            .all(|&b| b >= 0x20 && b != 0x7f || b == b'\n' || b == b'\t' || b == b'\r')
}

/// Standard or URL-safe base64, padded or not.
fn base64(run: &[u8]) -> Option<Vec<u8>> {
    let body = run
        .strip_suffix(b"==")
        .or_else(|| run.strip_suffix(b"="))
        .unwrap_or(run);
    if body.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for &c in body {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    readable(&out).then_some(out)
}

fn percent(run: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(run.len());
    let mut i = 0;
    while i < run.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            run[i],
            run.get(i + 1).copied().and_then(hex),
            run.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    readable(&out).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_base64_and_percent_runs() {
        let mut d = Decoded::default();
        // base64("user:Zq7mR2vLp9wXk4") and a %-encoded password.
        d.add_line(4, b"echo dXNlcjpacTdtUjJ2THA5d1hrNA== | x");
        d.add_line(6, b"curl https://h/?p=Zq7%21mR2%23vLp9");
        assert_eq!(
            String::from_utf8_lossy(&d.text),
            "user:Zq7mR2vLp9wXk4\nhttps://h/?p=Zq7!mR2#vLp9\n"
        );
        assert_eq!(d.from, vec![(4, 5), (6, 5)]);
    }

    #[test]
    fn wrapped_base64_is_decoded_whole() {
        let text = b"TOKEN=xoxb-248097020991-557903249068-fEeOGXX9JroPmUJCoqGtGCpe\nA=1\n";
        let b64 = encode(text);
        assert!(
            b64.len() > 76 && b64.len() % 76 < 16,
            "wraps, with a short last line"
        );
        let mut d = Decoded::default();
        for (i, chunk) in b64.chunks(76).enumerate() {
            d.add_line(10 + i, chunk);
        }
        d.finish();
        assert_eq!(d.text, [&text[..], b"\n"].concat());
        assert!(d.from.iter().all(|&f| f == (10, 0)), "{:?}", d.from);
    }

    fn encode(bytes: &[u8]) -> Vec<u8> {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = Vec::new();
        for c in bytes.chunks(3) {
            let n = c.iter().fold(0u32, |acc, &b| acc << 8 | u32::from(b)) << (8 * (3 - c.len()));
            for i in 0..=c.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize]);
            }
        }
        while out.len() % 4 != 0 {
            out.push(b'=');
        }
        out
    }

    #[test]
    fn binary_and_hex_are_not_text() {
        let mut d = Decoded::default();
        d.add_line(0, b"commit 9fceb02d0ae598e95dc970b74767f19372d61af8");
        assert!(d.text.is_empty());
    }
}
