//! End-to-end tests of the Kubernetes and Helm decoders through the real
//! binary: `scan k8s -f`, and the same objects found by `scan fs` and
//! `scan git`. Fixtures are real-format `kubectl get -o yaml|json` output;
//! the Helm releases are Helm v4.2.3's own release JSON re-encoded by
//! `fixtures/k8s/gen.py`, and `real-helm-v4.2.3-release-secret.v2.yaml` is
//! as Helm wrote it.

mod common;

use std::path::PathBuf;

use common::repo::Repo;
use common::{json, run, Run};
use serde_json::{json, Value};

fn fixture(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/k8s")
        .join(name);
    p.to_str().expect("utf-8 path").to_string()
}

fn scan_k8s(files: &[&str], extra: &[&str]) -> (Run, Value) {
    let mut args = vec!["scan", "k8s"];
    for f in files {
        args.extend(["-f", f]);
    }
    args.extend(["--format", "json", "--no-progress"]);
    args.extend_from_slice(extra);
    let r = run(&args);
    let v = json(&r);
    (r, v)
}

/// Every finding as (rule, location), sorted: exact comparisons.
fn found(v: &Value) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = v["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| {
            (
                f["rule"]["id"].as_str().expect("rule id").to_string(),
                f["location"].clone(),
            )
        })
        .collect();
    out.sort_by_key(|(rule, loc)| format!("{rule} {loc}"));
    out
}

fn sorted(mut expected: Vec<(&str, Value)>) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = expected
        .drain(..)
        .map(|(r, l)| (r.to_string(), l))
        .collect();
    out.sort_by_key(|(rule, loc)| format!("{rule} {loc}"));
    out
}

fn fs(path: &str) -> Value {
    json!({"source": "fs", "path": path})
}

#[allow(clippy::too_many_arguments)]
fn helm(
    release: &str,
    namespace: &str,
    revision: u64,
    revisions: &str,
    status: &str,
    field: &str,
    within: Value,
    line: Option<(u64, u64)>,
) -> Value {
    let mut v = json!({
        "source": "helm-release", "release": release, "namespace": namespace,
        "revision": revision, "revisions": revisions, "status": status,
        "field": field, "within": within,
    });
    if let Some((l, c)) = line {
        v["line"] = json!(l);
        v["column"] = json!(c);
    }
    v
}

fn k8s(kind: &str, namespace: &str, name: &str, key: &str, within: Value) -> Value {
    json!({"source": "k8s", "kind": kind, "namespace": namespace, "name": name, "key": key, "within": within})
}

fn at(mut origin: Value, line: u64, column: u64) -> Value {
    origin["line"] = json!(line);
    origin["column"] = json!(column);
    origin
}

/// The planted values of `fixtures/k8s/gen.py`, read back with
/// `--show-secrets`, must not appear anywhere without it.
fn assert_no_raw(outputs: &[&str]) {
    let secrets = common::raw_secrets(&PathBuf::from(fixture("")));
    assert!(
        secrets.len() >= 10,
        "planted values found: {}",
        secrets.len()
    );
    for out in outputs {
        for s in &secrets {
            assert!(!out.contains(s.as_str()), "raw value leaked: {s}");
        }
    }
}

fn two_revision_findings(path: &str, lines: (u64, u64)) -> Vec<(String, Value)> {
    let (rev1, rev2) = lines;
    sorted(vec![
        (
            "env.secret-named",
            helm(
                "shop",
                "prod",
                1,
                "1",
                "superseded",
                "config.database.password",
                fs(path),
                Some((rev1, 14)),
            ),
        ),
        (
            // Kept through the upgrade: one finding, both revisions.
            "env.secret-named",
            helm(
                "shop",
                "prod",
                1,
                "1-2",
                "superseded",
                "config.smtp.password",
                fs(path),
                Some((rev1, 14)),
            ),
        ),
        (
            // Rotated in revision 2: the old value stays in revision 1.
            "env.secret-named",
            helm(
                "shop",
                "prod",
                2,
                "2",
                "deployed",
                "config.database.password",
                fs(path),
                Some((rev2, 14)),
            ),
        ),
    ])
}

