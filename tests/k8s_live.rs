//! `leakhound scan k8s --context` against a PROTOCOL STUB: no Kubernetes
//! API server can run here, so a small HTTP/1.1 server on loopback answers
//! the list endpoints the way the API server does (list JSON as the API
//! returns it: items without `kind`, `metadata.continue` paging, a `Status`
//! body with code 403 for a namespace RBAC denies). The kubeconfig points
//! the real `kube` client at it.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use common::{bin, token};
use serde_json::{json, Value};

/// Serves `routes` (path and query -> status, body); anything else is an
/// empty list. Returns the port and the request lines it saw.
fn stub_api_server(routes: BTreeMap<String, (u16, String)>) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = listener.local_addr().expect("addr").port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            // Skip the headers.
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).is_err() || header.trim().is_empty() {
                    break;
                }
            }
            let target = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or("/")
                .to_string();
            log.lock().expect("log").push(target.clone());
            let (status, body) = routes.get(&target).cloned().unwrap_or_else(|| {
                (200, json!({"kind": "List", "apiVersion": "v1", "metadata": {"resourceVersion": "1"}, "items": []}).to_string())
            });
            let reason = if status == 200 { "OK" } else { "Forbidden" };
            let response = format!(
                "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes());
        }
    });
    (port, seen)
}

fn b64(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn kubeconfig(dir: &std::path::Path, port: u16) -> std::path::PathBuf {
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: stub\n  cluster:\n    server: http://127.0.0.1:{port}\n\
             contexts:\n- name: stub-ctx\n  context:\n    cluster: stub\n    user: auditor\n    namespace: shop\n\
             - name: other\n  context:\n    cluster: stub\n    user: auditor\n\
             current-context: other\nusers:\n- name: auditor\n  user:\n    token: not-a-real-token\n"
        ),
    )
    .expect("kubeconfig");
    path
}

/// A continue token as the API server makes them (base64 of JSON).
const SECRETS_PAGE_2: &str =
    "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6NDMyMSwic3RhcnQiOiJhcGkta2V5c1x1MDAwMCJ9";

