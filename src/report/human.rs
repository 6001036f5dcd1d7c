//! `--format human`: one block per exposure (distinct secret): provider,
//! rule, severity, redacted preview and fingerprint once, then each copy on
//! its own line, the owner and the ticket. Suppressed exposures are only
//! counted. Safe for public CI logs (redacted previews, no file contents,
//! no raw bytes).

use std::collections::{BTreeSet, HashMap};
use std::io::Write;

use super::{Exposure, Finding, Report};
use crate::source::Origin;

pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub fn write(report: &Report, style: &Style, out: &mut dyn Write) -> std::io::Result<()> {
    let mut copies: HashMap<&str, Vec<&Finding>> = HashMap::new();
    for f in &report.findings {
        if let Some(id) = &f.exposure {
            copies.entry(id.as_str()).or_default().push(f);
        }
    }
    let shown: Vec<&Exposure> = report
        .exposures
        .iter()
        .filter(|e| !e.suppression.is_suppressed())
        .collect();
    for (i, e) in shown.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        exposure(
            e,
            copies.get(e.id.as_str()).map_or(&[][..], Vec::as_slice),
            style,
            out,
        )?;
    }
    if !shown.is_empty() {
        writeln!(out)?;
    }

    let live: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| !f.suppression.is_suppressed())
        .collect();
    // A file is a path, whatever commit, variable or object in it.
    let files: BTreeSet<&str> = live.iter().map(|f| f.location.origin.path()).collect();
    let s = &report.stats;
    let what = match shown.len() {
        0 => "no exposures".to_string(),
        1 => "1 exposure (distinct secret, compromised: revoke and rotate)".to_string(),
        n => format!("{n} exposures (distinct secrets, each compromised: revoke and rotate)"),
    };
    let headline = format!(
        "{what}, {} in {}",
        plural(live.len(), "finding", "findings"),
        plural(files.len(), "file", "files"),
    );
    let code = if shown.is_empty() { "32" } else { "1;33" };
    writeln!(out, "{}", style.paint(code, &headline))?;
    let suppressed = report.exposures.len() - shown.len();
    if suppressed > 0 {
        writeln!(
            out,
            "{} (see --format json)",
            plural(suppressed, "suppressed exposure", "suppressed exposures")
        )?;
    }
    let summary = format!(
        "scanned {} in {} blobs in {:.2}s{}{}",
        human_bytes(s.bytes),
        s.blobs,
        s.seconds,
        if s.skipped > 0 {
            format!(", {} skipped", s.skipped)
        } else {
            String::new()
        },
        if s.errors > 0 {
            format!(", {} unreadable", s.errors)
        } else {
            String::new()
        },
    );
    writeln!(out, "{}", style.paint("2", &summary))
}

/// One exposure's block.
fn exposure(
    e: &Exposure,
    copies: &[&Finding],
    style: &Style,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    writeln!(
        out,
        "{} {} {} {} severity {}",
        style.paint("1", &e.id),
        style.paint("1", &printable(&e.provider)),
        style.paint("1;31", &printable(&e.rule.name)),
        style.paint("2", &format!("[{}]", e.rule.id)),
        e.severity.as_str(),
    )?;
    writeln!(
        out,
        "  {}  {}",
        printable(&e.redacted),
        style.paint("2", &format!("fp:{}", e.fingerprint)),
    )?;
    for f in copies {
        let mut line = format!(
            "    {} {}:{}",
            printable(&f.location.origin.to_string()),
            f.location.line,
            f.location.column
        );
        // The other half of a paired credential, under its own rule.
        if f.rule.id != e.rule.id {
            line.push_str(&format!(" [{}] {}", f.rule.id, printable(&f.redacted)));
        }
        if let Some(secret) = &f.secret {
            line.push_str(&format!(" {}", printable(secret)));
        }
        if let Some(s) = f.suppression.get() {
            line.push_str(&format!(" (suppressed: {})", printable(&s.reason)));
        }
        writeln!(out, "{line}")?;
        if let Some(detail) = detail(&f.location.origin) {
            writeln!(out, "      {}", style.paint("2", &printable(&detail)))?;
        }
    }
    writeln!(
        out,
        "  owner: {} ({})",
        printable(&e.owner),
        printable(&e.owner_rule)
    )?;
    match &e.ticket {
        Some(path) => writeln!(out, "  ticket: {}", printable(path)),
        None => writeln!(
            out,
            "  ticket: {} {}",
            e.id,
            style.paint("2", "(not written; --tickets DIR writes it)")
        ),
    }
}

/// Who introduced a git finding, and where else its blob appears.
fn detail(origin: &Origin) -> Option<String> {
    if let Origin::GitUnreachableBlob(b) = origin {
        // The full id, to look at it (`git cat-file -p ID`).
        return Some(format!("blob {} (no commit references it)", b.blob));
    }
    let c = origin.commit()?;
    let reach = if c.unreachable { " (unreachable)" } else { "" };
    let mut line = format!(
        "commit {}{reach} by {} <{}> on {}: {}",
        c.commit, c.author, c.email, c.date, c.summary
    );
    if let Origin::Git { occurrences, .. } = origin {
        if *occurrences > 1 {
            line.push_str(&format!(" (blob added or changed {occurrences} times)"));
        }
    }
    Some(line)
}

/// Paths and values may hold control characters; never let them drive the
/// terminal.
fn printable(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}
