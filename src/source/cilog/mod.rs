//! The CI log source (`scan ci-log`): files, directories, stdin and GitHub
//! Actions log archives. Each log is normalised (escapes, prefixes,
//! progress rewrites removed) and scanned step by step; findings are mapped
//! back to the original line and column. `NAME=VALUE` lines (xtrace
//! exports, env dumps) go through the worker as named values, and encoded
//! copies (base64, %-encoding) are decoded and scanned too.

mod archive;
mod decode;
pub mod normalize;
mod steps;

use std::ops::Range;
use std::path::PathBuf;

use super::env::parse_assignment;
use super::input::{self, InputError};
use super::{NamedValue, Origin, Sink, ValueKind, Worker};

#[derive(Debug, Clone)]
pub struct CiLogOptions {
    /// Logs, directories of logs, archives, `-` for stdin.
    pub paths: Vec<PathBuf>,
    pub max_file_size: u64,
}

pub fn scan(opts: &CiLogOptions, sink: &dyn Sink) -> Result<(), InputError> {
    let mut worker = sink.worker();
    input::each(&opts.paths, opts.max_file_size, sink, &mut |name, bytes| {
        if archive::is_zip(bytes) {
            archive::entries(name, bytes, opts.max_file_size, sink, &mut |entry, text| {
                let path = format!("{name}!{entry}");
                scan_log(worker.as_mut(), &path, steps::from_entry(entry), text);
            });
        } else {
            scan_log(worker.as_mut(), name, None, bytes);
        }
    })?;
    Ok(())
}

/// Scans one log; `step` is the step its container names (an archive
/// entry), which wins over the steps the log's own markers name.
fn scan_log(worker: &mut dyn Worker, path: &str, step: Option<String>, raw: &[u8]) {
    let mut log = normalize::normalise(raw);
    let ranges = match step {
        Some(step) => vec![(0, log.lines(), Some(step))],
        None => steps::ranges(log.lines(), &log.marks),
    };
    for (start, end, step) in ranges {
        let origin = Origin::CiLog {
            path: path.to_string(),
            step,
            started: log.first_stamp(start, end).map(str::to_string),
        };
        let mut decoded = decode::Decoded::default();
        let mut assignments = Vec::new();
        for i in start..end {
            let line = log.line(i);
            decoded.add_line(i, line);
            if let Some(a) = assignment(line) {
                assignments.push((i, a));
            }
        }
        decoded.finish();
        for (i, a) in &assignments {
            let (line, column) = log.original(*i as u32 + 1, a.raw.start as u32 + 1);
            worker.value(
                &origin,
                &NamedValue {
                    name: &a.name,
                    value: &a.value,
                    kind: ValueKind::Named,
                    line,
                    column,
                    verbatim: a.verbatim,
                },
            );
        }
        // Values were scanned as values: blank them (same length, so
        // columns hold) rather than report them twice; the rest of the
        // line (`+ TOKEN=… curl -u …`) is still scanned as text.
        for (i, a) in &assignments {
            let s = log.line_starts[*i];
            log.text[s + a.raw.start..s + a.raw.end].fill(b' ');
        }
        let first = log.line_starts[start];
        let last = log.line_starts.get(end).copied().unwrap_or(log.text.len());
        let offset = start as u32;
        worker.blob_mapped(&origin, &log.text[first..last], &|l, c| {
            log.original(l + offset, c)
        });
        if !decoded.text.is_empty() {
            worker.blob_mapped(&origin, &decoded.text, &|l, _| match decoded
                .from
                .get((l as usize).saturating_sub(1))
            {
                Some(&(i, col)) => log.original(i as u32 + 1, col + 1),
                None => (start as u32 + 1, 1),
            });
        }
    }
}

/// A `NAME=VALUE` at the start of a log line.
struct Assignment {
    name: String,
    value: Vec<u8>,
    /// The value's bytes in the line (inside quotes).
    raw: Range<usize>,
    verbatim: bool,
}

/// The assignment a (normalised) log line starts with: an `env` dump line,
/// or one shell traced (`+ export A=…`, `++ A=…`) or GitLab echoed (`$ …`).
fn assignment(line: &[u8]) -> Option<Assignment> {
    let traced = if line.starts_with(b"$ ") {
        2
    } else {
        let plus = line.iter().take_while(|&&b| b == b'+').count();
        if plus > 0 && line.get(plus) != Some(&b' ') {
            return None; // `+line` of a diff, not a trace
        }
        plus
    };
    let a = parse_assignment(line, traced, line.len(), false)?;
    if matches!(line.get(a.value_start), Some(b'"' | b'\'')) {
        // A quote left open: the value goes on past this line (a key
        // block); the text rules see it whole.
        return None;
    }
    let quoted = a.value_start > 0 && matches!(line[a.value_start - 1], b'"' | b'\'');
    let mut value = a.value.into_owned();
    let raw = if quoted {
        a.value_start..a.end
    } else {
        // In a traced command an unquoted word ends at a blank
        // (`+ TOKEN=abc curl …`); an `env` dump value runs to the end.
        if traced > 0 {
            if let Some(blank) = value.iter().position(u8::is_ascii_whitespace) {
                value.truncate(blank);
            }
        }
        a.value_start..a.value_start + value.len()
    };
    Some(Assignment {
        name: String::from_utf8_lossy(&line[a.name]).into_owned(),
        value,
        raw,
        verbatim: a.verbatim,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(line: &str) -> Option<(String, String, Range<usize>)> {
        assignment(line.as_bytes()).map(|a| {
            (
                a.name,
                String::from_utf8_lossy(&a.value).into_owned(),
                a.raw,
            )
        })
    }

    #[test]
    fn traced_and_dumped_assignments() {
        assert_eq!(
            parts("+ TOKEN=abc123 curl -u u:p https://h"),
            Some(("TOKEN".into(), "abc123".into(), 8..14))
        );
        assert_eq!(
            parts("++ export A='x y'"),
            Some(("A".into(), "x y".into(), 13..16))
        );
        assert_eq!(
            parts("LESSOPEN=| /usr/bin/lesspipe %s"),
            Some(("LESSOPEN".into(), "| /usr/bin/lesspipe %s".into(), 9..31))
        );
        assert_eq!(
            parts("+ export KEY=\"-----BEGIN RSA PRIVATE KEY-----"),
            None
        );
        assert_eq!(parts("+API_TOKEN=abc"), None);
        assert_eq!(parts("Compiling foo v1.0"), None);
    }
}
