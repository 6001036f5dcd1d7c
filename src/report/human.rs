//! `--format human`: findings grouped by file, one line each, safe for
//! public CI logs (redacted previews, no file contents, no raw bytes).

use std::io::Write;

use super::Report;

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
    let mut current: Option<&str> = None;
    let mut files = 0;
    for f in &report.findings {
        let path = f.location.origin.path();
        if current != Some(path) {
            if current.is_some() {
                writeln!(out)?;
            }
            writeln!(out, "{}", style.paint("1;4", &printable(path)))?;
            current = Some(path);
            files += 1;
        }
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
    }
    if !report.findings.is_empty() {
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
