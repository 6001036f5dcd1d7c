//! End-to-end tests of exposures, owners and rotation tickets
//! (`--tickets DIR`) through the real binary.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::repo::Repo;
use common::{json, run, token, write, Run};
use serde_json::Value;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// `scan KIND ROOT --format json --tickets DIR EXTRA...`.
fn scan(kind: &str, root: &str, tickets: &Path, extra: &[&str]) -> (Run, Value) {
    let mut args = vec![
        "scan",
        kind,
        root,
        "--format",
        "json",
        "--tickets",
        s(tickets),
    ];
    args.extend_from_slice(extra);
    let r = run(&args);
    assert_eq!(r.code, 1, "stderr: {}", r.stderr);
    let v = json(&r);
    (r, v)
}

fn files(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .expect("read tickets dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect()
}

fn ticket(dir: &Path, id: &str) -> Value {
    let text = std::fs::read_to_string(dir.join(format!("{id}.json"))).expect("ticket json");
    serde_json::from_str(&text).expect("ticket is JSON")
}

fn fp_of(e: &Value) -> &str {
    e["fingerprint"].as_str().expect("fingerprint")
}

fn exposures(v: &Value) -> &Vec<Value> {
    v["exposures"].as_array().expect("exposures array")
}

/// No planted value in any output stream or any written ticket file.
fn assert_no_raw(runs: &[&Run], dir: &Path, secrets: &[&str]) {
    for secret in secrets {
        for r in runs {
            assert!(!r.stdout.contains(secret), "raw secret in stdout");
            assert!(!r.stderr.contains(secret), "raw secret in stderr");
        }
        for f in files(dir) {
            let text = std::fs::read_to_string(dir.join(&f)).expect("read ticket file");
            assert!(!text.contains(secret), "raw secret in {f}");
        }
    }
}

#[test]
fn one_token_in_two_files_is_one_exposure_and_one_ticket() {
    let tree = tempfile::tempdir().expect("tempdir");
    let tickets = tempfile::tempdir().expect("tempdir");
    let t = token("two-files");
    write(tree.path(), "a.env", &format!("GITHUB_TOKEN={t}\n"));
    write(tree.path(), "deploy/b.yml", &format!("token: {t}\n"));
    let (r, v) = scan("fs", s(tree.path()), tickets.path(), &[]);
    let ex = exposures(&v);
    assert_eq!(ex.len(), 1);
    let e = &ex[0];
    let id = e["id"].as_str().expect("id");
    assert!(id.starts_with("LH-") && id.len() == 15, "{id}");
    assert_eq!(e["copies"].as_array().expect("copies").len(), 2);
    assert_eq!(e["provider"], "GitHub");
    assert_eq!(e["severity"], "high");
    assert_eq!(e["rule"]["id"], "github.pat");
    assert_eq!(e["owner"], "unassigned");
    assert!(e["first_seen"].is_null());
    assert!(e["ticket"]
        .as_str()
        .expect("ticket")
        .ends_with(&format!("{id}.json")));
    for f in v["findings"].as_array().expect("findings") {
        assert_eq!(f["exposure"], id);
    }
    assert_eq!(
        files(tickets.path()),
        BTreeSet::from([format!("{id}.json"), format!("{id}.md")])
    );
    let tk = ticket(tickets.path(), id);
    assert_eq!(tk["status"], "open");
    assert_eq!(tk["copies"].as_array().expect("copies").len(), 2);
    assert_eq!(
        tk["rotation"]["revoke"],
        "https://github.com/settings/tokens"
    );
    let md = std::fs::read_to_string(tickets.path().join(format!("{id}.md"))).expect("md");
    assert!(
        md.contains("in file ") && md.contains("a.env line 1"),
        "{md}"
    );
    assert!(md.contains("- [ ] Revoke"), "{md}");
    assert!(md.contains("Verify the old value is dead"), "{md}");
    assert!(md.contains(e["fingerprint"].as_str().expect("fp")));

    // Human output ends with the exposures.
    let h = run(&["scan", "fs", s(tree.path())]);
    assert!(h.stdout.contains("1 exposure"), "{}", h.stdout);
    assert!(
        h.stdout.contains(&format!(
            "{id} GitHub GitHub personal access token (classic) [github.pat] severity high"
        )),
        "{}",
        h.stdout
    );
    let block: Vec<&str> = h
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with(id))
        .take_while(|l| !l.is_empty())
        .collect();
    assert!(block[1].contains("ghp_…(40)") && block[1].contains(fp_of(e)));
    let copies: Vec<&&str> = block.iter().filter(|l| l.starts_with("    ")).collect();
    assert_eq!(copies.len(), 2, "{block:?}");
    assert!(
        copies.iter().any(|l| l.ends_with("/a.env 1:14")),
        "{block:?}"
    );
    assert!(
        copies.iter().any(|l| l.ends_with("/deploy/b.yml 1:8")),
        "{block:?}"
    );
    assert!(
        block.contains(&format!("  ticket: {id} (not written; --tickets DIR writes it)").as_str())
    );
    // With --tickets the line names the ticket file.
    let h2 = run(&["scan", "fs", s(tree.path()), "--tickets", s(tickets.path())]);
    assert!(
        h2.stdout.contains(&format!(
            "  ticket: {}",
            s(&tickets.path().join(format!("{id}.json")))
        )),
        "{}",
        h2.stdout
    );
    assert_no_raw(&[&r, &h, &h2], tickets.path(), &[&t]);
}

