//! End-to-end tests of `leakhound scan git` through the real binary, on
//! repositories built with the `git` CLI in temporary directories.

mod common;

use std::process::Command;

use common::repo::Repo;
use common::{fingerprint, json, run, token, Run};
use serde_json::Value;

fn findings(v: &Value) -> &Vec<Value> {
    v["findings"].as_array().expect("findings array")
}

/// Findings of one secret, as (source, path, commit, line, column).
fn locations_of(v: &Value, secret: &str) -> Vec<(String, String, String, u64, u64)> {
    let fp = fingerprint(secret);
    let mut out: Vec<_> = findings(v)
        .iter()
        .filter(|f| f["fingerprint"] == fp.as_str())
        .map(|f| {
            let l = &f["location"];
            (
                l["source"].as_str().unwrap_or_default().to_string(),
                l["path"].as_str().unwrap_or_default().to_string(),
                l["commit"].as_str().unwrap_or_default().to_string(),
                l["line"].as_u64().expect("line"),
                l["column"].as_u64().expect("column"),
            )
        })
        .collect();
    out.sort();
    out
}

fn assert_no_raw(r: &Run, secrets: &[&str]) {
    for s in secrets {
        assert!(!r.stdout.contains(s), "raw secret in stdout: {}", r.stdout);
        assert!(!r.stderr.contains(s), "raw secret in stderr: {}", r.stderr);
    }
}

fn git_loc(path: &str, commit: &str, line: u64, column: u64) -> (String, String, String, u64, u64) {
    ("git".into(), path.into(), commit.into(), line, column)
}

