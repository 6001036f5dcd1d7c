//! End-to-end tests of `leakhound scan image` and `scan registry` through
//! the real binary: images built from scratch, served by a real registry
//! (Debian's docker-registry, plain and behind basic auth), written as a
//! `docker save` tarball and as an OCI layout.

mod common;

use std::collections::BTreeSet;

use common::image::{self, Image, Layer};
use common::registry::TestRegistry;
use common::{bin, json, token, Run};
use serde_json::{json, Value};

const AWS_KEY_ID: &str = "AKIAE667RW3MSF3WLPQ3";
const AWS_SECRET: &str = "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";
/// No provider format: found because the variable's name says secret.
const DB_PASSWORD: &str = "Zq7!mR2#vLp9wXy";
const RSA_KEY: &str = "-----BEGIN RSA PRIVATE KEY-----
MIIBOgIBAAJBAJ39RMpX6w9q6kKhuhk8xgVzi/+8Oa5xnTLEfSzCwbdvJW9guIEY
YKMRswhs39RbRL8+9frJw8n3yc1YAOYFrP8CAwEAAQJAbr1lJ3OitubZFyVnXWNE
5fNM8U+NGuJWLoydtO86e4kZgd3dUNrmwbPd6rXMO5dxipsHT6h4GGVzYQWjFAeT
wQIhANHt2xtR8J75j8pmypBMl79DmT4D8sL+6KXz0EUOwJohAiEAwKlaxkTQ1VYl
MgGBXq+x7VxTIpA9RZc9X6eon8iQox8CIHvb1Zmx58E0R1VI/pzSw/mSHbkMRVAt
bAB18Ny9zn9hAiEAhvCXIbNlSWby2llvkTAhwQwfNmAsaieJ1wuI8ZD6rSUCIBxC
01ljlfJ4LdGCWOisDxSvs7wONxsAdGSa+/krbiRq
-----END RSA PRIVATE KEY-----";

/// An npm token the built-in rule finds: `npm_` and 36 alphanumerics.
fn npm_token(seed: &str) -> String {
    format!("npm_{}", &token(seed)[4..])
}

/// Every planted value of the acceptance image.
struct Planted {
    cache_token: String,
    conf_token: String,
    env_token: String,
    npm_build_arg: String,
    npm_bundle: String,
}

impl Planted {
    fn new() -> Planted {
        Planted {
            cache_token: token("image-cache"),
            conf_token: token("image-conf"),
            env_token: token("image-env"),
            npm_build_arg: npm_token("image-build-arg"),
            npm_bundle: npm_token("image-bundle"),
        }
    }

    fn all(&self) -> Vec<String> {
        vec![
            AWS_KEY_ID.to_string(),
            AWS_SECRET.to_string(),
            DB_PASSWORD.to_string(),
            RSA_KEY.lines().nth(1).expect("key body").to_string(),
            self.cache_token.clone(),
            self.conf_token.clone(),
            self.env_token.clone(),
            self.npm_build_arg.clone(),
            self.npm_bundle.clone(),
        ]
    }
}

/// Layer 0 a base with a nested tgz, layer 1 adds `app/.env` (AWS pair and
/// a private key), `app/cache/session.txt` and `etc/app.conf`; layer 2
/// whiteouts `.env`, opaque-deletes `app/cache/` and replaces
/// `etc/app.conf`. Env holds a GitHub token, history an npm build arg.
fn acceptance_image(p: &Planted, zstd_top: bool) -> Image {
    let npmrc = format!("//registry.npmjs.org/:_authToken={}\n", p.npm_bundle);
    let bundle = image::gzip(&image::tar(&[("conf/.npmrc", npmrc.as_bytes())]));
    let base = image::tar(&[
        ("etc/os-release", b"ID=leakhound-test\n"),
        ("opt/bundle.tgz", &bundle),
    ]);
    let env =
        format!("AWS_ACCESS_KEY_ID={AWS_KEY_ID}\nAWS_SECRET_ACCESS_KEY={AWS_SECRET}\n{RSA_KEY}\n");
    let session = format!("session {}\n", p.cache_token);
    let conf = format!("[auth]\ntoken = {}\n", p.conf_token);
    let adds = image::tar(&[
        ("app/.env", env.as_bytes()),
        ("app/cache/session.txt", session.as_bytes()),
        ("etc/app.conf", conf.as_bytes()),
    ]);
    let cleanup = image::tar(&[
        ("app/.wh..env", b""),
        ("app/cache/.wh..wh..opq", b""),
        ("app/cache/fresh.txt", b"nothing here\n"),
        ("etc/app.conf", b"[auth]\ntoken_file = /run/secrets/token\n"),
    ]);
    let top = if zstd_top {
        Layer::zstd(cleanup)
    } else {
        Layer::gzip(cleanup)
    };
    Image::new(
        vec![Layer::gzip(base), Layer::gzip(adds), top],
        json!({
            "architecture": "amd64",
            "os": "linux",
            "config": {
                "Env": [
                    "PATH=/usr/local/bin:/usr/bin",
                    format!("GITHUB_TOKEN={}", p.env_token),
                    format!("DB_PASSWORD={DB_PASSWORD}"),
                    "DB_PASSWORD_FILE=/run/secrets/db_password",
                ],
                "Cmd": ["/app/run"],
                "Labels": {"org.opencontainers.image.title": "leakhound-test"},
            },
            "history": [
                {"created_by": "/bin/sh -c #(nop) ADD file:base in / "},
                {"created_by": format!("|1 NPM_TOKEN={} /bin/sh -c npm ci", p.npm_build_arg)},
                {"created_by": "/bin/sh -c rm -rf /app/.env /app/cache"},
            ],
        }),
    )
}

