//! Suppression that stays visible. Three ways to say "known, accepted":
//! `.leakhoundignore` entries (a fingerprint or exposure id and a
//! mandatory reason), inline `leakhound:allow` comments on a finding's
//! line, and a baseline (a previous `--format json` report). Suppressed
//! findings and exposures stay in the report, marked with their reason, so
//! nobody silences a finding without saying why and every writer can show it.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde::ser::SerializeMap as _;
use serde::{Serialize, Serializer};
use serde_json::Value;

use super::Report;
use crate::engine::Match;

/// The ignore file looked up at the scan root.
pub const IGNORE_FILE: &str = ".leakhoundignore";
/// The inline marker (ASCII case-insensitive) that suppresses findings on its line.
pub const INLINE_MARKER: &str = "leakhound:allow";
/// Fewest hex digits an ignore entry may give for a fingerprint.
pub const MIN_PREFIX: usize = 12;
/// Longest reason kept from an inline comment.
const MAX_INLINE_REASON: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SuppressionKind {
    /// An entry in `.leakhoundignore` (or `--ignore-file`).
    IgnoreFile,
    /// A `leakhound:allow` comment on the finding's line.
    Inline,
    /// The fingerprint is in the `--baseline` report.
    Baseline,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suppression {
    pub kind: SuppressionKind,
    pub reason: String,
}

/// Whether, and why, a finding or exposure is suppressed. Serializes as
/// `"suppressed": bool` plus, when suppressed, `"suppression": {kind, reason}`
/// (flattened into its finding or exposure).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Suppressed(pub Option<Suppression>);

impl Suppressed {
    pub fn is_suppressed(&self) -> bool {
        self.0.is_some()
    }

    pub fn get(&self) -> Option<&Suppression> {
        self.0.as_ref()
    }
}

impl Serialize for Suppressed {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("suppressed", &self.0.is_some())?;
        if let Some(s) = &self.0 {
            map.serialize_entry("suppression", s)?;
        }
        map.end()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SuppressError {
    /// A malformed ignore entry, named by file and 1-based line.
    #[error("{file}:{line}: {message}")]
    Entry {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    File { path: String, message: String },
}

/// What an ignore entry names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IgnoreKey {
    /// A fingerprint, or a unique prefix of one (lowercase hex).
    Fingerprint(String),
    /// An exposure id (`LH-` and 12 hex digits).
    Exposure(String),
}

impl IgnoreKey {
    fn matches(&self, exposure_id: &str, fingerprints: &[String]) -> bool {
        match self {
            IgnoreKey::Fingerprint(p) => fingerprints.iter().any(|f| f.starts_with(p.as_str())),
            IgnoreKey::Exposure(id) => id == exposure_id,
        }
    }
}

/// One line of an ignore file. Messages name it by file, line and a short
/// form of its key: someone may have pasted a secret where a fingerprint
/// belongs, so the key is never echoed whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreEntry {
    /// The ignore file as given (for messages).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// The key as written (lowercased).
    pub text: String,
    pub key: IgnoreKey,
    pub reason: String,
}

impl std::fmt::Display for IgnoreEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.short())
    }
}

impl IgnoreEntry {
    /// An exposure id whole; a fingerprint's first 12 hex digits.
    pub fn short(&self) -> String {
        match &self.key {
            IgnoreKey::Exposure(id) => id.clone(),
            IgnoreKey::Fingerprint(p) if p.len() > MIN_PREFIX => format!("{}…", &p[..MIN_PREFIX]),
            IgnoreKey::Fingerprint(p) => p.clone(),
        }
    }
}

/// Parses an ignore file: per line `KEY REASON...`, where KEY is a full
/// SHA-256 fingerprint, a unique prefix of at least 12 hex digits, or an
/// exposure id (`LH-0123456789ab`), and REASON is the rest of the line (a
/// leading `#` is dropped, so `KEY  # reason` works too). The reason is
/// mandatory. Blank lines and lines starting with `#` are skipped.
pub fn parse_ignore(file: &str, text: &str) -> Result<Vec<IgnoreEntry>, SuppressError> {
    let mut entries = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |message: String| SuppressError::Entry {
            file: file.to_string(),
            line: i + 1,
            message,
        };
        let (key_text, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let key = parse_key(key_text).map_err(bad)?;
        let reason = rest.trim().trim_start_matches('#').trim();
        if reason.is_empty() {
            return Err(bad(
                "ignore entry has no reason: write `FINGERPRINT  # why it is safe to ignore`"
                    .to_string(),
            ));
        }
        entries.push(IgnoreEntry {
            file: file.to_string(),
            line: i + 1,
            text: key_text.to_ascii_lowercase(),
            key,
            reason: reason.to_string(),
        });
    }
    Ok(entries)
}

