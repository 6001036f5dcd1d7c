//! `--format sarif`: SARIF 2.1.0 for GitHub code scanning and other SARIF
//! consumers.
//!
//! One run; `tool.driver.rules` holds each rule that has a result, once,
//! with its rotation playbook as help; one result per finding that has a
//! file (fs, git blob at a path, staged blob). Findings in commit messages
//! have no file and are left out (counted in the run's properties).
//!
//! SARIF never carries a raw secret, not even with `--show-secrets`: the
//! file is made to be uploaded and shared. Results give the redacted
//! preview and the SHA-256 fingerprint only.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Component, Path, PathBuf};

use serde_json::{json, Map, Value};

use super::suppress::SuppressionKind;
use super::{Finding, Report};
use crate::engine::{Confidence, Rule};
use crate::source::{EnvHolder, Origin};

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// `tool.driver.informationUri`: the package's `repository` when
/// Cargo.toml names one.
pub const INFORMATION_URI: &str = match option_env!("CARGO_PKG_REPOSITORY") {
    Some(uri) if !uri.is_empty() => uri,
    _ => "https://github.com/leakhound/leakhound",
};
/// Key of the fingerprint in each result's `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "leakhoundFingerprint/v1";
/// The `uriBaseId` of filesystem results.
pub const SRCROOT: &str = "SRCROOT";

/// How finding paths become artifact URIs.
#[derive(Debug, Clone)]
pub enum Paths {
    /// Filesystem paths, made relative to `base` (an absolute directory,
    /// see [`fs_base`]); `cwd` resolves relative finding paths.
    Fs { base: PathBuf, cwd: PathBuf },
    /// Paths inside a repository, already relative to its root.
    Repo,
}

/// The directory filesystem results are relative to: the working directory
/// when everything scanned lies under it (`scan fs .` or `scan fs src/` at
/// a repository root, as in CI), otherwise the deepest directory holding
/// every scanned path (the scanned directory itself when there is one).
pub fn fs_base(scanned: &[PathBuf], cwd: &Path) -> PathBuf {
    let cwd = absolute(cwd, cwd);
    let scanned: Vec<PathBuf> = scanned.iter().map(|p| absolute(p, &cwd)).collect();
    if scanned.iter().all(|p| p.starts_with(&cwd)) {
        return cwd;
    }
    let mut common: Option<PathBuf> = None;
    for abs in scanned {
        let dir = if abs.is_dir() {
            abs
        } else {
            abs.parent().map(Path::to_path_buf).unwrap_or(abs)
        };
        common = Some(match common {
            None => dir,
            Some(c) => common_ancestor(&c, &dir),
        });
    }
    common.unwrap_or(cwd)
}

/// `path` made absolute against `cwd`, with `.` and `..` resolved lexically
/// (finding paths and scanned paths share their spelling, so no symlink
/// resolution is needed to relate them).
fn absolute(path: &Path, cwd: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.join(path)
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

fn common_ancestor(a: &Path, b: &Path) -> PathBuf {
    a.components()
        .zip(b.components())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x)
        .collect()
}

