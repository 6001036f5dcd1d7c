//! Who must rotate a leaked secret. In order: `.leakhound/owners.yaml` in
//! the scanned root, the repository's CODEOWNERS (last matching pattern
//! wins), the author of the commit that introduced the copy, `unassigned`.
//!
//! owners.yaml entries match on the exposure (`rule`, `provider`), on a
//! copy's path (`path`, gitignore-style) and on a copy's origin as it is
//! serialized (`source`, and `match`: origin field → glob), so entries for
//! sources that come later (images, clusters, logs) need no code here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobMatcher};
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use serde::Deserialize;
use serde_json::Value;

use super::{Exposure, Report};
use crate::source::Origin;

#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct OwnersError {
    pub path: String,
    pub message: String,
}

/// `.leakhound/owners.yaml`: `owners: [{path|rule|provider|source|match, owner}]`,
/// first matching entry wins; an entry with several keys needs all of them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OwnersFile {
    owners: Vec<OwnerEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OwnerEntry {
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    rule: Option<String>,
    #[serde(default)]
    provider: Option<String>,
    /// The origin's `source` tag (`fs`, `git`, `git-staged`, ...), a glob.
    #[serde(default)]
    source: Option<String>,
    /// Origin field → glob (`{source: git, path: "infra/**"}`, `{image:
    /// "registry.example/app*"}`); one copy must match them all.
    #[serde(default, rename = "match")]
    origin: BTreeMap<String, String>,
    owner: String,
}

/// The compiled `source` and `match` globs of an entry.
struct OriginPattern {
    fields: Vec<(String, GlobMatcher)>,
}

impl OriginPattern {
    fn new(entry: &OwnerEntry) -> Result<Option<OriginPattern>, String> {
        let mut fields = Vec::new();
        for (key, glob) in entry
            .source
            .iter()
            .map(|s| ("source", s))
            .chain(entry.origin.iter().map(|(k, v)| (k.as_str(), v)))
        {
            // `*` matches any characters, `/` included (image names, URLs).
            let m = Glob::new(glob)
                .map_err(|e| format!("bad glob {glob:?} for {key}: {e}"))?
                .compile_matcher();
            fields.push((key.to_string(), m));
        }
        Ok((!fields.is_empty()).then_some(OriginPattern { fields }))
    }

    /// Whether one origin (serialized, plus its root-relative path) has
    /// every field, each matching its glob.
    fn matches(&self, origin: &Value, relative: Option<&Path>) -> bool {
        self.fields.iter().all(|(key, glob)| {
            let value = match origin.get(key) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                Some(Value::Bool(b)) => b.to_string(),
                _ => return false,
            };
            glob.is_match(&value) || (key == "path" && relative.is_some_and(|r| glob.is_match(r)))
        })
    }
}

struct Pattern {
    text: String,
    matcher: Gitignore,
}

impl Pattern {
    fn new(root: &Path, text: &str) -> Option<Pattern> {
        let mut b = GitignoreBuilder::new(root);
        b.add_line(None, text).ok()?;
        Some(Pattern {
            text: text.to_string(),
            matcher: b.build().ok()?,
        })
    }

    fn matches(&self, rel: &Path) -> bool {
        self.matcher
            .matched_path_or_any_parents(rel, false)
            .is_ignore()
    }
}

/// The owner sources of one scanned root.
#[derive(Default)]
pub struct Owners {
    root: PathBuf,
    entries: Vec<(OwnerEntry, Option<Pattern>, Option<OriginPattern>)>,
    /// CODEOWNERS file name and its `(pattern, owners)` lines, in order.
    codeowners: Option<(String, Vec<(Pattern, String)>)>,
}

