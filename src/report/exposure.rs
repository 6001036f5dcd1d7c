//! Exposures: one per distinct secret in a run. Every finding of that
//! secret (and of its pair, for two-part credentials) is a copy of it.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::suppress::Suppressed;
use super::{Finding, Location, RuleRef};
use crate::engine::Confidence;

/// One leaked secret and every place it was seen. Never the raw value.
#[derive(Debug, Clone, Serialize)]
pub struct Exposure {
    /// `LH-` and the first 12 hex digits of the SHA-256 of the sorted
    /// fingerprints: stable across runs and sources.
    pub id: String,
    /// The main secret's fingerprint.
    pub fingerprint: String,
    /// Every fingerprint in the exposure (two for a paired credential).
    pub fingerprints: Vec<String>,
    pub rule: RuleRef,
    pub provider: String,
    /// From the deciding rule's confidence.
    pub severity: Confidence,
    /// Redacted preview of the main secret.
    pub redacted: String,
    pub copies: Vec<Location>,
    /// Earliest and latest commit date among the copies, when known.
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub owner: String,
    /// Which owner rule decided (`owners.yaml`, `CODEOWNERS`, `commit author`, `default`).
    pub owner_rule: String,
    /// Path of the ticket written for it (`--tickets`).
    pub ticket: Option<String>,
    /// `"suppressed"` and, when set, `"suppression": {kind, reason}`:
    /// named by an ignore entry or the baseline, or every copy allowed inline.
    #[serde(flatten)]
    pub suppression: Suppressed,
}

/// The exposure id for a set of fingerprints.
pub fn exposure_id<'a>(fingerprints: impl IntoIterator<Item = &'a str>) -> String {
    let set: BTreeSet<&str> = fingerprints.into_iter().collect();
    let joined = set.into_iter().collect::<Vec<_>>().join("+");
    let digest = Sha256::digest(joined.as_bytes());
    let mut id = String::from("LH-");
    for b in &digest[..6] {
        id.push_str(&format!("{b:02x}"));
    }
    id
}

/// Groups `findings` into exposures (in order of first appearance) and
/// sets each finding's `exposure`.
pub fn group(findings: &mut [Finding]) -> Vec<Exposure> {
    // Union fingerprints linked by `paired_with`.
    let mut parent: HashMap<String, String> = HashMap::new();
    fn find(parent: &mut HashMap<String, String>, x: &str) -> String {
        let mut cur = x.to_string();
        loop {
            let p = parent.get(&cur).cloned().unwrap_or_else(|| cur.clone());
            if p == cur {
                return cur;
            }
            cur = p;
        }
    }
    for f in findings.iter() {
        parent
            .entry(f.fingerprint.clone())
            .or_insert_with(|| f.fingerprint.clone());
        if let Some(other) = &f.paired_with {
            parent.entry(other.clone()).or_insert_with(|| other.clone());
            let (a, b) = (find(&mut parent, &f.fingerprint), find(&mut parent, other));
            if a != b {
                let (lo, hi) = if a < b { (a, b) } else { (b, a) };
                parent.insert(hi, lo);
            }
        }
    }
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (i, f) in findings.iter().enumerate() {
        let root = find(&mut parent, &f.fingerprint);
        let g = *index.entry(root.clone()).or_insert_with(|| {
            groups.push((root, Vec::new()));
            groups.len() - 1
        });
        groups[g].1.push(i);
    }
    let mut exposures = Vec::with_capacity(groups.len());
    for (_, members) in groups {
        let fingerprints: BTreeSet<String> = members
            .iter()
            .map(|&i| findings[i].fingerprint.clone())
            .collect();
        let id = exposure_id(fingerprints.iter().map(String::as_str));
        // The deciding finding: highest confidence, then provider-specific,
        // then rule id, then fingerprint (deterministic).
        let main = *members
            .iter()
            .max_by(|&&a, &&b| {
                let (fa, fb) = (&findings[a], &findings[b]);
                (fa.confidence, !fa.provider.eq_ignore_ascii_case("generic"))
                    .cmp(&(fb.confidence, !fb.provider.eq_ignore_ascii_case("generic")))
                    .then_with(|| fb.rule.id.cmp(&fa.rule.id))
                    .then_with(|| fb.fingerprint.cmp(&fa.fingerprint))
            })
            .expect("groups are non-empty");
        let mut copies: Vec<Location> = Vec::new();
        let mut dates: Vec<(i64, String)> = Vec::new();
        for &i in &members {
            let loc = &findings[i].location;
            if !copies.contains(loc) {
                copies.push(loc.clone());
            }
            if let Some(date) = loc.origin.date() {
                if let Some(t) = parse_iso8601(date) {
                    dates.push((t, date.to_string()));
                }
            }
        }
        dates.sort();
        let m = &findings[main];
        exposures.push(Exposure {
            id: id.clone(),
            fingerprint: m.fingerprint.clone(),
            fingerprints: fingerprints.into_iter().collect(),
            rule: m.rule.clone(),
            provider: m.provider.clone(),
            severity: m.confidence,
            redacted: m.redacted.clone(),
            copies,
            first_seen: dates.first().map(|d| d.1.clone()),
            last_seen: dates.last().map(|d| d.1.clone()),
            owner: "unassigned".to_string(),
            owner_rule: "default".to_string(),
            ticket: None,
            suppression: Suppressed::default(),
        });
        for &i in &members {
            findings[i].exposure = Some(id.clone());
        }
    }
    exposures
}