fn parse_key(text: &str) -> Result<IgnoreKey, String> {
    if let Some(hex) = text
        .strip_prefix("LH-")
        .or_else(|| text.strip_prefix("lh-"))
    {
        if hex.len() == 12 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(IgnoreKey::Exposure(format!(
                "LH-{}",
                hex.to_ascii_lowercase()
            )));
        }
        return Err("the key is not an exposure id (LH- and 12 hex digits)".to_string());
    }
    if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(
            "the key is not a fingerprint (hex SHA-256) or an exposure id (LH-...)".to_string(),
        );
    }
    if text.len() < MIN_PREFIX || text.len() > 64 {
        return Err(format!(
            "the fingerprint has {} hex digits: give the full 64 or a prefix of at least {MIN_PREFIX}",
            text.len()
        ));
    }
    Ok(IgnoreKey::Fingerprint(text.to_ascii_lowercase()))
}

/// Reads and parses an ignore file that must exist.
pub fn load_ignore(path: &Path) -> Result<Vec<IgnoreEntry>, SuppressError> {
    let text = std::fs::read_to_string(path).map_err(|e| SuppressError::File {
        path: path.display().to_string(),
        message: format!("cannot read ignore file: {e}"),
    })?;
    parse_ignore(&path.display().to_string(), &text)
}

/// The ignore file at a scan root (a directory, or a file's directory), if any.
pub fn find_ignore(root: &Path) -> Option<PathBuf> {
    let dir = if root.is_file() {
        root.parent().unwrap_or(Path::new("."))
    } else {
        root
    };
    let path = dir.join(IGNORE_FILE);
    path.is_file().then_some(path)
}

/// The fingerprints of a previous `--format json` report.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    /// How the reason names it (the path as given).
    pub label: String,
    pub fingerprints: BTreeSet<String>,
}

/// Reads a previous JSON report: every finding's `fingerprint` and every
/// exposure's `fingerprints`, suppressed or not.
pub fn load_baseline(path: &Path) -> Result<Baseline, SuppressError> {
    let fail = |message: String| SuppressError::File {
        path: path.display().to_string(),
        message,
    };
    let text =
        std::fs::read_to_string(path).map_err(|e| fail(format!("cannot read baseline: {e}")))?;
    let v: Value = serde_json::from_str(&text)
        .map_err(|e| fail(format!("baseline is not a --format json report: {e}")))?;
    let Some(findings) = v.get("findings").and_then(Value::as_array) else {
        return Err(fail(
            "baseline is not a --format json report (no \"findings\" array)".to_string(),
        ));
    };
    let mut fingerprints: BTreeSet<String> = findings
        .iter()
        .filter_map(|f| f.get("fingerprint").and_then(Value::as_str))
        .map(str::to_string)
        .collect();
    for e in v
        .get("exposures")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let fps = e.get("fingerprints").and_then(Value::as_array);
        fingerprints.extend(
            fps.into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_string),
        );
    }
    Ok(Baseline {
        label: path.display().to_string(),
        fingerprints,
    })
}

/// Suppressions known before the scan: ignore entries and a baseline.
#[derive(Debug, Clone, Default)]
pub struct Suppressions {
    pub ignores: Vec<IgnoreEntry>,
    pub baseline: Option<Baseline>,
}