/// A finding reduced to what the acceptance checks.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Seen {
    rule: String,
    source: String,
    /// `path` for layers, `field` for the config.
    place: String,
    layer: Option<u64>,
    deleted: Option<u64>,
    overwritten: Option<u64>,
    line: u64,
    column: u64,
}

fn seen(report: &Value) -> BTreeSet<Seen> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let l = &f["location"];
            Seen {
                rule: f["rule"]["id"].as_str().expect("rule").to_string(),
                source: l["source"].as_str().expect("source").to_string(),
                place: l["path"]
                    .as_str()
                    .or_else(|| l["field"].as_str())
                    .expect("path or field")
                    .to_string(),
                layer: l["layer_index"].as_u64(),
                deleted: l["deleted_in_layer"].as_u64(),
                overwritten: l["overwritten_in_layer"].as_u64(),
                line: l["line"].as_u64().expect("line"),
                column: l["column"].as_u64().expect("column"),
            }
        })
        .collect()
}

fn layer(
    rule: &str,
    path: &str,
    index: u64,
    hidden: (Option<u64>, Option<u64>),
    line: u64,
    column: u64,
) -> Seen {
    Seen {
        rule: rule.to_string(),
        source: "image".to_string(),
        place: path.to_string(),
        layer: Some(index),
        deleted: hidden.0,
        overwritten: hidden.1,
        line,
        column,
    }
}

fn config(rule: &str, field: &str, column: u64) -> Seen {
    Seen {
        rule: rule.to_string(),
        source: "image-config".to_string(),
        place: field.to_string(),
        layer: None,
        deleted: None,
        overwritten: None,
        line: 1,
        column,
    }
}

fn acceptance_expected() -> BTreeSet<Seen> {
    let deleted2 = (Some(2), None);
    [
        layer(
            "npm.access-token",
            "opt/bundle.tgz!/conf/.npmrc",
            0,
            (None, None),
            1,
            34,
        ),
        layer("aws.access-key-id", "app/.env", 1, deleted2, 1, 19),
        layer("aws.secret-access-key", "app/.env", 1, deleted2, 2, 23),
        layer("pem.rsa-private-key", "app/.env", 1, deleted2, 3, 1),
        layer("github.pat", "app/cache/session.txt", 1, deleted2, 1, 9),
        layer("github.pat", "etc/app.conf", 1, (None, Some(2)), 2, 9),
        config("github.pat", "Env[1]", 14),
        config("env.secret-named", "Env[2]", 13),
        config("npm.access-token", "history[1].created_by", 14),
    ]
    .into_iter()
    .collect()
}

/// Runs the binary with `stdin` fed to it.
fn run_with_stdin(args: &[&str], stdin: &str) -> Run {
    common::run_stdin(args, stdin.as_bytes())
}

fn scan(args: &[&str]) -> (Run, Value) {
    scan_with_stdin(args, "")
}

