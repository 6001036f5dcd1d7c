//! Hostile inputs to the filesystem scan: each one is a note or a warning
//! naming the input, never a crash or a hang, and the rest of the tree is
//! still scanned.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::{json, run, token, Run};
use serde_json::Value;

fn scan(root: &Path, extra: &[&str]) -> (Run, Value) {
    let mut args = vec![
        "scan",
        "fs",
        root.to_str().expect("utf-8 path"),
        "--format",
        "json",
        "--no-progress",
    ];
    args.extend_from_slice(extra);
    let r = run(&args);
    let v = json(&r);
    (r, v)
}

/// (relative path, line, column, rule) of every finding.
fn found(v: &Value, root: &Path) -> Vec<(String, u64, u64, String)> {
    let prefix = format!("{}/", root.display());
    let mut out: Vec<_> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let path = f["location"]["path"].as_str().expect("path");
            (
                path.strip_prefix(&prefix).unwrap_or(path).to_string(),
                f["location"]["line"].as_u64().expect("line"),
                f["location"]["column"].as_u64().expect("column"),
                f["rule"]["id"].as_str().expect("rule").to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

fn finding(path: &str, line: u64, column: u64) -> (String, u64, u64, String) {
    (path.to_string(), line, column, "github.pat".to_string())
}

/// A clean tree with one ordinary secret, so every test also checks that the
/// rest of the scan went on.
fn tree_with_control(secret: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(dir.path().join("control.env"), format!("TOKEN={secret}\n")).expect("write");
    dir
}

#[test]
fn a_10_gb_sparse_file_is_skipped_by_size_with_a_note() {
    let secret = token("hostile-sparse");
    let dir = tree_with_control(&secret);
    let big = fs::File::create(dir.path().join("disk.img")).expect("create");
    big.set_len(10 << 30).expect("sparse 10 GB");
    let (r, v) = scan(dir.path(), &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("disk.img") && r.stderr.contains("--max-file-size"),
        "{}",
        r.stderr
    );
    assert_eq!(found(&v, dir.path()), [finding("control.env", 1, 7)]);
    assert_eq!(v["stats"]["skipped"], 1);
}

#[cfg(unix)]
#[test]
fn symlink_loops_and_links_out_of_the_root_are_not_followed() {
    use std::os::unix::fs::symlink;
    let secret = token("hostile-symlink-control");
    let outside_secret = token("hostile-outside-root");
    let dir = tree_with_control(&secret);
    let outside = tempfile::tempdir().expect("tempdir");
    fs::write(
        outside.path().join("leak.env"),
        format!("TOKEN={outside_secret}\n"),
    )
    .expect("write");
    symlink(outside.path(), dir.path().join("elsewhere")).expect("symlink dir");
    symlink(
        outside.path().join("leak.env"),
        dir.path().join("leak-link.env"),
    )
    .expect("symlink file");
    symlink(dir.path().join("loop-b"), dir.path().join("loop-a")).expect("symlink");
    symlink(dir.path().join("loop-a"), dir.path().join("loop-b")).expect("symlink");
    fs::create_dir(dir.path().join("sub")).expect("mkdir");
    symlink(dir.path(), dir.path().join("sub/up")).expect("symlink to an ancestor");
    let (r, v) = scan(dir.path(), &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(found(&v, dir.path()), [finding("control.env", 1, 7)]);
    assert!(!r.stdout.contains(&outside_secret) && !r.stderr.contains(&outside_secret));
}

#[cfg(unix)]
#[test]
fn a_fifo_and_a_device_are_skipped_not_read() {
    let secret = token("hostile-fifo");
    let dir = tree_with_control(&secret);
    let fifo = dir.path().join("pipe");
    let ok = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("run mkfifo");
    assert!(ok.success(), "mkfifo failed");
    // Reading the FIFO would block forever: the scan must finish.
    let (r, v) = scan(dir.path(), &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("pipe"), "{}", r.stderr);
    assert_eq!(found(&v, dir.path()), [finding("control.env", 1, 7)]);
    // A device named on the command line (reading /dev/zero never ends).
    let r = run(&["scan", "fs", "/dev/zero", "--no-progress"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("/dev/zero"), "{}", r.stderr);
}

#[test]
fn invalid_utf8_around_a_secret_does_not_hide_it() {
    let secret = token("hostile-invalid-utf8");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut bytes = b"\xff\xfe\xfd garbage \xc3\x28\n\x80\x81 ".to_vec();
    bytes.extend_from_slice(format!("token={secret} ").as_bytes());
    bytes.extend_from_slice(b"\xe2\x82\n");
    fs::write(dir.path().join("mixed.bin"), bytes).expect("write");
    let (r, v) = scan(dir.path(), &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(found(&v, dir.path()), [finding("mixed.bin", 2, 10)]);
}

#[test]
fn utf16_files_are_decoded_and_scanned() {
    let le_secret = token("hostile-utf16-le");
    let be_secret = token("hostile-utf16-be");
    let dir = tempfile::tempdir().expect("tempdir");
    let text = |s: &str| {
        format!("Windows Registry Editor Version 5.00\r\n\r\n[HKEY_CURRENT_USER\\Software\\Deploy]\r\n\"Token\"=\"{s}\"\r\n")
    };
    let mut le = vec![0xFF, 0xFE];
    le.extend(text(&le_secret).encode_utf16().flat_map(u16::to_le_bytes));
    fs::write(dir.path().join("deploy-le.reg"), le).expect("write");
    // Big-endian, no byte-order mark: recognised by its NUL pattern.
    let be: Vec<u8> = text(&be_secret)
        .encode_utf16()
        .flat_map(u16::to_be_bytes)
        .collect();
    fs::write(dir.path().join("deploy-be.reg"), be).expect("write");
    let (r, v) = scan(dir.path(), &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        found(&v, dir.path()),
        [
            finding("deploy-be.reg", 4, 10),
            finding("deploy-le.reg", 4, 10)
        ]
    );
    for s in [&le_secret, &be_secret] {
        assert!(!r.stdout.contains(s.as_str()));
    }
}

#[test]
fn a_100_mb_line_without_newline_is_scanned_in_bounded_windows() {
    let secret = token("hostile-long-line");
    let dir = tempfile::tempdir().expect("tempdir");
    let half = "abcdefghij".repeat(5_000_000);
    fs::write(
        dir.path().join("one-line.txt"),
        format!("{half} token={secret} {half}"),
    )
    .expect("write");
    let (r, v) = scan(dir.path(), &["--max-file-size", "200MiB"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        found(&v, dir.path()),
        [finding("one-line.txt", 1, 50_000_008)]
    );
}

/// A file the scanning user may not read: a warning naming it, counted in
/// `stats.errors`, the rest scanned. Root reads everything, so as root the
/// scan runs as `nobody` (util-linux `setpriv`).
#[cfg(unix)]
#[test]
fn an_unreadable_file_is_a_warning_and_the_rest_is_scanned() {
    use std::os::unix::fs::PermissionsExt as _;
    let secret = token("hostile-unreadable-control");
    let hidden = token("hostile-unreadable-hidden");
    // tempdir() is private to its owner; `nobody` must be able to walk it.
    let dir = tempfile::Builder::new().tempdir().expect("tempdir");
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod dir");
    fs::write(dir.path().join("control.env"), format!("TOKEN={secret}\n")).expect("write");
    fs::set_permissions(
        dir.path().join("control.env"),
        fs::Permissions::from_mode(0o644),
    )
    .expect("chmod");
    let locked = dir.path().join("locked.env");
    fs::write(&locked, format!("TOKEN={hidden}\n")).expect("write");
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).expect("chmod 000");

    let root = dir.path().to_str().expect("utf-8");
    let args = ["scan", "fs", root, "--format", "json", "--no-progress"];
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .expect("run id");
    let out = if is_root {
        // The build directory may be private to root: run a copy from a
        // directory `nobody` can reach.
        let bin_dir = tempfile::tempdir().expect("tempdir");
        fs::set_permissions(bin_dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
        let bin = bin_dir.path().join("leakhound");
        fs::copy(env!("CARGO_BIN_EXE_leakhound"), &bin).expect("copy binary");
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&bin)
            .args(args)
            .output()
            .expect("run setpriv (util-linux)")
    } else {
        common::bin().args(args).output().expect("run leakhound")
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("locked.env"), "{stderr}");
    let v: Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(found(&v, dir.path()), [finding("control.env", 1, 7)]);
    assert_eq!(v["stats"]["errors"], 1);
    assert!(!stderr.contains(&hidden) && !stdout.contains(&hidden));
}

/// A pack entry whose compressed bytes are damaged: a warning naming that
/// blob, `stats.errors` counted, every other blob still scanned.
#[test]
fn a_corrupt_pack_entry_is_a_warning_and_the_rest_of_history_is_scanned() {
    let mut repo = common::repo::Repo::new();
    for i in 0..5 {
        let body: String = (0..200)
            .map(|j| format!("line {j} of file {i}: lorem ipsum dolor sit amet\n"))
            .collect();
        repo.write(&format!("f{i}.txt"), &body);
        repo.commit(&format!("file {i}"));
    }
    let secret = token("hostile-corrupt-pack");
    repo.write("deploy.env", &format!("TOKEN={secret}\n"));
    repo.commit("deploy");
    repo.git(&["gc", "-q"]);
    let victim = repo.git(&["rev-parse", "HEAD:f2.txt"]);
    let pack_dir = repo.path().join(".git/objects/pack");
    let idx = fs::read_dir(&pack_dir)
        .expect("pack dir")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|e| e == "idx"))
        .expect("a pack index after gc");
    let listing = repo.git(&["verify-pack", "-v", idx.to_str().expect("utf-8")]);
    let offset: usize = listing
        .lines()
        .find(|l| l.starts_with(&victim))
        .and_then(|l| l.split_whitespace().nth(4))
        .and_then(|o| o.parse().ok())
        .expect("victim blob's offset in the pack");
    let pack = idx.with_extension("pack");
    let mut perm = fs::metadata(&pack).expect("pack").permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perm.set_readonly(false);
    fs::set_permissions(&pack, perm).expect("make pack writable");
    let mut bytes = fs::read(&pack).expect("read pack");
    for b in &mut bytes[offset + 4..offset + 40] {
        *b ^= 0x5a;
    }
    fs::write(&pack, bytes).expect("write pack");

    let r = run(&[
        "scan",
        "git",
        repo.root(),
        "--format",
        "json",
        "--no-progress",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains(&victim), "{}", r.stderr);
    let v = json(&r);
    assert!(v["stats"]["errors"].as_u64().is_some_and(|e| e >= 1));
    let found: Vec<&str> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["location"]["path"].as_str().expect("path"))
        .collect();
    assert_eq!(found, ["deploy.env"]);
}

/// A raw tar entry whose name is taken as is (`tar::Builder` refuses `..`).
fn raw_tar_entry(out: &mut tar::Builder<Vec<u8>>, name: &str, data: &[u8]) {
    let mut h = tar::Header::new_old();
    h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    out.append(&h, data).expect("tar entry");
}

/// Layer entries named `../../…` or `/…` are names, not places: the
/// secrets in them are found under those names and nothing is written.
#[test]
fn tar_entries_with_dot_dot_and_absolute_paths_are_scanned_never_extracted() {
    let traversal = token("hostile-tar-dotdot");
    let absolute = token("hostile-tar-absolute");
    let mut b = tar::Builder::new(Vec::new());
    raw_tar_entry(
        &mut b,
        "../../leakhound-escape/leak.env",
        format!("TOKEN={traversal}\n").as_bytes(),
    );
    raw_tar_entry(
        &mut b,
        "/tmp/leakhound-absolute.env",
        format!("TOKEN={absolute}\n").as_bytes(),
    );
    let layer = common::image::Layer::gzip(b.into_inner().expect("tar"));
    let image = common::image::Image::new(
        vec![layer],
        serde_json::json!({"architecture": "amd64", "os": "linux", "config": {}}),
    );
    let work = tempfile::tempdir().expect("tempdir");
    let archive = work.path().join("evil.tar");
    image.write_docker_archive(&archive, "evil:1");
    let reference = format!("docker-archive:{}", archive.display());
    let out = common::bin()
        .args([
            "scan",
            "image",
            &reference,
            "--format",
            "json",
            "--no-progress",
        ])
        .current_dir(work.path())
        .output()
        .expect("run leakhound");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let mut paths: Vec<&str> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["location"]["path"].as_str().expect("path"))
        .collect();
    paths.sort_unstable();
    assert_eq!(paths.len(), 2, "{paths:?}");
    assert!(paths[0].ends_with("leakhound-escape/leak.env"), "{paths:?}");
    assert!(
        paths[1].ends_with("tmp/leakhound-absolute.env"),
        "{paths:?}"
    );
    assert!(!work.path().join("../../leakhound-escape").exists());
    assert!(!Path::new("/tmp/leakhound-absolute.env").exists());
}

/// A gzip bomb and an archive nested deeper than the limit, on disk: a
/// warning or note naming each, the rest of the tree scanned, memory bounded
/// by the limits (the bomb would expand to 64 MiB from 64 KiB).
#[test]
fn archive_bombs_and_deep_nesting_on_disk_are_refused_by_name() {
    let secret = token("hostile-archive-control");
    let deep_secret = token("hostile-archive-deep");
    let dir = tree_with_control(&secret);
    let zeros = vec![0u8; 64 << 20];
    let bomb = common::image::gzip(&common::image::tar(&[("zeros.bin", zeros.as_slice())]));
    drop(zeros);
    fs::write(dir.path().join("bomb.tgz"), bomb).expect("write bomb");
    // Four levels of tar.gz around a token: the innermost is past depth 3.
    let mut inner = common::image::gzip(&common::image::tar(&[(
        "deep.env",
        format!("TOKEN={deep_secret}\n").as_bytes(),
    )]));
    for level in 0..4 {
        let name = format!("level{level}.tgz");
        inner = common::image::gzip(&common::image::tar(&[(name.as_str(), inner.as_slice())]));
    }
    fs::write(dir.path().join("nested.tgz"), inner).expect("write nested");
    let (r, v) = scan(dir.path(), &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("bomb.tgz") && r.stderr.contains("bomb"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("nested more than 3 levels"),
        "{}",
        r.stderr
    );
    assert_eq!(found(&v, dir.path()), [finding("control.env", 1, 7)]);
    assert!(!r.stdout.contains(&deep_secret));
}

/// A "registry" on loopback that accepts connections and then either says
/// nothing (hangs) or answers bytes that are not HTTP.
fn bad_registry(garbage: bool) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let host = listener.local_addr().expect("addr").to_string();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            if garbage {
                use std::io::Write as _;
                let _ = stream.write_all(b"\x00\x13garbage, not http\r\n\r\n\xff\xfe");
            } else {
                // Keep it open, say nothing.
                held.push(stream);
            }
        }
    });
    host
}

