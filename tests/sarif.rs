//! `--format sarif` and `--format jsonl` through the real binary.
//!
//! SARIF output is validated against the SARIF 2.1.0 JSON schema vendored in
//! `tests/sarif-schema-2.1.0.json`: the `sarif-2.1.0.json` shipped in the npm
//! package `@microsoft/sarif-multitool-linux` 5.7.0 (MIT), the schema the
//! official SARIF validator uses (JSON Schema draft 2020-12 edition of the
//! OASIS SARIF 2.1.0 schema).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{json, run, token, Run};
use serde_json::Value;

fn fixtures() -> PathBuf {
    common::fs_fixtures().join("positive")
}

fn sarif(r: &Run) -> Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("bad SARIF ({e}): {}", r.stdout))
}

fn schema_errors(log: &Value) -> Vec<String> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sarif-schema-2.1.0.json"),
    )
    .expect("vendored schema");
    let schema: Value = serde_json::from_str(&text).expect("schema parses");
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("schema compiles");
    validator
        .iter_errors(log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// Schema validation plus what GitHub code scanning needs beyond it.
fn assert_valid(log: &Value) {
    let errors = schema_errors(log);
    assert!(errors.is_empty(), "SARIF schema errors: {errors:#?}");

    assert_eq!(log["version"], "2.1.0");
    assert!(log["$schema"].as_str().is_some_and(|s| s.contains("sarif")));
    let runs = log["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "leakhound");
    let rules = driver["rules"].as_array().expect("rules");
    let ids: Vec<&str> = rules
        .iter()
        .map(|r| r["id"].as_str().expect("id"))
        .collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "rule ids not unique: {ids:?}");
    for r in rules {
        for field in ["name", "shortDescription", "fullDescription", "help"] {
            assert!(!r[field].is_null(), "rule {} lacks {field}", r["id"]);
        }
        assert!(r["help"]["markdown"]
            .as_str()
            .is_some_and(|s| !s.is_empty()));
        let props = &r["properties"];
        assert_eq!(props["tags"], serde_json::json!(["security", "secret"]));
        let sev: f64 = props["security-severity"]
            .as_str()
            .expect("security-severity is a string")
            .parse()
            .expect("numeric severity");
        assert!((0.0..=10.0).contains(&sev));
    }
    let bases = run["originalUriBaseIds"].as_object();
    for res in run["results"].as_array().expect("results") {
        let i = res["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(
            res["ruleId"], rules[i]["id"],
            "ruleIndex points at another rule"
        );
        let fp = res["partialFingerprints"]["leakhoundFingerprint/v1"]
            .as_str()
            .expect("partialFingerprints");
        assert!(fp.len() >= 64 && fp[..64].bytes().all(|b| b.is_ascii_hexdigit()));
        let locs = res["locations"].as_array().expect("locations");
        assert!(!locs.is_empty());
        let art = &locs[0]["physicalLocation"]["artifactLocation"];
        let uri = art["uri"].as_str().expect("uri");
        assert!(
            !uri.starts_with('/') && !uri.contains(':') && !uri.contains('\\'),
            "not a relative URI: {uri}"
        );
        if let Some(base) = art["uriBaseId"].as_str() {
            let b = bases.and_then(|b| b.get(base)).expect("uriBaseId defined");
            assert!(b["uri"].as_str().is_some_and(|u| u.ends_with('/')));
        }
        let region = &locs[0]["physicalLocation"]["region"];
        assert!(region["startLine"].as_u64().is_some_and(|l| l >= 1));
        assert!(region["startColumn"].as_u64().is_some_and(|c| c >= 1));
    }
}

fn results(log: &Value) -> &Vec<Value> {
    log["runs"][0]["results"].as_array().expect("results")
}

#[test]
fn fixture_scan_is_valid_sarif_without_raw_secrets() {
    let root = fixtures();
    let secrets = common::raw_secrets(&root);
    assert!(secrets.len() >= 10, "fixture has planted secrets");
    let r = run(&[
        "scan",
        "fs",
        root.to_str().expect("utf-8"),
        "--format",
        "sarif",
        "--show-secrets",
        "--no-progress",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let log = sarif(&r);
    assert_valid(&log);
    assert_eq!(results(&log).len(), secrets.len(), "one result per finding");
    for s in &secrets {
        assert!(!r.stdout.contains(s.as_str()), "raw secret in SARIF: {s}");
        assert!(!r.stderr.contains(s.as_str()));
    }
    // The tests run at the crate root, so paths are relative to it.
    for res in results(&log) {
        let uri = res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .expect("uri");
        assert!(uri.starts_with("fixtures/fs/positive/"), "{uri}");
    }
}

#[test]
fn paths_outside_the_working_directory_are_relative_to_the_scanned_dir() {
    let dir = tempfile::tempdir().expect("tempdir");
    let t = token("sarif-outside");
    std::fs::create_dir_all(dir.path().join("my dir")).expect("mkdir");
    std::fs::write(dir.path().join("my dir/app.env"), format!("TOKEN={t}\n")).expect("write");
    let r = run(&[
        "scan",
        "fs",
        dir.path().to_str().expect("utf-8"),
        "--format",
        "sarif",
        "--no-progress",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let log = sarif(&r);
    assert_valid(&log);
    let res = &results(&log)[0];
    let art = &res["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(art["uri"], "my%20dir/app.env");
    assert_eq!(art["uriBaseId"], "SRCROOT");
    assert_eq!(res["ruleId"], "github.pat");
    assert_eq!(
        res["partialFingerprints"]["leakhoundFingerprint/v1"],
        leakhound::report::finding::fingerprint(t.as_bytes())
    );
    assert!(!r.stdout.contains(&t));
}

#[test]
fn same_secret_twice_in_one_file_keeps_distinct_fingerprints() {
    let dir = tempfile::tempdir().expect("tempdir");
    let t = token("sarif-twice");
    std::fs::write(dir.path().join("a.env"), format!("A={t}\nB={t}\n")).expect("write");
    let r = run(&[
        "scan",
        "fs",
        dir.path().to_str().expect("utf-8"),
        "--format",
        "sarif",
        "--no-progress",
    ]);
    let log = sarif(&r);
    assert_valid(&log);
    let fps: BTreeSet<&str> = results(&log)
        .iter()
        .map(|r| {
            r["partialFingerprints"]["leakhoundFingerprint/v1"]
                .as_str()
                .expect("fp")
        })
        .collect();
    assert_eq!(fps.len(), 2, "{fps:?}");
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Ada Lovelace")
        .env("GIT_AUTHOR_EMAIL", "ada@analytical.engine")
        .env("GIT_COMMITTER_NAME", "Ada Lovelace")
        .env("GIT_COMMITTER_EMAIL", "ada@analytical.engine")
        .env("GIT_AUTHOR_DATE", "1700000000 +0100")
        .env("GIT_COMMITTER_DATE", "1700000000 +0100")
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn git_history_results_carry_the_commit_and_skip_commit_messages() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path();
    let in_file = token("sarif-git-file");
    let in_message = token("sarif-git-message");
    git(p, &["init", "-q", "-b", "main"]);
    std::fs::create_dir_all(p.join("config")).expect("mkdir");
    std::fs::write(p.join("config/deploy.env"), format!("GH={in_file}\n")).expect("write");
    git(p, &["add", "-A"]);
    git(
        p,
        &["commit", "-q", "-m", &format!("deploy with {in_message}")],
    );
    let root = p.to_str().expect("utf-8");

    let r = run(&["scan", "git", root, "--format", "sarif", "--show-secrets"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let log = sarif(&r);
    assert_valid(&log);
    let res = results(&log);
    assert_eq!(res.len(), 1, "the commit-message finding has no file");
    assert_eq!(
        log["runs"][0]["properties"]["commitMessageFindingsOmitted"],
        1
    );
    let art = &res[0]["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(art["uri"], "config/deploy.env");
    assert!(art.get("uriBaseId").is_none());
    let props = &res[0]["properties"];
    assert_eq!(props["source"], "git");
    assert_eq!(props["author"], "Ada Lovelace");
    assert_eq!(props["commit"].as_str().map(str::len), Some(40));
    assert!(props["date"]
        .as_str()
        .is_some_and(|d| d.starts_with("2023-11-14")));
    for s in [&in_file, &in_message] {
        assert!(!r.stdout.contains(s.as_str()), "raw secret in SARIF");
    }

    // Staged: a new secret added to the index only.
    let staged = token("sarif-git-staged");
    std::fs::write(p.join("staged.py"), format!("T = \"{staged}\"\n")).expect("write");
    git(p, &["add", "staged.py"]);
    let r = run(&["scan", "git", root, "--staged", "--format", "sarif"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let log = sarif(&r);
    assert_valid(&log);
    let res = results(&log);
    assert_eq!(res.len(), 1);
    assert_eq!(res[0]["properties"]["source"], "git-staged");
    assert_eq!(
        res[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "staged.py"
    );
}

#[test]
fn clean_scan_is_valid_sarif_with_no_results() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("main.rs"), "fn main() {}\n").expect("write");
    let r = run(&[
        "scan",
        "fs",
        dir.path().to_str().expect("utf-8"),
        "--format",
        "sarif",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let log = sarif(&r);
    assert_valid(&log);
    assert!(results(&log).is_empty());
    assert!(log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .is_some_and(Vec::is_empty));
}

#[test]
fn jsonl_is_finding_lines_then_exposures_then_summary() {
    let root = fixtures();
    let root = root.to_str().expect("utf-8");
    let as_json = json(&run(&["scan", "fs", root, "--format", "json"]));
    let r = run(&["scan", "fs", root, "--format", "jsonl"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let lines: Vec<Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line ({e}): {l}")))
        .collect();
    let kinds: Vec<&str> = lines
        .iter()
        .map(|l| l["type"].as_str().expect("every line has a type"))
        .collect();
    // finding* exposure* summary, in that order.
    let first_exposure = kinds
        .iter()
        .position(|k| *k == "exposure")
        .expect("exposures");
    assert!(
        kinds[..first_exposure].iter().all(|k| *k == "finding"),
        "{kinds:?}"
    );
    assert!(
        kinds[first_exposure..kinds.len() - 1]
            .iter()
            .all(|k| *k == "exposure"),
        "{kinds:?}"
    );
    let (summary, _) = lines.split_last().expect("at least the summary line");
    assert_eq!(summary["type"], "summary");
    assert!(summary["stats"]["blobs"].as_u64().is_some_and(|b| b > 0));
    assert_eq!(summary.as_object().map(|o| o.len()), Some(2));
    let findings = &lines[..first_exposure];
    let exposures = &lines[first_exposure..lines.len() - 1];
    let expected = as_json["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), expected.len());
    let key = |f: &Value| {
        (
            f["location"]["path"].as_str().map(str::to_string),
            f["location"]["line"].as_u64(),
            f["rule"]["id"].as_str().map(str::to_string),
            f["fingerprint"].as_str().map(str::to_string),
        )
    };
    let a: BTreeMap<_, usize> = findings.iter().map(|f| (key(f), 0)).collect();
    let b: BTreeMap<_, usize> = expected.iter().map(|f| (key(f), 0)).collect();
    assert_eq!(a, b);
    let ids = |v: &[Value]| -> Vec<String> {
        v.iter()
            .map(|e| e["id"].as_str().expect("id").to_string())
            .collect()
    };
    assert_eq!(
        ids(exposures),
        ids(as_json["exposures"].as_array().expect("exposures"))
    );
    for f in findings {
        assert_eq!(f["suppressed"], false);
        assert!(
            f.get("secret").is_none(),
            "no raw value without --show-secrets"
        );
    }
}

#[test]
fn suppressed_results_carry_sarif_suppressions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (inline, ignored, live) = (
        token("sarif-inline"),
        token("sarif-ignored"),
        token("sarif-live"),
    );
    std::fs::write(
        dir.path().join("a.env"),
        format!("A={inline} # leakhound:allow sample\nB={ignored}\nC={live}\n"),
    )
    .expect("write");
    std::fs::write(
        dir.path().join(".leakhoundignore"),
        format!(
            "{}  # revoked in INC-7\n",
            leakhound::report::finding::fingerprint(ignored.as_bytes())
        ),
    )
    .expect("write");
    let r = run(&[
        "scan",
        "fs",
        dir.path().to_str().expect("utf-8"),
        "--format",
        "sarif",
        "--no-progress",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let log = sarif(&r);
    assert_valid(&log);
    let by_line = |line: u64| -> &Value {
        results(&log)
            .iter()
            .find(|res| res["locations"][0]["physicalLocation"]["region"]["startLine"] == line)
            .unwrap_or_else(|| panic!("no result on line {line}"))
    };
    assert_eq!(
        by_line(1)["suppressions"],
        serde_json::json!([{"kind": "inSource", "status": "accepted", "justification": "inline leakhound:allow: sample"}])
    );
    assert_eq!(
        by_line(2)["suppressions"],
        serde_json::json!([{"kind": "external", "status": "accepted", "justification": "revoked in INC-7"}])
    );
    assert!(by_line(3).get("suppressions").is_none());
    // A schema check that ignored suppressions would accept a bad kind.
    let mut bad = log.clone();
    bad["runs"][0]["results"][0]["suppressions"] = serde_json::json!([{"kind": "nope"}]);
    assert!(
        !schema_errors(&bad).is_empty(),
        "bad suppression kind accepted"
    );
    for t in [&inline, &ignored, &live] {
        assert!(!r.stdout.contains(t.as_str()) && !r.stderr.contains(t.as_str()));
    }
}

#[test]
fn the_schema_check_rejects_broken_logs() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("a.env"),
        format!("T={}\n", token("sarif-broken")),
    )
    .expect("write");
    let r = run(&[
        "scan",
        "fs",
        dir.path().to_str().expect("utf-8"),
        "--format",
        "sarif",
    ]);
    let good = sarif(&r);
    assert!(schema_errors(&good).is_empty());
    let mut bad = good.clone();
    bad["version"] = "2.0.0".into();
    assert!(!schema_errors(&bad).is_empty(), "wrong version accepted");
    let mut bad = good.clone();
    bad["runs"][0]["results"][0]
        .as_object_mut()
        .expect("result")
        .remove("message");
    assert!(
        !schema_errors(&bad).is_empty(),
        "result without message accepted"
    );
    let mut bad = good;
    bad["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        0.into();
    assert!(!schema_errors(&bad).is_empty(), "startLine 0 accepted");
}
