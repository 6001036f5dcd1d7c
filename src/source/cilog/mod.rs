//! The CI log source (`scan ci-log`): files, directories, stdin and GitHub
//! Actions log archives. Each log is normalised (escapes, prefixes,
//! progress rewrites removed) and scanned step by step; findings are mapped
//! back to the original line and column. `NAME=VALUE` lines (xtrace
//! exports, env dumps) go through the worker as named values, and encoded
//! copies (base64, %-encoding) are decoded and scanned too.

mod archive;
mod decode;
mod normalize;
mod steps;

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
        };
        let mut decoded = decode::Decoded::default();
        let mut assignments = Vec::new();
        for i in start..end {
            let line = log.line(i);
            decoded.add_line(i, line);
            // xtrace (`+ `, `++ `) and GitLab's echoed commands (`$ `).
            let skip = if line.starts_with(b"$ ") {
                2
            } else {
                line.iter().take_while(|&&b| b == b'+').count()
            };
            if skip > 0 && line.get(skip) != Some(&b' ') && !line.starts_with(b"$ ") {
                continue;
            }
            if let Some(a) = parse_assignment(line, skip, line.len(), false) {
                assignments.push((
                    i,
                    a.name.clone(),
                    a.value.into_owned(),
                    a.value_start,
                    a.verbatim,
                ));
            }
        }
        decoded.finish();
        for (i, name, value, value_start, verbatim) in &assignments {
            let (line, column) = log.original(*i as u32 + 1, *value_start as u32 + 1);
            let name = String::from_utf8_lossy(&log.line(*i)[name.clone()]).into_owned();
            worker.value(
                &origin,
                &NamedValue {
                    name: &name,
                    value,
                    kind: ValueKind::Named,
                    line,
                    column,
                    verbatim: *verbatim,
                },
            );
        }
        // Assignment lines were scanned as values: blank them (same
        // length, so columns hold) rather than report them twice.
        for (i, ..) in &assignments {
            let s = log.line_starts[*i];
            let len = log.line(*i).len();
            log.text[s..s + len].fill(b' ');
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