/// A registry that hangs or answers garbage: a warning naming the image, in
/// bounded time (`--registry-timeout`), the other images still scanned, and
/// exit 2 only because nothing could be scanned at all.
#[test]
fn a_hanging_or_garbage_registry_is_a_warning_in_bounded_time() {
    for garbage in [false, true] {
        let host = bad_registry(garbage);
        let reference = format!("{host}/team/app:1.0");
        let started = std::time::Instant::now();
        let r = run(&[
            "scan",
            "image",
            &reference,
            "--insecure-registry",
            &host,
            "--registry-timeout",
            "1",
            "--format",
            "json",
            "--no-progress",
        ]);
        let took = started.elapsed();
        assert!(took < std::time::Duration::from_secs(60), "took {took:?}");
        assert_eq!(r.code, 2, "garbage={garbage}: {}", r.stderr);
        assert!(
            r.stderr.contains(&reference),
            "garbage={garbage}: {}",
            r.stderr
        );
    }

    // With a good image beside it, the bad one is a warning and the run
    // reports what it could read.
    let secret = token("hostile-registry-control");
    let layer = common::image::Layer::gzip(common::image::tar(&[(
        "app/.env",
        format!("TOKEN={secret}\n").as_bytes(),
    )]));
    let image = common::image::Image::new(
        vec![layer],
        serde_json::json!({"architecture": "amd64", "os": "linux", "config": {}}),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let archive = dir.path().join("good.tar");
    image.write_docker_archive(&archive, "good:1");
    let good = format!("docker-archive:{}", archive.display());
    let host = bad_registry(false);
    let bad = format!("{host}/team/app:1.0");
    let r = run(&[
        "scan",
        "image",
        &bad,
        &good,
        "--insecure-registry",
        &host,
        "--registry-timeout",
        "1",
        "--format",
        "json",
        "--no-progress",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains(&bad), "{}", r.stderr);
    let v = json(&r);
    assert_eq!(v["findings"].as_array().expect("findings").len(), 1);
}