fn scan_with_stdin(args: &[&str], stdin: &str) -> (Run, Value) {
    let mut all = vec!["scan"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json", "--no-progress"]);
    let r = run_with_stdin(&all, stdin);
    let v = json(&r);
    (r, v)
}

fn assert_no_leak(r: &Run, planted: &[String]) {
    for s in planted {
        assert!(
            !r.stdout.contains(s.as_str()),
            "stdout leaks a planted value"
        );
        assert!(
            !r.stderr.contains(s.as_str()),
            "stderr leaks a planted value"
        );
    }
}

/// Every finding names the image, its manifest digest and, for layers, the
/// digest of the layer at its index.
fn assert_provenance(
    report: &Value,
    image_name: &str,
    manifest_digest: &str,
    layer_digests: &[String],
) {
    for f in report["findings"].as_array().expect("findings") {
        let l = &f["location"];
        assert_eq!(l["image"], image_name, "{l}");
        assert_eq!(l["manifest_digest"], manifest_digest, "{l}");
        assert_eq!(l["platform"], "linux/amd64", "{l}");
        if l["source"] == "image" {
            let i = l["layer_index"].as_u64().expect("index") as usize;
            assert_eq!(l["layer_digest"], layer_digests[i].as_str(), "{l}");
            assert!(
                l.get("deleted_in_layer").is_some(),
                "deleted_in_layer always present"
            );
        }
    }
}

#[test]
fn acceptance_image_from_a_plain_registry() {
    let p = Planted::new();
    let img = acceptance_image(&p, false);
    let reg = TestRegistry::start();
    reg.push("team/app", "1.0", &img);
    let name = format!("{}/team/app:1.0", reg.host);
    let (r, v) = scan(&["image", &name, "--insecure-registry", &reg.host]);
    assert_eq!(r.code, 1, "stderr: {}", r.stderr);
    assert_eq!(seen(&v), acceptance_expected(), "stderr: {}", r.stderr);
    let digests: Vec<String> = img.layers.iter().map(Layer::digest).collect();
    assert_provenance(&v, &name, &img.manifest_digest(), &digests);
    assert_no_leak(&r, &p.all());
}

#[test]
fn acceptance_image_from_a_basic_auth_registry() {
    let p = Planted::new();
    let img = acceptance_image(&p, false);
    let reg = TestRegistry::start_with_auth("ci-bot", "Hunter2-registry-pass");
    reg.push("team/app", "1.0", &img);
    let name = format!("{}/team/app:1.0", reg.host);
    let (r, v) = scan_with_stdin(
        &[
            "image",
            &name,
            "--insecure-registry",
            &reg.host,
            "--username",
            "ci-bot",
            "--password-stdin",
        ],
        "Hunter2-registry-pass\n",
    );
    assert_eq!(r.code, 1, "stderr: {}", r.stderr);
    assert_eq!(seen(&v), acceptance_expected(), "stderr: {}", r.stderr);
    let mut planted = p.all();
    planted.push("Hunter2-registry-pass".to_string());
    assert_no_leak(&r, &planted);

    // The same registry through ~/.docker/config.json's `auths`.
    let docker = tempfile::tempdir().expect("tempdir");
    let auth = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode("ci-bot:Hunter2-registry-pass")
    };
    std::fs::write(
        docker.path().join("config.json"),
        json!({"auths": {reg.host.clone(): {"auth": auth}}}).to_string(),
    )
    .expect("write docker config");
    let out = bin()
        .env("DOCKER_CONFIG", docker.path())
        .args([
            "scan",
            "image",
            &name,
            "--insecure-registry",
            &reg.host,
            "--format",
            "json",
            "--no-progress",
        ])
        .output()
        .expect("run");
    let r = Run {
        code: out.status.code().expect("code"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert_eq!(r.code, 1, "stderr: {}", r.stderr);
    assert_eq!(seen(&json(&r)), acceptance_expected());
    assert_no_leak(&r, &planted);
}

#[test]
fn acceptance_image_from_a_docker_archive() {
    let p = Planted::new();
    let img = acceptance_image(&p, false);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("app.tar");
    img.write_docker_archive(&path, "team/app:1.0");
    let name = format!("docker-archive:{}", path.display());
    let (r, v) = scan(&["image", &name]);
    assert_eq!(r.code, 1, "stderr: {}", r.stderr);
    assert_eq!(seen(&v), acceptance_expected(), "stderr: {}", r.stderr);
    // docker save keeps uncompressed layers, named by their diff ids.
    let diff_ids: Vec<String> = img.layers.iter().map(Layer::diff_id).collect();
    assert_provenance(&v, &name, &img.config_digest(), &diff_ids);
    assert_no_leak(&r, &p.all());

    // SARIF: layer findings carry the image, layer and deletion.
    let r = common::run(&["scan", "image", &name, "--format", "sarif", "--no-progress"]);
    assert_eq!(r.code, 1, "stderr: {}", r.stderr);
    let sarif = json(&r);
    let env_results: Vec<&Value> = sarif["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|x| x["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "app/.env")
        .collect();
    assert_eq!(env_results.len(), 3);
    for x in env_results {
        assert_eq!(x["properties"]["layerIndex"], 1);
        assert_eq!(x["properties"]["deletedInLayer"], 2);
        assert_eq!(x["properties"]["image"], name.as_str());
    }
    assert_no_leak(&r, &p.all());
}

#[test]
fn acceptance_image_from_an_oci_layout_directory_and_tar() {
    let p = Planted::new();
    let img = acceptance_image(&p, false);
    let dir = tempfile::tempdir().expect("tempdir");
    let layout = dir.path().join("layout");
    image::write_oci_layout(
        &layout,
        &img.blobs(),
        vec![image::manifest_descriptor(&img, None)],
    );
    let layout_tar = dir.path().join("layout.tar");
    image::tar_dir(&layout, &layout_tar);
    let digests: Vec<String> = img.layers.iter().map(Layer::digest).collect();
    for path in [&layout, &layout_tar] {
        let name = format!("oci:{}", path.display());
        let (r, v) = scan(&["image", &name]);
        assert_eq!(r.code, 1, "stderr: {}", r.stderr);
        assert_eq!(seen(&v), acceptance_expected(), "stderr: {}", r.stderr);
        assert_provenance(&v, &name, &img.manifest_digest(), &digests);
        assert_no_leak(&r, &p.all());
    }
}

#[test]
fn a_zstd_layer_is_decoded() {
    let p = Planted::new();
    // The top layer (whiteouts, the replaced app.conf) is zstd: deletions
    // below are only known if it was read.
    let mut img = acceptance_image(&p, true);
    // A secret in the zstd layer itself.
    let extra = token("zstd-layer");
    let tar = image::tar(&[("srv/zstd.txt", format!("gh {extra}\n").as_bytes())]);
    img = Image::new(
        img.layers.into_iter().chain([Layer::zstd(tar)]).collect(),
        serde_json::from_slice(&img.config).expect("config"),
    );
    assert_eq!(img.layers[3].media_type, image::LAYER_ZSTD);
    let reg = TestRegistry::start();
    reg.push("zstd/app", "v1", &img);
    let (r, v) = scan(&[
        "image",
        &format!("{}/zstd/app:v1", reg.host),
        "--insecure-registry",
        &reg.host,
    ]);
    assert_eq!(r.code, 1, "stderr: {}", r.stderr);
    let mut expected = acceptance_expected();
    expected.insert(layer("github.pat", "srv/zstd.txt", 3, (None, None), 1, 4));
    assert_eq!(seen(&v), expected, "stderr: {}", r.stderr);
}

/// One image per platform, with its own planted file.
fn platform_image(arch: &str, secret: &str) -> Image {
    let file = format!("arch {arch} {secret}\n");
    Image::new(
        vec![Layer::gzip(image::tar(&[(
            &format!("etc/{arch}.conf"),
            file.as_bytes(),
        )]))],
        json!({"architecture": arch, "os": "linux", "config": {}}),
    )
}

#[test]
fn a_multi_arch_index_scans_every_platform_skips_attestations_and_honours_platform() {
    let reg = TestRegistry::start();
    let amd = platform_image("amd64", &token("amd64"));
    let arm = platform_image("arm64", &token("arm64"));
    let attestation = platform_image("unknown", &token("attestation"));
    for img in [&amd, &arm, &attestation] {
        for l in &img.layers {
            reg.put_blob("multi/app", &l.blob);
        }
        reg.put_blob("multi/app", &img.config);
        reg.put_manifest(
            "multi/app",
            &img.manifest_digest(),
            image::OCI_MANIFEST,
            &img.manifest(),
        );
    }
    let mut att = image::manifest_descriptor(&attestation, Some(("unknown", "unknown")));
    att["annotations"] = json!({
        "vnd.docker.reference.type": "attestation-manifest",
        "vnd.docker.reference.digest": amd.manifest_digest(),
    });
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": image::OCI_INDEX,
        "manifests": [
            image::manifest_descriptor(&amd, Some(("linux", "amd64"))),
            image::manifest_descriptor(&arm, Some(("linux", "arm64"))),
            att,
        ],
    }))
    .expect("index");
    reg.put_manifest("multi/app", "latest", image::OCI_INDEX, &index);
    let name = format!("{}/multi/app:latest", reg.host);

    let platforms = |v: &Value| -> BTreeSet<(String, String, String)> {
        v["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| {
                let l = &f["location"];
                (
                    l["platform"].as_str().expect("platform").to_string(),
                    l["path"].as_str().expect("path").to_string(),
                    l["manifest_digest"].as_str().expect("digest").to_string(),
                )
            })
            .collect()
    };
    let (r, v) = scan(&["image", &name, "--insecure-registry", &reg.host]);
    assert_eq!(r.code, 1, "stderr: {}", r.stderr);
    assert_eq!(
        platforms(&v),
        BTreeSet::from([
            (
                "linux/amd64".to_string(),
                "etc/amd64.conf".to_string(),
                amd.manifest_digest()
            ),
            (
                "linux/arm64".to_string(),
                "etc/arm64.conf".to_string(),
                arm.manifest_digest()
            ),
        ])
    );
    let (r, v) = scan(&[
        "image",
        &name,
        "--insecure-registry",
        &reg.host,
        "--platform",
        "linux/arm64",
    ]);
    assert_eq!(r.code, 1, "stderr: {}", r.stderr);
    assert_eq!(
        platforms(&v),
        BTreeSet::from([(
            "linux/arm64".to_string(),
            "etc/arm64.conf".to_string(),
            arm.manifest_digest()
        )])
    );
    assert_no_leak(&r, &[token("amd64"), token("arm64"), token("attestation")]);
}

