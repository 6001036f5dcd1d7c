//! `--format jsonl`: one JSON object per line, each with a `type`:
//!
//! - `{"type":"finding", ...}`: a finding (the same fields as in the JSON
//!   report's `findings`, without `exposure`), written as soon as the scan
//!   driver makes it. Git findings are per introducing blob, before the
//!   versions of one file are folded into one copy.
//! - `{"type":"exposure", ...}`: after the scan, one per exposure, as in
//!   the JSON report's `exposures` (owners and suppression final).
//! - `{"type":"summary", "stats": {...}}`: the last line.
//!
//! Streamed lines cannot be taken back, so suppressions known before the
//! scan (ignore entries, baseline) are applied to each finding line as it
//! is written; exposure lines are the authoritative view.

use std::io::Write;
use std::sync::Mutex;

use serde::Serialize;

use super::exposure::exposure_id;
use super::suppress::{Suppressed, Suppressions};
use super::{Finding, Report, Stats};

#[derive(Serialize)]
struct Line<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    item: &'a T,
}

#[derive(Serialize)]
struct Summary<'a> {
    stats: &'a Stats,
}

fn line<T: Serialize>(out: &mut dyn Write, kind: &'static str, item: &T) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, &Line { kind, item })?;
    out.write_all(b"\n")
}

/// The writer findings stream into while the scan runs; shared by the
/// driver's worker threads.
pub struct Stream<'a> {
    out: Mutex<Box<dyn Write + Send + 'a>>,
    suppressions: &'a Suppressions,
    /// The first write error, returned by [`Stream::finish`].
    error: Mutex<Option<std::io::Error>>,
}

impl<'a> Stream<'a> {
    pub fn new(out: Box<dyn Write + Send + 'a>, suppressions: &'a Suppressions) -> Self {
        Stream {
            out: Mutex::new(out),
            suppressions,
            error: Mutex::new(None),
        }
    }

    /// Writes one finding line now, flushed so readers see it at once.
    pub fn finding(&self, f: &Finding) {
        let mut fps = vec![f.fingerprint.clone()];
        fps.extend(f.paired_with.iter().cloned());
        let id = exposure_id(fps.iter().map(String::as_str));
        let named = self.suppressions.lookup(&id, &fps);
        let owned;
        let f = match named {
            Some(s) => {
                let mut copy = f.clone();
                copy.suppression = Suppressed(Some(s));
                owned = copy;
                &owned
            }
            None => f,
        };
        let mut out = self
            .out
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Err(e) = line(&mut **out, "finding", f).and_then(|()| out.flush()) {
            self.error
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .get_or_insert(e);
        }
    }

    /// Writes the exposure lines and the summary line of the finished report.
    pub fn finish(self, report: &Report) -> std::io::Result<()> {
        if let Some(e) = self
            .error
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
        {
            return Err(e);
        }
        let mut out = self
            .out
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        write_tail(report, &mut *out)?;
        out.flush()
    }
}

fn write_tail(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    for e in &report.exposures {
        line(out, "exposure", e)?;
    }
    line(
        out,
        "summary",
        &Summary {
            stats: &report.stats,
        },
    )
}

/// The whole report as JSONL at once (finding lines of the finished report).
pub fn write(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    for f in &report.findings {
        line(out, "finding", f)?;
    }
    write_tail(report, out)
}
