//! Helpers shared by the end-to-end tests: run the real binary, read its
//! JSON, make real-format tokens.
#![allow(dead_code)] // each test crate uses a different subset

pub mod image;
pub mod registry;
pub mod repo;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_leakhound"));
    c.env("NO_COLOR", "1");
    c
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(args: &[&str]) -> Run {
    let out = bin().args(args).output().expect("run leakhound");
    Run {
        code: out.status.code().expect("exited normally"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs leakhound with `stdin` as its standard input.
pub fn run_stdin(args: &[&str], stdin: &[u8]) -> Run {
    use std::io::Write as _;
    use std::process::Stdio;
    let mut child = bin()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn leakhound");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait");
    Run {
        code: out.status.code().expect("exited normally"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Writes `text` at `root/path`, making its directories.
pub fn write(root: &Path, path: &str, text: &str) {
    let p = root.join(path);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(p, text).expect("write");
}

pub fn json(r: &Run) -> Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("bad JSON ({e}): {}", r.stdout))
}

/// The fingerprint leakhound gives `secret`.
pub fn fingerprint(secret: &str) -> String {
    leakhound::report::finding::fingerprint(secret.as_bytes())
}

/// A GitHub classic token the built-in rules find: `ghp_` and 36
/// alphanumerics from a small deterministic generator (no placeholders).
pub fn token(seed: &str) -> String {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut x: u64 = 0xcbf2_9ce4_8422_2325;
    for b in seed.bytes() {
        x = (x ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut out = String::from("ghp_");
    for _ in 0..36 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.push(ALNUM[(x % ALNUM.len() as u64) as usize] as char);
    }
    out
}

/// The filesystem fixture tree: `positive/` with planted secrets,
/// `negative/` with none, `expected.json` listing the planted findings.
pub fn fs_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/fs")
}

/// The raw values of every finding under `root`, read back with
/// `--show-secrets`: what the never-leak assertions grep outputs for.
pub fn raw_secrets(root: &Path) -> Vec<String> {
    let r = run(&[
        "scan",
        "fs",
        root.to_str().expect("utf-8 path"),
        "--format",
        "json",
        "--show-secrets",
        "--no-ignore",
        "--no-progress",
    ]);
    json(&r)["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            f["secret"]
                .as_str()
                .expect("secret present with --show-secrets")
                .to_string()
        })
        .collect()
}
