//! End-to-end tests of suppression (`.leakhoundignore`, `--ignore-file`,
//! inline `leakhound:allow`, `--baseline`), `--report-unused-ignores`,
//! `--fail-on` and exit codes, through the real binary.

mod common;

use std::path::Path;

use common::repo::Repo;
use common::{json, run, token, write, Run};
use leakhound::report::finding::fingerprint;
use serde_json::Value;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// `scan fs ROOT EXTRA...` (human format unless EXTRA says otherwise).
fn scan(root: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["scan", "fs", s(root), "--no-progress"];
    args.extend_from_slice(extra);
    run(&args)
}

fn scan_json(root: &Path, extra: &[&str]) -> (Run, Value) {
    let mut args = vec!["--format", "json"];
    args.extend_from_slice(extra);
    let r = scan(root, &args);
    assert_ne!(r.code, 2, "stderr: {}", r.stderr);
    let v = json(&r);
    (r, v)
}

/// The exposure of `secret` in a JSON report.
fn exposure<'v>(v: &'v Value, secret: &str) -> &'v Value {
    let fp = fingerprint(secret.as_bytes());
    v["exposures"]
        .as_array()
        .expect("exposures")
        .iter()
        .find(|e| e["fingerprint"] == fp.as_str())
        .unwrap_or_else(|| panic!("no exposure for {fp}: {v:#}"))
}

fn findings_of<'v>(v: &'v Value, secret: &str) -> Vec<&'v Value> {
    let fp = fingerprint(secret.as_bytes());
    v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["fingerprint"] == fp.as_str())
        .collect()
}

/// No planted value in any stream of any run.
fn assert_no_raw(runs: &[&Run], secrets: &[&str]) {
    for r in runs {
        for secret in secrets {
            assert!(!r.stdout.contains(secret), "raw secret in stdout");
            assert!(!r.stderr.contains(secret), "raw secret in stderr");
        }
    }
}

/// A Symfony APP_SECRET (a medium-severity rule) from a seed.
fn app_secret(seed: &str) -> String {
    fingerprint(seed.as_bytes())[..32].to_string()
}