#[test]
fn helm_secret_driver_two_revisions_with_a_rotated_password() {
    let path = fixture("helm-secret-two-revisions.yaml");
    let (r, v) = scan_k8s(&[&path], &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.stderr, "");
    assert_eq!(found(&v), two_revision_findings(&path, (5, 22)));
    // People read the object under its file, with the revision range.
    let human = run(&["scan", "k8s", "-f", &path, "--no-progress"]);
    let lines: Vec<&str> = human.stdout.lines().map(str::trim).collect();
    let copy = format!("{path} [helm release prod/shop revisions 1-2 config.smtp.password] 5:14");
    assert!(lines.contains(&copy.as_str()), "{}", human.stdout);
    assert!(
        human.stdout.contains("3 findings in 1 file\n"),
        "{}",
        human.stdout
    );
    assert_no_raw(&[&r.stdout, &r.stderr, &human.stdout, &human.stderr]);
}

#[test]
fn helm_configmap_driver_two_revisions() {
    let path = fixture("helm-configmap-two-revisions.yaml");
    let (r, v) = scan_k8s(&[&path], &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.stderr, "");
    assert_eq!(found(&v), two_revision_findings(&path, (5, 21)));
}

#[test]
fn helm_release_manifest_and_hook_objects_are_decoded_in_turn() {
    let path = fixture("helm-manifest-secret.yaml");
    let (r, v) = scan_k8s(&[&path], &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.stderr, "");
    let release = |field: &str| {
        helm(
            "payments",
            "billing",
            1,
            "1",
            "deployed",
            field,
            fs(&path),
            None,
        )
    };
    assert_eq!(
        found(&v),
        sorted(vec![
            (
                "env.secret-named",
                at(release("config.database.password"), 3, 12),
            ),
            (
                // The rendered Secret's base64 data, decoded; the manifest's
                // text finding of the same line is dropped for it.
                "kubernetes.secret-value",
                at(
                    k8s(
                        "Secret",
                        "billing",
                        "payments-db",
                        "DB_PASSWORD",
                        release("manifest")
                    ),
                    3,
                    12
                ),
            ),
            (
                "github.pat",
                at(
                    k8s(
                        "Job",
                        "billing",
                        "payments-migrate",
                        "containers[migrate].env[GITHUB_TOKEN]",
                        release("hooks[payments-migrate].manifest"),
                    ),
                    3,
                    12,
                ),
            ),
        ])
    );
    // The config value and the rendered Secret's value are one secret.
    let exposures = v["exposures"].as_array().expect("exposures");
    assert_eq!(exposures.len(), 2);
}

fn namespace_findings(path: &Value, lines: [(u64, u64); 6]) -> Vec<(String, Value)> {
    let secret = |name: &str, key: &str| k8s("Secret", "shop", name, key, path.clone());
    let applied = k8s(
        "Secret",
        "shop",
        "legacy-smtp",
        "kubectl.kubernetes.io/last-applied-configuration",
        path.clone(),
    );
    sorted(vec![
        (
            "kubernetes.secret-value",
            at(secret("api-keys", "DB_PASSWORD"), lines[0].0, lines[0].1),
        ),
        (
            "github.pat",
            at(secret("api-keys", "GITHUB_TOKEN"), lines[1].0, lines[1].1),
        ),
        (
            "kubernetes.secret-value",
            at(
                secret("legacy-smtp", "SMTP_PASSWORD"),
                lines[2].0,
                lines[2].1,
            ),
        ),
        (
            // The copy kubectl apply keeps in the annotation.
            "kubernetes.secret-value",
            at(
                k8s("Secret", "shop", "legacy-smtp", "SMTP_PASSWORD", applied),
                lines[3].0,
                lines[3].1,
            ),
        ),
        (
            "env.secret-named",
            at(
                k8s(
                    "ConfigMap",
                    "shop",
                    "app-config",
                    "DB_PASSWORD",
                    path.clone(),
                ),
                lines[4].0,
                lines[4].1,
            ),
        ),
        (
            "github.pat",
            at(
                k8s(
                    "Deployment",
                    "shop",
                    "api",
                    "containers[api].env[API_TOKEN]",
                    path.clone(),
                ),
                lines[5].0,
                lines[5].1,
            ),
        ),
    ])
}

