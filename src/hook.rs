//! `leakhound hook install`: a plain `pre-commit` hook for repositories that
//! do not use the pre-commit framework (which reads `.pre-commit-hooks.yaml`).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Marks a hook file as ours: only such a file is replaced without `--force`.
pub const MARKER: &str = "# installed by leakhound hook install";
/// Where `--chain` moves a hook that was there before; ours runs it first.
pub const CHAINED_NAME: &str = "pre-commit.before-leakhound";

#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error("{path} is not inside a git work tree", path = path.display())]
    NotARepository {
        path: PathBuf,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("{path} is a bare repository: nothing is committed from it", path = path.display())]
    Bare { path: PathBuf },
    #[error(
        "{path} exists and was not written by leakhound; use --chain to run it before leakhound, or --force to replace it",
        path = path.display()
    )]
    Foreign { path: PathBuf },
    #[error("{path} exists already; move it away or use --force", path = path.display())]
    ChainTargetExists { path: PathBuf },
    #[error("cannot write {path}", path = path.display())]
    Io { path: PathBuf, source: io::Error },
}

/// What `--force` and `--chain` ask for when a hook exists already.
#[derive(Debug, Clone, Copy, Default)]
pub struct InstallOptions {
    /// Replace a hook leakhound did not write.
    pub force: bool,
    /// Keep a foreign hook and run it before leakhound.
    pub chain: bool,
}

/// What `install` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Installed {
    /// No hook was there.
    New(PathBuf),
    /// Our own earlier hook was rewritten.
    Updated(PathBuf),
    /// A foreign hook was moved to `chained` and is run first.
    Chained { hook: PathBuf, chained: PathBuf },
    /// A foreign hook was overwritten (`--force`).
    Replaced(PathBuf),
}

/// Writes `pre-commit` into the repository's hooks directory
/// (`core.hooksPath` when set), running `binary scan git --staged`.
pub fn install(repo: &Path, binary: &Path, opts: InstallOptions) -> Result<Installed, HookError> {
    let dir = hooks_dir(repo)?;
    let hook = dir.join("pre-commit");
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| HookError::Io { path, source }
    };
    fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    let existing = match fs::read(&hook) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(io_err(&hook)(e)),
    };
    let ours = existing
        .as_deref()
        .is_some_and(|b| String::from_utf8_lossy(b).contains(MARKER));
    let chained = dir.join(CHAINED_NAME);
    let outcome = match existing {
        None => Installed::New(hook.clone()),
        Some(_) if ours => Installed::Updated(hook.clone()),
        Some(_) if opts.chain => {
            if chained.exists() {
                return Err(HookError::ChainTargetExists { path: chained });
            }
            fs::rename(&hook, &chained).map_err(io_err(&chained))?;
            Installed::Chained {
                hook: hook.clone(),
                chained: chained.clone(),
            }
        }
        Some(_) if opts.force => Installed::Replaced(hook.clone()),
        Some(_) => return Err(HookError::Foreign { path: hook }),
    };
    // A chain set up by an earlier install stays in place when we rewrite.
    let run_chained = chained.exists();
    fs::write(&hook, script(binary, run_chained)).map_err(io_err(&hook))?;
    make_executable(&hook).map_err(io_err(&hook))?;
    Ok(outcome)
}

/// The hook: the chained hook first (its failure blocks the commit), then
/// leakhound on what is staged. `LEAKHOUND` overrides the binary.
pub fn script(binary: &Path, run_chained: bool) -> String {
    let bin = shell_quote(&binary.to_string_lossy());
    let mut s = format!(
        "#!/bin/sh\n{MARKER}\n# Blocks a commit that adds a secret. Bypass once (not advised): git commit --no-verify\n"
    );
    if run_chained {
        s.push_str(&format!(
            "hook_dir=$(dirname \"$0\")\nif [ -x \"$hook_dir/{CHAINED_NAME}\" ]; then\n  \"$hook_dir/{CHAINED_NAME}\" \"$@\" || exit $?\nfi\n"
        ));
    }
    s.push_str(&format!(
        "bin=${{LEAKHOUND:-{bin}}}\nif ! command -v \"$bin\" >/dev/null 2>&1; then bin=leakhound; fi\nexec \"$bin\" scan git --staged --no-progress\n"
    ));
    s
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn hooks_dir(repo: &Path) -> Result<PathBuf, HookError> {
    let r = gix::discover(repo).map_err(|e| HookError::NotARepository {
        path: repo.to_path_buf(),
        source: e.into(),
    })?;
    let Some(work_dir) = r.workdir() else {
        return Err(HookError::Bare {
            path: repo.to_path_buf(),
        });
    };
    let configured = r
        .config_snapshot()
        .string("core.hooksPath")
        .map(|p| PathBuf::from(p.to_string()));
    Ok(match configured {
        // git resolves a relative hooksPath against the work tree's root.
        Some(p) if p.is_relative() => work_dir.join(p),
        Some(p) => p,
        None => r.git_dir().join("hooks"),
    })
}

#[cfg(unix)]
fn make_executable(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let mut perm = fs::metadata(path)?.permissions();
    perm.set_mode(perm.mode() | 0o755);
    fs::set_permissions(path, perm)
}

#[cfg(not(unix))]
fn make_executable(_: &Path) -> io::Result<()> {
    Ok(())
}