#[test]
fn ignore_file_entry_needs_a_reason() {
    let tree = tempfile::tempdir().expect("tempdir");
    let t = token("no-reason");
    write(tree.path(), "a.env", &format!("GITHUB_TOKEN={t}\n"));
    let fp = fingerprint(t.as_bytes());
    write(
        tree.path(),
        ".leakhoundignore",
        &format!("# accepted findings\n{fp}\n"),
    );
    let r = scan(tree.path(), &[]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains(".leakhoundignore:2:") && r.stderr.contains("no reason"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.is_empty(), "no report on error: {}", r.stdout);

    // `#` alone is no reason either; a short or non-hex key is an error too.
    for bad in [
        format!("{fp}   #\n"),
        "0123abcd reason\n".to_string(),
        format!("{t} oops, the secret itself\n"),
    ] {
        write(tree.path(), ".leakhoundignore", &bad);
        let r = scan(tree.path(), &[]);
        assert_eq!(r.code, 2, "{bad}: {}", r.stderr);
        assert!(r.stderr.contains(".leakhoundignore:1:"), "{}", r.stderr);
        assert_no_raw(&[&r], &[&t]);
    }
    assert_no_raw(&[&r], &[&t]);
}

#[test]
fn ignore_file_suppresses_but_keeps_the_exposure_visible() {
    let tree = tempfile::tempdir().expect("tempdir");
    let (ignored, by_prefix, by_id, live) = (
        token("ignored"),
        token("by-prefix"),
        token("by-id"),
        token("live"),
    );
    write(tree.path(), "a.env", &format!("GITHUB_TOKEN={ignored}\n"));
    write(tree.path(), "b/c.yml", &format!("gh: {ignored}\n"));
    write(tree.path(), "d.env", &format!("T={by_prefix}\nU={by_id}\n"));
    write(tree.path(), "e.env", &format!("GITHUB_TOKEN={live}\n"));
    let (_, before) = scan_json(tree.path(), &[]);
    let id = exposure(&before, &by_id)["id"]
        .as_str()
        .expect("id")
        .to_string();
    for e in before["exposures"].as_array().expect("exposures") {
        assert_eq!(e["suppressed"], false);
        assert!(e.get("suppression").is_none());
    }
    write(
        tree.path(),
        ".leakhoundignore",
        &format!(
            "# reviewed 2024-05\n\n{}  # test fixture, revoked\n{} vendor sample token\n{id} # docs example\n",
            fingerprint(ignored.as_bytes()),
            &fingerprint(by_prefix.as_bytes())[..12],
        ),
    );
    let (r, v) = scan_json(tree.path(), &[]);
    assert_eq!(r.code, 1, "the live token still fails the run");
    for (secret, reason) in [
        (&ignored, "test fixture, revoked"),
        (&by_prefix, "vendor sample token"),
        (&by_id, "docs example"),
    ] {
        let e = exposure(&v, secret);
        assert_eq!(e["suppressed"], true, "{e:#}");
        assert_eq!(e["suppression"]["kind"], "ignore-file");
        assert_eq!(e["suppression"]["reason"], reason);
        let fs = findings_of(&v, secret);
        assert!(!fs.is_empty());
        for f in fs {
            assert_eq!(f["suppressed"], true);
            assert_eq!(f["suppression"]["reason"], reason);
        }
    }
    assert_eq!(findings_of(&v, &ignored).len(), 2, "both copies kept");
    assert_eq!(exposure(&v, &live)["suppressed"], false);
    assert_eq!(v["stats"]["suppressed"]["exposures"], 3);
    assert_eq!(v["stats"]["suppressed"]["findings"], 4);
    assert_eq!(v["stats"]["unused_ignores"], 0);

    // Human: only the live exposure is listed, the others are one count line.
    let h = scan(tree.path(), &[]);
    assert_eq!(h.code, 1);
    let live_id = exposure(&v, &live)["id"].as_str().expect("id");
    assert!(h.stdout.contains(live_id), "{}", h.stdout);
    for secret in [&ignored, &by_prefix, &by_id] {
        let sid = exposure(&v, secret)["id"].as_str().expect("id");
        assert!(!h.stdout.contains(sid), "{sid} listed: {}", h.stdout);
    }
    assert!(
        h.stdout
            .contains("3 suppressed exposures (see --format json)"),
        "{}",
        h.stdout
    );

    // Without the live token nothing fails.
    std::fs::remove_file(tree.path().join("e.env")).expect("rm");
    let (r2, _) = scan_json(tree.path(), &[]);
    assert_eq!(r2.code, 0, "{}", r2.stderr);
    assert_no_raw(&[&r, &h, &r2], &[&ignored, &by_prefix, &by_id, &live]);
}

#[test]
fn ignore_file_option_replaces_the_root_file() {
    let tree = tempfile::tempdir().expect("tempdir");
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let t = token("option");
    write(tree.path(), "a.env", &format!("GITHUB_TOKEN={t}\n"));
    let list = elsewhere.path().join("accepted.txt");
    write(
        elsewhere.path(),
        "accepted.txt",
        &format!("{} rotated in INC-42\n", fingerprint(t.as_bytes())),
    );
    let (r, v) = scan_json(tree.path(), &["--ignore-file", s(&list)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        exposure(&v, &t)["suppression"]["reason"],
        "rotated in INC-42"
    );

    // A missing --ignore-file is an error, not silently nothing.
    let r = scan(
        tree.path(),
        &["--ignore-file", s(&elsewhere.path().join("nope"))],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("nope"), "{}", r.stderr);
}

#[test]
fn inline_allow_suppresses_only_that_copy() {
    let tree = tempfile::tempdir().expect("tempdir");
    let t = token("inline");
    write(
        tree.path(),
        "tests/fixture.py",
        &format!("TOKEN = \"{t}\"  # leakhound:allow test fixture for the parser\n"),
    );
    write(tree.path(), "app.env", &format!("GITHUB_TOKEN={t}\n"));
    let (r, v) = scan_json(tree.path(), &[]);
    assert_eq!(r.code, 1, "the app.env copy is not allowed");
    let e = exposure(&v, &t);
    assert_eq!(e["suppressed"], false, "one copy is live: {e:#}");
    let fs = findings_of(&v, &t);
    assert_eq!(fs.len(), 2);
    for f in fs {
        let path = f["location"]["path"].as_str().expect("path");
        if path.ends_with("fixture.py") {
            assert_eq!(f["suppressed"], true);
            assert_eq!(f["suppression"]["kind"], "inline");
            assert_eq!(
                f["suppression"]["reason"],
                "inline leakhound:allow: test fixture for the parser"
            );
        } else {
            assert_eq!(f["suppressed"], false, "{f:#}");
        }
    }
    assert_eq!(v["stats"]["suppressed"]["findings"], 1);
    assert_eq!(v["stats"]["suppressed"]["exposures"], 0);

    // Allowed everywhere: the exposure is suppressed and the run passes. A
    // marker before the value never copies the value into the reason.
    write(
        tree.path(),
        "app.env",
        &format!(
            "# leakhound:allow sample below {t} end\nX=1 /* LEAKHOUND:ALLOW */ GITHUB_TOKEN={t}\n"
        ),
    );
    let (r2, v2) = scan_json(tree.path(), &[]);
    assert_eq!(r2.code, 0, "{}", r2.stdout);
    let e = exposure(&v2, &t);
    assert_eq!(e["suppressed"], true);
    assert_eq!(e["suppression"]["kind"], "inline");
    for f in findings_of(&v2, &t) {
        assert_eq!(f["suppressed"], true, "{f:#}");
        let reason = f["suppression"]["reason"].as_str().expect("reason");
        assert!(reason.starts_with("inline leakhound:allow"), "{reason}");
    }
    let h = scan(tree.path(), &[]);
    assert_eq!(h.code, 0);
    assert!(
        h.stdout
            .contains("1 suppressed exposure (see --format json)"),
        "{}",
        h.stdout
    );
    assert_no_raw(&[&r, &r2, &h], &[&t]);
}

#[test]
fn inline_allow_works_in_git_history() {
    let mut repo = Repo::new();
    let t = token("inline-git");
    repo.write(
        "docs/example.md",
        &format!("Example: `{t}` <!-- leakhound:allow revoked demo token -->\n"),
    );
    repo.commit("docs");
    let (r, v) = repo.scan(&[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let e = exposure(&v, &t);
    assert_eq!(e["suppressed"], true);
    assert_eq!(
        e["suppression"]["reason"],
        "inline leakhound:allow: revoked demo token"
    );
    assert_no_raw(&[&r], &[&t]);
}

#[test]
fn baseline_suppresses_what_a_previous_report_held() {
    let tree = tempfile::tempdir().expect("tempdir");
    let out = tempfile::tempdir().expect("tempdir");
    let (old, new) = (token("baseline-old"), token("baseline-new"));
    write(tree.path(), "old.env", &format!("GITHUB_TOKEN={old}\n"));
    let base = out.path().join("baseline.json");
    let r0 = scan(tree.path(), &["--format", "json", "-o", s(&base)]);
    assert_eq!(r0.code, 1);

    // Same tree against its own baseline: nothing new, exit 0.
    let (r1, v1) = scan_json(tree.path(), &["--baseline", s(&base)]);
    assert_eq!(r1.code, 0, "{}", r1.stderr);
    let e = exposure(&v1, &old);
    assert_eq!(e["suppression"]["kind"], "baseline");
    assert_eq!(
        e["suppression"]["reason"],
        format!("in baseline {}", s(&base)).as_str()
    );

    // A new secret is not in the baseline.
    write(tree.path(), "new.env", &format!("GITHUB_TOKEN={new}\n"));
    let (r2, v2) = scan_json(tree.path(), &["--baseline", s(&base)]);
    assert_eq!(r2.code, 1);
    assert_eq!(exposure(&v2, &old)["suppressed"], true);
    assert_eq!(exposure(&v2, &new)["suppressed"], false);

    // An ignore entry wins over the baseline.
    write(
        tree.path(),
        ".leakhoundignore",
        &format!("{} known\n", fingerprint(old.as_bytes())),
    );
    let (_, v3) = scan_json(tree.path(), &["--baseline", s(&base)]);
    assert_eq!(exposure(&v3, &old)["suppression"]["kind"], "ignore-file");

    // Not a report: an error.
    write(out.path(), "bad.json", "[1, 2]\n");
    let r4 = scan(
        tree.path(),
        &["--baseline", s(&out.path().join("bad.json"))],
    );
    assert_eq!(r4.code, 2, "{}", r4.stderr);
    assert!(r4.stderr.contains("bad.json"), "{}", r4.stderr);
    let baseline_text = std::fs::read_to_string(&base).expect("baseline");
    assert!(!baseline_text.contains(&old));
    assert_no_raw(&[&r0, &r1, &r2, &r4], &[&old, &new]);
}

#[test]
fn unused_ignores_are_reported_on_request() {
    let tree = tempfile::tempdir().expect("tempdir");
    let t = token("used");
    write(tree.path(), "a.env", &format!("GITHUB_TOKEN={t}\n"));
    let stale = fingerprint(b"a secret rotated long ago");
    write(
        tree.path(),
        ".leakhoundignore",
        &format!(
            "{} in use\n{stale}  # rotated long ago\n",
            fingerprint(t.as_bytes())
        ),
    );
    let (r, v) = scan_json(tree.path(), &[]);
    assert_eq!(r.code, 0, "unused entries alone do not fail: {}", r.stderr);
    assert!(!r.stderr.contains("matched nothing"), "{}", r.stderr);
    assert_eq!(v["stats"]["unused_ignores"], 1);

    let (r, _) = scan_json(tree.path(), &["--report-unused-ignores"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let warnings: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.contains("matched nothing"))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", r.stderr);
    assert!(
        warnings[0].starts_with("warning: ")
            && warnings[0].contains(".leakhoundignore:2: ")
            && warnings[0].contains(&format!("{}…", &stale[..12]))
            && !warnings[0].contains(&stale),
        "{}",
        warnings[0]
    );
    let (r, _) = scan_json(
        tree.path(),
        &["--report-unused-ignores", "--fail-on", "none"],
    );
    assert_eq!(r.code, 0);
    assert!(r.stderr.contains("matched nothing"));

    // Every entry used: the flag passes.
    write(
        tree.path(),
        ".leakhoundignore",
        &format!("{} in use\n", fingerprint(t.as_bytes())),
    );
    let (r, _) = scan_json(tree.path(), &["--report-unused-ignores"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn fail_on_any_high_none() {
    let tree = tempfile::tempdir().expect("tempdir");
    let medium = app_secret("fail-on");
    write(
        tree.path(),
        ".env",
        &format!("APP_ENV=prod\nAPP_SECRET={medium}\n"),
    );
    let (r, v) = scan_json(tree.path(), &[]);
    assert_eq!(exposure(&v, &medium)["severity"], "medium", "{v:#}");
    assert_eq!(r.code, 1, "default --fail-on any");
    assert_eq!(scan(tree.path(), &["--fail-on", "any"]).code, 1);
    assert_eq!(scan(tree.path(), &["--fail-on", "high"]).code, 0);
    assert_eq!(scan(tree.path(), &["--fail-on", "none"]).code, 0);

    let high = token("fail-on-high");
    write(tree.path(), "gh.env", &format!("GITHUB_TOKEN={high}\n"));
    assert_eq!(scan(tree.path(), &["--fail-on", "high"]).code, 1);
    assert_eq!(scan(tree.path(), &["--fail-on", "none"]).code, 0);

    // A suppressed high exposure does not count.
    write(
        tree.path(),
        ".leakhoundignore",
        &format!("{} revoked\n", fingerprint(high.as_bytes())),
    );
    assert_eq!(scan(tree.path(), &["--fail-on", "high"]).code, 0);
    assert_eq!(scan(tree.path(), &["--fail-on", "any"]).code, 1);

    // Errors are 2 whatever --fail-on says.
    let missing = tree.path().join("missing");
    assert_eq!(
        run(&["scan", "fs", s(&missing), "--fail-on", "none"]).code,
        2
    );
}

#[test]
fn suppressed_exposures_get_no_ticket_and_keep_theirs() {
    let tree = tempfile::tempdir().expect("tempdir");
    let tickets = tempfile::tempdir().expect("tempdir");
    let (kept, fresh) = (token("ticket-kept"), token("ticket-fresh"));
    write(tree.path(), "a.env", &format!("GITHUB_TOKEN={kept}\n"));
    let r1 = scan(
        tree.path(),
        &["--format", "json", "--tickets", s(tickets.path())],
    );
    assert_eq!(r1.code, 1);
    let id = exposure(&json(&r1), &kept)["id"]
        .as_str()
        .expect("id")
        .to_string();
    let ticket = tickets.path().join(format!("{id}.json"));
    let before = std::fs::read_to_string(&ticket).expect("ticket");

    write(tree.path(), "b.env", &format!("GITHUB_TOKEN={fresh}\n"));
    write(
        tree.path(),
        ".leakhoundignore",
        &format!(
            "{} accepted: rotated\n{} accepted: test org\n",
            fingerprint(kept.as_bytes()),
            fingerprint(fresh.as_bytes())
        ),
    );
    let r2 = scan(
        tree.path(),
        &["--format", "json", "--tickets", s(tickets.path())],
    );
    assert_eq!(r2.code, 0, "{}", r2.stderr);
    let v2 = json(&r2);
    assert!(exposure(&v2, &fresh)["ticket"].is_null());
    let names: Vec<String> = std::fs::read_dir(tickets.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names.len(),
        2,
        "no new ticket for a suppressed exposure: {names:?}"
    );
    assert_eq!(
        std::fs::read_to_string(&ticket).expect("ticket"),
        before,
        "an existing ticket is left alone"
    );
    assert_no_raw(&[&r1, &r2], &[&kept, &fresh]);
}

#[test]
fn jsonl_lines_carry_suppression() {
    let tree = tempfile::tempdir().expect("tempdir");
    let (ignored, live) = (token("jsonl-ignored"), token("jsonl-live"));
    write(
        tree.path(),
        "a.env",
        &format!("GITHUB_TOKEN={ignored}\nT={live}\n"),
    );
    write(
        tree.path(),
        ".leakhoundignore",
        &format!("{}  # demo\n", fingerprint(ignored.as_bytes())),
    );
    let r = scan(tree.path(), &["--format", "jsonl"]);
    assert_eq!(r.code, 1);
    let lines: Vec<Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let by_fp = |kind: &str, secret: &str| -> Value {
        let fp = fingerprint(secret.as_bytes());
        lines
            .iter()
            .find(|l| l["type"] == kind && l["fingerprint"] == fp.as_str())
            .cloned()
            .unwrap_or_else(|| panic!("no {kind} line for {fp}"))
    };
    assert_eq!(by_fp("finding", &ignored)["suppressed"], true);
    assert_eq!(by_fp("finding", &ignored)["suppression"]["reason"], "demo");
    assert_eq!(by_fp("exposure", &ignored)["suppressed"], true);
    assert_eq!(by_fp("finding", &live)["suppressed"], false);
    let summary = lines.last().expect("summary");
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["stats"]["suppressed"]["exposures"], 1);
    assert_no_raw(&[&r], &[&ignored, &live]);
}