#[test]
fn secret_added_then_removed_is_found_with_its_commit() {
    let mut repo = Repo::new();
    let secret = token("added-then-removed");
    repo.write("README.md", "hello\n");
    repo.commit("initial");
    repo.write(
        "config/app.env",
        &format!("DEBUG=1\nGITHUB_TOKEN={secret}\n"),
    );
    let added = repo.commit("add app config");
    std::fs::remove_file(repo.path().join("config/app.env")).expect("rm");
    repo.commit("remove app config");

    let (r, v) = repo.scan(&[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        locations_of(&v, &secret),
        vec![git_loc("config/app.env", &added, 2, 14)]
    );
    let loc = &findings(&v)[0]["location"];
    assert_eq!(loc["author"], "Ada Lovelace");
    assert_eq!(loc["email"], "ada@analytical.engine");
    assert_eq!(loc["summary"], "add app config");
    assert_eq!(loc["occurrences"], 1);
    // Commit two of the fixed clock: 1_700_000_120 is 22:15:20 UTC.
    assert_eq!(loc["date"], "2023-11-14T23:15:20+01:00");
    assert_no_raw(&r, &[&secret]);

    // The human format names the commit and path, never the value.
    let human = run(&["scan", "git", repo.root()]);
    assert_eq!(human.code, 1);
    assert!(
        human
            .stdout
            .contains(&format!("{}:config/app.env", &added[..12])),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains("add app config"), "{}", human.stdout);
    assert_no_raw(&human, &[&secret]);
}

#[test]
fn clean_history_exits_zero() {
    let mut repo = Repo::new();
    repo.write("src/main.rs", "fn main() {}\n");
    repo.commit("initial");
    let (r, v) = repo.scan(&[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(findings(&v).is_empty());
    assert_eq!(v["stats"]["errors"], 0);
}

#[test]
fn secret_on_an_unmerged_branch() {
    let mut repo = Repo::new();
    let secret = token("unmerged-branch");
    repo.write("README.md", "hello\n");
    repo.commit("initial");
    repo.git(&["checkout", "-q", "-b", "feature/deploy"]);
    repo.write("deploy.sh", &format!("export GH={secret}\n"));
    let on_branch = repo.commit("deploy script");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("README.md", "hello again\n");
    repo.commit("main moves on");

    let (r, v) = repo.scan(&[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        locations_of(&v, &secret),
        vec![git_loc("deploy.sh", &on_branch, 1, 11)]
    );
    assert_no_raw(&r, &[&secret]);
}

#[test]
fn secret_only_in_an_annotated_tag() {
    let mut repo = Repo::new();
    let secret = token("tag-only");
    repo.write("README.md", "hello\n");
    repo.commit("initial");
    repo.git(&["checkout", "-q", "--detach"]);
    repo.write("release.cfg", &format!("token: {secret}\n"));
    let tagged = repo.commit("release build");
    repo.git(&["tag", "-a", "v1.0.0", "-m", "release 1.0.0"]);
    repo.git(&["checkout", "-q", "main"]);

    let (r, v) = repo.scan(&[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        locations_of(&v, &secret),
        vec![git_loc("release.cfg", &tagged, 1, 8)]
    );
}

#[test]
fn secret_only_in_a_commit_message() {
    let mut repo = Repo::new();
    let secret = token("commit-message");
    repo.write("README.md", "hello\n");
    repo.commit("initial");
    repo.write("README.md", "hello world\n");
    let pasted = repo.commit(&format!("fix CI auth {secret}\n\nsecond line"));

    let (r, v) = repo.scan(&[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let found: Vec<&Value> = findings(&v)
        .iter()
        .filter(|f| f["fingerprint"] == fingerprint(&secret).as_str())
        .collect();
    assert_eq!(found.len(), 1, "{v:#}");
    let loc = &found[0]["location"];
    assert_eq!(loc["source"], "git-commit-message");
    assert_eq!(loc["commit"], pasted.as_str());
    assert_eq!(
        (loc["line"].as_u64(), loc["column"].as_u64()),
        (Some(1), Some(13))
    );
    // The summary quotes the secret: it comes back redacted.
    assert_eq!(loc["summary"], "fix CI auth ghp_…(40)");
    assert_no_raw(&r, &[&secret]);
    let human = run(&["scan", "git", repo.root()]);
    assert!(human.stdout.contains("commit-message"), "{}", human.stdout);
    assert_no_raw(&human, &[&secret]);
}

#[test]
fn secrets_only_in_stashes_including_older_ones() {
    let mut repo = Repo::new();
    let first = token("stash-one");
    let second = token("stash-two");
    repo.write("settings.ini", "[auth]\n");
    repo.commit("initial");
    repo.write("settings.ini", &format!("[auth]\ntoken = {first}\n"));
    repo.git(&["stash", "-q"]);
    repo.write("settings.ini", &format!("[auth]\nkey = {second}\n"));
    repo.git(&["stash", "-q"]);

    let (r, v) = repo.scan(&[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    for (secret, column) in [(&first, 9), (&second, 7)] {
        let locs = locations_of(&v, secret);
        assert!(!locs.is_empty(), "stashed secret not found: {v:#}");
        for (source, path, commit, line, col) in locs {
            assert_eq!(
                (source.as_str(), path.as_str(), line, col),
                ("git", "settings.ini", 2, column)
            );
            assert_eq!(commit.len(), 40);
        }
    }
    assert_no_raw(&r, &[&first, &second]);
}

#[test]
fn one_blob_in_fifty_commits_and_three_paths_is_one_finding_per_path() {
    let mut repo = Repo::new();
    let secret = token("fifty-commits");
    let content = format!("# service credentials\nGITHUB_TOKEN={secret}\n");
    repo.write("a.env", &content);
    let first = repo.commit("commit 1");
    let mut at_b = String::new();
    let mut at_c = String::new();
    for n in 2..=50 {
        repo.write("counter.txt", &format!("{n}\n"));
        match n {
            20 => repo.write("deploy/b.env", &content),
            35 => repo.write("c.env", &content),
            // Removed and re-added at the same path: still one location,
            // introduced by commit 1.
            40 => std::fs::remove_file(repo.path().join("a.env")).expect("rm"),
            41 => repo.write("a.env", &content),
            _ => {}
        }
        let id = repo.commit(&format!("commit {n}"));
        match n {
            20 => at_b = id,
            35 => at_c = id,
            _ => {}
        }
    }

    let (r, v) = repo.scan(&[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let mut expected = vec![
        git_loc("a.env", &first, 2, 14),
        git_loc("deploy/b.env", &at_b, 2, 14),
        git_loc("c.env", &at_c, 2, 14),
    ];
    expected.sort();
    assert_eq!(locations_of(&v, &secret), expected);
    for f in findings(&v) {
        // a.env twice, deploy/b.env and c.env once each.
        assert_eq!(f["location"]["occurrences"], 4, "{f:#}");
    }
    assert_eq!(findings(&v).len(), 3, "{v:#}");
    assert_no_raw(&r, &[&secret]);
}

#[test]
fn staged_on_a_first_commit() {
    let repo = Repo::new();
    let staged = token("staged-first");
    let unstaged = token("unstaged-first");
    repo.write("src/config.py", &format!("TOKEN = \"{staged}\"\n"));
    repo.write("notes.txt", "nothing here\n");
    repo.git(&["add", "src/config.py", "notes.txt"]);
    repo.write("scratch.txt", &format!("{unstaged}\n"));

    let (r, v) = repo.scan(&["--staged"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        locations_of(&v, &staged),
        vec![(
            "git-staged".into(),
            "src/config.py".into(),
            String::new(),
            1,
            10
        )]
    );
    assert!(locations_of(&v, &unstaged).is_empty(), "{v:#}");
    assert_eq!(findings(&v).len(), 1);
    assert_no_raw(&r, &[&staged, &unstaged]);
}

#[test]
fn staged_on_a_later_commit_is_only_the_staged_change() {
    let mut repo = Repo::new();
    let committed = token("staged-committed");
    let staged = token("staged-later");
    let unstaged = token("staged-unstaged");
    repo.write("old.env", &format!("A={committed}\n"));
    repo.write("app/settings.toml", "debug = false\n");
    repo.write("app/deep/x.txt", "x\n");
    repo.commit("initial");
    repo.write(
        "app/settings.toml",
        &format!("debug = false\ntoken = \"{staged}\"\n"),
    );
    repo.git(&["add", "app/settings.toml"]);
    // Changed after staging: the work tree is not what would be committed.
    repo.write(
        "app/settings.toml",
        &format!("debug = false\ntoken = \"{staged}\"\nother = \"{unstaged}\"\n"),
    );
    repo.write("loose.txt", &format!("{unstaged}\n"));

    let (r, v) = repo.scan(&["--staged"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        locations_of(&v, &staged),
        vec![(
            "git-staged".into(),
            "app/settings.toml".into(),
            String::new(),
            2,
            10
        )]
    );
    assert_eq!(findings(&v).len(), 1, "{v:#}");

    // Nothing staged: nothing found, whatever history holds.
    repo.git(&["reset", "-q"]);
    let (r, v) = repo.scan(&["--staged"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(findings(&v).is_empty());
}

#[test]
fn range_scan_excludes_secrets_introduced_before_it() {
    let mut repo = Repo::new();
    let before = token("range-before");
    let inside = token("range-inside");
    repo.write("old.env", &format!("T={before}\n"));
    let base = repo.commit("old secret");
    repo.write("README.md", "hello\n");
    repo.commit("docs");
    repo.write("new.env", &format!("T={inside}\n"));
    let added = repo.commit("new secret");
    repo.write("README.md", "hello again\n");
    repo.commit("more docs");

    for args in [
        vec!["--range".to_string(), format!("{base}..main")],
        vec!["--since".to_string(), base.clone()],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (r, v) = repo.scan(&args);
        assert_eq!(r.code, 1, "{}", r.stderr);
        assert_eq!(
            locations_of(&v, &inside),
            vec![git_loc("new.env", &added, 1, 3)]
        );
        assert!(locations_of(&v, &before).is_empty(), "{v:#}");
    }
    // A range with nothing new finds nothing.
    let (r, v) = repo.scan(&["--range", "HEAD..HEAD"]);
    assert_eq!(r.code, 0);
    assert!(findings(&v).is_empty());
    // Bad ranges and revisions are errors, not empty scans.
    assert_eq!(
        run(&["scan", "git", repo.root(), "--range", "main"]).code,
        2
    );
    assert_eq!(
        run(&["scan", "git", repo.root(), "--since", "no-such-rev"]).code,
        2
    );
}

#[test]
fn a_missing_object_is_a_warning_and_the_rest_is_scanned() {
    let mut repo = Repo::new();
    let secret = token("missing-object");
    repo.write("keep.env", &format!("T={secret}\n"));
    repo.write("lost.txt", "this blob will be deleted\n");
    repo.commit("initial");
    let lost = repo.git(&["rev-parse", "HEAD:lost.txt"]);
    let object = repo
        .path()
        .join(".git/objects")
        .join(&lost[..2])
        .join(&lost[2..]);
    std::fs::remove_file(&object).expect("remove loose object");

    let (r, v) = repo.scan(&[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains(&lost), "{}", r.stderr);
    assert!(v["stats"]["errors"].as_u64() >= Some(1), "{v:#}");
    assert_eq!(locations_of(&v, &secret).len(), 1);
    assert_no_raw(&r, &[&secret]);
}

#[test]
fn bare_repositories_scan_and_refuse_staged() {
    let mut repo = Repo::new();
    let secret = token("bare-repo");
    repo.write("a.env", &format!("T={secret}\n"));
    let id = repo.commit("initial");
    let bare = tempfile::tempdir().expect("tempdir");
    let bare_path = bare.path().join("r.git");
    let out = Command::new("git")
        .args(["clone", "-q", "--bare", repo.root()])
        .arg(&bare_path)
        .output()
        .expect("clone");
    assert!(out.status.success());
    let path = bare_path.to_str().expect("utf-8");
    let r = run(&["scan", "git", path, "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        locations_of(&json(&r), &secret),
        vec![git_loc("a.env", &id, 1, 3)]
    );
    assert_eq!(run(&["scan", "git", path, "--staged"]).code, 2);
}

#[test]
fn shallow_clones_say_so() {
    let mut repo = Repo::new();
    let old = token("shallow-old");
    let new = token("shallow-new");
    repo.write("a.env", &format!("T={old}\n"));
    repo.commit("old");
    repo.write("a.env", &format!("T={new}\n"));
    repo.commit("new");
    let clone = tempfile::tempdir().expect("tempdir");
    let url = format!("file://{}", repo.root());
    let out = Command::new("git")
        .args(["clone", "-q", "--depth", "1", &url])
        .arg(clone.path().join("c"))
        .output()
        .expect("clone");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = clone.path().join("c");
    let r = run(&[
        "scan",
        "git",
        path.to_str().expect("utf-8"),
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("shallow"), "{}", r.stderr);
    let v = json(&r);
    assert_eq!(locations_of(&v, &new).len(), 1);
    assert!(locations_of(&v, &old).is_empty());
    assert_eq!(v["stats"]["errors"], 0, "{}", r.stderr);
}

#[test]
fn a_secret_kept_while_the_file_changes_is_one_finding_at_its_first_commit() {
    let mut repo = Repo::new();
    let t = token("versions");
    repo.write("config/app.env", &format!("GH={t}\nVERSION=0\n"));
    let first = repo.commit("add config");
    for v in 1..=5 {
        repo.write("config/app.env", &format!("GH={t}\nVERSION={v}\n"));
        repo.commit(&format!("bump to {v}"));
    }
    let (r, v) = repo.scan(&[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        locations_of(&v, &t),
        vec![git_loc("config/app.env", &first, 1, 4)],
        "six versions of one file are one copy"
    );
    let f = findings(&v)
        .iter()
        .find(|f| f["fingerprint"] == fingerprint(&t).as_str())
        .expect("finding");
    assert_eq!(f["location"]["occurrences"], 6);
    assert_no_raw(&r, &[&t]);
}

#[test]
fn jsonl_streams_git_findings_without_pasted_secrets() {
    let mut repo = Repo::new();
    let (in_file, only_in_message) = (token("jsonl-file"), token("jsonl-message"));
    repo.write("app.env", &format!("GITHUB_TOKEN={in_file}\n"));
    // The summary of the file's finding quotes both tokens.
    repo.commit(&format!("add {in_file} and {only_in_message}"));
    let r = run(&["scan", "git", repo.root(), "--format", "jsonl"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let lines: Vec<Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let file_line = lines
        .iter()
        .find(|l| l["type"] == "finding" && l["location"]["source"] == "git")
        .expect("the file's finding line");
    assert_eq!(
        file_line["location"]["summary"],
        "add ghp_…(40) and ghp_…(40)"
    );
    assert!(lines
        .iter()
        .any(|l| l["type"] == "finding" && l["location"]["source"] == "git-commit-message"));
    assert_eq!(lines.last().expect("summary")["type"], "summary");
    assert_no_raw(&r, &[&in_file, &only_in_message]);
}

/// Findings of one secret, as their JSON locations.
fn locations_json<'a>(v: &'a Value, secret: &str) -> Vec<&'a Value> {
    let fp = fingerprint(secret);
    findings(v)
        .iter()
        .filter(|f| f["fingerprint"] == fp.as_str())
        .map(|f| &f["location"])
        .collect()
}

/// Writes `text` as a blob no commit references (`git hash-object -w`),
/// leaving no file behind; returns its id.
fn dangling_blob(repo: &Repo, text: &str) -> String {
    repo.write("scratch.tmp", text);
    let id = repo.git(&["hash-object", "-w", "scratch.tmp"]);
    std::fs::remove_file(repo.path().join("scratch.tmp")).expect("rm");
    id
}

/// Commits `deploy.env` holding `secret` with `message`, then amends the
/// file away; returns the old commit's id. Reflogs are expired so nothing
/// reaches it any more.
fn amended_away(repo: &mut Repo, secret: &str, message: &str) -> String {
    repo.write("deploy.env", &format!("HOST=prod\nGITHUB_TOKEN={secret}\n"));
    repo.write("notes.txt", "draft\n");
    let old = repo.commit(message);
    std::fs::remove_file(repo.path().join("deploy.env")).expect("rm");
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "--amend", "-m", "add notes"]);
    repo.git(&["reflog", "expire", "--expire=now", "--all"]);
    old
}

/// Stashes a change to `settings.ini` holding `secret`, then drops the
/// stash; returns the stash commit's id.
fn dropped_stash(repo: &Repo, secret: &str) -> String {
    repo.write("settings.ini", &format!("[auth]\ntoken = {secret}\n"));
    repo.git(&["stash", "-q"]);
    let stash = repo.git(&["rev-parse", "refs/stash"]);
    repo.git(&["stash", "drop", "-q"]);
    repo.git(&["reflog", "expire", "--expire=now", "--all"]);
    stash
}

#[test]
fn all_objects_finds_a_dangling_blob_once() {
    let mut repo = Repo::new();
    let secret = token("dangling-blob");
    repo.write("README.md", "hello\n");
    repo.commit("initial");
    let blob = dangling_blob(&repo, &format!("export GH={secret}\n"));

    let (r, v) = repo.scan(&[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(locations_of(&v, &secret).is_empty(), "{v:#}");

    let (r, v) = repo.scan(&["--all-objects"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let found = locations_json(&v, &secret);
    assert_eq!(found.len(), 1, "{v:#}");
    let loc = found[0];
    assert_eq!(loc["source"], "git");
    assert_eq!(loc["path"], "");
    assert_eq!(loc["blob"], blob.as_str());
    assert_eq!(loc["unreachable"], true);
    assert!(loc.get("commit").is_none(), "{loc:#}");
    assert_eq!(
        (loc["line"].as_u64(), loc["column"].as_u64()),
        (Some(1), Some(11))
    );
    assert_eq!(v["stats"]["errors"], 0, "{}", r.stderr);
    assert_no_raw(&r, &[&secret]);

    let human = run(&["scan", "git", repo.root(), "--all-objects"]);
    assert_eq!(human.code, 1, "{}", human.stderr);
    assert!(
        human
            .stdout
            .contains(&format!("unreachable blob {} 1:11", &blob[..12])),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains(&blob), "{}", human.stdout);
    assert_no_raw(&human, &[&secret]);

    // A ticket says where in plain words.
    let tickets = tempfile::tempdir().expect("tempdir");
    let dir = tickets.path().to_str().expect("utf-8");
    let t = run(&[
        "scan",
        "git",
        repo.root(),
        "--all-objects",
        "--tickets",
        dir,
    ]);
    assert_eq!(t.code, 1, "{}", t.stderr);
    let md: String = std::fs::read_dir(tickets.path())
        .expect("tickets")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .map(|p| std::fs::read_to_string(p).expect("read"))
        .collect();
    let copy = md
        .lines()
        .find(|l| l.contains("in unreachable blob"))
        .unwrap_or_else(|| panic!("no unreachable copy: {md}"));
    assert!(
        copy.starts_with(&format!("- in unreachable blob {} of /", &blob[..7]))
            && copy.ends_with(" (no commit references it), line 1"),
        "{copy}"
    );
}

#[test]
fn all_objects_finds_a_commit_amended_away_with_its_message() {
    let mut repo = Repo::new();
    let secret = token("amended-away");
    let in_message = token("amended-message");
    repo.write("README.md", "hello\n");
    repo.commit("initial");
    let old = amended_away(
        &mut repo,
        &secret,
        &format!("add deploy config\n\nci token {in_message}"),
    );

    let (r, v) = repo.scan(&[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(findings(&v).is_empty(), "{v:#}");

    let (r, v) = repo.scan(&["--all-objects"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        locations_of(&v, &secret),
        vec![git_loc("deploy.env", &old, 2, 14)]
    );
    let loc = locations_json(&v, &secret)[0];
    assert_eq!(loc["summary"], "add deploy config");
    assert_eq!(loc["unreachable"], true);
    assert_eq!(loc["occurrences"], 1);
    assert_eq!(
        locations_of(&v, &in_message),
        vec![(
            "git-commit-message".into(),
            String::new(),
            old.clone(),
            3,
            10
        )]
    );
    assert_eq!(v["stats"]["errors"], 0, "{}", r.stderr);
    assert_no_raw(&r, &[&secret, &in_message]);

    let human = run(&["scan", "git", repo.root(), "--all-objects"]);
    assert!(
        human.stdout.contains(&format!("{}:deploy.env", &old[..12])),
        "{}",
        human.stdout
    );
    assert!(
        human
            .stdout
            .contains(&format!("commit {old} (unreachable)")),
        "{}",
        human.stdout
    );
    assert_no_raw(&human, &[&secret, &in_message]);
}

#[test]
fn all_objects_finds_a_dropped_stash() {
    let mut repo = Repo::new();
    let secret = token("dropped-stash");
    repo.write("settings.ini", "[auth]\n");
    repo.commit("initial");
    let stash = dropped_stash(&repo, &secret);

    let (r, v) = repo.scan(&[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(findings(&v).is_empty(), "{v:#}");

    let (r, v) = repo.scan(&["--all-objects"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        locations_of(&v, &secret),
        vec![git_loc("settings.ini", &stash, 2, 9)]
    );
    assert_eq!(locations_json(&v, &secret)[0]["unreachable"], true);
    assert_no_raw(&r, &[&secret]);
}

#[test]
fn all_objects_reports_a_blob_both_reachable_and_unreachable_once() {
    let mut repo = Repo::new();
    let secret = token("reachable-and-not");
    let content = format!("GITHUB_TOKEN={secret}\n");
    repo.write("README.md", "hello\n");
    repo.commit("initial");
    // The same blob at the same path in a commit amended away (at the same
    // time: the reachable one is the first introducer on a tie) and in the
    // commit that replaced it, and written once more on its own.
    repo.write("app.env", &content);
    repo.write("notes.txt", "draft\n");
    let old = repo.commit("add app config (draft)");
    repo.write("notes.txt", "final\n");
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "--amend", "-m", "add app config"]);
    let kept = repo.git(&["rev-parse", "HEAD"]);
    assert_ne!(old, kept);
    repo.git(&["reflog", "expire", "--expire=now", "--all"]);
    dangling_blob(&repo, &content);

    let (r, v) = repo.scan(&["--all-objects"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        locations_of(&v, &secret),
        vec![git_loc("app.env", &kept, 1, 14)]
    );
    let loc = locations_json(&v, &secret)[0];
    assert!(loc.get("unreachable").is_none(), "{loc:#}");
    // Added by the reachable commit and by the amended one.
    assert_eq!(loc["occurrences"], 2);
    assert_eq!(findings(&v).len(), 1, "{v:#}");
    // Read once each: README.md, app.env, both notes.txt, and the three
    // commit messages; the dangling copy of app.env is no blob of its own.
    assert_eq!(v["stats"]["blobs"], 7, "{v:#}");
    assert_no_raw(&r, &[&secret]);

    let (r, v) = repo.scan(&[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        locations_of(&v, &secret),
        vec![git_loc("app.env", &kept, 1, 14)]
    );
}

#[test]
fn all_objects_lists_packed_unreachable_objects() {
    let mut repo = Repo::new();
    let (in_blob, in_amended, in_stash) = (
        token("packed-dangling"),
        token("packed-amended"),
        token("packed-stash"),
    );
    repo.write("settings.ini", "[auth]\n");
    repo.commit("initial");
    let blob = dangling_blob(&repo, &format!("{in_blob}\n"));
    let old = amended_away(&mut repo, &in_amended, "add deploy config");
    let stash = dropped_stash(&repo, &in_stash);
    // Packed, unreachable objects kept (in a cruft pack on recent git), and
    // no loose object left.
    repo.git(&["-c", "gc.pruneExpire=never", "gc", "-q"]);
    let counts = repo.git(&["count-objects", "-v"]);
    assert!(counts.lines().any(|l| l == "count: 0"), "{counts}");

    let (r, v) = repo.scan(&[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(findings(&v).is_empty(), "{v:#}");

    let (r, v) = repo.scan(&["--all-objects"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let dangling = locations_json(&v, &in_blob);
    assert_eq!(dangling.len(), 1, "{v:#}");
    assert_eq!(dangling[0]["blob"], blob.as_str());
    assert_eq!(
        locations_of(&v, &in_amended),
        vec![git_loc("deploy.env", &old, 2, 14)]
    );
    assert_eq!(
        locations_of(&v, &in_stash),
        vec![git_loc("settings.ini", &stash, 2, 9)]
    );
    assert_eq!(findings(&v).len(), 3, "{v:#}");
    assert_eq!(v["stats"]["errors"], 0, "{}", r.stderr);
    assert_no_raw(&r, &[&in_blob, &in_amended, &in_stash]);
}

#[test]
fn all_objects_scans_an_unreachable_trees_blob_and_passes_over_an_unreachable_tag() {
    let mut repo = Repo::new();
    let secret = token("unreachable-tree");
    repo.write("README.md", "hello\n");
    repo.commit("initial");
    // A tree no commit references (`git write-tree`), then unstaged.
    repo.write("ci/token.env", &format!("T={secret}\n"));
    let blob = repo.git(&["hash-object", "ci/token.env"]);
    repo.git(&["add", "ci/token.env"]);
    repo.git(&["write-tree"]);
    repo.git(&["reset", "-q"]);
    std::fs::remove_file(repo.path().join("ci/token.env")).expect("rm");
    // An annotated tag deleted again: its object stays behind.
    repo.git(&["tag", "-a", "v0.1", "-m", "first release"]);
    repo.git(&["tag", "-d", "v0.1"]);

    let (r, v) = repo.scan(&["--all-objects"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let found = locations_json(&v, &secret);
    assert_eq!(found.len(), 1, "{v:#}");
    assert_eq!(found[0]["blob"], blob.as_str());
    assert_eq!(found[0]["unreachable"], true);
    assert_eq!(found[0]["path"], "");
    assert_eq!(v["stats"]["errors"], 0, "{}", r.stderr);
    assert_no_raw(&r, &[&secret]);
}

#[test]
fn all_objects_warns_about_a_corrupt_unreachable_object_and_scans_the_rest() {
    let mut repo = Repo::new();
    let secret = token("corrupt-neighbour");
    repo.write("README.md", "hello\n");
    repo.commit("initial");
    let kept = dangling_blob(&repo, &format!("{secret}\n"));
    let broken = dangling_blob(&repo, "soon garbage\n");
    let object = repo
        .path()
        .join(".git/objects")
        .join(&broken[..2])
        .join(&broken[2..]);
    // Loose objects are read-only: replace the file rather than write it.
    std::fs::remove_file(&object).expect("remove loose object");
    std::fs::write(&object, b"not zlib at all").expect("write garbage");

    let (r, v) = repo.scan(&["--all-objects"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains(&broken), "{}", r.stderr);
    assert!(v["stats"]["errors"].as_u64() >= Some(1), "{v:#}");
    let found = locations_json(&v, &secret);
    assert_eq!(found.len(), 1, "{v:#}");
    assert_eq!(found[0]["blob"], kept.as_str());
    assert_no_raw(&r, &[&secret]);
}

#[test]
fn all_objects_refuses_the_narrower_modes() {
    let mut repo = Repo::new();
    repo.write("README.md", "hello\n");
    let head = repo.commit("initial");
    for extra in [
        vec!["--staged"],
        vec!["--since", head.as_str()],
        vec!["--range", "HEAD..HEAD"],
    ] {
        let mut args = vec!["scan", "git", repo.root(), "--all-objects"];
        args.extend(extra);
        let r = run(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains("cannot be used with"), "{}", r.stderr);
    }
}