const YAML_LINES: [(u64, u64); 6] = [(5, 18), (6, 19), (29, 20), (33, 58), (45, 18), (76, 20)];
const JSON_LINES: [(u64, u64); 6] = [(7, 33), (8, 34), (39, 35), (44, 74), (58, 33), (100, 51)];

#[test]
fn namespace_list_dump_yaml_and_json() {
    // No finding for the empty service-account token, LOG_LEVEL, DB_HOST or
    // the valueFrom reference; the raw base64 lines are not reported twice.
    let yaml = fixture("namespace-list.yaml");
    let (r, v) = scan_k8s(&[&yaml], &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.stderr, "");
    assert_eq!(found(&v), namespace_findings(&fs(&yaml), YAML_LINES));

    let json_path = fixture("namespace-list.json");
    let (r, v) = scan_k8s(&[&json_path], &[]);
    assert_eq!(r.stderr, "");
    assert_eq!(found(&v), namespace_findings(&fs(&json_path), JSON_LINES));
}

#[test]
fn api_server_list_json_on_one_line() {
    // Items of a `SecretList` carry no `kind`; every key is on line 1.
    let path = fixture("api-secret-list.json");
    let (r, v) = scan_k8s(&[&path], &[]);
    assert_eq!(r.stderr, "");
    let secret = |key: &str| k8s("Secret", "shop", "api-keys", key, fs(&path));
    assert_eq!(
        found(&v),
        sorted(vec![
            ("kubernetes.secret-value", at(secret("DB_PASSWORD"), 1, 273)),
            ("github.pat", at(secret("GITHUB_TOKEN"), 1, 307)),
        ])
    );
}

