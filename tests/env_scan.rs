//! End-to-end tests of `leakhound scan env` through the real binary:
//! environment dumps in every format it reads (detected from content) and
//! a live process found through `--proc`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use common::{bin, json, run, token, Run};
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/env")
}

fn fixture(name: &str) -> String {
    fixtures().join(name).to_string_lossy().into_owned()
}

/// One expected finding: line (entry, for NUL-separated dumps), text that
/// starts at the expected column, rule, variable, and a part of the raw
/// secret (all of it, except for a PEM block).
struct Want {
    line: u64,
    anchor: &'static str,
    rule: &'static str,
    variable: &'static str,
    secret: &'static str,
}

type Found = (u64, u64, String, String, String);

fn scan_shown(path: &str) -> Run {
    let r = run(&[
        "scan",
        "env",
        path,
        "--format",
        "json",
        "--show-secrets",
        "--no-progress",
    ]);
    assert_eq!(r.code, 1, "stdout: {} stderr: {}", r.stdout, r.stderr);
    r
}

fn check(name: &str, wants: &[Want]) {
    let path = fixture(name);
    let r = scan_shown(&path);
    let mut got: Vec<Found> = json(&r)["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let l = &f["location"];
            assert_eq!(l["source"], "env");
            assert_eq!(l["path"], path.as_str());
            (
                l["line"].as_u64().expect("line"),
                l["column"].as_u64().expect("column"),
                f["rule"]["id"].as_str().expect("rule").to_string(),
                l["variable"].as_str().expect("variable").to_string(),
                f["secret"].as_str().expect("secret shown").to_string(),
            )
        })
        .collect();
    got.sort();
    let raw = std::fs::read(&path).expect("fixture");
    let sep = if raw.contains(&0) { 0 } else { b'\n' };
    let lines: Vec<&[u8]> = raw.split(|&b| b == sep).collect();
    assert_eq!(got.len(), wants.len(), "{name}: {got:#?}");
    for w in wants {
        let line = lines[w.line as usize - 1];
        let column = line
            .windows(w.anchor.len())
            .position(|x| x == w.anchor.as_bytes())
            .unwrap_or_else(|| panic!("{name}: anchor {:?} not on line {}", w.anchor, w.line))
            as u64
            + 1;
        assert!(
            got.iter().any(|g| g.0 == w.line
                && g.1 == column
                && g.2 == w.rule
                && g.3 == w.variable
                && g.4.contains(w.secret)),
            "{name}: no {} at {}:{column} ({}); got {got:#?}",
            w.rule,
            w.line,
            w.variable
        );
    }
}

#[test]
fn printenv_output() {
    check(
        "printenv.txt",
        &[
            Want {
                line: 3,
                anchor: "ghp_",
                rule: "github.pat",
                variable: "GITHUB_TOKEN",
                secret: "ghp_ETb7PycSQ3yjGv371fLdhI6ytEtXuKautdog",
            },
            Want {
                line: 5,
                anchor: "BhH1YIXB",
                rule: "env.secret-named",
                variable: "SESSION_SECRET",
                secret: "BhH1YIXB4AtNsdnNqUme8TMSEMw6",
            },
            // Provider rules that need the name as context see it.
            Want {
                line: 9,
                anchor: "AKIA",
                rule: "aws.access-key-id",
                variable: "AWS_ACCESS_KEY_ID",
                secret: "AKIA5XRILAV5FVCYK43K",
            },
            Want {
                line: 10,
                anchor: "VeGOQIxN",
                rule: "aws.secret-access-key",
                variable: "AWS_SECRET_ACCESS_KEY",
                secret: "VeGOQIxNlac1LiayjrFZA0Hw+RDe2OAPZZqBKRCK",
            },
        ],
    );
}

#[test]
fn declare_x_output_with_escapes() {
    check(
        "export-p.txt",
        &[
            // `\"` inside the quotes: the value is unescaped, reported at its start.
            Want {
                line: 3,
                anchor: "Uq4Wy9ZE",
                rule: "env.secret-named",
                variable: "REDIS_PASSWORD",
                secret: "Uq4Wy9ZETF\"ZRBnHWemaD",
            },
            Want {
                line: 4,
                anchor: "sk_live_",
                rule: "stripe.secret-key",
                variable: "STRIPE_SECRET_KEY",
                secret: "sk_live_pZjtGv2mbUe0XyX46u9NLA6UzT0ASe5UlvdVCmho",
            },
        ],
    );
}