#[test]
fn paired_aws_key_is_one_exposure() {
    let tree = tempfile::tempdir().expect("tempdir");
    let tickets = tempfile::tempdir().expect("tempdir");
    let key_id = "AKIAI3RUHGC3H25R7A2H";
    let secret = "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";
    write(
        tree.path(),
        "credentials",
        &format!("[default]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n"),
    );
    let (r, v) = scan("fs", s(tree.path()), tickets.path(), &[]);
    assert_eq!(v["findings"].as_array().expect("findings").len(), 2);
    let ex = exposures(&v);
    assert_eq!(ex.len(), 1, "{ex:?}");
    assert_eq!(ex[0]["fingerprints"].as_array().expect("fps").len(), 2);
    assert_eq!(files(tickets.path()).len(), 2);
    assert_no_raw(&[&r], tickets.path(), &[key_id, secret]);
}

#[test]
fn rerun_is_a_ledger_update() {
    let tree = tempfile::tempdir().expect("tempdir");
    let tickets = tempfile::tempdir().expect("tempdir");
    let t = token("ledger");
    write(tree.path(), "a.env", &format!("GITHUB_TOKEN={t}\n"));
    write(tree.path(), "b.txt", &format!("x {t}\n"));
    let (r1, v1) = scan("fs", s(tree.path()), tickets.path(), &[]);
    let id = exposures(&v1)[0]["id"].as_str().expect("id").to_string();
    let before = files(tickets.path());

    // Someone works the ticket.
    let mut tk = ticket(tickets.path(), &id);
    tk["status"] = Value::from("in-progress");
    tk["checklist"][0]["done"] = Value::from(true);
    std::fs::write(
        tickets.path().join(format!("{id}.json")),
        serde_json::to_string_pretty(&tk).expect("json"),
    )
    .expect("write");

    // Same tree: same id, no new file, status and checklist kept, no duplicate copies.
    let (r2, v2) = scan("fs", s(tree.path()), tickets.path(), &[]);
    assert_eq!(exposures(&v2)[0]["id"], id.as_str());
    assert_eq!(files(tickets.path()), before);
    let tk = ticket(tickets.path(), &id);
    assert_eq!(tk["status"], "in-progress");
    assert_eq!(tk["checklist"][0]["done"], true);
    assert_eq!(tk["copies"].as_array().expect("copies").len(), 2);
    assert!(r2.stderr.contains("0 created"), "{}", r2.stderr);
    let md = std::fs::read_to_string(tickets.path().join(format!("{id}.md"))).expect("md");
    assert!(
        md.contains("**in-progress**") && md.contains("- [x] Revoke"),
        "{md}"
    );

    // A new copy updates the ticket.
    write(tree.path(), "c/new.yml", &format!("gh: {t}\n"));
    let (r3, _) = scan("fs", s(tree.path()), tickets.path(), &[]);
    assert_eq!(files(tickets.path()), before);
    let tk = ticket(tickets.path(), &id);
    assert_eq!(tk["copies"].as_array().expect("copies").len(), 3);
    assert_eq!(tk["status"], "in-progress");
    assert_eq!(tk["last_scan"], "copies seen in the last scan");

    // Gone from the tree: the ticket stays, marked.
    for f in ["a.env", "b.txt", "c/new.yml"] {
        std::fs::remove_file(tree.path().join(f)).expect("rm");
    }
    let other = token("other");
    write(tree.path(), "d.env", &format!("GITHUB_TOKEN={other}\n"));
    let (r4, v4) = scan("fs", s(tree.path()), tickets.path(), &[]);
    let new_id = exposures(&v4)[0]["id"].as_str().expect("id").to_string();
    assert_ne!(new_id, id);
    let tk = ticket(tickets.path(), &id);
    assert_eq!(tk["last_scan"], "no copies seen in the last scan");
    assert_eq!(tk["status"], "in-progress");
    assert_eq!(tk["copies"].as_array().expect("copies").len(), 3);
    assert_eq!(files(tickets.path()).len(), 4);
    assert_no_raw(&[&r1, &r2, &r3, &r4], tickets.path(), &[&t, &other]);
}

