//! Binary glue: parse arguments, build the engine, run the scan driver, map
//! the outcome to an exit code. Everything testable lives in the library.

mod cli;
mod cmd;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser as _;

use cli::{Cli, Command, HookCommand, RulesCommand, ScanCommand};
use leakhound::engine::{check, ruleset, Engine};
use leakhound::hook;
use leakhound::report::{self, sarif};
use leakhound::source::archive::Limits;
use leakhound::source::git::{GitMode, GitOptions};
use leakhound::source::image::{
    Credentials, ImageError, ImageOptions, ImageSummary, RegistryOptions, RegistryScanOptions,
};
use leakhound::source::{self, fs::FsOptions};

fn main() -> ExitCode {
    // One TLS crypto provider for every client in the process (kube's and
    // oci-client's rustls), chosen before any of them starts.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Rules(RulesCommand::List { rules }) => {
            let engine = cmd::build_engine(&rules)?;
            let mut out = std::io::stdout().lock();
            for r in engine.rules() {
                let line = writeln!(
                    out,
                    "{:<40} {:<7} {:<20} {}",
                    r.id,
                    r.confidence.as_str(),
                    r.provider,
                    r.name
                );
                match line {
                    Ok(()) => {}
                    // A reader that stops early (`| head`) closed the pipe.
                    Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => break,
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Rules(RulesCommand::Check { paths }) => rules_check(&paths),
        Command::Scan(ScanCommand::Fs(args)) => scan_fs(args),
        Command::Scan(ScanCommand::Git(args)) => scan_git(args),
        Command::Scan(ScanCommand::CiLog(args)) => scan_ci_log(args),
        Command::Scan(ScanCommand::Env(args)) => scan_env(args),
        Command::Scan(ScanCommand::Image(args)) => scan_image(args),
        Command::Scan(ScanCommand::Registry(args)) => scan_registry(args),
        Command::Scan(ScanCommand::K8s(args)) => scan_k8s(args),
        Command::Hook(HookCommand::Install { repo, force, chain }) => {
            let binary = std::env::current_exe().context("cannot locate the leakhound binary")?;
            let opts = hook::InstallOptions { force, chain };
            match hook::install(&repo, &binary, opts)? {
                hook::Installed::New(p) => eprintln!("installed {}", p.display()),
                hook::Installed::Updated(p) => eprintln!("updated {}", p.display()),
                hook::Installed::Replaced(p) => eprintln!("replaced {}", p.display()),
                hook::Installed::Chained { hook, chained } => eprintln!(
                    "installed {}; the previous hook, now {}, runs first",
                    hook.display(),
                    chained.display()
                ),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "leakhound", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(cmd).render(&mut std::io::stdout())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn rules_check(paths: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let rules = if paths.is_empty() {
        ruleset::builtin_rules()?
    } else {
        let mut rules = Vec::new();
        for p in paths {
            rules.extend(
                ruleset::load_rules_path(p).with_context(|| format!("loading {}", p.display()))?,
            );
        }
        rules
    };
    let count = rules.len();
    let engine = Engine::new(rules)?;
    let failures = check::check_examples(&engine);
    for f in &failures {
        eprintln!("{f}");
    }
    if failures.is_empty() {
        println!("{count} rules checked, all examples and negative examples hold");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("{count} rules checked, {} failures", failures.len());
        Ok(ExitCode::from(1))
    }
}

fn scan_fs(args: cli::FsArgs) -> anyhow::Result<ExitCode> {
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    let target = cmd::Target {
        root: args
            .paths
            .first()
            .cloned()
            .unwrap_or_else(|| PathBuf::from(".")),
        repo_label: None,
        sarif_paths: sarif::Paths::Fs {
            base: sarif::fs_base(&args.paths, &cwd),
            cwd,
        },
    };
    let opts = FsOptions {
        paths: args.paths,
        respect_ignores: !args.no_ignore,
        max_file_size: args.max_file_size,
        threads: cmd::threads(&args.common),
    };
    let (_, code) = cmd::scan(&args.common, target, |sink| source::fs::scan(&opts, sink))?;
    Ok(code)
}

fn scan_git(args: cli::GitArgs) -> anyhow::Result<ExitCode> {
    let mode = if args.staged {
        GitMode::Staged
    } else if let Some(rev) = args.since {
        GitMode::Range {
            from: rev,
            to: "HEAD".to_string(),
        }
    } else if let Some(range) = &args.range {
        GitMode::parse_range(range)?
    } else if args.all_objects {
        GitMode::AllObjects
    } else {
        GitMode::History
    };
    let opts = GitOptions {
        repo: args.repo,
        mode,
        threads: cmd::threads(&args.common),
    };
    let repo = std::fs::canonicalize(&opts.repo).unwrap_or_else(|_| opts.repo.clone());
    let target = cmd::Target {
        root: opts.repo.clone(),
        repo_label: Some(repo.display().to_string()),
        sarif_paths: sarif::Paths::Repo,
    };
    let mut summary = None;
    let (report, code) = cmd::scan(&args.common, target, |sink| {
        summary = Some(source::git::scan(&opts, sink)?);
        Ok::<_, source::git::GitError>(())
    })?;
    if let Some(s) = summary.as_ref().filter(|_| args.all_objects) {
        cmd::note(
            &args.common,
            format_args!(
                "--all-objects: also scanned {} no ref reaches and {} no commit references",
                count(s.unreachable_commits, "commit", "commits"),
                count(s.unreferenced_blobs, "blob", "blobs"),
            ),
        );
    }
    if summary.is_some_and(|s| s.shallow) {
        cmd::note(
            &args.common,
            format_args!(
                "{} is a shallow clone: history beyond its boundary was not scanned",
                opts.repo.display()
            ),
        );
    }
    if args.staged && code == ExitCode::from(1) {
        report::blocked::write(&report, &mut std::io::stderr().lock())?;
    }
    Ok(code)
}

/// `1 commit`, `2 commits`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn scan_ci_log(args: cli::CiLogArgs) -> anyhow::Result<ExitCode> {
    let opts = source::cilog::CiLogOptions {
        paths: args.paths,
        max_file_size: args.max_file_size,
    };
    scan_text_source(&args.common, |sink| source::cilog::scan(&opts, sink))
}

fn scan_env(args: cli::EnvArgs) -> anyhow::Result<ExitCode> {
    let opts = source::env::EnvOptions {
        paths: args.paths,
        proc: args.proc,
        max_file_size: args.max_file_size,
    };
    scan_text_source(&args.common, |sink| source::env::scan(&opts, sink))
}

/// The sources with no repository around them (logs, dumps, processes):
/// ignore file, owners and SARIF paths are those of the working directory.
fn scan_text_source(
    common: &cli::CommonArgs,
    source: impl FnOnce(&dyn source::Sink) -> Result<(), source::input::InputError>,
) -> anyhow::Result<ExitCode> {
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    let target = cmd::Target {
        root: cwd.clone(),
        repo_label: None,
        sarif_paths: sarif::Paths::Fs {
            base: cwd.clone(),
            cwd,
        },
    };
    let (_, code) = cmd::scan(common, target, source)?;
    Ok(code)
}

fn image_options(refs: Vec<String>, args: cli::RegistryArgs) -> anyhow::Result<ImageOptions> {
    let credentials = match args.username {
        Some(username) => {
            let mut password = String::new();
            std::io::stdin()
                .read_line(&mut password)
                .context("cannot read the password from standard input")?;
            let password = password.trim_end_matches(['\r', '\n']).to_string();
            anyhow::ensure!(
                !password.is_empty(),
                "--password-stdin: standard input is empty"
            );
            Some(Credentials { username, password })
        }
        None => None,
    };
    Ok(ImageOptions {
        refs,
        platform: args.platform,
        registry: RegistryOptions {
            credentials,
            insecure: args.insecure_registry,
            ca_cert: args.ca_cert,
            timeout: std::time::Duration::from_secs(args.registry_timeout.max(1)),
        },
        limits: Limits {
            max_entry_size: args.max_file_size,
            ..Limits::default()
        },
    })
}

fn scan_image(args: Box<cli::ImageArgs>) -> anyhow::Result<ExitCode> {
    let args = *args;
    let opts = image_options(args.refs, args.registry)?;
    scan_images(&args.common, |sink| source::image::scan(&opts, sink))
}

fn scan_registry(args: Box<cli::RegistryScanArgs>) -> anyhow::Result<ExitCode> {
    let args = *args;
    let opts = RegistryScanOptions {
        host: args.host,
        repo_prefix: args.repo,
        image: image_options(Vec::new(), args.registry)?,
    };
    scan_images(&args.common, |sink| {
        source::image::scan_registry(&opts, sink)
    })
}

/// Images have no work tree: ignore file and owners come from the working
/// directory; SARIF paths are the layer paths as they are.
fn scan_images(
    common: &cli::CommonArgs,
    source: impl FnOnce(&dyn source::Sink) -> Result<ImageSummary, ImageError>,
) -> anyhow::Result<ExitCode> {
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    let target = cmd::Target {
        root: cwd,
        repo_label: None,
        sarif_paths: sarif::Paths::Repo,
    };
    let (_, code) = cmd::scan(common, target, |sink| source(sink).map(|_| ()))?;
    Ok(code)
}

/// kubectl output (`-f`) or a live cluster (kubeconfig context).
fn scan_k8s(args: cli::K8sArgs) -> anyhow::Result<ExitCode> {
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    let target = cmd::Target {
        root: cwd.clone(),
        repo_label: None,
        sarif_paths: sarif::Paths::Fs {
            base: sarif::fs_base(&args.files, &cwd),
            cwd,
        },
    };
    let (_, code) = if args.files.is_empty() {
        let live = source::k8s_live::LiveOptions {
            context: args.context.clone(),
            namespace: args.namespace.clone(),
            all_namespaces: args.all_namespaces,
            page_size: args.page_size,
        };
        cmd::scan(&args.common, target, |sink| {
            source::k8s_live::scan(&live, sink)
        })?
    } else {
        cmd::scan(&args.common, target, |sink| {
            source::k8s::scan(&args.files, args.max_size, sink)
        })?
    };
    Ok(code)
}