/// Percent-encodes what may not stand in a URI path; `/` separates.
fn uri_path(segments: &[String]) -> String {
    let mut out = String::new();
    for (i, seg) in segments.iter().enumerate() {
        if i > 0 {
            out.push('/');
        }
        for &b in seg.as_bytes() {
            if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=@".contains(&b) {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

fn segments(path: &Path) -> Vec<String> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect()
}

/// `file:` URI of an absolute directory, ending in `/`.
fn dir_uri(dir: &Path) -> String {
    let mut s = String::from("file:///");
    s.push_str(&uri_path(&segments(dir)));
    if !s.ends_with('/') {
        s.push('/');
    }
    s
}

/// The artifact location of a finding's file, or `None` when it has none.
fn artifact_location(origin: &Origin, paths: &Paths) -> Option<Value> {
    // A decoded value (a Secret's key) lives in its enclosing file.
    let origin = origin.root();
    let path = match origin {
        Origin::File { path }
        | Origin::Git { path, .. }
        | Origin::GitStaged { path }
        | Origin::CiLog { path, .. }
        | Origin::Env {
            holder: EnvHolder::Dump { path },
            ..
        } => path,
        Origin::ImageLayer(o) => &o.path,
        Origin::K8sApi { .. } => return None, // no file
        Origin::K8s { .. } | Origin::HelmRelease { .. } => return None, // not a root
        Origin::GitCommitMessage { .. }
        | Origin::GitUnreachableBlob(_)
        | Origin::ImageConfig(_)
        | Origin::Env {
            holder: EnvHolder::Process { .. },
            ..
        } => return None,
    };
    match (origin, paths) {
        (
            Origin::File { .. } | Origin::CiLog { .. } | Origin::Env { .. },
            Paths::Fs { base, cwd },
        ) => {
            let abs = absolute(Path::new(path), cwd);
            Some(match abs.strip_prefix(base) {
                Ok(rel) => json!({"uri": uri_path(&segments(rel)), "uriBaseId": SRCROOT}),
                Err(_) => json!({"uri": dir_uri(&abs).trim_end_matches('/')}),
            })
        }
        _ => {
            // Repository paths always use `/`.
            let segs: Vec<String> = path
                .split('/')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            Some(json!({"uri": uri_path(&segs)}))
        }
    }
}

fn level(c: Confidence) -> &'static str {
    match c {
        Confidence::High | Confidence::Medium => "error",
        Confidence::Low => "warning",
    }
}

/// GitHub's `security-severity`: 9.0+ critical, 7.0+ high, 4.0+ medium.
fn security_severity(c: Confidence) -> &'static str {
    match c {
        Confidence::High => "8.9",
        Confidence::Medium => "6.5",
        Confidence::Low => "3.5",
    }
}

/// `github.pat` → `GithubPat`.
fn pascal_case(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|s| !s.is_empty())
        .map(|s| {
            let mut chars = s.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase());
            first.into_iter().chain(chars).collect::<String>()
        })
        .collect()
}

const COMPROMISED: &str = "A secret found in a copy (a file, history, an image, a log) is \
compromised: removing it from the file is not enough, it must be revoked and rotated.";

fn help(rule: Option<&Rule>) -> (String, String) {
    let Some(rot) = rule.and_then(|r| r.rotation.as_ref()) else {
        let text = format!(
            "{COMPROMISED}\n\nRevoke the credential where it was issued, issue a replacement, \
update every consumer, then verify the old value is rejected."
        );
        return (text.clone(), text);
    };
    let mut text = format!("{COMPROMISED}\n\nRevoke: {}\n", rot.revoke);
    let mut md = format!("{COMPROMISED}\n\n**Revoke:** {}\n", rot.revoke);
    if !rot.steps.is_empty() {
        text.push_str("\nSteps:\n");
        md.push_str("\n**Steps:**\n\n");
        for (i, s) in rot.steps.iter().enumerate() {
            text.push_str(&format!("{}. {s}\n", i + 1));
            md.push_str(&format!("{}. {s}\n", i + 1));
        }
    }
    text.push_str(&format!("\nVerify the old value is dead: {}\n", rot.verify));
    md.push_str(&format!(
        "\n**Verify the old value is dead:**\n\n```\n{}\n```\n",
        rot.verify
    ));
    (text, md)
}

