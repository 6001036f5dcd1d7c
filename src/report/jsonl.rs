//! `--format jsonl`: one finding per line (the same object as in the JSON
//! report's `findings`), then one `{"stats": ...}` line.
//!
//! Lines are written from the finished report, not as findings are found:
//! the driver scrubs secrets out of git origins' free text only once the
//! whole run is known, and a streamed line could not be taken back.

use std::io::Write;

use serde::Serialize;

use super::{Report, Stats};

#[derive(Serialize)]
struct StatsLine<'a> {
    stats: &'a Stats,
}

pub fn write(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    for f in &report.findings {
        serde_json::to_writer(&mut *out, f)?;
        out.write_all(b"\n")?;
    }
    serde_json::to_writer(
        &mut *out,
        &StatsLine {
            stats: &report.stats,
        },
    )?;
    out.write_all(b"\n")
}