#[test]
fn dotenv_file_quotes_export_multiline_comments() {
    check(
        "app.env",
        &[
            Want {
                line: 3,
                anchor: "LvSV3GVD",
                rule: "db.postgres-url",
                variable: "DATABASE_URL",
                secret: "LvSV3GVD0xXzHBZB",
            },
            Want {
                line: 4,
                anchor: "KxJjrqsL",
                rule: "env.secret-named",
                variable: "MAILER_PASSWORD",
                secret: "KxJjrqsLxuGibGjGTs",
            },
            Want {
                line: 5,
                anchor: "-----BEGIN EC",
                rule: "pem.ec-private-key",
                variable: "SIGNING_PRIVATE_KEY",
                secret: "xdIH/LW9vbMh3bi1KsVzVbSfJBPyPUiw1dNornmjCKz+uMZZa0iufzbJ3PmlcYUp",
            },
        ],
    );
}

#[test]
fn proc_environ_dump() {
    check(
        "proc-environ.bin",
        &[
            Want {
                line: 3,
                anchor: "hvs.",
                rule: "vault.service-token",
                variable: "VAULT_TOKEN",
                secret: "hvs.w5tB0TAkjnhUpRiLV0oZJNT4",
            },
            Want {
                line: 4,
                anchor: "0yV4gj0w",
                rule: "env.secret-named",
                variable: "WORKER_API_KEY",
                secret: "0yV4gj0wav5J9pm1gCoxspPCXu97M2lM",
            },
        ],
    );
}

#[test]
fn docker_inspect_config_env() {
    check(
        "docker-inspect.json",
        &[
            Want {
                line: 9,
                anchor: "xYUzyyfH",
                rule: "env.secret-named",
                variable: "SENDGRID_PASSWORD",
                secret: "xYUzyyfHIDfJkd8B5a6Ytt",
            },
            Want {
                line: 10,
                anchor: "sk-proj-",
                rule: "openai.project-key",
                variable: "OPENAI_API_KEY",
                secret: "sk-proj-xkWmmuCggaklNXBZ",
            },
        ],
    );
}

#[test]
fn kubernetes_pod_yaml_value_from_is_not_a_leak() {
    check(
        "pod.yaml",
        &[
            Want {
                line: 19,
                anchor: "OsSD5Yh6",
                rule: "env.secret-named",
                variable: "PAYMENT_GATEWAY_SECRET",
                secret: "OsSD5Yh6vQnMrRo3RNPKfXh1YhEXfF",
            },
            Want {
                line: 21,
                anchor: "CD67sUiS",
                rule: "env.secret-named",
                variable: "QUEUE_AUTH_TOKEN",
                secret: "CD67sUiSqKfP6ohIyDItYMjUym",
            },
        ],
    );
}

#[test]
fn kubernetes_deployment_json() {
    check(
        "deployment.json",
        &[Want {
            line: 21,
            anchor: "EUqo7ASz",
            rule: "env.secret-named",
            variable: "ADMIN_PASSWORD",
            secret: "EUqo7ASzdOnu1iWlcYwa",
        }],
    );
}

#[test]
fn systemctl_show_environment_line() {
    check(
        "systemctl-show.txt",
        &[
            Want {
                line: 4,
                anchor: "ySIRhmQD",
                rule: "env.secret-named",
                variable: "METRICS_PASSWORD",
                secret: "ySIRhmQD3Tkd qjDKo2Yt",
            },
            Want {
                line: 4,
                anchor: "x848tGHa",
                rule: "env.secret-named",
                variable: "BACKUP_TOKEN",
                secret: "x848tGHaa2M2rXUY03LSK4xA",
            },
        ],
    );
}

#[test]
fn crash_report_block() {
    check(
        "crash-report.txt",
        &[
            Want {
                line: 8,
                anchor: "1X8uFJWz",
                rule: "env.secret-named",
                variable: "SMTP_PASSWD",
                secret: "1X8uFJWzdyQ7ycU1",
            },
            Want {
                line: 9,
                anchor: "https://hooks",
                rule: "slack.webhook-url",
                variable: "SLACK_WEBHOOK_URL",
                secret: "https://hooks.slack.com/services/TST6PTW9U/BLBHQ71E6/",
            },
        ],
    );
}

#[test]
fn stdin_is_read_with_dash() {
    let raw = std::fs::read(fixture("docker-inspect.json")).expect("fixture");
    let out = common::run_stdin(&["scan", "env", "-", "--format", "json"], &raw);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let report: Value = serde_json::from_str(&out.stdout).expect("json");
    let vars: Vec<(&str, &str)> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["location"]["path"].as_str().expect("path"),
                f["location"]["variable"].as_str().expect("variable"),
            )
        })
        .collect();
    assert_eq!(
        vars,
        vec![("-", "SENDGRID_PASSWORD"), ("-", "OPENAI_API_KEY")]
    );
}

