//! Who must rotate a leaked secret. In order: `.leakhound/owners.yaml` in
//! the scanned root, the repository's CODEOWNERS (last matching pattern
//! wins), the author of the commit that introduced the copy, `unassigned`.

use std::path::{Path, PathBuf};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use serde::Deserialize;

use super::{Exposure, Report};
use crate::source::Origin;

#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct OwnersError {
    pub path: String,
    pub message: String,
}

/// `.leakhound/owners.yaml`: `owners: [{path|rule|provider, owner}]`,
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
    owner: String,
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
    entries: Vec<(OwnerEntry, Option<Pattern>)>,
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
                owners.entries.push((entry, pattern));
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

    /// The path of a copy relative to the scanned root (None for commit messages).
    fn relative(&self, origin: &Origin) -> Option<PathBuf> {
        if matches!(origin, Origin::GitCommitMessage { .. }) {
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
        for (entry, pattern) in &self.entries {
            let rule_ok = entry.rule.as_ref().is_none_or(|r| *r == e.rule.id);
            let provider_ok = entry
                .provider
                .as_ref()
                .is_none_or(|p| p.eq_ignore_ascii_case(&e.provider));
            let path_ok = pattern
                .as_ref()
                .is_none_or(|pat| paths.iter().any(|p| pat.matches(p)));
            if rule_ok && provider_ok && path_ok {
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
