//! End-to-end tests of `leakhound scan fs` through the real binary.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::{json, run, token};
use serde_json::Value;

fn fixtures() -> PathBuf {
    common::fs_fixtures()
}

/// `(path relative to root, line, column, rule id)` of every finding.
fn locations(report: &Value, root: &Path) -> BTreeSet<(String, u64, u64, String)> {
    report["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| {
            let path = f["location"]["path"].as_str().expect("path");
            let rel = Path::new(path)
                .strip_prefix(root)
                .unwrap_or(Path::new(path))
                .to_string_lossy()
                .into_owned();
            (
                rel,
                f["location"]["line"].as_u64().expect("line"),
                f["location"]["column"].as_u64().expect("column"),
                f["rule"]["id"].as_str().expect("rule id").to_string(),
            )
        })
        .collect()
}

fn expected() -> BTreeSet<(String, u64, u64, String)> {
    let text = std::fs::read_to_string(fixtures().join("expected.json")).expect("expected.json");
    let v: Value = serde_json::from_str(&text).expect("expected.json parses");
    v.as_array()
        .expect("array")
        .iter()
        .map(|e| {
            (
                e["path"].as_str().expect("path").to_string(),
                e["line"].as_u64().expect("line"),
                e["column"].as_u64().expect("column"),
                e["rule"].as_str().expect("rule").to_string(),
            )
        })
        .collect()
}

/// The raw planted values, read back with --show-secrets.
fn planted_secrets() -> Vec<String> {
    let secrets = common::raw_secrets(&fixtures().join("positive"));
    assert!(
        secrets.len() >= 10,
        "expected many planted secrets, got {}",
        secrets.len()
    );
    secrets
}