#[test]
fn stdin_is_read_with_dash() {
    let text = std::fs::read(fixture("namespace-list.json")).expect("fixture");
    let out = common::run_stdin(
        &[
            "scan",
            "k8s",
            "-f",
            "-",
            "--format",
            "json",
            "--no-progress",
        ],
        &text,
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(found(&v), namespace_findings(&fs("(stdin)"), JSON_LINES));
}

#[test]
fn the_same_decoders_run_in_scan_fs() {
    let yaml = fixture("namespace-list.yaml");
    let r = run(&["scan", "fs", &yaml, "--format", "json", "--no-progress"]);
    assert_eq!(found(&json(&r)), namespace_findings(&fs(&yaml), YAML_LINES));
    // SARIF points decoded findings at their file.
    let r = run(&["scan", "fs", &yaml, "--format", "sarif", "--no-progress"]);
    let sarif = json(&r);
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 6);
    for res in results {
        let loc = &res["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().expect("uri");
        assert!(uri.ends_with("namespace-list.yaml"), "{uri}");
    }
}

#[test]
fn a_release_written_by_helm_itself_decodes() {
    // Helm v4.2.3's own bytes: the user's password (`S3cr3t-rig-db-Passw0rd!`,
    // a weak-word value the built-in rules pass over) is reached at its
    // field once a rule names it; nothing else there is a secret.
    let path = fixture("real-helm-v4.2.3-release-secret.v2.yaml");
    let (r, v) = scan_k8s(&[&path], &[]);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    assert_eq!(found(&v), vec![]);

    let dir = tempfile::tempdir().expect("tempdir");
    let rule = dir.path().join("rig.yaml");
    std::fs::write(
        &rule,
        "rules:\n  - id: test.rig-password\n    name: The rig's password\n    provider: test\n    \
         keywords: [S3cr3t-rig]\n    pattern: '(?P<secret>S3cr3t-rig-db-Passw0rd!)'\n    confidence: high\n    \
         examples:\n      - 'password: S3cr3t-rig-db-Passw0rd!'\n    negative_examples:\n      - 'password: S3cr3t-rig'\n",
    )
    .expect("rule file");
    let (r, v) = scan_k8s(&[&path], &["--rules", rule.to_str().expect("utf-8")]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        found(&v),
        sorted(vec![(
            "test.rig-password",
            helm(
                "real",
                "prod",
                2,
                "2",
                "deployed",
                "config.database.password",
                fs(&path),
                Some((3, 12)),
            ),
        )])
    );
}

#[test]
fn sealed_sops_service_account_and_template_only_values_are_not_leaks() {
    for name in [
        "negative/sealed-secret.yaml",
        "negative/sops-secret.yaml",
        "negative/service-account-token.yaml",
        "negative/helm-template-values.yaml",
        "negative/chart/templates/secret.yaml",
    ] {
        let path = fixture(name);
        let r = run(&["scan", "fs", &path, "--format", "json", "--no-progress"]);
        assert_eq!(found(&json(&r)), vec![], "{name}");
        assert_eq!((r.code, r.stderr.as_str()), (0, ""), "{name}");
    }
}

#[test]
fn malformed_releases_are_warnings_naming_the_object_and_the_scan_goes_on() {
    let path = fixture("malformed/releases.yaml");
    let (r, v) = scan_k8s(&[&path], &[]);
    let warning = |rev: u32, what: &str| {
        format!("warning: {path} (Secret prod/sh.helm.release.v1.broken.v{rev}): release: {what}")
    };
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(
        lines,
        vec![
            warning(1, "not valid base64"),
            warning(2, "corrupt or truncated gzip stream"),
            warning(3, "JSON is not a Helm release"),
            warning(
                4,
                "gzip stream inflates past 4896400 bytes (a decompression bomb?)"
            ),
            // A broken document in a release's rendered manifest.
            format!(
                "warning: {path} (Secret prod/sh.helm.release.v1.broken.v5, release broken \
                 revision 5 manifest document 2): not valid YAML or JSON (line 5 of the document)"
            ),
        ]
    );
    assert_eq!(v["stats"]["errors"], 5);
    // The object after the broken ones is still decoded.
    assert_eq!(
        found(&v),
        sorted(vec![(
            "github.pat",
            at(
                k8s(
                    "Secret",
                    "prod",
                    "after-the-broken-ones",
                    "GITHUB_TOKEN",
                    fs(&path)
                ),
                90,
                19
            ),
        )])
    );
}

#[test]
fn a_secret_manifest_committed_to_git() {
    let mut repo = Repo::new();
    repo.write(
        "deploy/app.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n",
    );
    repo.commit("namespace");
    let password = "Gq8#Vz3Lm7Xw2Rt9";
    let encoded = "R3E4I1Z6M0xtN1h3MlJ0OQ==";
    repo.write(
        "deploy/app.yaml",
        &format!(
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n---\napiVersion: v1\nkind: Secret\n\
             metadata:\n  name: db\n  namespace: shop\ntype: Opaque\ndata:\n  DB_PASSWORD: {encoded}\n\
             stringData:\n  DB_USER: billing-svc\n"
        ),
    );
    let commit = repo.commit("database credentials");
    // A later version of the file keeps the Secret: still one copy, at the
    // commit that introduced it, counting both versions.
    let text = std::fs::read_to_string(repo.path().join("deploy/app.yaml")).expect("read");
    repo.write(
        "deploy/app.yaml",
        &format!("{text}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  LOG_LEVEL: info\n"),
    );
    repo.commit("app config");
    let (r, v) = repo.scan(&["--no-progress"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.stderr, "");
    let date = repo.git(&["log", "-1", "--format=%aI", &commit]);
    let git = json!({
        "source": "git", "path": "deploy/app.yaml", "commit": commit,
        "author": "Ada Lovelace", "email": "ada@analytical.engine",
        "date": date, "summary": "database credentials", "occurrences": 2,
    });
    // The base64 `data` value decoded, `stringData` as it stands.
    assert_eq!(
        found(&v),
        sorted(vec![
            (
                "kubernetes.secret-value",
                at(
                    k8s("Secret", "shop", "db", "DB_PASSWORD", git.clone()),
                    13,
                    16
                ),
            ),
            (
                "kubernetes.secret-value",
                at(k8s("Secret", "shop", "db", "DB_USER", git), 15, 12),
            ),
        ])
    );
    assert!(!r.stdout.contains(password) && !r.stdout.contains(encoded));
}

#[test]
fn no_raw_value_in_any_format() {
    let mut outputs = Vec::new();
    for format in ["human", "json", "jsonl", "sarif"] {
        let r = run(&[
            "scan",
            "fs",
            &fixture(""),
            "--format",
            format,
            "--no-progress",
            "--color",
            "never",
        ]);
        assert_eq!(r.code, 1);
        outputs.push(r.stdout);
        outputs.push(r.stderr);
    }
    let refs: Vec<&str> = outputs.iter().map(String::as_str).collect();
    assert_no_raw(&refs);
}

/// A packaged chart as `helm package` writes it: `NAME-VERSION.tgz`, a
/// gzipped tar of the chart directory.
fn chart_tgz(token: &str) -> Vec<u8> {
    let values = format!(
        "replicaCount: 2\nimage:\n  repository: registry.example.com/shop\nauth:\n  githubToken: {token}\ndb:\n  password: \"\"\n"
    );
    let secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ include \"shop.fullname\" . }}\ntype: Opaque\nstringData:\n  password: {{ .Values.db.password | quote }}\n  token: {{ .Values.auth.githubToken }}\n";
    let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  template:\n    spec:\n      containers:\n        - name: shop\n          env:\n            - name: GITHUB_TOKEN\n              value: {{ .Values.auth.githubToken | quote }}\n            - name: DB_PASSWORD\n              value: \"{{ .Values.db.password }}\"\n";
    let tar = common::image::tar(&[
        (
            "shop/Chart.yaml",
            b"apiVersion: v2\nname: shop\nversion: 0.1.0\n",
        ),
        ("shop/values.yaml", values.as_bytes()),
        ("shop/templates/secret.yaml", secret.as_bytes()),
        ("shop/templates/deployment.yaml", deployment.as_bytes()),
    ]);
    common::image::gzip(&tar)
}

/// Issue acceptance: a chart `.tgz` with a real token in `values.yaml` and
/// templates full of `{{ .Values.x }}`: the token is found inside the
/// archive, the templates are not findings.
#[test]
fn a_packaged_chart_is_opened_and_only_its_real_value_is_found() {
    let token = common::token("chart-values-token");
    let dir = tempfile::tempdir().expect("tempdir");
    let chart = dir.path().join("shop-0.1.0.tgz");
    std::fs::write(&chart, chart_tgz(&token)).expect("write chart");
    let r = run(&[
        "scan",
        "fs",
        dir.path().to_str().expect("utf-8"),
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.stderr, "");
    let v = json(&r);
    let entry = format!("{}!/shop/values.yaml", chart.display());
    assert_eq!(
        found(&v),
        sorted(vec![("github.pat", at(fs(&entry), 5, 16))])
    );
    assert!(!r.stdout.contains(&token));
}

/// Issue acceptance: a Helm release Secret inside an image layer is found
/// through `scan image`, with its revision and field, nested in the layer.
#[test]
fn a_release_secret_in_an_image_layer_is_found_through_scan_image() {
    let release = std::fs::read(fixture("helm-secret-two-revisions.yaml")).expect("fixture");
    let layer = common::image::Layer::gzip(common::image::tar(&[(
        "backup/shop-releases.yaml",
        release.as_slice(),
    )]));
    let image = common::image::Image::new(
        vec![layer],
        json!({"architecture": "amd64", "os": "linux", "config": {}}),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let archive = dir.path().join("backup.tar");
    image.write_docker_archive(&archive, "backup:1");
    let reference = format!("docker-archive:{}", archive.display());
    let r = run(&["scan", "image", &reference, "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v = json(&r);
    let mut got: Vec<(String, String, u64, String)> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let l = &f["location"];
            assert_eq!(l["source"], "helm-release", "{l}");
            assert_eq!(l["within"]["source"], "image", "{l}");
            assert_eq!(l["within"]["path"], "backup/shop-releases.yaml", "{l}");
            (
                l["field"].as_str().expect("field").to_string(),
                l["revisions"].as_str().expect("revisions").to_string(),
                l["line"].as_u64().expect("line"),
                f["rule"]["id"].as_str().expect("rule").to_string(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            (
                "config.database.password".into(),
                "1".into(),
                5,
                "env.secret-named".into()
            ),
            (
                "config.database.password".into(),
                "2".into(),
                22,
                "env.secret-named".into()
            ),
            (
                "config.smtp.password".into(),
                "1-2".into(),
                5,
                "env.secret-named".into()
            ),
        ]
    );
    assert_no_raw(&[&r.stdout, &r.stderr]);
}
