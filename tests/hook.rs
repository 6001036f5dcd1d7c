//! The pre-commit hook: `leakhound hook install`, a real `git commit` blocked
//! or let through by it, and the pre-commit framework's `try-repo` on this
//! repository's `.pre-commit-hooks.yaml`; plus completions and the man page.

mod common;

use std::path::Path;
use std::process::Output;

use common::repo::Repo;
use common::{run, token};

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn install(repo: &Repo, extra: &[&str]) -> common::Run {
    let mut args = vec!["hook", "install", repo.root()];
    args.extend_from_slice(extra);
    run(&args)
}

fn hook_path(repo: &Repo) -> std::path::PathBuf {
    repo.path().join(".git/hooks/pre-commit")
}

#[test]
fn a_commit_adding_a_token_is_blocked_and_a_clean_one_passes() {
    let mut repo = Repo::new();
    repo.write("README.md", "hello\n");
    repo.commit("first");
    let r = install(&repo, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);

    let secret = token("hook-blocked");
    repo.write(
        "config/deploy.env",
        &format!("# ci\nGITHUB_TOKEN={secret}\n"),
    );
    repo.git(&["add", "-A"]);
    let out = repo
        .git_command()
        .args(["commit", "-q", "-m", "add deploy config"])
        .output()
        .expect("run git commit");
    let said = text(&out);
    assert!(!out.status.success(), "commit went through: {said}");
    assert!(said.contains("commit blocked"), "{said}");
    assert!(said.contains("config/deploy.env:2:14"), "{said}");
    assert!(said.contains("GitHub (github.pat)"), "{said}");
    let fingerprint = common::fingerprint(&secret);
    assert!(said.contains(&fingerprint), "{said}");
    assert!(said.contains(".leakhoundignore"), "{said}");
    assert!(said.contains("compromised"), "{said}");
    assert!(!said.contains(&secret), "raw secret in hook output");
    assert_eq!(repo.git(&["rev-list", "--count", "HEAD"]), "1");

    repo.write("config/deploy.env", "# ci\nGITHUB_TOKEN=${GITHUB_TOKEN}\n");
    repo.git(&["add", "-A"]);
    let out = repo
        .git_command()
        .args(["commit", "-q", "-m", "read the token from the environment"])
        .output()
        .expect("run git commit");
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(repo.git(&["rev-list", "--count", "HEAD"]), "2");
}

#[test]
fn a_foreign_hook_is_kept_unless_forced_or_chained() {
    let mut repo = Repo::new();
    repo.commit("first");
    let hook = hook_path(&repo);
    std::fs::create_dir_all(hook.parent().expect("hooks dir")).expect("mkdir");
    std::fs::write(&hook, "#!/bin/sh\necho foreign-hook-ran\nexit 0\n").expect("write hook");
    make_executable(&hook);

    let r = install(&repo, &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--chain"), "{}", r.stderr);
    assert!(std::fs::read_to_string(&hook)
        .expect("hook")
        .contains("foreign-hook-ran"));

    // Chained: the old hook runs first, then leakhound.
    let r = install(&repo, &["--chain"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let chained = hook.with_file_name("pre-commit.before-leakhound");
    assert!(chained.exists());
    repo.write("a.txt", "clean\n");
    repo.git(&["add", "-A"]);
    let out = repo
        .git_command()
        .args(["commit", "-q", "-m", "clean"])
        .output()
        .expect("commit");
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("foreign-hook-ran"), "{}", text(&out));
    // Installing again rewrites our hook and keeps the chain.
    let r = install(&repo, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("updated"), "{}", r.stderr);
    let script = std::fs::read_to_string(&hook).expect("hook");
    assert!(script.contains("pre-commit.before-leakhound"), "{script}");

    // Forced over a foreign hook.
    std::fs::write(&hook, "#!/bin/sh\nexit 0\n").expect("write hook");
    let r = install(&repo, &["--force"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(std::fs::read_to_string(&hook)
        .expect("hook")
        .contains("scan git --staged"));
}

#[test]
fn hooks_path_from_the_config_is_honoured() {
    let mut repo = Repo::new();
    repo.commit("first");
    repo.git(&["config", "core.hooksPath", "tools/hooks"]);
    let r = install(&repo, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(repo.path().join("tools/hooks/pre-commit").exists());
    assert!(!hook_path(&repo).exists());
}

#[test]
fn outside_a_repository_install_fails_with_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let r = run(&["hook", "install", dir.path().to_str().expect("utf-8")]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("not inside a git work tree"),
        "{}",
        r.stderr
    );
}

/// The pre-commit framework (PyPI `pre-commit`, installed by `.ci/setup`)
/// runs this repository's `leakhound-system` hook: `try-repo` blocks a
/// commit adding a token and passes a clean one.
#[test]
fn pre_commit_try_repo_blocks_a_token_and_passes_a_clean_change() {
    let project = env!("CARGO_MANIFEST_DIR");
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_leakhound"))
        .parent()
        .expect("binary directory")
        .to_path_buf();
    let home = tempfile::tempdir().expect("tempdir");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut repo = Repo::new();
    repo.write("README.md", "hello\n");
    repo.commit("first");
    let try_repo = |repo: &Repo| -> Output {
        repo.command("pre-commit")
            .env("PATH", &path)
            .env("PRE_COMMIT_HOME", home.path())
            .env("NO_COLOR", "1")
            .args(["try-repo", project, "leakhound-system"])
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run pre-commit ({e}): install it with `pip install pre-commit` (.ci/setup does)")
            })
    };

    let secret = token("pre-commit-try-repo");
    repo.write("src/settings.py", &format!("TOKEN = \"{secret}\"\n"));
    repo.git(&["add", "-A"]);
    let out = try_repo(&repo);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("commit blocked"), "{said}");
    assert!(said.contains("src/settings.py:1:10"), "{said}");
    assert!(!said.contains(&secret), "raw secret in pre-commit output");

    repo.write("src/settings.py", "TOKEN = os.environ[\"TOKEN\"]\n");
    repo.git(&["add", "-A"]);
    let out = try_repo(&repo);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn completions_and_man_page_come_from_the_cli_definitions() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let r = run(&["completions", shell]);
        assert_eq!(r.code, 0, "{shell}: {}", r.stderr);
        assert!(r.stdout.contains("leakhound"), "{shell}");
        assert!(
            r.stdout.contains("staged"),
            "{shell}: completions lack git flags"
        );
    }
    let r = run(&["man"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.starts_with(".ie") || r.stdout.contains(".TH leakhound"),
        "{}",
        &r.stdout[..200.min(r.stdout.len())]
    );
    assert!(r.stdout.contains("scan"));
}

#[cfg(unix)]
fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}