#[test]
fn finds_exactly_the_planted_secrets() {
    let root = fixtures().join("positive");
    let r = run(&[
        "scan",
        "fs",
        root.to_str().expect("utf-8"),
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1, "stderr: {}", r.stderr);
    let got = locations(&json(&r), &root);
    let want = expected();
    let missing: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing: {missing:#?}\nunexpected: {extra:#?}"
    );
}

#[test]
fn negative_corpus_has_no_findings() {
    let root = fixtures().join("negative");
    let r = run(&[
        "scan",
        "fs",
        root.to_str().expect("utf-8"),
        "--format",
        "json",
        "--no-ignore",
    ]);
    let v = json(&r);
    assert_eq!(
        v["findings"],
        Value::Array(vec![]),
        "false positives: {:#}",
        v["findings"]
    );
    assert_eq!(r.code, 0);
    assert!(v["stats"]["blobs"].as_u64().expect("blobs") >= 10);
}

#[test]
fn default_outputs_never_contain_a_raw_secret() {
    let secrets = planted_secrets();
    let root = fixtures().join("positive");
    let root = root.to_str().expect("utf-8");
    let out_file = tempfile::NamedTempFile::new().expect("temp file");
    let out_path = out_file.path().to_str().expect("utf-8");
    for args in [
        vec!["scan", "fs", root],
        vec!["scan", "fs", root, "--format", "json"],
        vec!["scan", "fs", root, "--format", "human", "--color", "always"],
        vec!["scan", "fs", root, "--format", "jsonl"],
        vec!["scan", "fs", root, "--format", "sarif"],
        vec!["scan", "fs", root, "--format", "json", "-o", out_path],
    ] {
        let r = run(&args);
        assert_eq!(r.code, 1);
        let file = std::fs::read_to_string(out_path).unwrap_or_default();
        for s in &secrets {
            for (what, text) in [
                ("stdout", &r.stdout),
                ("stderr", &r.stderr),
                ("report file", &file),
            ] {
                assert!(
                    !text.contains(s.as_str()),
                    "{what} of {args:?} leaks a planted secret (redacted form {})",
                    leakhound::report::finding::redact(s.as_bytes())
                );
            }
        }
    }
}

#[test]
fn show_secrets_prints_values() {
    let secrets = planted_secrets();
    let root = fixtures().join("positive");
    let r = run(&[
        "scan",
        "fs",
        root.to_str().expect("utf-8"),
        "--show-secrets",
    ]);
    // Human output keeps one line per finding: control characters in a
    // value (a PEM block's newlines) are shown as `?`.
    for s in &secrets {
        let shown: String = s
            .chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .collect();
        assert!(
            r.stdout.contains(&shown),
            "value {} not shown",
            leakhound::report::finding::redact(s.as_bytes())
        );
    }
}

#[test]
fn json_shape_and_fingerprints() {
    let root = fixtures().join("positive");
    let r = run(&[
        "scan",
        "fs",
        root.to_str().expect("utf-8"),
        "--format",
        "json",
        "--show-secrets",
    ]);
    let v = json(&r);
    assert_eq!(v["version"], 1);
    for key in ["bytes", "blobs", "seconds"] {
        assert!(v["stats"][key].is_number(), "stats.{key}");
    }
    for f in v["findings"].as_array().expect("findings") {
        assert_eq!(f["compromised"], true);
        assert_eq!(f["location"]["source"], "fs");
        let secret = f["secret"].as_str().expect("secret");
        assert_eq!(
            f["fingerprint"].as_str().expect("fingerprint"),
            leakhound::report::finding::fingerprint(secret.as_bytes())
        );
        let redacted = f["redacted"].as_str().expect("redacted");
        assert!(
            redacted.ends_with(&format!("({})", secret.len())),
            "{redacted}"
        );
        assert!(f["rule"]["name"].is_string());
    }
}

#[test]
fn human_output_is_grouped_by_exposure_and_printable() {
    let root = fixtures().join("positive");
    let r = run(&["scan", "fs", root.to_str().expect("utf-8")]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains("app.bin"),
        "binary file's finding is listed"
    );
    assert!(
        r.stdout.chars().all(|c| c == '\n' || !c.is_control()),
        "no control characters or binary garbage in human output"
    );
    // Every finding is one copy line `PATH LINE:COLUMN` under its exposure.
    for (path, line, column, _) in expected() {
        let copy = format!("/{path} {line}:{column}");
        assert_eq!(
            r.stdout
                .lines()
                .filter(|l| l.starts_with("    ") && l.contains(&copy))
                .count(),
            1,
            "{copy} is one copy line: {}",
            r.stdout
        );
    }
    // One header per exposure, each with its fingerprint once and a ticket line.
    let v = json(&run(&[
        "scan",
        "fs",
        root.to_str().expect("utf-8"),
        "--format",
        "json",
    ]));
    let exposures = v["exposures"].as_array().expect("exposures");
    for e in exposures {
        let id = e["id"].as_str().expect("id");
        let fp = e["fingerprint"].as_str().expect("fingerprint");
        assert_eq!(
            r.stdout.lines().filter(|l| l.starts_with(id)).count(),
            1,
            "{id} header"
        );
        assert_eq!(r.stdout.matches(&format!("fp:{fp}")).count(), 1, "{fp}");
        assert!(r.stdout.contains(&format!("  ticket: {id}")), "{id} ticket");
    }
    assert!(
        r.stdout.contains(&format!("{} exposures", exposures.len())),
        "summary line"
    );
    assert!(r.stdout.contains("findings in"), "summary line");
}

#[test]
fn gitignore_is_honoured_unless_no_ignore() {
    let dir = tempfile::tempdir().expect("tempdir");
    let token = token("fs");
    std::fs::write(dir.path().join(".gitignore"), "ignored/\n").expect("write");
    std::fs::create_dir(dir.path().join("ignored")).expect("mkdir");
    std::fs::write(
        dir.path().join("ignored/cfg.txt"),
        format!("token={token}\n"),
    )
    .expect("write");
    let p = dir.path().to_str().expect("utf-8");
    let r = run(&["scan", "fs", p, "--format", "json"]);
    assert_eq!(r.code, 0, "ignored file is not scanned: {}", r.stdout);
    let r = run(&["scan", "fs", p, "--format", "json", "--no-ignore"]);
    assert_eq!(r.code, 1);
    assert_eq!(json(&r)["findings"][0]["rule"]["id"], "github.pat");
}

#[test]
fn git_directory_is_not_walked_but_dotfiles_are() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join(".git")).expect("mkdir");
    let token = token("fs");
    std::fs::write(dir.path().join(".git/config"), format!("x={token}\n")).expect("write");
    std::fs::write(dir.path().join(".hidden.env"), format!("T={token}\n")).expect("write");
    let r = run(&[
        "scan",
        "fs",
        dir.path().to_str().expect("utf-8"),
        "--format",
        "json",
    ]);
    let v = json(&r);
    assert_eq!(v["findings"].as_array().expect("findings").len(), 1);
    assert!(v["findings"][0]["location"]["path"]
        .as_str()
        .expect("path")
        .ends_with(".hidden.env"));
}

#[test]
fn files_over_max_size_are_skipped_with_a_note() {
    let dir = tempfile::tempdir().expect("tempdir");
    let token = token("fs");
    let mut big = "lorem ipsum dolor\n".repeat(200);
    big.push_str(&format!("t={token}\n"));
    std::fs::write(dir.path().join("big.txt"), &big).expect("write");
    let p = dir.path().to_str().expect("utf-8");
    let r = run(&[
        "scan",
        "fs",
        p,
        "--format",
        "json",
        "--max-file-size",
        "1KiB",
    ]);
    assert_eq!(r.code, 0);
    assert_eq!(json(&r)["stats"]["skipped"], 1);
    assert!(
        r.stderr.contains("big.txt") && r.stderr.contains("max-file-size"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains(&token));
    let r = run(&["scan", "fs", p, "--format", "json"]);
    assert_eq!(r.code, 1);
}

#[test]
fn identical_secrets_share_a_fingerprint_and_pairs_are_linked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let token = token("fs");
    std::fs::write(dir.path().join("a.sh"), format!("export GH={token}\n")).expect("write");
    std::fs::write(dir.path().join("b.yml"), format!("gh: {token}\n")).expect("write");
    let r = run(&[
        "scan",
        "fs",
        dir.path().to_str().expect("utf-8"),
        "--format",
        "json",
    ]);
    let v = json(&r);
    let fps: BTreeSet<&str> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["fingerprint"].as_str().expect("fp"))
        .collect();
    assert_eq!(v["findings"].as_array().expect("findings").len(), 2);
    assert_eq!(fps.len(), 1);
}