#[test]
fn fs_and_git_scans_share_one_ticket() {
    let mut repo = Repo::new();
    let tickets = tempfile::tempdir().expect("tempdir");
    let t = token("fs-and-git");
    write(repo.dir.path(), "README.md", "hello\n");
    repo.commit("initial");
    write(
        repo.dir.path(),
        "config/app.env",
        &format!("GITHUB_TOKEN={t}\n"),
    );
    let added = repo.commit("add config");

    let (r1, v1) = scan("fs", repo.root(), tickets.path(), &[]);
    let id = exposures(&v1)[0]["id"].as_str().expect("id").to_string();
    assert_eq!(exposures(&v1)[0]["owner"], "unassigned");
    let (r2, v2) = scan("git", repo.root(), tickets.path(), &[]);
    assert_eq!(exposures(&v2)[0]["id"], id.as_str());
    assert_eq!(exposures(&v2)[0]["first_seen"], "2023-11-14T23:15:20+01:00");

    assert_eq!(files(tickets.path()).len(), 2);
    let tk = ticket(tickets.path(), &id);
    let sources: BTreeSet<&str> = tk["copies"]
        .as_array()
        .expect("copies")
        .iter()
        .map(|c| c["source"].as_str().expect("source"))
        .collect();
    assert_eq!(sources, BTreeSet::from(["fs", "git"]));
    assert_eq!(tk["owner"], "ada@analytical.engine");
    assert_eq!(tk["first_seen"], "2023-11-14T23:15:20+01:00");
    let md = std::fs::read_to_string(tickets.path().join(format!("{id}.md"))).expect("md");
    let words = format!(
        "since commit {} (2023-11-14, by ada@analytical.engine), at path config/app.env line 1",
        &added[..7]
    );
    assert!(md.contains("in git history of "), "{md}");
    assert!(md.contains(&words), "{md}");
    assert!(md.contains("author of introducing commit"), "{md}");

    // Running git again adds nothing.
    let (r3, _) = scan("git", repo.root(), tickets.path(), &[]);
    assert_eq!(
        ticket(tickets.path(), &id)["copies"]
            .as_array()
            .expect("copies")
            .len(),
        2
    );
    assert_eq!(files(tickets.path()).len(), 2);

    // A later fs scan, which knows no owner, keeps the one found before.
    let (r4, _) = scan("fs", repo.root(), tickets.path(), &[]);
    let tk = ticket(tickets.path(), &id);
    assert_eq!(tk["owner"], "ada@analytical.engine");
    assert_eq!(tk["copies"].as_array().expect("copies").len(), 2);
    assert_no_raw(&[&r1, &r2, &r3, &r4], tickets.path(), &[&t]);
}