/// Kills the child when the test ends, passed or not.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn live_process_found_through_proc() {
    let planted = token("env-proc-deploy");
    let child = Reaped(
        Command::new("sleep")
            .arg("30")
            // Only the planted variable: whatever the test runner's
            // environment holds must not add findings to this process.
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("DEPLOY_TOKEN", &planted)
            .spawn()
            .expect("spawn sleep"),
    );
    let pid = u64::from(child.0.id());
    // leakhound's own environment is not scanned.
    let own = token("env-proc-self");
    let out = bin()
        .env("SELF_DEPLOY_TOKEN", &own)
        .args([
            "scan",
            "env",
            "--proc",
            "--format",
            "json",
            "--show-secrets",
        ])
        .output()
        .expect("run leakhound");
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .all(|f| f["secret"] != own.as_str()));
    let mine: Vec<&Value> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["location"]["pid"] == pid)
        .collect();
    assert_eq!(mine.len(), 1, "{:#?}", mine);
    let f = mine[0];
    assert_eq!(f["location"]["source"], "env");
    assert_eq!(f["location"]["variable"], "DEPLOY_TOKEN");
    assert_eq!(f["location"]["command"], "sleep 30");
    assert_eq!(f["rule"]["id"], "github.pat");
    assert_eq!(f["secret"], planted.as_str());

    for format in ["human", "json", "sarif"] {
        let r = run(&["scan", "env", "--proc", "--format", format]);
        assert_eq!(r.code, 1);
        assert!(
            !r.stdout.contains(&planted) && !r.stderr.contains(&planted),
            "{format} output holds the planted value"
        );
        if format == "human" {
            let header = format!("pid {pid}: DEPLOY_TOKEN (sleep 30)");
            assert!(r.stdout.contains(&header), "{}", r.stdout);
        }
    }
    drop(child);
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
    assert_eq!(secrets.len(), 20, "{}", shown.stdout);
    for format in ["human", "json", "jsonl", "sarif"] {
        let r = run(&["scan", "env", &dir, "--format", format]);
        assert_eq!(r.code, 1);
        for s in &secrets {
            // PEM blocks are checked by their body lines.
            for part in s
                .lines()
                .filter(|l| l.len() >= 8 && !l.starts_with("-----"))
            {
                assert!(
                    !r.stdout.contains(part) && !r.stderr.contains(part),
                    "{format} output holds a raw secret"
                );
            }
        }
    }
}

#[test]
fn malformed_json_dump_is_a_warning_and_still_read_as_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dump = dir.path().join("inspect.json");
    let t = token("env-broken-json");
    // A truncated `docker inspect` whose env part still reads as lines.
    std::fs::write(
        &dump,
        format!("[{{\"Config\": {{\"Env\": [\n\"X=1\",\nRELEASE_TOKEN={t}\n"),
    )
    .expect("write");
    let r = run(&[
        "scan",
        "env",
        dump.to_str().expect("utf-8"),
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1, "stderr: {}", r.stderr);
    assert!(
        r.stderr
            .contains("inspect.json: looks like JSON but does not parse"),
        "stderr: {}",
        r.stderr
    );
    let report = json(&r);
    let f = &report["findings"][0];
    assert_eq!(f["location"]["variable"], "RELEASE_TOKEN");
    assert_eq!(f["location"]["line"], 3);
    assert_eq!(f["rule"]["id"], "github.pat");
}

/// Text that is no dump (or a broken one) still goes through the text rules,
/// reported with `variable: "(text)"`.
#[test]
fn text_outside_any_variable_is_scanned_when_the_dump_has_none() {
    let secret = token("env-text-fallback");
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = dir.path().join("inspect.json");
    std::fs::write(
        &broken,
        format!("[{{\"Config\": {{\"Cmd\": [\"--token={secret}\""),
    )
    .expect("write");
    let prose = dir.path().join("support-bundle.txt");
    std::fs::write(
        &prose,
        format!("support bundle\nauth header was: token {secret}\n"),
    )
    .expect("write");
    let r = run(&[
        "scan",
        "env",
        broken.to_str().expect("utf-8"),
        prose.to_str().expect("utf-8"),
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("inspect.json") && r.stderr.contains("does not parse"));
    let v = json(&r);
    let mut got: Vec<(String, String, u64)> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let l = &f["location"];
            (
                l["path"]
                    .as_str()
                    .expect("path")
                    .rsplit('/')
                    .next()
                    .expect("name")
                    .to_string(),
                l["variable"].as_str().expect("variable").to_string(),
                l["line"].as_u64().expect("line"),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("inspect.json".to_string(), "(text)".to_string(), 1),
            ("support-bundle.txt".to_string(), "(text)".to_string(), 2)
        ]
    );
    assert!(!r.stdout.contains(&secret) && !r.stderr.contains(&secret));
}