#[test]
fn exit_codes() {
    assert_eq!(run(&["scan", "fs", "/nonexistent/leakhound-root"]).code, 2);
    assert_eq!(run(&["scan", "fs", "--format", "nonsense"]).code, 2);
    let empty = tempfile::tempdir().expect("tempdir");
    assert_eq!(
        run(&["scan", "fs", empty.path().to_str().expect("utf-8")]).code,
        0
    );
}

#[test]
fn unreadable_root_error_names_the_path_only() {
    let r = run(&["scan", "fs", "/nonexistent/leakhound-root"]);
    assert!(
        r.stderr.contains("/nonexistent/leakhound-root"),
        "{}",
        r.stderr
    );
}

#[test]
fn extra_rules_directory_is_used() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("acme.yaml"),
        r#"rules:
  - id: acme.token
    name: Acme token
    provider: Acme
    keywords: [acme_]
    pattern: '\b(?P<secret>acme_[a-z0-9]{12})\b'
    confidence: high
    examples: [acme_k3j9x0q2m7vb]
    negative_examples: [acme_short]
    rotation: {revoke: 'acme revoke', verify: 'acme whoami'}
"#,
    )
    .expect("write");
    let data = tempfile::tempdir().expect("tempdir");
    std::fs::write(data.path().join("x.cfg"), "k = acme_k3j9x0q2m7vb\n").expect("write");
    let rules = dir.path().to_str().expect("utf-8");
    let r = run(&[
        "scan",
        "fs",
        data.path().to_str().expect("utf-8"),
        "--rules",
        rules,
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(json(&r)["findings"][0]["rule"]["id"], "acme.token");
    let r = run(&["rules", "check", rules]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let r = run(&["rules", "list", "--rules", rules]);
    assert!(r.stdout.lines().any(|l| l.starts_with("acme.token ")));
}

#[test]
fn rules_list_and_check_builtin() {
    let r = run(&["rules", "list"]);
    assert_eq!(r.code, 0);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(lines.len() >= 150, "{} rules listed", lines.len());
    assert!(lines.iter().all(|l| l
        .split_whitespace()
        .next()
        .is_some_and(|id| id.contains('.'))));
    let r = run(&["rules", "check"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}

#[test]
fn rules_check_reports_a_broken_example() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("bad.yaml"),
        r#"rules:
  - id: acme.token
    name: Acme token
    provider: Acme
    keywords: [acme_]
    pattern: '\b(?P<secret>acme_[a-z0-9]{12})\b'
    confidence: high
    examples: [acme_NOTMATCHING]
    negative_examples: [acme_k3j9x0q2m7vb]
"#,
    )
    .expect("write");
    let r = run(&["rules", "check", dir.path().to_str().expect("utf-8")]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("example does not match"), "{}", r.stderr);
    assert!(
        r.stderr.contains("negative example matches"),
        "{}",
        r.stderr
    );
}

#[test]
fn quiet_keeps_notes_in_the_stats_and_verbose_adds_a_summary() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("big.txt"), "lorem ipsum\n".repeat(100)).expect("write");
    let p = dir.path().to_str().expect("utf-8");
    let args = [
        "scan",
        "fs",
        p,
        "--format",
        "json",
        "--max-file-size",
        "100",
    ];
    let normal = run(&args);
    assert!(normal.stderr.contains("note: skipped"), "{}", normal.stderr);
    let quiet = run(&[&args[..], &["--quiet"]].concat());
    assert_eq!(quiet.code, 0);
    assert_eq!(quiet.stderr, "", "--quiet prints nothing but errors");
    assert_eq!(json(&quiet)["stats"]["skipped"], 1);
    let verbose = run(&[&args[..], &["--verbose"]].concat());
    assert!(
        verbose.stderr.contains("note: skipped"),
        "{}",
        verbose.stderr
    );
    assert!(
        verbose.stderr.contains("blobs in") && verbose.stderr.contains("rules"),
        "{}",
        verbose.stderr
    );
    let both = run(&[&args[..], &["--quiet", "--verbose"]].concat());
    assert_eq!(both.code, 2, "--quiet and --verbose conflict");
}
