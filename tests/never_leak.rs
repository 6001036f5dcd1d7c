//! Never leak: every scan subcommand, in every output format, with tickets
//! in every ticket format, over inputs full of planted secrets. No planted
//! value may appear in stdout, stderr, the report file or any ticket unless
//! `--show-secrets` was given (and then never in SARIF or tickets).

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::image::{self as img, Image, Layer};
use common::registry::TestRegistry;
use common::repo::Repo;
use common::{json, run, token};

const FORMATS: [&str; 4] = ["human", "json", "jsonl", "sarif"];

fn fixtures(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(dir)
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// The raw values a scan finds, read back with `--show-secrets`.
fn planted(args: &[&str]) -> BTreeSet<String> {
    let mut a = args.to_vec();
    a.extend(["--format", "json", "--show-secrets", "--no-progress"]);
    let r = run(&a);
    assert_eq!(r.code, 1, "{a:?} found nothing: {}", r.stderr);
    json(&r)["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["secret"].as_str().expect("secret shown").to_string())
        .collect()
}

/// Every file under `dir`, as text.
fn read_all(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries {
        let p = e.expect("entry").path();
        if p.is_dir() {
            out.extend(read_all(&p));
        } else {
            let text = String::from_utf8_lossy(&std::fs::read(&p).expect("read")).into_owned();
            out.push((p, text));
        }
    }
    out
}

/// Runs `args` in every format, to stdout and to `-o FILE`, with tickets
/// in every format, and checks that no value of `secrets` shows anywhere.
fn assert_never_leaks(name: &str, args: &[&str], secrets: &BTreeSet<String>) {
    assert!(!secrets.is_empty(), "{name}: nothing planted");
    for format in FORMATS {
        for to_file in [false, true] {
            let out = tempfile::tempdir().expect("tempdir");
            let tickets = out.path().join("tickets");
            let report = out.path().join("report.out");
            let mut a = args.to_vec();
            a.extend([
                "--format",
                format,
                "--no-progress",
                "--verbose",
                "--tickets",
                s(&tickets),
                "--tickets-format",
                "markdown",
                "--tickets-format",
                "github",
                "--tickets-format",
                "jira",
            ]);
            if to_file {
                a.extend(["--output", s(&report)]);
            }
            let r = run(&a);
            assert_eq!(r.code, 1, "{name} {format}: {}", r.stderr);
            let files = read_all(out.path());
            assert!(
                files.iter().any(|(p, _)| p.starts_with(&tickets)),
                "{name} {format}: no tickets written"
            );
            for secret in secrets {
                let shown = |where_: &str| {
                    format!("{name} --format {format} (to file: {to_file}): raw secret in {where_}")
                };
                assert!(!r.stdout.contains(secret.as_str()), "{}", shown("stdout"));
                assert!(!r.stderr.contains(secret.as_str()), "{}", shown("stderr"));
                for (p, text) in &files {
                    assert!(
                        !text.contains(secret.as_str()),
                        "{}",
                        shown(&p.display().to_string())
                    );
                }
            }
        }
    }
}

#[test]
fn scan_fs_never_leaks() {
    let root = fixtures("fs/positive");
    let args = ["scan", "fs", s(&root), "--no-ignore"];
    assert_never_leaks("scan fs", &args, &planted(&args));
}

/// A repository whose history, commit messages and staged changes hold
/// planted secrets.
fn leaky_repo() -> Repo {
    let mut repo = Repo::new();
    for (path, text) in read_all(&fixtures("fs/positive")) {
        let rel = path
            .strip_prefix(fixtures("fs/positive"))
            .expect("under fixtures");
        repo.write(s(rel), &text);
    }
    repo.commit(&format!(
        "import config; ci token {}",
        token("never-leak-message")
    ));
    repo.write(
        "later.env",
        &format!("TOKEN={}\n", token("never-leak-history")),
    );
    repo.commit("add later.env");
    repo.write("later.env", "TOKEN=${TOKEN}\n");
    repo.commit("read the token from the environment");
    repo.write(
        "staged.env",
        &format!("TOKEN={}\n", token("never-leak-staged")),
    );
    repo.git(&["add", "staged.env"]);
    repo
}

#[test]
fn scan_git_history_range_and_staged_never_leak() {
    let repo = leaky_repo();
    let history = ["scan", "git", repo.root()];
    assert_never_leaks("scan git", &history, &planted(&history));
    let range = ["scan", "git", repo.root(), "--range", "HEAD~2..HEAD"];
    assert_never_leaks("scan git --range", &range, &planted(&range));
    let staged = ["scan", "git", repo.root(), "--staged"];
    let secrets = planted(&staged);
    assert_never_leaks("scan git --staged", &staged, &secrets);
}

#[test]
fn scan_git_all_objects_never_leaks() {
    let mut repo = leaky_repo();
    // A blob no commit references, and a commit amended away with a secret
    // in its message and one in a file.
    repo.write(
        "dangling.env",
        &format!("TOKEN={}\n", token("never-leak-dangling")),
    );
    repo.git(&["hash-object", "-w", "dangling.env"]);
    std::fs::remove_file(repo.path().join("dangling.env")).expect("rm");
    repo.write(
        "amended.env",
        &format!("TOKEN={}\n", token("never-leak-amended")),
    );
    repo.commit(&format!(
        "add amended.env; token {}",
        token("never-leak-amended-message")
    ));
    std::fs::remove_file(repo.path().join("amended.env")).expect("rm");
    repo.write("README.md", "no secrets here\n");
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "--amend", "-m", "add README"]);
    repo.git(&["reflog", "expire", "--expire=now", "--all"]);
    let all = ["scan", "git", repo.root(), "--all-objects"];
    let secrets = planted(&all);
    for seed in [
        "never-leak-dangling",
        "never-leak-amended",
        "never-leak-amended-message",
    ] {
        assert!(secrets.contains(&token(seed)), "{seed} not found");
    }
    assert_never_leaks("scan git --all-objects", &all, &secrets);
}