/// The owner and deciding rule of the exposure of `secret` in `v`.
fn owner_of(v: &Value, secret: &str) -> (String, String) {
    let fp = leakhound::report::finding::fingerprint(secret.as_bytes());
    let e = exposures(v)
        .iter()
        .find(|e| e["fingerprint"] == fp.as_str())
        .expect("exposure of secret");
    (
        e["owner"].as_str().expect("owner").to_string(),
        e["owner_rule"].as_str().expect("owner_rule").to_string(),
    )
}

#[test]
fn owners_from_owners_file_codeowners_author_and_default() {
    let tickets = tempfile::tempdir().expect("tempdir");
    let tree = tempfile::tempdir().expect("tempdir");
    let root = tree.path();
    let (deploy, by_provider, in_src, elsewhere) = (
        token("owner-deploy"),
        token("owner-provider"),
        token("owner-src"),
        token("owner-elsewhere"),
    );
    // owners.yaml: a path glob, then a provider; CODEOWNERS is only consulted
    // when owners.yaml has no match.
    write(
        root,
        ".leakhound/owners.yaml",
        "owners:\n  - path: 'deploy/**'\n    owner: '@ops'\n  - provider: GitHub\n    rule: github.pat\n    owner: '@gh-admins'\n",
    );
    write(root, ".github/CODEOWNERS", "* @everyone\n/src/ @src-team\n");
    write(root, "deploy/prod.env", &format!("GITHUB_TOKEN={deploy}\n"));
    write(root, "notes.txt", &format!("{by_provider}\n"));
    let (_, v) = scan("fs", s(root), tickets.path(), &[]);
    assert_eq!(owner_of(&v, &deploy).0, "@ops");
    assert!(owner_of(&v, &deploy).1.contains("owners.yaml"));
    assert_eq!(owner_of(&v, &by_provider).0, "@gh-admins");

    // CODEOWNERS: the last matching pattern wins.
    std::fs::remove_dir_all(root.join(".leakhound")).expect("rm");
    write(
        root,
        "src/app/config.env",
        &format!("GITHUB_TOKEN={in_src}\n"),
    );
    write(root, "README.txt", &format!("{elsewhere}\n"));
    let (_, v) = scan("fs", s(root), tickets.path(), &[]);
    let (who, why) = owner_of(&v, &in_src);
    assert_eq!(who, "@src-team");
    assert!(why.contains("CODEOWNERS") && why.contains("/src/"), "{why}");
    assert_eq!(owner_of(&v, &elsewhere).0, "@everyone");
    let id = exposures(&v)
        .iter()
        .find(|e| e["owner"] == "@src-team")
        .expect("src exposure")["id"]
        .as_str()
        .expect("id")
        .to_string();
    let md = std::fs::read_to_string(tickets.path().join(format!("{id}.md"))).expect("md");
    assert!(
        md.contains("@src-team (decided by: .github/CODEOWNERS"),
        "{md}"
    );

    // No owner files: unassigned.
    let bare = tempfile::tempdir().expect("tempdir");
    write(bare.path(), "x.env", &format!("GITHUB_TOKEN={in_src}\n"));
    let r = run(&["scan", "fs", s(bare.path()), "--format", "json"]);
    let (who, why) = owner_of(&json(&r), &in_src);
    assert_eq!(who, "unassigned");
    assert!(why.starts_with("default"), "{why}");

    // Git history with no owner files: the introducing commit's author.
    let mut repo = Repo::new();
    write(
        repo.dir.path(),
        "app.env",
        &format!("GITHUB_TOKEN={elsewhere}\n"),
    );
    let commit = repo.commit("add app env");
    let r = run(&["scan", "git", repo.root(), "--format", "json"]);
    let (who, why) = owner_of(&json(&r), &elsewhere);
    assert_eq!(who, "ada@analytical.engine");
    assert!(why.contains(&commit[..12]), "{why}");
}