#[test]
fn wrong_credentials_are_a_401_naming_the_credential_source_never_the_password() {
    let reg = TestRegistry::start_with_auth("ci-bot", "Right-pass-7731");
    reg.push("team/app", "1.0", &platform_image("amd64", &token("auth")));
    let name = format!("{}/team/app:1.0", reg.host);
    let r = run_with_stdin(
        &[
            "scan",
            "image",
            &name,
            "--insecure-registry",
            &reg.host,
            "--username",
            "ci-bot",
            "--password-stdin",
            "--format",
            "json",
            "--no-progress",
        ],
        "Wrong-pass-9924\n",
    );
    assert_eq!(r.code, 2, "nothing could be scanned: {}", r.stderr);
    assert!(r.stderr.contains("401"), "{}", r.stderr);
    assert!(
        r.stderr.contains("--username/--password-stdin"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&name),
        "the warning names the image: {}",
        r.stderr
    );
    assert!(!r.stderr.contains("Wrong-pass-9924") && !r.stdout.contains("Wrong-pass-9924"));
    assert!(r.stdout.is_empty(), "no report when nothing was scanned");

    // No credentials at all: anonymous access is what was tried.
    let r = common::run(&[
        "scan",
        "image",
        &name,
        "--insecure-registry",
        &reg.host,
        "--no-progress",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("401") && r.stderr.contains("anonymous"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_missing_tag_is_a_warning_and_the_other_images_are_still_scanned() {
    let reg = TestRegistry::start();
    reg.push(
        "team/app",
        "1.0",
        &platform_image("amd64", &token("present")),
    );
    let good = format!("{}/team/app:1.0", reg.host);
    let missing = format!("{}/team/app:no-such-tag", reg.host);
    let (r, v) = scan(&["image", &missing, &good, "--insecure-registry", &reg.host]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("warning: {missing}: 404")),
        "{}",
        r.stderr
    );
    assert_eq!(v["findings"].as_array().expect("findings").len(), 1);
    assert_eq!(v["findings"][0]["location"]["image"], good.as_str());

    let r = common::run(&[
        "scan",
        "image",
        &missing,
        "--insecure-registry",
        &reg.host,
        "--no-progress",
    ]);
    assert_eq!(
        r.code, 2,
        "only a missing tag: nothing scanned: {}",
        r.stderr
    );
    assert!(r.stderr.contains("404"), "{}", r.stderr);
}

#[test]
fn a_layer_failing_its_digest_is_reported_and_its_findings_discarded() {
    let p = Planted::new();
    let img = acceptance_image(&p, false);
    let reg = TestRegistry::start();
    reg.push("team/app", "1.0", &img);
    // Corrupt layer 1 in the registry's storage: same secrets, one byte
    // changed, so the bytes no longer hash to the digest that names them.
    let bad = img.layers[1].digest();
    let tampered = image::gzip(&{
        let mut t = img.layers[1].tar.clone();
        let at = t.len() - 1100;
        t[at] ^= 0x20;
        t
    });
    std::fs::write(reg.blob_file(&bad), &tampered).expect("tamper");
    let name = format!("{}/team/app:1.0", reg.host);
    let (r, v) = scan(&["image", &name, "--insecure-registry", &reg.host]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains(&bad),
        "the warning names the layer digest: {}",
        r.stderr
    );
    assert!(r.stderr.contains("digest mismatch"), "{}", r.stderr);
    let found = seen(&v);
    assert!(
        found.iter().all(|s| s.layer != Some(1)),
        "layer 1 findings discarded: {found:?}"
    );
    let expected: BTreeSet<Seen> = acceptance_expected()
        .into_iter()
        .filter(|s| s.layer != Some(1))
        .collect();
    assert_eq!(found, expected);
    assert_no_leak(&r, &p.all());

    // The same tampering in an OCI layout.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut blobs = img.blobs();
    for (d, data) in &mut blobs {
        if *d == bad {
            *data = tampered.clone();
        }
    }
    image::write_oci_layout(
        dir.path(),
        &blobs,
        vec![image::manifest_descriptor(&img, None)],
    );
    let (r, v) = scan(&["image", &format!("oci:{}", dir.path().display())]);
    assert!(
        r.stderr.contains(&bad) && r.stderr.contains("digest mismatch"),
        "{}",
        r.stderr
    );
    assert_eq!(seen(&v), expected);

    // A blob cut in the middle: the stream fails, the layer is reported,
    // what it gave before the cut is dropped with it.
    let cut = &img.layers[1].blob[..img.layers[1].blob.len() / 2];
    std::fs::write(
        dir.path()
            .join("blobs/sha256")
            .join(bad.trim_start_matches("sha256:")),
        cut,
    )
    .expect("truncate");
    let (r, v) = scan(&["image", &format!("oci:{}", dir.path().display())]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains(&bad) && r.stderr.contains("layer stream failed"),
        "{}",
        r.stderr
    );
    assert_eq!(seen(&v), expected);
    assert_no_leak(&r, &p.all());
}

#[test]
fn registry_audit_lists_repositories_and_scans_each_manifest_once() {
    let reg = TestRegistry::start();
    let a = platform_image("amd64", &token("audit-a"));
    let b = platform_image("arm64", &token("audit-b"));
    reg.push("team/a", "1.0", &a);
    reg.push("team/a", "latest", &a); // same manifest under two tags
    reg.push("other/b", "1.0", &b);
    let (r, v) = scan(&["registry", &reg.host, "--insecure-registry", &reg.host]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let images: BTreeSet<String> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["location"]["image"].as_str().expect("image").to_string())
        .collect();
    assert_eq!(
        images,
        BTreeSet::from([
            format!("{}/other/b:1.0", reg.host),
            format!("{}/team/a:1.0", reg.host)
        ])
    );
    assert_eq!(v["findings"].as_array().expect("findings").len(), 2);

    let (r, v) = scan(&[
        "registry",
        &reg.host,
        "--repo",
        "team/",
        "--insecure-registry",
        &reg.host,
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(v["findings"].as_array().expect("findings").len(), 1);
    assert_eq!(
        v["findings"][0]["location"]["image"],
        format!("{}/team/a:1.0", reg.host)
    );
}

#[test]
fn a_layer_shared_by_two_images_is_read_once_and_reported_in_both() {
    let reg = TestRegistry::start();
    let shared = Layer::gzip(image::tar(&[(
        "etc/shared.env",
        format!("T={}\n", token("shared")).as_bytes(),
    )]));
    let shared_again = Layer {
        blob: shared.blob.clone(),
        media_type: shared.media_type,
        tar: shared.tar.clone(),
    };
    let one = Image::new(
        vec![shared],
        json!({"architecture": "amd64", "os": "linux"}),
    );
    let two = Image::new(
        vec![
            shared_again,
            Layer::gzip(image::tar(&[("etc/.wh.shared.env", b"")])),
        ],
        json!({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["two"]}}),
    );
    reg.push("one/app", "1", &one);
    reg.push("two/app", "1", &two);
    let n1 = format!("{}/one/app:1", reg.host);
    let n2 = format!("{}/two/app:1", reg.host);
    let (r, v) = scan(&["image", &n1, &n2, "--insecure-registry", &reg.host]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let got: BTreeSet<(String, Option<u64>)> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let l = &f["location"];
            (
                l["image"].as_str().expect("image").to_string(),
                l["deleted_in_layer"].as_u64(),
            )
        })
        .collect();
    // Deleted in the second image only: the whiteout is its own.
    assert_eq!(got, BTreeSet::from([(n1, None), (n2, Some(1))]));
    // Two blobs scanned: the shared layer's one file, read once (the
    // whiteout marker is not content), and image two's Cmd.
    assert_eq!(v["stats"]["blobs"], 2, "{}", v["stats"]);
}

#[test]
fn tls_to_a_plain_http_registry_is_a_clear_warning() {
    let reg = TestRegistry::start();
    let name = format!("{}/team/app:1.0", reg.host);
    // No --insecure-registry: HTTPS to a plain-HTTP server.
    let r = common::run(&["scan", "image", &name, "--no-progress"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains(&format!("warning: {name}: cannot connect to the registry")),
        "{}",
        r.stderr
    );
    let r = common::run(&[
        "scan",
        "image",
        &name,
        "--ca-cert",
        "/nonexistent/ca.pem",
        "--no-progress",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("cannot read --ca-cert /nonexistent/ca.pem"),
        "{}",
        r.stderr
    );
}

/// A stand-in registry for failures a real one does not produce on
/// demand: each connection gets `answer(path)`'s raw bytes, then is closed.
/// Counts requests other than the `/v2/` probe.
fn fake_registry(
    answer: impl Fn(&str) -> Vec<u8> + Send + 'static,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    fake_registry_with_headers(move |path, _| answer(path))
}

/// Like `fake_registry`, with the request's header block as well.
fn fake_registry_with_headers(
    answer: impl Fn(&str, &str) -> Vec<u8> + Send + 'static,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{Read, Write};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let host = listener.local_addr().expect("addr").to_string();
    let requests = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&requests);
    std::thread::spawn(move || {
        // Bounded: the test makes a handful of requests.
        for stream in listener.incoming().take(64) {
            let Ok(mut stream) = stream else { continue };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            let head = String::from_utf8_lossy(&head).into_owned();
            let path = head.split(' ').nth(1).unwrap_or("/").to_string();
            if path != "/v2/" {
                counter.fetch_add(1, Ordering::SeqCst);
            }
            let _ = stream.write_all(&answer(&path, &head));
        }
    });
    (host, requests)
}

fn http(status: &str, content_type: &str, body: &[u8], content_length: usize) -> Vec<u8> {
    http_with(status, "", content_type, body, content_length)
}

fn http_with(
    status: &str,
    extra_headers: &str,
    content_type: &str,
    body: &[u8],
    content_length: usize,
) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\n{extra_headers}Content-Type: {content_type}\r\nContent-Length: {content_length}\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

#[test]
fn a_5xx_is_retried_with_backoff_then_reported() {
    let (host, requests) = fake_registry(|path| {
        if path == "/v2/" {
            http("200 OK", "application/json", b"{}", 2)
        } else {
            let body = br#"{"errors":[]}"#;
            http(
                "503 Service Unavailable",
                "application/json",
                body,
                body.len(),
            )
        }
    });
    let name = format!("{host}/flaky/app:1");
    let started = std::time::Instant::now();
    let r = common::run(&[
        "scan",
        "image",
        &name,
        "--insecure-registry",
        &host,
        "--no-progress",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "warning: {name}: HTTP 503 from the registry (after retries)"
        )),
        "{}",
        r.stderr
    );
    let manifest_requests = requests.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(manifest_requests, 4, "one try and three retries");
    // Pauses of 200, 400 and 800 ms between them.
    assert!(started.elapsed() >= std::time::Duration::from_millis(1400));
}

#[test]
fn a_blob_cut_short_by_the_registry_is_reported_and_its_findings_dropped() {
    let secret = token("cut-short");
    let filler: String = (0..2000)
        .map(|i| format!("line {i} of filler text\n"))
        .collect();
    let layer = Layer::gzip(image::tar(&[
        ("a/first.txt", format!("gh {secret}\n").as_bytes()),
        ("b/filler.txt", filler.as_bytes()),
    ]));
    let img = Image::new(vec![layer], json!({"architecture": "amd64", "os": "linux"}));
    let manifest = img.manifest();
    let config = img.config.clone();
    let (config_digest, layer_digest) = (img.config_digest(), img.layers[0].digest());
    let blob = img.layers[0].blob.clone();
    let (host, _) = fake_registry(move |path| {
        if path == "/v2/" {
            http("200 OK", "application/json", b"{}", 2)
        } else if path.ends_with("/manifests/1") {
            http("200 OK", image::OCI_MANIFEST, &manifest, manifest.len())
        } else if path.ends_with(&config_digest) {
            http("200 OK", "application/octet-stream", &config, config.len())
        } else if path.ends_with(&layer_digest) {
            // Announces the whole blob, sends half, hangs up.
            http(
                "200 OK",
                "application/octet-stream",
                &blob[..blob.len() / 2],
                blob.len(),
            )
        } else {
            http("404 Not Found", "application/json", b"{}", 2)
        }
    });
    let name = format!("{host}/cut/app:1");
    let (r, v) = scan(&["image", &name, "--insecure-registry", &host]);
    assert_eq!(
        r.code, 0,
        "the image was read, its only layer failed: {}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&img.layers[0].digest()) && r.stderr.contains("layer stream failed"),
        "{}",
        r.stderr
    );
    assert!(v["findings"].as_array().expect("findings").is_empty());
    assert_no_leak(&r, &[secret]);
}

#[test]
fn the_bearer_token_flow_trades_basic_credentials_for_a_token() {
    use base64::Engine as _;
    let secret = token("bearer");
    let img = platform_image("amd64", &secret);
    let manifest = img.manifest();
    let config = img.config.clone();
    let (config_digest, layer_digest) = (img.config_digest(), img.layers[0].digest());
    let blob = img.layers[0].blob.clone();
    let basic = base64::engine::general_purpose::STANDARD.encode("robot:Token-pass-5521");
    let listener_host = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let realm_host = std::sync::Arc::clone(&listener_host);
    let (host, _) = fake_registry_with_headers(move |path, head| {
        let host = realm_host.lock().expect("host").clone();
        let challenge =
            format!("WWW-Authenticate: Bearer realm=\"http://{host}/token\",service=\"fake\"\r\n");
        let unauthorized = || {
            let body = br#"{"errors":[{"code":"UNAUTHORIZED","message":"token"}]}"#;
            http_with(
                "401 Unauthorized",
                &challenge,
                "application/json",
                body,
                body.len(),
            )
        };
        if path.starts_with("/token") {
            // The token service wants the user's basic credentials.
            if head.contains(&format!("Basic {basic}")) {
                let body = br#"{"token":"issued-bearer-7731"}"#;
                return http("200 OK", "application/json", body, body.len());
            }
            return http("401 Unauthorized", "application/json", b"{}", 2);
        }
        if !head.contains("Bearer issued-bearer-7731") {
            return unauthorized();
        }
        if path.ends_with("/manifests/1") {
            http("200 OK", image::OCI_MANIFEST, &manifest, manifest.len())
        } else if path.ends_with(&config_digest) {
            http("200 OK", "application/octet-stream", &config, config.len())
        } else if path.ends_with(&layer_digest) {
            http("200 OK", "application/octet-stream", &blob, blob.len())
        } else {
            http("404 Not Found", "application/json", b"{}", 2)
        }
    });
    *listener_host.lock().expect("host") = host.clone();
    let name = format!("{host}/private/app:1");
    let (r, v) = scan_with_stdin(
        &[
            "image",
            &name,
            "--insecure-registry",
            &host,
            "--username",
            "robot",
            "--password-stdin",
        ],
        "Token-pass-5521\n",
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(v["findings"].as_array().expect("findings").len(), 1);
    assert_eq!(v["findings"][0]["location"]["path"], "etc/amd64.conf");
    assert_no_leak(
        &r,
        &[
            secret,
            "Token-pass-5521".to_string(),
            "issued-bearer-7731".to_string(),
        ],
    );
}

#[test]
fn a_private_ca_is_trusted_with_ca_cert_and_refused_without() {
    let p = Planted::new();
    let img = acceptance_image(&p, false);
    let reg = TestRegistry::start();
    reg.push("team/app", "1.0", &img);
    let tls = reg.tls_mirror();
    let name = format!("{}/team/app:1.0", tls.host);
    let ca = tls.ca_cert();
    let (r, v) = scan(&["image", &name, "--ca-cert", ca.to_str().expect("utf-8")]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(seen(&v), acceptance_expected(), "stderr: {}", r.stderr);
    assert_no_leak(&r, &p.all());

    // Without the CA: a TLS error, named as such.
    let r = common::run(&["scan", "image", &name, "--no-progress"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains(&format!("warning: {name}: cannot connect to the registry")),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.to_lowercase().contains("certificate"),
        "{}",
        r.stderr
    );
}
