//! A CI log as the reader saw it: ANSI/VT100 escapes, timestamp and
//! runner prefixes, GitLab section markers and `\r` progress rewrites
//! removed, one output line per input line, with a column map back to the
//! original bytes so findings point at the file as it is.

use std::sync::LazyLock;

use regex::bytes::Regex;

/// What a line says about the log's structure (steps, sections).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mark {
    /// GitHub Actions `##[group]TITLE`.
    Group(String),
    /// GitLab `section_start:TS:NAME`.
    SectionStart(String),
    /// GitLab `section_end:TS:NAME`.
    SectionEnd,
    /// Jenkins `[Pipeline] {`, with the stage name of `{ (NAME)`.
    PipelineOpen(Option<String>),
    /// Jenkins `[Pipeline] }`.
    PipelineClose,
}

pub struct Normalised {
    /// The cleaned text; line `i` (0-based) is the original's line `i + 1`.
    pub text: Vec<u8>,
    /// Offset in `text` where each line starts.
    pub line_starts: Vec<usize>,
    /// Per line, the index of its first column segment in `segments`.
    segment_starts: Vec<u32>,
    /// `(output column, original column)`, 0-based: from each output
    /// column on, bytes run in step until the line's next segment.
    segments: Vec<(u32, u32)>,
    /// Structural marks, by 0-based line.
    pub marks: Vec<(usize, Mark)>,
    /// The runner's timestamp of each line that has one (0-based line,
    /// ISO-8601), in line order: when a copy was printed.
    pub stamps: Vec<(usize, String)>,
}

impl Normalised {
    /// The first timestamp among lines `start..end` (0-based).
    pub fn first_stamp(&self, start: usize, end: usize) -> Option<&str> {
        let i = self.stamps.partition_point(|(l, _)| *l < start);
        self.stamps
            .get(i)
            .filter(|(l, _)| *l < end)
            .map(|(_, s)| s.as_str())
    }
}

impl Normalised {
    pub fn lines(&self) -> usize {
        self.line_starts.len()
    }

    /// Line `i` (0-based), without its newline.
    pub fn line(&self, i: usize) -> &[u8] {
        let start = self.line_starts[i];
        // Every line ends with the newline `normalise` wrote.
        let end = self
            .line_starts
            .get(i + 1)
            .copied()
            .unwrap_or(self.text.len())
            - 1;
        &self.text[start..end]
    }

    /// The original 1-based (line, column) of the 1-based (line, column)
    /// in `text`.
    pub fn original(&self, line: u32, column: u32) -> (u32, u32) {
        let i = (line as usize).saturating_sub(1);
        let Some(&first) = self.segment_starts.get(i) else {
            return (line, column);
        };
        let end = self
            .segment_starts
            .get(i + 1)
            .map_or(self.segments.len(), |&e| e as usize);
        let segs = &self.segments[first as usize..end];
        let col = column.saturating_sub(1);
        match segs.iter().rev().find(|(out, _)| *out <= col) {
            Some(&(out, orig)) => (line, orig + (col - out) + 1),
            None => (line, column),
        }
    }
}

static SECTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"section_(start|end):\d+:([A-Za-z0-9_.\-]+)(?:\[[^\]\r\n]*\])?\r(?:\x1b\[0K)?")
        .expect("static regex")
});

/// Prefixes a runner writes before the text: GitHub Actions, GitLab
/// (`FF_TIMESTAMPS`: a timestamp, then hex flags and the stream, `00O`,
/// `01E`, `+` on a continued line) and Jenkins timestamper timestamps,
/// Jenkins elapsed time.
static PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\A(?:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z (?:[0-9a-f]{2}[OE]\+? ?)?|\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?\] |\d\d:\d\d:\d\d\.\d{3} )",
    )
    .expect("static regex")
});

/// GitHub Actions workflow commands at the start of a line.
static COMMAND: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\A##\[([a-z]+)\]").expect("static regex"));