#[test]
fn github_and_jira_payloads() {
    let tree = tempfile::tempdir().expect("tempdir");
    let tickets = tempfile::tempdir().expect("tempdir");
    let t = token("payloads");
    write(tree.path(), "a.env", &format!("GITHUB_TOKEN={t}\n"));
    let (r, v) = scan(
        "fs",
        s(tree.path()),
        tickets.path(),
        &["--tickets-format", "github", "--tickets-format", "jira"],
    );
    let id = exposures(&v)[0]["id"].as_str().expect("id").to_string();
    assert_eq!(
        files(tickets.path()),
        BTreeSet::from([
            format!("{id}.json"),
            format!("{id}.github.json"),
            format!("{id}.jira.json"),
        ])
    );
    let read = |name: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(tickets.path().join(name)).expect("payload"))
            .expect("payload JSON")
    };
    let gh = read(&format!("{id}.github.json"));
    assert!(gh["title"].as_str().expect("title").contains(&id));
    assert!(gh["body"].as_str().expect("body").contains("## Checklist"));
    assert!(gh["labels"]
        .as_array()
        .expect("labels")
        .contains(&Value::from("leaked-secret")));
    let jira = read(&format!("{id}.jira.json"));
    assert!(jira["fields"]["summary"]
        .as_str()
        .expect("summary")
        .contains(&id));
    assert!(jira["fields"]["description"]
        .as_str()
        .expect("description")
        .contains("## Rotation"));
    assert!(jira["fields"]["labels"].as_array().expect("labels").len() >= 2);
    assert_no_raw(&[&r], tickets.path(), &[&t]);
}

#[test]
fn file_copies_are_the_same_from_any_directory() {
    let tree = tempfile::tempdir().expect("tempdir");
    let tickets = tempfile::tempdir().expect("tempdir");
    let t = token("any-cwd");
    write(tree.path(), "a.env", &format!("GITHUB_TOKEN={t}\n"));
    let (_, v) = scan("fs", s(tree.path()), tickets.path(), &[]);
    let id = exposures(&v)[0]["id"].as_str().expect("id").to_string();
    let out = common::bin()
        .current_dir(tree.path())
        .args(["scan", "fs", ".", "--tickets", s(tickets.path())])
        .output()
        .expect("run leakhound");
    assert_eq!(out.status.code(), Some(1));
    let tk = ticket(tickets.path(), &id);
    assert_eq!(tk["copies"].as_array().expect("copies").len(), 1, "{tk}");
    assert_eq!(files(tickets.path()).len(), 2);
}

