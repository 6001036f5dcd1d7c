//! Findings and the report writers. Writers take a finished [`Report`] and
//! never see raw secrets unless a finding carries one (`--show-secrets`).

pub mod exposure;
pub mod finding;
pub mod human;
pub mod json;
pub mod jsonl;
pub mod owners;
pub mod sarif;
pub mod ticket;

use serde::Serialize;

pub use exposure::Exposure;
pub use finding::{Finding, Location, RuleRef};

#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    /// Bytes scanned.
    pub bytes: u64,
    /// Blobs (files, objects) scanned.
    pub blobs: u64,
    pub seconds: f64,
    /// Inputs deliberately not scanned (too large, not regular files).
    pub skipped: u64,
    /// Inputs that could not be read.
    pub errors: u64,
}

/// Everything one run produced, ready for a writer.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub version: u32,
    pub findings: Vec<Finding>,
    /// One per distinct secret; findings point at theirs by `exposure`.
    pub exposures: Vec<Exposure>,
    pub stats: Stats,
}

impl Report {
    pub fn new(mut findings: Vec<Finding>, stats: Stats) -> Self {
        findings.sort_by(|a, b| {
            (
                a.location.origin.path(),
                a.location.line,
                a.location.column,
                &a.rule.id,
            )
                .cmp(&(
                    b.location.origin.path(),
                    b.location.line,
                    b.location.column,
                    &b.rule.id,
                ))
        });
        let exposures = exposure::group(&mut findings);
        Report {
            version: 1,
            findings,
            exposures,
            stats,
        }
    }
}
