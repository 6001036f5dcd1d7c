//! The composite GitHub Action (`action.yml`): its inputs and steps, and its
//! scan step's script run for real against a scratch repository the way a
//! push event would run it.

mod common;

use std::path::Path;
use std::process::Command;

use common::repo::Repo;
use common::token;
use serde_norway::Value;

fn action() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml");
    let text = std::fs::read_to_string(path).expect("read action.yml");
    serde_norway::from_str(&text).expect("action.yml is YAML")
}

fn steps(a: &Value) -> &Vec<Value> {
    a["runs"]["steps"].as_sequence().expect("runs.steps")
}

fn step<'a>(a: &'a Value, name: &str) -> &'a Value {
    steps(a)
        .iter()
        .find(|s| s["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no step named {name}"))
}

#[test]
fn the_action_is_composite_with_documented_inputs_and_no_secret_printing() {
    let a = action();
    assert_eq!(a["runs"]["using"].as_str(), Some("composite"));
    let inputs = a["inputs"].as_mapping().expect("inputs");
    for name in [
        "path",
        "range",
        "sarif-file",
        "tickets-dir",
        "upload-sarif",
        "upload-tickets",
        "args",
    ] {
        let input = inputs
            .get(name)
            .unwrap_or_else(|| panic!("input {name} missing"));
        assert!(
            input["description"].as_str().is_some_and(|d| !d.is_empty()),
            "input {name} has no description"
        );
        assert!(
            input.get("default").is_some(),
            "input {name} has no default"
        );
    }
    assert!(a["outputs"]["exit-code"]["value"]
        .as_str()
        .is_some_and(|v| v.contains("steps.scan.outputs.exit-code")));
    for s in steps(&a) {
        if s.get("run").is_some() {
            assert!(
                s["shell"].as_str().is_some(),
                "run step without shell: {s:?}"
            );
        }
        let text = serde_norway::to_string(s).expect("serialize step");
        assert!(
            !text.contains("--show-secrets"),
            "a step prints raw secrets"
        );
    }
    assert_eq!(
        step(&a, "Upload SARIF")["uses"].as_str(),
        Some("github/codeql-action/upload-sarif@v3")
    );
    assert_eq!(
        step(&a, "Upload tickets")["uses"].as_str(),
        Some("actions/upload-artifact@v4")
    );
    // Inputs reach scripts through env, never spliced into the script text
    // (a branch name or input must not be able to inject shell).
    for s in steps(&a) {
        if let Some(run) = s["run"].as_str() {
            assert!(!run.contains("${{"), "expression inside a script: {run}");
        }
    }
}

/// Runs the Scan step's script as a push event would: `--since` the
/// before-SHA, so only what the push added is scanned.
fn run_scan_step(repo: &Repo, before: &str, work: &Path) -> (i32, String, String) {
    let a = action();
    let script = step(&a, "Scan")["run"].as_str().expect("scan script");
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_leakhound"))
        .parent()
        .expect("binary dir")
        .to_path_buf();
    let output = work.join("github_output");
    std::fs::write(&output, "").expect("create GITHUB_OUTPUT");
    let out = Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(work)
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin_dir.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env("NO_COLOR", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("LH_PATH", repo.root())
        .env("LH_RANGE", "")
        .env("LH_SARIF", work.join("out.sarif"))
        .env("LH_TICKETS", work.join("tickets"))
        .env("LH_ARGS", "")
        .env("EVENT_NAME", "push")
        .env("BEFORE_SHA", before)
        .env("PR_BASE", "")
        .env("PR_HEAD", "")
        .env("GITHUB_OUTPUT", &output)
        .output()
        .expect("run bash");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.code().expect("exit code"),
        std::fs::read_to_string(&output).expect("read GITHUB_OUTPUT"),
        said,
    )
}

#[test]
fn the_scan_step_scans_the_pushed_range_and_writes_sarif_and_tickets() {
    let mut repo = Repo::new();
    let old = token("action-old-history");
    repo.write("old.env", &format!("TOKEN={old}\n"));
    let before = repo.commit("before the push");
    let new = token("action-pushed");
    repo.write("app/settings.env", &format!("GITHUB_TOKEN={new}\n"));
    repo.commit("the push");
    let work = tempfile::tempdir().expect("tempdir");

    let (code, outputs, said) = run_scan_step(&repo, &before, work.path());
    assert_eq!(code, 0, "the script itself must succeed: {said}");
    assert!(outputs.contains("exit-code=1"), "{outputs}");
    assert!(said.contains("::error::leakhound found secrets"), "{said}");
    let sarif = std::fs::read_to_string(work.path().join("out.sarif")).expect("sarif written");
    let v: serde_json::Value = serde_json::from_str(&sarif).expect("sarif is JSON");
    let uris: Vec<&str> = v["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str())
        .collect();
    assert_eq!(
        uris,
        ["app/settings.env"],
        "only the pushed range is scanned"
    );
    let tickets = std::fs::read_dir(work.path().join("tickets"))
        .expect("tickets dir")
        .count();
    assert!(tickets >= 1);
    for s in [&old, &new] {
        assert!(!said.contains(s.as_str()) && !sarif.contains(s.as_str()));
    }

    // A branch's first push (before = zeros): full history.
    let (_, outputs, _) = run_scan_step(
        &repo,
        "0000000000000000000000000000000000000000",
        work.path(),
    );
    assert!(outputs.contains("exit-code=1"), "{outputs}");
    let sarif = std::fs::read_to_string(work.path().join("out.sarif")).expect("sarif written");
    assert!(sarif.contains("old.env") && sarif.contains("app/settings.env"));
}
