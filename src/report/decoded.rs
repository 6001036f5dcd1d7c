//! Post-passes over findings from decoded objects (`source::decode`).

use std::collections::{BTreeSet, HashMap};

use super::Finding;
use crate::source::Origin;

/// A value found both in the enclosing text and by a decoder (a Secret's
/// `stringData` line, a token in a rendered manifest, a base64 `data`
/// value a keyword rule matched as text) is one copy: keep the decoded
/// finding, which names the object and key. A finding at an enclosing
/// origin (the file, the manifest text) is dropped when a decoded one sits on the same line and either
/// has the same fingerprint, starts at the same column (the encoded form of
/// the same value), or the text finding is a generic keyword match (on a
/// line the decoder read, that is the decoded value seen as text).
pub fn prefer_decoded(findings: &mut Vec<Finding>) {
    let mut decoded: HashMap<(Origin, u32), Vec<(u32, String)>> = HashMap::new();
    for f in findings.iter() {
        // Every enclosing origin: the manifest text, the file around it.
        let mut within = f.location.origin.within();
        while let Some(w) = within {
            decoded
                .entry((w.clone(), f.location.line))
                .or_default()
                .push((f.location.column, f.fingerprint.clone()));
            within = w.within();
        }
    }
    if decoded.is_empty() {
        return;
    }
    findings.retain(|f| {
        let key = (f.location.origin.clone(), f.location.line);
        let Some(here) = decoded.get(&key) else {
            return true;
        };
        let generic = f.provider.eq_ignore_ascii_case("generic");
        !(generic
            || here
                .iter()
                .any(|(column, fp)| *column == f.location.column || *fp == f.fingerprint))
    });
}

/// Helm keeps every revision of a release: the same secret at the same
/// field of several revisions is one finding, at the earliest revision,
/// with `revisions` listing them all as ranges (`1-3,5`), so a value gone
/// from later revisions shows when it was rotated.
pub fn helm_revisions(findings: &mut Vec<Finding>) {
    // (origin without revision, rule, fingerprint) -> (kept, revisions)
    let mut groups: HashMap<(Origin, String, String), (usize, BTreeSet<u32>)> = HashMap::new();
    let mut drop = vec![false; findings.len()];
    for i in 0..findings.len() {
        let Some(rev) = revision(&findings[i].location.origin) else {
            continue;
        };
        let mut general = findings[i].location.origin.clone();
        forget_revision(&mut general);
        let key = (
            general,
            findings[i].rule.id.clone(),
            findings[i].fingerprint.clone(),
        );
        match groups.get_mut(&key) {
            None => {
                groups.insert(key, (i, BTreeSet::from([rev])));
            }
            Some((kept, revs)) => {
                revs.insert(rev);
                let kept_rev = revision(&findings[*kept].location.origin).unwrap_or(u32::MAX);
                if rev < kept_rev {
                    drop[*kept] = true;
                    *kept = i;
                } else {
                    drop[i] = true;
                }
            }
        }
    }
    for (kept, revs) in groups.into_values() {
        set_revisions(&mut findings[kept].location.origin, &ranges(&revs));
    }
    let mut flags = drop.iter();
    findings.retain(|_| !*flags.next().expect("one flag per finding"));
}

/// The revision of the Helm release an origin is in, if any.
fn revision(origin: &Origin) -> Option<u32> {
    match origin {
        Origin::HelmRelease { revision, .. } => Some(*revision),
        other => revision(other.within()?),
    }
}

fn forget_revision(origin: &mut Origin) {
    match origin {
        Origin::HelmRelease {
            revision,
            revisions,
            status,
            ..
        } => {
            *revision = 0;
            revisions.clear();
            status.clear();
        }
        Origin::K8s { within, .. } => forget_revision(within),
        _ => {}
    }
}

fn set_revisions(origin: &mut Origin, list: &str) {
    match origin {
        Origin::HelmRelease { revisions, .. } => *revisions = list.to_string(),
        Origin::K8s { within, .. } => set_revisions(within, list),
        _ => {}
    }
}

/// `1-3,5` for {1, 2, 3, 5}.
fn ranges(revs: &BTreeSet<u32>) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut iter = revs.iter().copied().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        while iter.peek() == Some(&(end + 1)) {
            end += 1;
            iter.next();
        }
        out.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
    }
    out.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revision_ranges() {
        assert_eq!(ranges(&BTreeSet::from([1, 2, 3, 5, 7, 8])), "1-3,5,7-8");
        assert_eq!(ranges(&BTreeSet::from([4])), "4");
    }
}