pub fn normalise(raw: &[u8]) -> Normalised {
    let mut n = Normalised {
        text: Vec::with_capacity(raw.len()),
        line_starts: Vec::new(),
        segment_starts: Vec::new(),
        segments: Vec::new(),
        marks: Vec::new(),
        stamps: Vec::new(),
    };
    let mut out = Vec::new();
    let mut pos = Vec::new();
    let mut start = 0;
    let mut index = 0;
    while start < raw.len() {
        let eol = memchr::memchr(b'\n', &raw[start..]).map_or(raw.len(), |i| start + i);
        let mut line = &raw[start..eol];
        if let Some(l) = line.strip_suffix(b"\r") {
            line = l;
        }
        let mut stamp = None;
        let mark = clean_line(line, &mut out, &mut pos, &mut stamp);
        if let Some(stamp) = stamp {
            n.stamps.push((index, stamp));
        }
        if let Some(mark) = mark {
            n.marks.push((index, mark));
        }
        n.line_starts.push(n.text.len());
        n.segment_starts.push(n.segments.len() as u32);
        n.text.extend_from_slice(&out);
        n.text.push(b'\n');
        for (i, &p) in pos.iter().enumerate() {
            if i == 0 || pos[i - 1] + 1 != p {
                n.segments.push((i as u32, p));
            }
        }
        start = eol + 1;
        index += 1;
    }
    n
}

/// Cleans one line into `out`, with each kept byte's original column
/// (0-based) in `pos`; returns the line's structural mark.
fn clean_line(
    line: &[u8],
    out: &mut Vec<u8>,
    pos: &mut Vec<u32>,
    stamp: &mut Option<String>,
) -> Option<Mark> {
    out.clear();
    pos.clear();
    let mut mark = None;
    let mut sections = Vec::new();
    let has_section = memchr::memmem::find(line, b"section_").is_some();
    for c in SECTION.captures_iter(if has_section { line } else { b"" }) {
        let whole = c.get(0).expect("group 0 always participates");
        sections.push(whole.range());
        let name = String::from_utf8_lossy(&c[2]).into_owned();
        mark = Some(if &c[1] == b"start" {
            Mark::SectionStart(name)
        } else {
            Mark::SectionEnd
        });
    }
    // Offsets in `out` where a `\r` started a rewrite of the line.
    let mut rewrites = Vec::new();
    let mut concealed = false;
    let mut i = 0;
    let mut next_section = sections.iter().peekable();
    while i < line.len() {
        if let Some(s) = next_section.peek() {
            if s.start == i {
                i = s.end;
                next_section.next();
                continue;
            }
        }
        match line[i] {
            0x1b => {
                let (len, sgr) = escape_len(&line[i..]);
                // Jenkins hides console notes between `ESC[8m` and `ESC[0m`.
                match sgr {
                    Some(b"8") => concealed = true,
                    Some(b"0" | b"") => concealed = false,
                    _ => {}
                }
                i += len;
            }
            b'\r' => {
                rewrites.push(out.len());
                i += 1;
            }
            b if b < 0x20 && b != b'\t' => i += 1,
            b => {
                if !concealed {
                    out.push(b);
                    pos.push(i as u32);
                }
                i += 1;
            }
        }
    }
    // A progress line shows what it was last rewritten to.
    if let Some(keep) = rewrites
        .iter()
        .rev()
        .copied()
        .find(|&r| out[r..].iter().any(|b| !b.is_ascii_whitespace()))
    {
        out.drain(..keep);
        pos.drain(..keep);
    }
    loop {
        let cut = if let Some(m) = PREFIX.find(out) {
            // GitHub Actions and Jenkins timestamper prefixes carry a date.
            let text = out[..m.end()].trim_ascii();
            let text = text.strip_prefix(b"[").unwrap_or(text);
            let text = text
                .split(|&b| b == b']' || b == b' ')
                .next()
                .unwrap_or_default();
            if stamp.is_none() && text.len() >= 20 && text[4] == b'-' && text[10] == b'T' {
                *stamp = Some(String::from_utf8_lossy(text).into_owned());
            }
            m.end()
        } else if let Some(c) = out
            .starts_with(b"##[")
            .then(|| COMMAND.captures(out))
            .flatten()
        {
            let end = c.get(0).expect("group 0 always participates").end();
            let rest = String::from_utf8_lossy(&out[end..]).trim().to_string();
            match &c[1] {
                b"group" => mark = Some(Mark::Group(rest)),
                b"endgroup" => {}
                _ => {}
            }
            end
        } else if out.starts_with(b"[Pipeline] ") {
            let rest = &out[b"[Pipeline] ".len()..];
            if rest == b"}" {
                mark = Some(Mark::PipelineClose);
            } else if rest == b"{" {
                mark = Some(Mark::PipelineOpen(None));
            } else if let Some(name) = rest.strip_prefix(b"{ (").and_then(|r| r.strip_suffix(b")"))
            {
                mark = Some(Mark::PipelineOpen(Some(
                    String::from_utf8_lossy(name).into_owned(),
                )));
            }
            b"[Pipeline] ".len()
        } else {
            break;
        };
        out.drain(..cut);
        pos.drain(..cut);
    }
    mark
}

