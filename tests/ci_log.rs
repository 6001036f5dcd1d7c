//! End-to-end tests of `leakhound scan ci-log` through the real binary:
//! fixture logs written the way GitHub Actions, GitLab CI and Jenkins
//! write them, a GitHub Actions log archive, stdin, archive limits.

mod common;

use std::io::Write as _;
use std::path::{Path, PathBuf};

use common::{json, run, token, Run};
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/ci-log")
}

fn fixture(name: &str) -> String {
    fixtures().join(name).to_string_lossy().into_owned()
}

/// One expected finding: 1-based line of the original file, text that
/// starts at the expected column on that line, rule, step, raw secret.
struct Want {
    line: u64,
    anchor: &'static str,
    rule: &'static str,
    step: Option<&'static str>,
    secret: &'static str,
}

/// `(line, column, rule, step, secret)` of every finding (run with
/// --show-secrets).
fn got(r: &Run) -> Vec<(u64, u64, String, Option<String>, String)> {
    let mut v: Vec<_> = json(r)["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let l = &f["location"];
            assert_eq!(l["source"], "ci-log");
            (
                l["line"].as_u64().expect("line"),
                l["column"].as_u64().expect("column"),
                f["rule"]["id"].as_str().expect("rule").to_string(),
                l["step"].as_str().map(str::to_string),
                f["secret"].as_str().expect("secret shown").to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

/// The expected findings, their columns read off the original file: the
/// byte offset of `anchor` on its line (escapes and prefixes included).
fn want(path: &str, wants: &[Want]) -> Vec<(u64, u64, String, Option<String>, String)> {
    let raw = std::fs::read(path).expect("fixture");
    let lines: Vec<&[u8]> = raw.split(|&b| b == b'\n').collect();
    let mut v: Vec<_> = wants
        .iter()
        .map(|w| {
            let line = lines[w.line as usize - 1];
            let at = line
                .windows(w.anchor.len())
                .position(|x| x == w.anchor.as_bytes())
                .unwrap_or_else(|| panic!("anchor {:?} not on line {}", w.anchor, w.line));
            (
                w.line,
                at as u64 + 1,
                w.rule.to_string(),
                w.step.map(str::to_string),
                w.secret.to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

fn scan_shown(path: &str) -> Run {
    let r = run(&[
        "scan",
        "ci-log",
        path,
        "--format",
        "json",
        "--show-secrets",
        "--no-progress",
    ]);
    assert_eq!(r.code, 1, "stderr: {}", r.stderr);
    r
}

const DEPLOY: Option<&str> = Some("Run ./scripts/deploy.sh");

#[test]
fn github_actions_log_exact_findings() {
    let path = fixture("github-actions.log");
    let wants = [
        Want {
            line: 11,
            anchor: "ghp_yk0F",
            rule: "github.pat",
            step: DEPLOY,
            secret: "ghp_yk0FfwQCAJqle9wvXUxBRfzMu3a6iirGMkjs",
        },
        Want {
            line: 17,
            anchor: "zuQqznrF",
            rule: "generic.authorization-bearer",
            step: DEPLOY,
            secret: "zuQqznrF2bVFXzazQcsGwMsoySG8Cl5M0p6Xf716",
        },
        Want {
            line: 19,
            anchor: "cww1nfrj",
            rule: "generic.session-cookie",
            step: DEPLOY,
            secret: "cww1nfrjm75wxc7hjcoue8dx0ca1lzjnoxoi",
        },
        // base64 of an .npmrc line: reported at the encoded text.
        Want {
            line: 22,
            anchor: "Ly9yZWdp",
            rule: "npm.access-token",
            step: DEPLOY,
            secret: "npm_IrfDLbmvZGcPzF5mq34ccy1YyEhbeTt0a8FM",
        },
        // A %-encoded URL with credentials.
        Want {
            line: 23,
            anchor: "https://api.acme-corp.io/hooks",
            rule: "url.basic-auth-credentials",
            step: DEPLOY,
            secret: "vrRcfuy9LBBiHQlzXMQg",
        },
        // `printenv` output: the name says secret.
        Want {
            line: 36,
            anchor: "cV7hQa74",
            rule: "env.secret-named",
            step: Some("Run printenv | sort"),
            secret: "cV7hQa74anfRmeqefJuYfToz",
        },
        // `base64` output wrapped at 76 columns: decoded whole, reported
        // at the block's first line.
        Want {
            line: 42,
            anchor: "IyBkZXBs",
            rule: "slack.bot-token",
            step: Some("Run base64 deploy/slack.env"),
            secret: "xoxb-356230123836-077767936173-wBsRhae56YuHqQG0EYn1YGqD",
        },
    ];
    assert_eq!(got(&scan_shown(&path)), want(&path, &wants));
}

#[test]
fn gitlab_log_exact_findings() {
    let path = fixture("gitlab-job.log");
    let wants = [
        Want {
            line: 18,
            anchor: "dUXqK67n",
            rule: "db.postgres-url",
            step: Some("step_script"),
            secret: "dUXqK67nYsmRUpZf",
        },
        Want {
            line: 20,
            anchor: "xoxb-",
            rule: "slack.bot-token",
            step: Some("step_script"),
            secret: "xoxb-248097020991-557903249068-fEeOGXX9JroPmUJCoqGtGCpe",
        },
        // A tool dumping its effective config: JSON, then YAML.
        Want {
            line: 24,
            anchor: "U8JZpDE0",
            rule: "generic.password-assignment",
            step: Some("step_script"),
            secret: "U8JZpDE0iGXlD6gNCF",
        },
        Want {
            line: 27,
            anchor: "baEPFjbD",
            rule: "db.redis-url",
            step: Some("step_script"),
            secret: "baEPFjbD0kH8Oool8Dkl",
        },
    ];
    assert_eq!(got(&scan_shown(&path)), want(&path, &wants));
}

/// GitLab with `FF_TIMESTAMPS`: every line, section markers included,
/// behind a timestamp and a stream token (`00O`, `01E`, `00O+`).
#[test]
fn gitlab_timestamped_log_exact_findings() {
    let path = fixture("gitlab-timestamps.log");
    let wants = [
        Want {
            line: 4,
            anchor: "kCbekANd",
            rule: "url.basic-auth-credentials",
            step: Some("step_script"),
            secret: "kCbekANd0f0RpzKChfUE",
        },
        Want {
            line: 7,
            anchor: "c3j27xdc",
            rule: "env.secret-named",
            step: Some("step_script"),
            secret: "c3j27xdcg2lMLzgeonyLGcTJFi",
        },
    ];
    assert_eq!(got(&scan_shown(&path)), want(&path, &wants));
}

#[test]
fn jenkins_log_exact_findings() {
    let path = fixture("jenkins-console.log");
    let wants = [
        Want {
            line: 9,
            anchor: "du5EoBsj",
            rule: "generic.registry-login-password",
            step: Some("Build"),
            secret: "du5EoBsjIn17FKno6Q",
        },
        Want {
            line: 21,
            anchor: "5/CRY494",
            rule: "aws.secret-access-key",
            step: Some("Publish"),
            secret: "5/CRY4945j9IlukuEKjjj834vEKfeEWrvEGa3rJU",
        },
    ];
    assert_eq!(got(&scan_shown(&path)), want(&path, &wants));
}

#[test]
fn masked_values_are_not_findings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("masked.log");
    std::fs::write(
        &log,
        "2024-05-01T10:00:00.0000000Z ##[group]Run ./release.sh\n\
         2024-05-01T10:00:00.0000001Z + export GITHUB_TOKEN=***\n\
         2024-05-01T10:00:00.0000002Z + curl -u deploy:*** https://artifacts.acme-corp.io\n\
         2024-05-01T10:00:00.0000003Z > Authorization: Bearer ***\n\
         2024-05-01T10:00:00.0000004Z + docker login -u ci -p *** registry.acme-corp.io\n\
         CI_JOB_TOKEN=[MASKED]\n\
         + export API_TOKEN=[secure]\n\
         DB_PASSWORD=${DB_PASSWORD}\n",
    )
    .expect("write log");
    let r = run(&[
        "scan",
        "ci-log",
        log.to_str().expect("utf-8"),
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "stdout: {}", r.stdout);
    assert_eq!(json(&r)["findings"], Value::Array(Vec::new()));
}

/// A GitHub Actions log archive: per-step files under the job's folder.
fn actions_zip(path: &Path, entries: &[(&str, Vec<u8>)]) {
    let file = std::fs::File::create(path).expect("create zip");
    let mut zip = zip::ZipWriter::new(file);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        zip.start_file(*name, opts).expect("start entry");
        zip.write_all(data).expect("write entry");
    }
    zip.finish().expect("finish zip");
}

#[test]
fn github_actions_log_archive_scanned_directly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let archive = dir.path().join("logs_1234.zip");
    let t = token("ci-log-zip");
    let step_log = format!(
        "2024-05-01T10:00:00.0000000Z ##[group]Run cargo test\n\
         2024-05-01T10:00:00.0000001Z \x1b[36;1m+ export GH_RELEASE_TOKEN={t}\x1b[0m\n\
         2024-05-01T10:00:00.0000002Z ##[endgroup]\n"
    );
    actions_zip(
        &archive,
        &[
            (
                "build/1_Set up job.txt",
                b"2024-05-01T10:00:00.0000000Z Current runner version: '2.316.0'\n".to_vec(),
            ),
            ("build/2_Run tests.txt", step_log.clone().into_bytes()),
        ],
    );
    let archive_str = archive.to_str().expect("utf-8");
    let r = scan_shown(archive_str);
    let report = json(&r);
    let f = &report["findings"].as_array().expect("findings")[..];
    assert_eq!(f.len(), 1, "{}", r.stdout);
    let loc = &f[0]["location"];
    assert_eq!(loc["path"], format!("{archive_str}!build/2_Run tests.txt"));
    assert_eq!(loc["step"], "Run tests");
    assert_eq!(loc["line"], 2);
    let column = step_log
        .lines()
        .nth(1)
        .expect("line 2")
        .find(&t)
        .expect("token")
        + 1;
    assert_eq!(loc["column"], column as u64);
    assert_eq!(f[0]["rule"]["id"], "github.pat");
    assert_eq!(f[0]["secret"], t.as_str());
}

#[test]
fn oversized_archive_entry_is_a_warning_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let archive = dir.path().join("bomb.zip");
    let t = token("ci-log-bomb");
    actions_zip(
        &archive,
        &[
            ("build/1_Inflate.txt", vec![b'a'; 4 << 20]),
            (
                "build/2_Run deploy.txt",
                format!("+ export DEPLOY_TOKEN={t}\n").into_bytes(),
            ),
        ],
    );
    let r = run(&[
        "scan",
        "ci-log",
        archive.to_str().expect("utf-8"),
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1, "the other entry is still scanned: {}", r.stderr);
    assert!(
        r.stderr.contains("bomb.zip!build/1_Inflate.txt") && r.stderr.contains("not inflated"),
        "stderr: {}",
        r.stderr
    );
    let report = json(&r);
    assert_eq!(report["findings"][0]["location"]["step"], "Run deploy");
    assert_eq!(report["stats"]["errors"], 1);
}

#[test]
fn stdin_is_read_with_dash() {
    let raw = std::fs::read(fixture("jenkins-console.log")).expect("fixture");
    let out = common::run_stdin(&["scan", "ci-log", "-", "--format", "json"], &raw);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let report: Value = serde_json::from_str(&out.stdout).expect("json");
    let locs: Vec<(String, u64)> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["location"]["path"].as_str().expect("path").to_string(),
                f["location"]["line"].as_u64().expect("line"),
            )
        })
        .collect();
    assert_eq!(locs, vec![("-".to_string(), 9), ("-".to_string(), 21)]);
}

#[test]
fn no_raw_secret_in_default_outputs() {
    let dir = fixture("");
    let shown = scan_shown(&dir);
    let secrets: Vec<String> = json(&shown)["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["secret"].as_str().expect("secret").to_string())
        .collect();
    assert_eq!(secrets.len(), 15, "{}", shown.stdout);
    for format in ["human", "json", "jsonl", "sarif"] {
        let r = run(&["scan", "ci-log", &dir, "--format", format]);
        assert_eq!(r.code, 1);
        for s in &secrets {
            assert!(
                !r.stdout.contains(s.as_str()) && !r.stderr.contains(s.as_str()),
                "{format} output holds a raw secret"
            );
        }
    }
}

#[test]
fn malformed_archive_is_a_warning_and_the_rest_is_scanned() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("broken.zip"),
        b"PK\x03\x04 not really a zip",
    )
    .expect("write");
    let t = token("ci-log-after-broken");
    std::fs::write(
        dir.path().join("job.log"),
        format!("+ export RELEASE_TOKEN={t}\n"),
    )
    .expect("write");
    let r = run(&[
        "scan",
        "ci-log",
        dir.path().to_str().expect("utf-8"),
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1, "stderr: {}", r.stderr);
    assert!(
        r.stderr.contains("broken.zip: not a readable zip archive"),
        "stderr: {}",
        r.stderr
    );
    let report = json(&r);
    assert_eq!(report["findings"].as_array().expect("findings").len(), 1);
    assert_eq!(report["stats"]["errors"], 1);
}

#[test]
fn traced_assignment_leaves_the_rest_of_its_line_and_open_quotes_to_the_text_rules() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("trace.log");
    std::fs::write(
        &log,
        "+ DEPLOY_TOKEN=Rk4vXq9TmZ2wLp7sQx curl -u deploy:Hs8kW2mQz7vLp4Tn https://artifacts.acme-corp.io/upload\n\
         + export SIGNING_KEY=\"-----BEGIN EC PRIVATE KEY-----\n\
         MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oPcFz0Q3kYj7oAoGCCqGSM49\n\
         AwEHoUQDQgAEqbWq7XkQ3dFvG4T1sY8n1n3WJb2tQy0nY8Zr5LxGx2qz4lW3h9zT\n\
         bGQ7mF0bX9nYcZ1u3Vq8eGk2l5Ww4o9mPQ==\n\
         -----END EC PRIVATE KEY-----\"\n",
    )
    .expect("write log");
    let r = scan_shown(log.to_str().expect("utf-8"));
    let found: Vec<(u64, u64, String, String)> = got(&r)
        .into_iter()
        .map(|(line, column, rule, _, secret)| {
            (line, column, rule, secret.chars().take(16).collect())
        })
        .collect();
    assert_eq!(
        found,
        vec![
            (1, 16, "env.secret-named".into(), "Rk4vXq9TmZ2wLp7s".into()),
            (
                1,
                50,
                "generic.curl-user-password".into(),
                "Hs8kW2mQz7vLp4Tn".into()
            ),
            (
                2,
                23,
                "pem.ec-private-key".into(),
                "-----BEGIN EC PR".into()
            ),
        ]
    );
}

#[test]
fn a_secret_in_a_step_title_is_scrubbed_from_every_origin() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("job.log");
    // GitHub echoes a step's first command as its group title.
    std::fs::write(
        &log,
        "2024-05-01T10:00:00.0000000Z ##[group]Run curl -u deploy:Hs8kW2mQz7vLp4Tn https://artifacts.acme-corp.io/upload\n\
         2024-05-01T10:00:00.0000001Z \x1b[36;1mcurl -u deploy:Hs8kW2mQz7vLp4Tn https://artifacts.acme-corp.io/upload\x1b[0m\n\
         2024-05-01T10:00:00.0000002Z ##[endgroup]\n",
    )
    .expect("write log");
    let r = run(&[
        "scan",
        "ci-log",
        log.to_str().expect("utf-8"),
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1);
    assert!(!r.stdout.contains("Hs8kW2mQz7vLp4Tn"), "{}", r.stdout);
    let report = json(&r);
    let findings = report["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 2, "{}", r.stdout);
    for f in findings {
        assert_eq!(
            f["location"]["step"],
            "Run curl -u deploy:Hs8k…(16) https://artifacts.acme-corp.io/upload"
        );
    }
}

/// A copy's time is the runner's timestamp of its step's first line, when
/// the log has timestamps: tickets use it for first and last seen.
#[test]
fn copies_carry_the_runners_timestamp_of_their_step() {
    let r = run(&[
        "scan",
        "ci-log",
        &fixture("github-actions.log"),
        &fixture("gitlab-job.log"),
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v = json(&r);
    let mut by_step: Vec<(String, Option<String>)> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let l = &f["location"];
            (
                l["step"].as_str().unwrap_or_default().to_string(),
                l["started"].as_str().map(str::to_string),
            )
        })
        .collect();
    by_step.sort();
    by_step.dedup();
    assert!(by_step.contains(&(
        "Run ./scripts/deploy.sh".to_string(),
        Some("2024-05-01T10:00:01.1000000Z".to_string())
    )));
    assert!(by_step.contains(&("step_script".to_string(), None)));
    let exposures = v["exposures"].as_array().expect("exposures");
    assert!(exposures
        .iter()
        .any(|e| e["first_seen"] == "2024-05-01T10:00:01.1000000Z"));
}