#[test]
fn tickets_hold_no_raw_secret_even_with_show_secrets() {
    let mut repo = Repo::new();
    let tickets = tempfile::tempdir().expect("tempdir");
    let t = token("show-secrets");
    write(repo.dir.path(), "app.env", &format!("GITHUB_TOKEN={t}\n"));
    repo.commit(&format!("oops, pasted {t}"));
    let r = run(&[
        "scan",
        "git",
        repo.root(),
        "--format",
        "json",
        "--show-secrets",
        "--tickets",
        s(tickets.path()),
        "--tickets-format",
        "markdown",
        "--tickets-format",
        "github",
        "--tickets-format",
        "jira",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.contains(&t), "--show-secrets prints the value");
    assert_eq!(files(tickets.path()).len(), 4);
    let id = exposures(&json(&r))[0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let md = std::fs::read_to_string(tickets.path().join(format!("{id}.md"))).expect("md");
    assert!(md.contains("in the message of commit"), "{md}");
    assert_no_raw(&[], tickets.path(), &[&t]);
}

#[test]
fn owners_match_on_source_and_origin_fields() {
    let mut repo = Repo::new();
    let (infra, app, message) = (
        token("owners-infra"),
        token("owners-app"),
        token("owners-message"),
    );
    write(
        repo.dir.path(),
        ".leakhound/owners.yaml",
        r#"owners:
  - match: {image: "registry.example/app*"}   # no fs or git origin has an image
    owner: '@images'
  - match: {source: git, path: "infra/**"}
    owner: '@infra-history'
  - source: fs
    match: {path: "infra/**"}
    owner: '@infra-files'
  - match: {source: git-commit-message, email: "ada@*"}
    owner: '@messages'
  - source: 'git*'
    owner: '@git-anything'
"#,
    );
    write(
        repo.dir.path(),
        "infra/prod.env",
        &format!("GITHUB_TOKEN={infra}\n"),
    );
    write(
        repo.dir.path(),
        "src/app.env",
        &format!("GITHUB_TOKEN={app}\n"),
    );
    repo.commit(&format!("add config, see {message}"));

    let r = run(&["scan", "git", repo.root(), "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v = json(&r);
    let (who, why) = owner_of(&v, &infra);
    assert_eq!(who, "@infra-history");
    assert!(
        why.contains(r#"match {path: "infra/**", source: "git"}"#),
        "{why}"
    );
    assert_eq!(owner_of(&v, &message).0, "@messages");
    let (who, why) = owner_of(&v, &app);
    assert_eq!(who, "@git-anything");
    assert!(why.contains(r#"source "git*""#), "{why}");

    // The same files on disk: fs origins.
    let r2 = run(&["scan", "fs", repo.root(), "--format", "json"]);
    let v2 = json(&r2);
    assert_eq!(owner_of(&v2, &infra).0, "@infra-files");
    assert_eq!(owner_of(&v2, &app).0, "unassigned");

    // A bad glob is an error naming the file.
    write(
        repo.dir.path(),
        ".leakhound/owners.yaml",
        "owners:\n  - match: {path: 'infra/[a'}\n    owner: x\n",
    );
    let r3 = run(&["scan", "fs", repo.root(), "--format", "json"]);
    assert_eq!(r3.code, 2);
    assert!(r3.stderr.contains("owners.yaml"), "{}", r3.stderr);
    for r in [&r, &r2, &r3] {
        for t in [&infra, &app, &message] {
            assert!(!r.stdout.contains(t.as_str()) && !r.stderr.contains(t.as_str()));
        }
    }
}

/// Issue acceptance: one token in a working-tree file, in git history, in a
/// CI log and in an environment dump. `scan git`, `scan ci-log` and
/// `scan env` run one after another with the same `--tickets DIR` leave one
/// ticket listing every copy; re-running changes no id and adds no file; a
/// new copy updates the ticket.
#[test]
fn one_secret_across_git_ci_log_and_env_is_one_ticket_with_every_copy() {
    let mut repo = Repo::new();
    let tickets = tempfile::tempdir().expect("tempdir");
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let t = token("one-secret-every-copy");
    write(
        repo.dir.path(),
        "deploy/ci.env",
        &format!("DEPLOY_TOKEN={t}\n"),
    );
    repo.commit("add deploy settings");
    // Deleted from the tree later: still in history.
    std::fs::remove_file(repo.dir.path().join("deploy/ci.env")).expect("rm");
    write(
        repo.dir.path(),
        "deploy/ci.env",
        "DEPLOY_TOKEN=${DEPLOY_TOKEN}\n",
    );
    repo.commit("read the token from the environment");
    // The working tree keeps a copy in a file nobody committed.
    write(
        repo.dir.path(),
        "notes/handover.txt",
        &format!("token for deploys: {t}\n"),
    );
    let log = elsewhere.path().join("build-1234.log");
    std::fs::write(
        &log,
        format!(
            "2024-05-01T10:00:00.1234567Z ##[group]Run ./deploy.sh\n\
             2024-05-01T10:00:00.2234567Z + export DEPLOY_TOKEN={t}\n\
             2024-05-01T10:00:01.0000000Z ##[endgroup]\n"
        ),
    )
    .expect("write log");
    let dump = elsewhere.path().join("crash-env.txt");
    std::fs::write(
        &dump,
        format!("HOME=/home/app\nDEPLOY_TOKEN={t}\nLANG=C.UTF-8\n"),
    )
    .expect("write dump");

    let (r1, v1) = scan("git", repo.root(), tickets.path(), &[]);
    let (r2, v2) = scan("fs", repo.root(), tickets.path(), &[]);
    let (r3, v3) = scan("ci-log", s(&log), tickets.path(), &[]);
    let (r4, v4) = scan("env", s(&dump), tickets.path(), &[]);
    // Within each run the copies of the one secret are one exposure.
    let ids: BTreeSet<String> = [&v1, &v2, &v3, &v4]
        .iter()
        .map(|v| {
            let ex = exposures(v);
            assert_eq!(ex.len(), 1, "{v}");
            ex[0]["id"].as_str().expect("id").to_string()
        })
        .collect();
    assert_eq!(ids.len(), 1, "one exposure id across runs: {ids:?}");
    let id = ids.into_iter().next().expect("one id");
    let after_first = files(tickets.path());
    assert_eq!(
        after_first,
        BTreeSet::from([format!("{id}.json"), format!("{id}.md")])
    );
    let tk = ticket(tickets.path(), &id);
    let copies = tk["copies"].as_array().expect("copies");
    let sources: BTreeSet<&str> = copies
        .iter()
        .map(|c| c["source"].as_str().expect("source"))
        .collect();
    assert_eq!(sources, BTreeSet::from(["ci-log", "env", "fs", "git"]));
    let paths: BTreeSet<String> = copies
        .iter()
        .filter_map(|c| c["path"].as_str())
        .map(|p| p.rsplit('/').next().unwrap_or(p).to_string())
        .collect();
    for name in ["ci.env", "handover.txt", "build-1234.log", "crash-env.txt"] {
        assert!(paths.contains(name), "no copy in {name}: {paths:?}");
    }
    let md = std::fs::read_to_string(tickets.path().join(format!("{id}.md"))).expect("md");
    assert!(
        md.contains("build-1234.log") && md.contains("crash-env.txt"),
        "{md}"
    );
    // Seen first in history (the commit's date), last in the log (its
    // runner timestamp).
    assert_eq!(tk["first_seen"], "2023-11-14T23:14:20+01:00");
    assert_eq!(tk["last_seen"], "2024-05-01T10:00:00.1234567Z");

    // Re-running every scan: same id, no new file, same copies.
    let copies_before = copies.len();
    let (r5, _) = scan("git", repo.root(), tickets.path(), &[]);
    let (r6, _) = scan("ci-log", s(&log), tickets.path(), &[]);
    let (r7, _) = scan("env", s(&dump), tickets.path(), &[]);
    assert_eq!(files(tickets.path()), after_first);
    let tk = ticket(tickets.path(), &id);
    assert_eq!(
        tk["copies"].as_array().expect("copies").len(),
        copies_before
    );

    // A new copy (another job's log) updates the same ticket.
    let log2 = elsewhere.path().join("build-1235.log");
    std::fs::write(
        &log2,
        format!("+ curl -H 'Authorization: token {t}' https://api.github.com/user\n"),
    )
    .expect("write log");
    let (r8, v8) = scan("ci-log", s(&log2), tickets.path(), &[]);
    assert_eq!(exposures(&v8)[0]["id"], id.as_str());
    assert_eq!(files(tickets.path()), after_first);
    let tk = ticket(tickets.path(), &id);
    assert_eq!(
        tk["copies"].as_array().expect("copies").len(),
        copies_before + 1
    );
    assert_no_raw(
        &[&r1, &r2, &r3, &r4, &r5, &r6, &r7, &r8],
        tickets.path(),
        &[&t],
    );
}
