//! Findings and the report writers. Writers take a finished [`Report`] and
//! never see raw secrets unless a finding carries one (`--show-secrets`).

pub mod blocked;
pub mod decoded;
pub mod exposure;
pub mod finding;
pub mod human;
pub mod json;
pub mod jsonl;
pub mod owners;
pub mod policy;
pub mod sarif;
pub mod suppress;
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
    /// Findings and exposures suppressed (ignore file, inline, baseline).
    pub suppressed: SuppressedStats,
    /// Ignore-file entries that matched nothing in this run.
    pub unused_ignores: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct SuppressedStats {
    pub findings: u64,
    pub exposures: u64,
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
        decoded::prefer_decoded(&mut findings);
        decoded::helm_revisions(&mut findings);
        collapse_file_versions(&mut findings);
        let exposures = exposure::group(&mut findings);
        Report {
            version: 1,
            findings,
            exposures,
            stats,
        }
    }
}

/// A file edited in many commits is many blobs: a secret that stays in it
/// would be found once per version. One path is one copy, so keep the
/// earliest introduction of each (secret, rule, path) and count the
/// versions in its `occurrences`.
fn collapse_file_versions(findings: &mut Vec<Finding>) {
    use crate::source::Origin;
    use std::collections::HashMap;

    let date_of = |f: &Finding| match f.location.origin.commit() {
        Some(commit) => exposure::parse_iso8601(&commit.date).unwrap_or(i64::MAX),
        None => i64::MAX,
    };
    // key -> index of the finding kept
    let mut kept: HashMap<(String, String, String), usize> = HashMap::new();
    let mut drop = vec![false; findings.len()];
    for i in 0..findings.len() {
        let origin = &findings[i].location.origin;
        let Origin::Git { path, .. } = origin.root() else {
            continue;
        };
        // A decoded value (a Secret's key in a manifest) is one copy per
        // path and object key, whatever the blob version.
        let place = if origin.within().is_some() {
            let mut decoded = origin.clone();
            decoded.set_root(&Origin::File {
                path: String::new(),
            });
            format!("{path}\0{decoded:?}")
        } else {
            path.clone()
        };
        let key = (
            findings[i].fingerprint.clone(),
            findings[i].rule.id.clone(),
            place,
        );
        match kept.get(&key).copied() {
            None => {
                kept.insert(key, i);
            }
            Some(k) => {
                let (keep, gone) = if date_of(&findings[i]) < date_of(&findings[k]) {
                    (i, k)
                } else {
                    (k, i)
                };
                let extra = match findings[gone].location.origin.root() {
                    Origin::Git { occurrences, .. } => *occurrences,
                    _ => 0,
                };
                if let Origin::Git { occurrences, .. } = findings[keep].location.origin.root_mut() {
                    *occurrences += extra;
                }
                drop[gone] = true;
                kept.insert(key, keep);
            }
        }
    }
    let mut flags = drop.iter();
    findings.retain(|_| !*flags.next().expect("one flag per finding"));
}
