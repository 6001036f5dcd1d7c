//! A scratch git repository driven by the `git` CLI, for end-to-end tests.

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use tempfile::TempDir;

use super::{json, run, Run};

/// A scratch repository driven by the `git` CLI with fixed identities and
/// dates, one minute apart per commit, isolated from the user's config.
pub struct Repo {
    pub dir: TempDir,
    clock: u64,
}

impl Repo {
    pub fn new() -> Repo {
        let repo = Repo {
            dir: tempfile::tempdir().expect("tempdir"),
            clock: 0,
        };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.git(&["config", "gc.auto", "0"]);
        repo
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn root(&self) -> &str {
        self.path().to_str().expect("utf-8 temp path")
    }

    /// `git` in this repository with the fixed identity and clock, for
    /// commands whose failure a test expects (`git commit` through a hook).
    pub fn git_command(&self) -> Command {
        self.command("git")
    }

    /// `program` run in this repository with git's fixed identity and clock
    /// and no user config (for tools that call git, such as pre-commit).
    pub fn command(&self, program: &str) -> Command {
        let date = format!("{} +0100", 1_700_000_000 + self.clock * 60);
        let mut c = Command::new(program);
        c.current_dir(self.path())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Ada Lovelace")
            .env("GIT_AUTHOR_EMAIL", "ada@analytical.engine")
            .env("GIT_COMMITTER_NAME", "Ada Lovelace")
            .env("GIT_COMMITTER_EMAIL", "ada@analytical.engine")
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date);
        c
    }

    pub fn git(&self, args: &[&str]) -> String {
        let out = self.git_command().args(args).output().expect("run git");
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn write(&self, path: &str, text: &str) {
        let p = self.path().join(path);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(p, text).expect("write");
    }

    /// Stages everything and commits; returns the new commit id.
    pub fn commit(&mut self, message: &str) -> String {
        self.clock += 1;
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    pub fn scan(&self, extra: &[&str]) -> (Run, Value) {
        let mut args = vec!["scan", "git", self.root(), "--format", "json"];
        args.extend_from_slice(extra);
        let r = run(&args);
        let v = json(&r);
        (r, v)
    }
}
