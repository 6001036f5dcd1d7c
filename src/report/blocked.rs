//! The short message a pre-commit hook prints when it blocks a commit:
//! where, which provider, the fingerprint to ignore a false positive with,
//! and that a pushed secret is compromised. Never the value.

use std::io::{self, Write};

use super::Report;

/// Writes the message for a report of staged changes with findings.
pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let n = report
        .exposures
        .iter()
        .filter(|e| !e.suppression.is_suppressed())
        .count();
    writeln!(
        out,
        "leakhound: commit blocked: {n} secret{} in the staged changes",
        if n == 1 { "" } else { "s" }
    )?;
    for f in report
        .findings
        .iter()
        .filter(|f| !f.suppression.is_suppressed())
    {
        writeln!(
            out,
            "  {}:{}:{}  {} ({})  {}  fingerprint {}",
            f.location.origin.path(),
            f.location.line,
            f.location.column,
            f.provider,
            f.rule.id,
            f.redacted,
            f.fingerprint
        )?;
    }
    writeln!(
        out,
        "Remove the secret from the staged files (git restore --staged FILE), load it from the environment or a secret store, and commit again."
    )?;
    writeln!(
        out,
        "A false positive? Add a line `FINGERPRINT  reason` to .leakhoundignore (the reason is required)."
    )?;
    writeln!(
        out,
        "If this secret was ever pushed or shared, it is compromised: revoke and rotate it, do not just delete it."
    )
}