fn rule_descriptor(f: &Finding, rule: Option<&Rule>) -> Value {
    let (text, markdown) = help(rule);
    let provider = rule.map_or(f.provider.as_str(), |r| r.provider.as_str());
    let mut d = json!({
        "id": f.rule.id,
        "name": pascal_case(&f.rule.id),
        "shortDescription": {"text": f.rule.name},
        "fullDescription": {
            "text": format!("{} ({provider}) found in a copy outside its source of truth.", f.rule.name)
        },
        "help": {"text": text, "markdown": markdown},
        "defaultConfiguration": {"level": level(f.confidence)},
        "properties": {
            "tags": ["security", "secret"],
            "security-severity": security_severity(f.confidence),
            "precision": f.confidence.as_str(),
            "provider": provider,
        },
    });
    if let Some(uri) = rule.and_then(|r| r.references.first()) {
        d["helpUri"] = json!(uri);
    }
    d
}

fn result(f: &Finding, rule_index: usize, location: Value, fingerprint: String) -> Value {
    // Built only from redacted fields: never `f.secret`.
    let text = format!(
        "{} ({}) [{}]: {} (fingerprint {}). Treat it as compromised: revoke and rotate it.",
        f.rule.name,
        f.provider,
        f.rule.id,
        f.redacted,
        &f.fingerprint[..f.fingerprint.len().min(16)],
    );
    let mut r = json!({
        "ruleId": f.rule.id,
        "ruleIndex": rule_index,
        "level": level(f.confidence),
        "message": {"text": text},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": location,
                "region": {
                    "startLine": f.location.line.max(1),
                    "startColumn": f.location.column.max(1),
                },
            },
        }],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
    });
    let mut props = Map::new();
    props.insert("fingerprint".into(), json!(f.fingerprint));
    props.insert("redacted".into(), json!(f.redacted));
    props.insert(
        "source".into(),
        json!(match &f.location.origin {
            Origin::File { .. } => "fs",
            Origin::Git { .. } | Origin::GitUnreachableBlob(_) => "git",
            Origin::GitCommitMessage { .. } => "git-commit-message",
            Origin::GitStaged { .. } => "git-staged",
            Origin::CiLog { .. } => "ci-log",
            Origin::Env { .. } => "env",
            Origin::ImageLayer(_) => "image",
            Origin::ImageConfig(_) => "image-config",
            Origin::K8sApi { .. } => "k8s-api",
            Origin::K8s { .. } => "k8s",
            Origin::HelmRelease { .. } => "helm-release",
        }),
    );
    if let Some(c) = f.location.origin.commit() {
        props.insert("commit".into(), json!(c.commit));
        props.insert("author".into(), json!(c.author));
        props.insert("email".into(), json!(c.email));
        props.insert("date".into(), json!(c.date));
    }
    if let Origin::ImageLayer(o) = &f.location.origin {
        // The file alone does not say which image, layer or deletion.
        props.insert("image".into(), json!(o.image));
        props.insert("manifestDigest".into(), json!(o.manifest_digest));
        props.insert("platform".into(), json!(o.platform));
        props.insert("layerIndex".into(), json!(o.layer_index));
        props.insert("layerDigest".into(), json!(o.layer_digest));
        props.insert("deletedInLayer".into(), json!(o.deleted_in_layer));
        props.insert("overwrittenInLayer".into(), json!(o.overwritten_in_layer));
    }
    if let Some(p) = &f.paired_with {
        props.insert("pairedWith".into(), json!(p));
    }
    r["properties"] = Value::Object(props);
    if let Some(s) = f.suppression.get() {
        // SARIF 2.1.0 §3.35: inline comments live in the source; ignore
        // files and baselines are kept outside it.
        let kind = match s.kind {
            SuppressionKind::Inline => "inSource",
            SuppressionKind::IgnoreFile | SuppressionKind::Baseline => "external",
        };
        r["suppressions"] =
            json!([{"kind": kind, "status": "accepted", "justification": s.reason}]);
    }
    r
}