impl Suppressions {
    /// What suppresses an exposure with this id and fingerprints: the first
    /// ignore entry naming it, else the baseline.
    pub fn lookup(&self, exposure_id: &str, fingerprints: &[String]) -> Option<Suppression> {
        if let Some(entry) = self
            .ignores
            .iter()
            .find(|e| e.key.matches(exposure_id, fingerprints))
        {
            return Some(Suppression {
                kind: SuppressionKind::IgnoreFile,
                reason: entry.reason.clone(),
            });
        }
        let b = self.baseline.as_ref()?;
        fingerprints
            .iter()
            .any(|f| b.fingerprints.contains(f))
            .then(|| Suppression {
                kind: SuppressionKind::Baseline,
                reason: format!("in baseline {}", b.label),
            })
    }
}

/// Marks what `suppressions` name in `report` (every finding of a named
/// exposure, whatever inline comments say), then marks exposures all of
/// whose copies are suppressed inline, and counts both in the stats.
/// Returns the ignore entries that matched nothing. A fingerprint prefix
/// that matches more than one exposure is an error: it would silence
/// secrets nobody reviewed.
pub fn apply<'s>(
    report: &mut Report,
    suppressions: &'s Suppressions,
) -> Result<Vec<&'s IgnoreEntry>, SuppressError> {
    let mut used = vec![false; suppressions.ignores.len()];
    for (entry, used) in suppressions.ignores.iter().zip(used.iter_mut()) {
        let matched: Vec<&str> = report
            .exposures
            .iter()
            .filter(|e| entry.key.matches(&e.id, &e.fingerprints))
            .map(|e| e.id.as_str())
            .collect();
        if matched.len() > 1 {
            return Err(SuppressError::Entry {
                file: entry.file.clone(),
                line: entry.line,
                message: format!(
                    "{} matches {} exposures ({}): give more hex digits",
                    entry.short(),
                    matched.len(),
                    matched.join(", ")
                ),
            });
        }
        *used = !matched.is_empty();
    }

    let index: HashMap<String, usize> = report
        .exposures
        .iter()
        .enumerate()
        .map(|(i, e)| (e.id.clone(), i))
        .collect();
    // Per exposure: the suppression named before the scan, and whether all
    // its findings are suppressed inline (first inline reason kept).
    let named: Vec<Option<Suppression>> = report
        .exposures
        .iter()
        .map(|e| suppressions.lookup(&e.id, &e.fingerprints))
        .collect();
    let mut inline: Vec<(bool, Option<Suppression>)> = vec![(true, None); report.exposures.len()];
    for f in &mut report.findings {
        let Some(&i) = f.exposure.as_ref().and_then(|id| index.get(id)) else {
            continue;
        };
        if let Some(s) = &named[i] {
            f.suppression = Suppressed(Some(s.clone()));
        }
        match f.suppression.get() {
            Some(s) if s.kind == SuppressionKind::Inline => {
                inline[i].1.get_or_insert_with(|| s.clone());
            }
            Some(_) => {}
            None => inline[i].0 = false,
        }
    }
    for (i, e) in report.exposures.iter_mut().enumerate() {
        e.suppression = Suppressed(match (&named[i], &inline[i]) {
            (Some(s), _) => Some(s.clone()),
            (None, (true, Some(s))) => Some(s.clone()),
            _ => None,
        });
    }

    let stats = &mut report.stats;
    stats.suppressed.findings = report
        .findings
        .iter()
        .filter(|f| f.suppression.is_suppressed())
        .count() as u64;
    stats.suppressed.exposures = report
        .exposures
        .iter()
        .filter(|e| e.suppression.is_suppressed())
        .count() as u64;
    let unused: Vec<&IgnoreEntry> = suppressions
        .ignores
        .iter()
        .zip(&used)
        .filter(|(_, used)| !**used)
        .map(|(e, _)| e)
        .collect();
    stats.unused_ignores = unused.len() as u64;
    Ok(unused)
}

