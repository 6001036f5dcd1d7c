//! `--format human`: findings grouped by file, one line each, safe for
//! public CI logs (redacted previews, no file contents, no raw bytes).

use std::io::Write;

use std::collections::HashMap;

use super::{Finding, Report};
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

pub fn write(report: &Report, style: &Style, out: &mut dyn Write) -> std::io::Result<()> {
    // Group by where the findings are (a file; a commit and path for git),
    // in the report's order of first appearance: two commits touching one
    // path stay two groups even when their lines interleave.
    let mut groups: Vec<(String, Vec<&Finding>)> = Vec::new();
    let mut group_of: HashMap<String, usize> = HashMap::new();
    for f in &report.findings {
        // A decoded value (a Secret's key) is listed under its file.
        let key = f.location.origin.root().to_string();
        let i = *group_of.entry(key.clone()).or_insert_with(|| {
            groups.push((key, Vec::new()));
            groups.len() - 1
        });
        groups[i].1.push(f);
    }
    let files = groups.len();
    for (i, (header, findings)) in groups.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        writeln!(out, "{}", style.paint("1;4", &printable(header)))?;
        if let Some(detail) = findings.first().and_then(|f| detail(&f.location.origin)) {
            writeln!(out, "  {}", style.paint("2", &printable(&detail)))?;
        }
        for f in findings {
            let shown = f
                .secret
                .as_deref()
                .map(printable)
                .unwrap_or_else(|| f.redacted.clone());
            writeln!(
                out,
                "  {:>5}:{:<4} {} {} {}  {}",
                f.location.line,
                f.location.column,
                style.paint("1;31", &f.rule.name),
                style.paint("2", &format!("[{}]", f.rule.id)),
                shown,
                style.paint("2", &format!("fp:{}", &f.fingerprint[..12])),
            )?;
            if let Some(object) = decoded_label(&f.location.origin) {
                writeln!(out, "         {}", style.paint("2", &printable(&object)))?;
            }
        }
    }
    if !report.findings.is_empty() {
        writeln!(out)?;
    }
    if !report.exposures.is_empty() {
        let n = report.exposures.len();
        writeln!(
            out,
            "{}",
            style.paint(
                "1",
                &format!(
                    "{n} exposure{} (distinct secret{}, each compromised: revoke and rotate)",
                    if n == 1 { "" } else { "s" },
                    if n == 1 { "" } else { "s" }
                )
            )
        )?;
        for e in &report.exposures {
            let copies = e.copies.len();
            writeln!(
                out,
                "  {} {} {} {} cop{}, owner {}{}",
                style.paint("1", &e.id),
                printable(&e.provider),
                printable(&e.redacted),
                copies,
                if copies == 1 { "y" } else { "ies" },
                printable(&e.owner),
                e.ticket
                    .as_deref()
                    .map(|t| format!(", ticket {}", printable(t)))
                    .unwrap_or_default(),
            )?;
        }
        writeln!(out)?;
    }
    let s = &report.stats;
    let summary = format!(
        "{} finding{} in {} file{}; scanned {} in {} blobs in {:.2}s{}{}",
        report.findings.len(),
        if report.findings.len() == 1 { "" } else { "s" },
        files,
        if files == 1 { "" } else { "s" },
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
    let code = if report.findings.is_empty() {
        "32"
    } else {
        "1;33"
    };
    writeln!(out, "{}", style.paint(code, &summary))
}

/// What a decoded value is in (`[Secret shop/db key DB_PASSWORD]`): its
/// origin's text after the file's.
fn decoded_label(origin: &Origin) -> Option<String> {
    origin.within()?;
    let full = origin.to_string();
    let root = origin.root().to_string();
    Some(
        full.strip_prefix(&root)
            .unwrap_or(&full)
            .trim_start()
            .to_string(),
    )
}

/// Who introduced a git finding, and where else its blob appears.
fn detail(origin: &Origin) -> Option<String> {
    let c = origin.commit()?;
    let mut line = format!(
        "commit {} by {} <{}> on {}: {}",
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