/// Builds the SARIF log. `rules` supplies each rule's references and
/// rotation playbook (findings carry only id and name).
pub fn log<'r>(report: &Report, rules: impl IntoIterator<Item = &'r Rule>, paths: &Paths) -> Value {
    let by_id: HashMap<&str, &Rule> = rules.into_iter().map(|r| (r.id.as_str(), r)).collect();
    // Rules with a result, sorted by id: one descriptor each.
    let mut located: Vec<(&Finding, Value)> = Vec::new();
    let mut skipped = 0u64;
    for f in &report.findings {
        match artifact_location(&f.location.origin, paths) {
            Some(loc) => located.push((f, loc)),
            None => skipped += 1,
        }
    }
    let mut index: BTreeMap<&str, &Finding> = BTreeMap::new();
    for (f, _) in &located {
        index.entry(f.rule.id.as_str()).or_insert(f);
    }
    let rule_index: HashMap<&str, usize> =
        index.keys().enumerate().map(|(i, id)| (*id, i)).collect();
    let descriptors: Vec<Value> = index
        .values()
        .map(|f| rule_descriptor(f, by_id.get(f.rule.id.as_str()).copied()))
        .collect();

    // The same secret more than once in one file under one rule keeps a
    // distinct fingerprint per copy: the first is the bare SHA-256, later
    // ones get `:2`, `:3`... in report order (sorted by line).
    let mut seen: HashMap<(String, String, String), usize> = HashMap::new();
    let results: Vec<Value> = located
        .into_iter()
        .map(|(f, loc)| {
            let key = (
                f.rule.id.clone(),
                loc["uri"].as_str().unwrap_or_default().to_string(),
                f.fingerprint.clone(),
            );
            let n = seen.entry(key).or_insert(0);
            *n += 1;
            let fp = if *n == 1 {
                f.fingerprint.clone()
            } else {
                format!("{}:{n}", f.fingerprint)
            };
            result(f, rule_index[f.rule.id.as_str()], loc, fp)
        })
        .collect();

    let mut run = json!({
        "tool": {
            "driver": {
                "name": "leakhound",
                "informationUri": INFORMATION_URI,
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": descriptors,
            },
        },
        "results": results,
        "properties": {"commitMessageFindingsOmitted": skipped},
    });
    if let Paths::Fs { base, .. } = paths {
        run["originalUriBaseIds"] = json!({SRCROOT: {"uri": dir_uri(base)}});
    }
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [run],
    })
}

pub fn write<'r>(
    report: &Report,
    rules: impl IntoIterator<Item = &'r Rule>,
    paths: &Paths,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &log(report, rules, paths))?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_uris() {
        assert_eq!(pascal_case("github.pat"), "GithubPat");
        assert_eq!(pascal_case("aws.secret-key"), "AwsSecretKey");
        assert_eq!(
            uri_path(&["a b".into(), "c#d%.env".into()]),
            "a%20b/c%23d%25.env"
        );
        assert_eq!(dir_uri(Path::new("/tmp/x y")), "file:///tmp/x%20y/");
    }

    #[test]
    fn base_is_cwd_or_scanned_dir() {
        let cwd = Path::new("/repo");
        assert_eq!(fs_base(&[PathBuf::from(".")], cwd), PathBuf::from("/repo"));
        assert_eq!(
            fs_base(&[PathBuf::from("src/../lib")], cwd),
            PathBuf::from("/repo")
        );
        // Outside the working directory (paths that do not exist are taken
        // as files, so their parent is the base).
        assert_eq!(
            fs_base(
                &[
                    PathBuf::from("/elsewhere/a/f"),
                    PathBuf::from("/elsewhere/b/g")
                ],
                cwd
            ),
            PathBuf::from("/elsewhere")
        );
        let paths = Paths::Fs {
            base: PathBuf::from("/elsewhere"),
            cwd: cwd.to_path_buf(),
        };
        let loc = artifact_location(
            &Origin::File {
                path: "/elsewhere/a/f".into(),
            },
            &paths,
        )
        .unwrap();
        assert_eq!(loc["uri"], "a/f");
        assert_eq!(loc["uriBaseId"], SRCROOT);
    }
}
