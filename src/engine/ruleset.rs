//! Loading rule files: the built-in set compiled into the binary and any
//! user directories, validated before the engine is built.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::rule::{AppliesTo, Rule, RuleFile};

/// The built-in rule files, `(file name, JSON text)`: build.rs converts each
/// `rules/*.yaml` to JSON, which parses faster at start-up.
pub const BUILTIN_RULE_FILES: &[(&str, &str)] =
    include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    #[error("cannot read rules from {path}", path = path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("rule {id}: {message}")]
    Invalid { id: String, message: String },
}

/// Compiled-program and lazy-DFA size limits of every rule pattern.
pub(super) const PATTERN_SIZE_LIMIT: usize = 32 << 20;
pub(super) const PATTERN_DFA_SIZE_LIMIT: usize = 16 << 20;

/// Compiles a rule pattern the way the engine runs it: over bytes with
/// Unicode classes off (`\w`, `\s`, `.` and `(?i)` are ASCII/byte-wise),
/// which keeps the lazy DFA small and fast. Secrets are ASCII.
pub fn compile_pattern(pattern: &str) -> Result<regex::bytes::Regex, regex::Error> {
    regex::bytes::RegexBuilder::new(pattern)
        .unicode(false)
        .size_limit(PATTERN_SIZE_LIMIT)
        .dfa_size_limit(PATTERN_DFA_SIZE_LIMIT)
        .build()
}

/// Parse one rule file's YAML. `file` names it in errors.
pub fn parse_rule_file(file: &str, yaml: &str) -> Result<Vec<Rule>, RuleError> {
    let parsed: RuleFile = serde_norway::from_str(yaml).map_err(|e| RuleError::Parse {
        file: file.to_string(),
        message: e.to_string(),
    })?;
    Ok(parsed.rules)
}

/// The rules shipped inside the binary.
pub fn builtin_rules() -> Result<Vec<Rule>, RuleError> {
    let mut rules = Vec::new();
    for (name, json) in BUILTIN_RULE_FILES {
        let parsed: RuleFile = serde_json::from_str(json).map_err(|e| RuleError::Parse {
            file: (*name).to_string(),
            message: e.to_string(),
        })?;
        rules.extend(parsed.rules);
    }
    Ok(rules)
}

/// Rules from a `.yaml`/`.yml` file or from every such file in a directory
/// (sorted by name, so rule order is stable).
pub fn load_rules_path(path: &Path) -> Result<Vec<Rule>, RuleError> {
    let io = |source| RuleError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    if path.is_dir() {
        for entry in std::fs::read_dir(path).map_err(io)? {
            let p = entry.map_err(io)?.path();
            if matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("yaml") | Some("yml")
            ) {
                files.push(p);
            }
        }
        files.sort();
    } else {
        files.push(path.to_path_buf());
    }
    let mut rules = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|source| RuleError::Io {
            path: f.clone(),
            source,
        })?;
        rules.extend(parse_rule_file(&f.display().to_string(), &text)?);
    }
    Ok(rules)
}

/// Checks what can be checked without running the rules: ids, keywords,
/// pattern syntax and the `secret` capture, pair references.
pub fn validate(rules: &[Rule]) -> Vec<RuleError> {
    validate_with(rules, 0)
}

/// As [`validate`], but the patterns of the first `trusted` rules are not
/// compiled (the built-in rules, compiled and checked by the test suite).
pub fn validate_with(rules: &[Rule], trusted: usize) -> Vec<RuleError> {
    let mut errors = Vec::new();
    let mut ids = HashSet::new();
    let invalid = |id: &str, message: String| RuleError::Invalid {
        id: id.to_string(),
        message,
    };
    for (i, r) in rules.iter().enumerate() {
        if !valid_id(&r.id) {
            errors.push(invalid(
                &r.id,
                "id must be dotted lowercase, e.g. `github.pat`".into(),
            ));
        }
        if !ids.insert(r.id.as_str()) {
            errors.push(invalid(&r.id, "duplicate id".into()));
        }
        if r.name.trim().is_empty() || r.provider.trim().is_empty() {
            errors.push(invalid(&r.id, "name and provider are required".into()));
        }
        if r.keywords.is_empty() && r.applies_to != AppliesTo::SecretValue {
            errors.push(invalid(&r.id, "at least one keyword is required".into()));
        }
        if r.is_value_rule() {
            for ex in r
                .examples
                .iter()
                .map(|e| e.input())
                .chain(r.negative_examples.iter().map(String::as_str))
            {
                if !ex.contains('=') {
                    errors.push(invalid(
                        &r.id,
                        format!("value rule example {ex:?} is not NAME=VALUE"),
                    ));
                }
            }
        } else if !r.demote_names.is_empty() || !r.ignore_names.is_empty() {
            errors.push(invalid(
                &r.id,
                "demote_names and ignore_names apply to value rules only".into(),
            ));
        }
        for k in &r.keywords {
            if k.len() < 3 {
                errors.push(invalid(
                    &r.id,
                    format!("keyword {k:?} is shorter than 3 bytes"),
                ));
            }
        }
        if i >= trusted {
            match compile_pattern(&r.pattern) {
                Ok(re) => {
                    if !re.capture_names().any(|n| n == Some("secret")) {
                        errors.push(invalid(
                            &r.id,
                            "pattern has no capture named `secret`".into(),
                        ));
                    }
                }
                Err(e) => errors.push(invalid(&r.id, format!("pattern does not compile: {e}"))),
            }
            for a in r.allow.iter().chain(&r.demote_names).chain(&r.ignore_names) {
                if let Err(e) = compile_pattern(a) {
                    errors.push(invalid(
                        &r.id,
                        format!("allow pattern does not compile: {e}"),
                    ));
                }
            }
        }
        if r.examples.is_empty() {
            errors.push(invalid(&r.id, "at least one example is required".into()));
        }
        if r.negative_examples.is_empty() {
            errors.push(invalid(
                &r.id,
                "at least one negative example is required".into(),
            ));
        }
    }
    for r in rules {
        for p in &r.pairs_with {
            if !ids.contains(p.as_str()) {
                errors.push(invalid(&r.id, format!("pairs_with names unknown rule {p}")));
            }
        }
    }
    errors
}

fn valid_id(id: &str) -> bool {
    let mut parts = id.split('.');
    let ok_part = |p: &str| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    };
    let first = parts.next().is_some_and(ok_part);
    let mut rest = 0;
    for p in parts {
        if !ok_part(p) {
            return false;
        }
        rest += 1;
    }
    first && rest >= 1
}