/// Seconds since the epoch (UTC) of `YYYY-MM-DDTHH:MM:SS±HH:MM` (or `Z`),
/// so dates in different offsets compare correctly.
pub fn parse_iso8601(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> { s.get(r)?.parse().ok() };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    // Fractions of a second (`10:00:00.1234567Z`, as CI runners print) are
    // dropped.
    let z = 19
        + b[19..]
            .iter()
            .position(|&c| !(c == b'.' || c.is_ascii_digit()))?;
    let num_at = |at: usize| -> Option<i64> { s.get(at..at + 2)?.parse().ok() };
    let offset = match b[z] {
        b'Z' => 0,
        b'+' | b'-' => {
            let o = num_at(z + 1)? * 3600 + num_at(z + 4)? * 60;
            if b[z] == b'-' {
                -o
            } else {
                o
            }
        }
        _ => return None,
    };
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se - offset)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_compare_in_utc() {
        assert_eq!(parse_iso8601("1970-01-01T00:00:00+00:00"), Some(0));
        assert_eq!(
            parse_iso8601("2024-03-05T15:07:00+01:00"),
            Some(1_709_647_620)
        );
        assert_eq!(
            parse_iso8601("2000-02-28T18:30:00-05:30"),
            Some(951_782_400)
        );
        assert_eq!(parse_iso8601("nope"), None);
    }

    #[test]
    fn ids_ignore_order() {
        let a = exposure_id(["aa", "bb"]);
        assert_eq!(a, exposure_id(["bb", "aa"]));
        assert!(a.starts_with("LH-") && a.len() == 15);
    }
}

#[cfg(test)]
mod date_tests {
    use super::parse_iso8601;

    #[test]
    fn commit_dates_and_runner_timestamps_parse_to_the_same_clock() {
        let commit = parse_iso8601("2024-05-01T12:00:00+02:00").expect("offset");
        let runner = parse_iso8601("2024-05-01T10:00:00.1234567Z").expect("fraction");
        assert_eq!(commit, runner);
        assert_eq!(
            parse_iso8601("2024-05-01T10:00:00.5-01:30"),
            Some(runner + 5400)
        );
        assert_eq!(parse_iso8601("2024-05-01T10:00:00"), None);
        assert_eq!(parse_iso8601("2024-05-01T10:00:00.123"), None);
    }
}