impl Owners {
    /// Reads the owner files under `root` (a directory; a file's parent is used).
    pub fn load(root: &Path) -> Result<Owners, OwnersError> {
        let root = if root.is_file() {
            root.parent().unwrap_or(Path::new(".")).to_path_buf()
        } else {
            root.to_path_buf()
        };
        let mut owners = Owners {
            root: root.clone(),
            ..Owners::default()
        };
        let file = root.join(".leakhound").join("owners.yaml");
        if let Ok(text) = std::fs::read_to_string(&file) {
            let parsed: OwnersFile = serde_norway::from_str(&text).map_err(|e| OwnersError {
                path: file.display().to_string(),
                message: e.to_string(),
            })?;
            for entry in parsed.owners {
                let pattern = match &entry.path {
                    Some(p) => Some(Pattern::new(&root, p).ok_or_else(|| OwnersError {
                        path: file.display().to_string(),
                        message: format!("bad path glob {p:?}"),
                    })?),
                    None => None,
                };
                let origin = OriginPattern::new(&entry).map_err(|message| OwnersError {
                    path: file.display().to_string(),
                    message,
                })?;
                owners.entries.push((entry, pattern, origin));
            }
        }
        for name in ["CODEOWNERS", ".github/CODEOWNERS", "docs/CODEOWNERS"] {
            let Ok(text) = std::fs::read_to_string(root.join(name)) else {
                continue;
            };
            let mut lines = Vec::new();
            for line in text.lines() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let mut parts = line.split_whitespace();
                let Some(pat) = parts.next() else { continue };
                let who: Vec<&str> = parts.take_while(|p| !p.starts_with('#')).collect();
                if let Some(p) = Pattern::new(&root, pat) {
                    lines.push((p, who.join(" ")));
                }
            }
            owners.codeowners = Some((name.to_string(), lines));
            break;
        }
        Ok(owners)
    }

    /// The path of a copy relative to the scanned root (None for commit
    /// messages and unreachable blobs, which no tree names).
    fn relative(&self, origin: &Origin) -> Option<PathBuf> {
        if matches!(
            origin,
            Origin::GitCommitMessage { .. } | Origin::GitUnreachableBlob(_)
        ) {
            return None;
        }
        let p = Path::new(origin.path());
        Some(
            p.strip_prefix(&self.root)
                .map(Path::to_path_buf)
                .unwrap_or_else(|_| p.to_path_buf()),
        )
    }

    /// The owner of `e` and the rule that decided it.
    pub fn resolve(&self, e: &Exposure) -> (String, String) {
        let paths: Vec<PathBuf> = e
            .copies
            .iter()
            .filter_map(|c| self.relative(&c.origin))
            .filter(|p| !p.has_root())
            .collect();
        // Each copy's origin as serialized, for `source` and `match`.
        let origins: Vec<(Value, Option<PathBuf>)> = e
            .copies
            .iter()
            .map(|c| {
                let v = serde_json::to_value(&c.origin).unwrap_or(Value::Null);
                (v, self.relative(&c.origin).filter(|p| !p.has_root()))
            })
            .collect();
        for (entry, pattern, origin) in &self.entries {
            let rule_ok = entry.rule.as_ref().is_none_or(|r| *r == e.rule.id);
            let provider_ok = entry
                .provider
                .as_ref()
                .is_none_or(|p| p.eq_ignore_ascii_case(&e.provider));
            let path_ok = pattern
                .as_ref()
                .is_none_or(|pat| paths.iter().any(|p| pat.matches(p)));
            let origin_ok = origin.as_ref().is_none_or(|pat| {
                origins
                    .iter()
                    .any(|(v, rel)| pat.matches(v, rel.as_deref()))
            });
            if rule_ok && provider_ok && path_ok && origin_ok {
                let mut why = Vec::new();
                if let Some(p) = &entry.path {
                    why.push(format!("path {p:?}"));
                }
                if let Some(r) = &entry.rule {
                    why.push(format!("rule {r:?}"));
                }
                if let Some(p) = &entry.provider {
                    why.push(format!("provider {p:?}"));
                }
                if let Some(s) = &entry.source {
                    why.push(format!("source {s:?}"));
                }
                if !entry.origin.is_empty() {
                    let fields: Vec<String> = entry
                        .origin
                        .iter()
                        .map(|(k, v)| format!("{k}: {v:?}"))
                        .collect();
                    why.push(format!("match {{{}}}", fields.join(", ")));
                }
                return (
                    entry.owner.clone(),
                    format!(".leakhound/owners.yaml: {}", why.join(", ")),
                );
            }
        }
        if let Some((name, lines)) = &self.codeowners {
            for p in &paths {
                if let Some((pat, who)) = lines.iter().rev().find(|(pat, _)| pat.matches(p)) {
                    if !who.is_empty() {
                        return (
                            who.clone(),
                            format!("{name}: pattern {:?} matches {}", pat.text, p.display()),
                        );
                    }
                    // An owner-less line explicitly un-owns the path.
                }
            }
        }
        let introducing = e
            .copies
            .iter()
            .filter_map(|c| c.origin.commit())
            .filter(|c| !c.email.is_empty())
            .min_by_key(|c| super::exposure::parse_iso8601(&c.date).unwrap_or(i64::MAX));
        if let Some(c) = introducing {
            return (
                c.email.clone(),
                format!("author of introducing commit {}", c.short_id()),
            );
        }
        (
            "unassigned".to_string(),
            "default: no owners.yaml entry, CODEOWNERS pattern or commit author".to_string(),
        )
    }
}

/// Sets every exposure's owner in `report`.
pub fn assign(report: &mut Report, owners: &Owners) {
    for e in &mut report.exposures {
        let (owner, rule) = owners.resolve(e);
        e.owner = owner;
        e.owner_rule = rule;
    }
}