/// Length of the escape sequence at the start of `s`, and the parameters
/// of an SGR (`ESC[...m`) sequence.
fn escape_len(s: &[u8]) -> (usize, Option<&[u8]>) {
    match s.get(1) {
        Some(b'[') => {
            let mut j = 2;
            while j < s.len() && (0x20..0x40).contains(&s[j]) {
                j += 1;
            }
            if j < s.len() && (0x40..0x7f).contains(&s[j]) {
                let sgr = (s[j] == b'm').then(|| &s[2..j]);
                (j + 1, sgr)
            } else {
                (j, None)
            }
        }
        Some(b']') => {
            // OSC: up to BEL or ESC \.
            let mut j = 2;
            while j < s.len() {
                if s[j] == 0x07 {
                    return (j + 1, None);
                }
                if s[j] == 0x1b && s.get(j + 1) == Some(&b'\\') {
                    return (j + 2, None);
                }
                j += 1;
            }
            (j, None)
        }
        Some(_) => (2, None),
        None => (1, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(raw: &str) -> (String, Normalised) {
        let n = normalise(raw.as_bytes());
        (String::from_utf8_lossy(n.line(0)).into_owned(), n)
    }

    #[test]
    fn github_timestamp_and_colour() {
        let (text, n) = one("2024-05-01T10:00:00.1234567Z \x1b[36;1mexport A=1\x1b[0m\n");
        assert_eq!(text, "export A=1");
        // `A` is byte 43 (0-based) of the original line.
        assert_eq!(n.original(1, 8), (1, 44));
    }

    #[test]
    fn gitlab_section_and_progress() {
        let (text, n) = one("\x1b[0Ksection_start:1700000000:build_script[collapsed=true]\r\x1b[0K\x1b[32;1mRun build\x1b[0;m\n");
        assert_eq!(text, "Run build");
        assert_eq!(
            n.marks,
            vec![(0, Mark::SectionStart("build_script".into()))]
        );
        let (text, _) = one("Downloading 10%\rDownloading 100%\r\n");
        assert_eq!(text, "Downloading 100%");
    }

    #[test]
    fn gitlab_runner_timestamps() {
        let (text, n) = one("2024-05-01T10:00:00.123456Z 00O section_start:1714557611:deploy\r\x1b[0K\x1b[36;1mDeploy\x1b[0;m\n");
        assert_eq!(text, "Deploy");
        assert_eq!(n.marks, vec![(0, Mark::SectionStart("deploy".into()))]);
        let (text, _) = one("2024-05-01T10:00:01.000000Z 01E+ continued\n");
        assert_eq!(text, "continued");
    }

    #[test]
    fn jenkins_prefixes_and_stage() {
        let (text, n) = one("[2024-05-01T10:00:00.123Z] [Pipeline] { (Deploy)\n");
        assert_eq!(text, "{ (Deploy)");
        assert_eq!(
            n.marks,
            vec![(0, Mark::PipelineOpen(Some("Deploy".into())))]
        );
        let (text, _) = one("00:00:01.234 \x1b[8mha:////4ABC\x1b[0m+ make\n");
        assert_eq!(text, "+ make");
    }
}