#[test]
fn lists_every_namespace_with_paging_and_warns_on_rbac_denial() {
    let gh1 = token("live-secret-page-1");
    let gh2 = token("live-deployment-env");
    let db_password = "Kp4#Wz8Lm2Xq7Rt5";
    let secret_list = |items: Value, next: Option<&str>| {
        let mut meta = json!({"resourceVersion": "4321"});
        if let Some(n) = next {
            meta["continue"] = json!(n);
        }
        json!({"kind": "SecretList", "apiVersion": "v1", "metadata": meta, "items": items})
            .to_string()
    };
    let mut routes = BTreeMap::new();
    routes.insert(
        "/api/v1/namespaces?limit=1".to_string(),
        (
            200,
            json!({"kind": "NamespaceList", "apiVersion": "v1", "metadata": {"resourceVersion": "9", "continue": "ns-2"},
                   "items": [{"metadata": {"name": "shop"}, "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}]})
            .to_string(),
        ),
    );
    routes.insert(
        "/api/v1/namespaces?limit=1&continue=ns-2".to_string(),
        (
            200,
            json!({"kind": "NamespaceList", "apiVersion": "v1", "metadata": {"resourceVersion": "9"},
                   "items": [{"metadata": {"name": "locked"}, "status": {"phase": "Active"}}]})
            .to_string(),
        ),
    );
    routes.insert(
        "/api/v1/namespaces/shop/secrets?limit=1".to_string(),
        (
            200,
            secret_list(
                json!([{"metadata": {"name": "api-keys", "namespace": "shop"}, "data": {"GITHUB_TOKEN": b64(&gh1)}, "type": "Opaque"}]),
                Some(SECRETS_PAGE_2),
            ),
        ),
    );
    routes.insert(
        format!("/api/v1/namespaces/shop/secrets?limit=1&continue={SECRETS_PAGE_2}"),
        (
            200,
            secret_list(
                json!([{"metadata": {"name": "db", "namespace": "shop"}, "data": {"DB_PASSWORD": b64(db_password)}, "type": "Opaque"}]),
                None,
            ),
        ),
    );
    routes.insert(
        "/apis/apps/v1/namespaces/shop/deployments?limit=1".to_string(),
        (
            200,
            json!({"kind": "DeploymentList", "apiVersion": "apps/v1", "metadata": {"resourceVersion": "77"},
                   "items": [{"metadata": {"name": "api", "namespace": "shop"},
                              "spec": {"template": {"spec": {"containers": [{"name": "api", "image": "shop/api:2",
                                  "env": [{"name": "API_TOKEN", "value": gh2},
                                          {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "DB_PASSWORD"}}}]}]}}}}]})
            .to_string(),
        ),
    );
    let forbidden = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "secrets is forbidden: User \"system:serviceaccount:audit:scanner\" cannot list resource \"secrets\" in API group \"\" in the namespace \"locked\"",
        "reason": "Forbidden", "details": {"kind": "secrets"}, "code": 403})
    .to_string();
    routes.insert(
        "/api/v1/namespaces/locked/secrets?limit=1".to_string(),
        (403, forbidden),
    );

    let routes_copy = routes.clone();
    let (port, seen) = stub_api_server(routes);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = kubeconfig(dir.path(), port);
    let out = bin()
        .args([
            "scan",
            "k8s",
            "--context",
            "stub-ctx",
            "--all-namespaces",
            "--page-size",
            "1",
            "--format",
            "json",
            "--no-progress",
        ])
        .env("KUBECONFIG", &config)
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr.trim(),
        "warning: stub-ctx namespace locked secrets: forbidden (RBAC): not scanned"
    );
    let v: Value = serde_json::from_str(&stdout).expect("json");
    let mut found: Vec<(String, Value)> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["rule"]["id"].as_str().expect("rule").to_string(),
                f["location"].clone(),
            )
        })
        .collect();
    found.sort_by_key(|(r, l)| format!("{r} {l}"));
    let api = |path: &str| json!({"source": "k8s-api", "context": "stub-ctx", "path": path});
    let obj = |kind: &str, name: &str, key: &str, path: &str, column: u64| {
        json!({"source": "k8s", "kind": kind, "namespace": "shop", "name": name, "key": key,
               "within": api(path), "line": 1, "column": column})
    };
    // Each value is reported where its text starts in the page served.
    let column = |path_query: &str, text: &str| {
        let body = &routes_copy[path_query].1;
        body.find(text).expect("value in page") as u64 + 1
    };
    let secrets = "/api/v1/namespaces/shop/secrets";
    let mut expected = vec![
        (
            "github.pat".to_string(),
            obj(
                "Secret",
                "api-keys",
                "GITHUB_TOKEN",
                secrets,
                column(&format!("{secrets}?limit=1"), &b64(&gh1)),
            ),
        ),
        (
            "kubernetes.secret-value".to_string(),
            obj(
                "Secret",
                "db",
                "DB_PASSWORD",
                secrets,
                column(
                    &format!("{secrets}?limit=1&continue={SECRETS_PAGE_2}"),
                    &b64(db_password),
                ),
            ),
        ),
        (
            "github.pat".to_string(),
            obj(
                "Deployment",
                "api",
                "containers[api].env[API_TOKEN]",
                "/apis/apps/v1/namespaces/shop/deployments",
                column("/apis/apps/v1/namespaces/shop/deployments?limit=1", &gh2),
            ),
        ),
    ];
    expected.sort_by_key(|(r, l)| format!("{r} {l}"));
    assert_eq!(found, expected);

    // Paging followed `continue`, both for namespaces and secrets.
    let seen = seen.lock().expect("log").clone();
    assert!(
        seen.contains(&"/api/v1/namespaces?limit=1&continue=ns-2".to_string()),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|s| s.starts_with("/api/v1/namespaces/shop/secrets?limit=1&continue=")),
        "{seen:?}"
    );
    // Every resource of both namespaces was asked for.
    assert_eq!(
        seen.iter()
            .filter(|s| s.contains("/namespaces/shop/"))
            .count(),
        9,
        "{seen:?}"
    );
    assert_eq!(
        seen.iter()
            .filter(|s| s.contains("/namespaces/locked/"))
            .count(),
        8,
        "{seen:?}"
    );
    for raw in [gh1.as_str(), gh2.as_str(), db_password] {
        assert!(!stdout.contains(raw) && !stderr.contains(raw));
    }
}

#[test]
fn the_context_namespace_by_default_and_namespace_flag() {
    let (port, seen) = stub_api_server(BTreeMap::new());
    let dir = tempfile::tempdir().expect("tempdir");
    let config = kubeconfig(dir.path(), port);
    let scan = |args: &[&str]| {
        let out = bin()
            .args(["scan", "k8s", "--format", "json", "--no-progress"])
            .args(args)
            .env("KUBECONFIG", &config)
            .output()
            .expect("run");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    };
    // stub-ctx names namespace shop; the current context ("other") none.
    scan(&["--context", "stub-ctx"]);
    scan(&[]);
    scan(&["--namespace", "billing"]);
    let seen = seen.lock().expect("log").clone();
    let namespaces: Vec<&str> = seen
        .iter()
        .map(|s| {
            s.split("/namespaces/")
                .nth(1)
                .and_then(|rest| rest.split('/').next())
                .unwrap_or("")
        })
        .collect();
    let count = |ns: &str| namespaces.iter().filter(|n| **n == ns).count();
    assert_eq!(
        (count("shop"), count("default"), count("billing")),
        (8, 8, 8),
        "{seen:?}"
    );
    assert_eq!(
        seen.len(),
        24,
        "no namespace listing without --all-namespaces: {seen:?}"
    );
    assert!(seen.iter().all(|s| s.ends_with("?limit=500")), "{seen:?}");
}