/// The inline suppression of match `m` in `data`: a `leakhound:allow`
/// marker anywhere on the line of the secret's first byte (or of the
/// match's start, when it begins on an earlier line). The reason is
/// `inline leakhound:allow`, then the text after the marker, with every
/// match of the blob on that line masked so no secret can end up in it.
pub fn inline(data: &[u8], m: &Match, all: &[Match]) -> Option<Suppression> {
    let from = m.whole.start.min(m.secret.start);
    let start = memchr::memrchr(b'\n', &data[..from]).map_or(0, |i| i + 1);
    let end =
        memchr::memchr(b'\n', &data[m.secret.start..]).map_or(data.len(), |i| m.secret.start + i);
    let line = &data[start..end];
    let marker = INLINE_MARKER.as_bytes();
    let at = line
        .windows(marker.len())
        .position(|w| w.eq_ignore_ascii_case(marker))?;
    let after = start + at + marker.len();
    let mut text = String::new();
    let mut pos = after;
    while pos < end {
        if let Some(hit) = all.iter().find(|o| {
            o.whole.start.min(o.secret.start) <= pos && pos < o.whole.end.max(o.secret.end)
        }) {
            text.push('…');
            pos = hit.whole.end.max(hit.secret.end);
            continue;
        }
        let b = data[pos];
        text.push(if b.is_ascii_graphic() || b == b' ' {
            b as char
        } else {
            ' '
        });
        pos += 1;
    }
    // Comment closers say nothing about why.
    let mut note = text.trim();
    for closer in ["*/", "-->", "%>", "#}", "--%>"] {
        note = note.trim_end_matches(closer).trim_end();
    }
    let note = note.trim_start_matches([':', '-', ' ']).trim();
    let mut reason = String::from("inline ");
    reason.push_str(INLINE_MARKER);
    if !note.is_empty() {
        reason.push_str(": ");
        reason.extend(note.chars().take(MAX_INLINE_REASON));
    }
    Some(Suppression {
        kind: SuppressionKind::Inline,
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignore_entries_need_a_reason() {
        let fp = "a".repeat(64);
        let text = format!(
            "# comment\n\n{fp}  # test fixture\nabcdef012345 rotated 2024-05-01\nLH-0123456789AB  vendor sample\n"
        );
        let e = parse_ignore(".leakhoundignore", &text).expect("parses");
        assert_eq!(e.len(), 3);
        assert_eq!(e[0].reason, "test fixture");
        assert_eq!(e[0].line, 3);
        assert_eq!(e[1].key, IgnoreKey::Fingerprint("abcdef012345".into()));
        assert_eq!(e[1].reason, "rotated 2024-05-01");
        assert_eq!(e[2].key, IgnoreKey::Exposure("LH-0123456789ab".into()));

        for bad in [
            format!("{fp}\n"),
            format!("{fp}   #  \n"),
            "abcdef01 short prefix\n".to_string(),
            "ghp_notafingerprint reason\n".to_string(),
            "LH-123 reason\n".to_string(),
        ] {
            let err = parse_ignore("x/.leakhoundignore", &format!("# c\n{bad}"))
                .expect_err(&bad)
                .to_string();
            assert!(err.starts_with("x/.leakhoundignore:2: "), "{err}");
        }
    }

    fn m(secret: std::ops::Range<usize>) -> Match {
        Match {
            rule: 0,
            whole: secret.clone(),
            secret,
            line: 1,
            column: 1,
            entropy: 4.0,
            confidence: crate::engine::Confidence::High,
            pair: None,
        }
    }

    #[test]
    fn inline_marker_on_the_line() {
        let data = b"a = 1\nkey = SECRETVALUE123  # leakhound:allow test fixture */\nnext\n";
        let s = data.windows(6).position(|w| w == b"SECRET").expect("pos");
        let hit = m(s..s + 14);
        let sup = inline(data, &hit, std::slice::from_ref(&hit)).expect("suppressed");
        assert_eq!(sup.kind, SuppressionKind::Inline);
        assert_eq!(sup.reason, "inline leakhound:allow: test fixture");

        // Marker before the secret: the value never reaches the reason.
        let data = b"// LEAKHOUND:ALLOW: docs sample SECRETVALUE123 end\n";
        let s = data.windows(6).position(|w| w == b"SECRET").expect("pos");
        let hit = m(s..s + 14);
        let sup = inline(data, &hit, std::slice::from_ref(&hit)).expect("suppressed");
        assert_eq!(sup.reason, "inline leakhound:allow: docs sample … end");

        // Marker on another line does nothing.
        let data = b"# leakhound:allow\nkey = SECRETVALUE123\n";
        let s = data.windows(6).position(|w| w == b"SECRET").expect("pos");
        assert!(inline(data, &m(s..s + 14), &[]).is_none());
    }
}