#[test]
fn scan_ci_log_never_leaks() {
    let root = fixtures("ci-log");
    let args = ["scan", "ci-log", s(&root)];
    assert_never_leaks("scan ci-log", &args, &planted(&args));
}

#[test]
fn scan_env_never_leaks() {
    let root = fixtures("env");
    let args = ["scan", "env", s(&root)];
    assert_never_leaks("scan env", &args, &planted(&args));
}

#[test]
fn scan_k8s_never_leaks() {
    let root = fixtures("k8s");
    let files: Vec<String> = std::fs::read_dir(&root)
        .expect("k8s fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "json"))
        .map(|p| s(&p).to_string())
        .collect();
    let mut args = vec!["scan", "k8s"];
    for f in &files {
        args.extend(["-f", f.as_str()]);
    }
    assert_never_leaks("scan k8s -f", &args, &planted(&args));
}

/// An image whose layers hold the fs fixtures (one of them deleted by a
/// later layer) and whose config holds a token in `Env` and a build arg.
fn leaky_image() -> Image {
    let files = read_all(&fixtures("fs/positive"));
    let entries: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|(p, text)| {
            let rel = p
                .strip_prefix(fixtures("fs/positive"))
                .expect("under fixtures");
            (format!("app/{}", s(rel)), text.clone().into_bytes())
        })
        .collect();
    let refs: Vec<(&str, &[u8])> = entries
        .iter()
        .map(|(p, b)| (p.as_str(), b.as_slice()))
        .collect();
    let first = entries.first().expect("fixtures").0.clone();
    let (dir, name) = first.rsplit_once('/').expect("app/ prefix");
    let whiteout = format!("{dir}/.wh.{name}");
    let layers = vec![
        Layer::gzip(img::tar(&refs)),
        Layer::gzip(img::tar(&[(whiteout.as_str(), b"")])),
    ];
    let config = serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {"Env": [
            "PATH=/usr/bin",
            format!("GITHUB_TOKEN={}", token("never-leak-image-env")),
        ]},
        "history": [
            {"created_by": format!("|1 NPM_TOKEN={} /bin/sh -c npm ci", token("never-leak-build-arg"))},
            {"created_by": "/bin/sh -c rm app/secret"},
        ],
    });
    Image::new(layers, config)
}

#[test]
fn scan_image_and_registry_never_leak() {
    let image = leaky_image();
    let dir = tempfile::tempdir().expect("tempdir");
    let archive = dir.path().join("app.tar");
    image.write_docker_archive(&archive, "app:1.0");
    let reference = format!("docker-archive:{}", s(&archive));
    let args = ["scan", "image", reference.as_str()];
    let secrets = planted(&args);
    assert_never_leaks("scan image", &args, &secrets);

    let reg = TestRegistry::start();
    reg.push("team/app", "1.0", &image);
    let pulled = format!("{}/team/app:1.0", reg.host);
    let args = [
        "scan",
        "image",
        pulled.as_str(),
        "--insecure-registry",
        reg.host.as_str(),
    ];
    assert_never_leaks("scan image (registry)", &args, &planted(&args));
    let args = [
        "scan",
        "registry",
        reg.host.as_str(),
        "--insecure-registry",
        reg.host.as_str(),
    ];
    assert_never_leaks("scan registry", &args, &planted(&args));
}

/// A secret-laden input that cannot be parsed: the error names the input,
/// never its contents.
#[test]
fn errors_on_secret_laden_inputs_never_quote_them() {
    let secret = token("never-leak-error");
    let dir = tempfile::tempdir().expect("tempdir");
    let bad_rules = dir.path().join("rules.yaml");
    std::fs::write(
        &bad_rules,
        format!("rules:\n  - id: x.y\n    pattern: [unclosed {secret}\n"),
    )
    .expect("write");
    let bad_ignore = dir.path().join("ignore");
    std::fs::write(&bad_ignore, format!("{secret}\n")).expect("write");
    let bad_baseline = dir.path().join("baseline.json");
    std::fs::write(&bad_baseline, format!("{{\"findings\": [\"{secret}\"")).expect("write");
    let target = s(dir.path());
    for args in [
        vec!["scan", "fs", target, "--rules", s(&bad_rules)],
        vec!["rules", "check", s(&bad_rules)],
        vec!["scan", "fs", target, "--ignore-file", s(&bad_ignore)],
        vec!["scan", "fs", target, "--baseline", s(&bad_baseline)],
        vec!["scan", "env", s(&bad_baseline)],
        vec!["scan", "git", target],
    ] {
        let r = run(&args);
        assert_ne!(r.code, 0, "{args:?} should fail or find");
        assert!(
            !r.stdout.contains(&secret) && !r.stderr.contains(&secret),
            "{args:?} quoted the input: {}",
            r.stderr
        );
    }
}
