//! Binary glue: parse arguments, build the engine, run the scan driver, map
//! the outcome to an exit code. Everything testable lives in the library.

mod cli;

use std::io::{IsTerminal as _, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser as _;

use cli::{
    Cli, ColorChoice, Command, CommonArgs, Format, RulesCommand, ScanCommand, TicketsFormat,
};
use indicatif::{ProgressBar, ProgressStyle};
use leakhound::engine::{check, ruleset, Engine};
use leakhound::report::ticket::{TicketFormat, TicketOptions};
use leakhound::report::{self, sarif, Report};
use leakhound::scan::{self, ScanOptions};
use leakhound::source::git::{GitMode, GitOptions};
use leakhound::source::{self, fs::FsOptions, Warning};

fn main() -> ExitCode {
    // One TLS crypto provider for every client in the process (kube's
    // rustls and any other), chosen before any of them starts.
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
            let engine = build_engine(&rules)?;
            for r in engine.rules() {
                println!(
                    "{:<40} {:<7} {:<20} {}",
                    r.id,
                    r.confidence.as_str(),
                    r.provider,
                    r.name
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Rules(RulesCommand::Check { paths }) => rules_check(&paths),
        Command::Scan(ScanCommand::Fs(args)) => scan_fs(args),
        Command::Scan(ScanCommand::Git(args)) => scan_git(args),
        Command::Scan(ScanCommand::K8s(args)) => scan_k8s(args),
    }
}

fn build_engine(extra: &[PathBuf]) -> anyhow::Result<Engine> {
    let mut rules = Vec::new();
    for p in extra {
        rules.extend(ruleset::load_rules_path(p)?);
    }
    Ok(Engine::with_builtin(rules)?)
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
    let engine = build_engine(&args.common.rules)?;
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    let sarif_paths = sarif::Paths::Fs {
        base: sarif::fs_base(&args.paths, &cwd),
        cwd,
    };
    let threads = threads(&args.common);
    let opts = FsOptions {
        paths: args.paths,
        respect_ignores: !args.no_ignore,
        max_file_size: args.max_file_size,
        threads,
    };
    let scan_opts = ScanOptions {
        show_secrets: args.common.show_secrets,
        progress: progress_bar(&args.common),
    };
    let mut report = scan::run(&engine, &scan_opts, &StderrEvents, |sink| {
        source::fs::scan(&opts, sink)
    })?;
    let root = opts
        .paths
        .first()
        .cloned()
        .unwrap_or_else(|| PathBuf::from("."));
    exposures(&mut report, &engine, &args.common, &root, None)?;
    write_report(&report, &args.common, &engine, &sarif_paths)?;
    Ok(exit_code(&report))
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
    } else {
        GitMode::History
    };
    let engine = build_engine(&args.common.rules)?;
    let opts = GitOptions {
        repo: args.repo,
        mode,
        threads: threads(&args.common),
    };
    let scan_opts = ScanOptions {
        show_secrets: args.common.show_secrets,
        progress: progress_bar(&args.common),
    };
    let mut summary = None;
    let mut report = scan::run(&engine, &scan_opts, &StderrEvents, |sink| {
        summary = Some(source::git::scan(&opts, sink)?);
        Ok::<_, source::git::GitError>(())
    })?;
    if summary.is_some_and(|s| s.shallow) {
        eprintln!(
            "note: {} is a shallow clone: history beyond its boundary was not scanned",
            opts.repo.display()
        );
    }
    let repo = std::fs::canonicalize(&opts.repo).unwrap_or_else(|_| opts.repo.clone());
    let label = repo.display().to_string();
    exposures(&mut report, &engine, &args.common, &repo, Some(label))?;
    write_report(&report, &args.common, &engine, &sarif::Paths::Repo)?;
    Ok(exit_code(&report))
}

fn scan_k8s(args: cli::K8sArgs) -> anyhow::Result<ExitCode> {
    let engine = build_engine(&args.common.rules)?;
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    let sarif_paths = sarif::Paths::Fs {
        base: sarif::fs_base(&args.files, &cwd),
        cwd: cwd.clone(),
    };
    let scan_opts = ScanOptions {
        show_secrets: args.common.show_secrets,
        progress: progress_bar(&args.common),
    };
    let mut report = if args.files.is_empty() {
        let live = source::k8s_live::LiveOptions {
            context: args.context.clone(),
            namespace: args.namespace.clone(),
            all_namespaces: args.all_namespaces,
            page_size: args.page_size,
        };
        scan::run(&engine, &scan_opts, &StderrEvents, |sink| {
            source::k8s_live::scan(&live, sink)
        })?
    } else {
        scan::run(&engine, &scan_opts, &StderrEvents, |sink| {
            source::k8s::scan(&args.files, args.max_size, sink)
        })?
    };
    exposures(&mut report, &engine, &args.common, &cwd, None)?;
    write_report(&report, &args.common, &engine, &sarif_paths)?;
    Ok(exit_code(&report))
}

/// Owners for every exposure, then the rotation tickets (`--tickets`).
fn exposures(
    report: &mut Report,
    engine: &Engine,
    common: &CommonArgs,
    root: &std::path::Path,
    repo: Option<String>,
) -> anyhow::Result<()> {
    let owners = report::owners::Owners::load(root)?;
    report::owners::assign(report, &owners);
    let Some(dir) = &common.tickets else {
        return Ok(());
    };
    let rotation = |id: &str| {
        engine
            .rules()
            .find(|r| r.id == id)
            .and_then(|r| r.rotation.clone())
    };
    let mut formats: Vec<TicketFormat> = common
        .tickets_format
        .iter()
        .map(|f| match f {
            TicketsFormat::Markdown => TicketFormat::Markdown,
            TicketsFormat::Github => TicketFormat::Github,
            TicketsFormat::Jira => TicketFormat::Jira,
        })
        .collect();
    formats.dedup();
    let opts = TicketOptions {
        dir: dir.clone(),
        formats,
        rotation: &rotation,
        repo,
    };
    let s = report::ticket::write(report, &opts)?;
    eprintln!(
        "tickets in {}: {} created, {} updated, {} unchanged, {} with no copies seen in this scan",
        dir.display(),
        s.created,
        s.updated,
        s.unchanged,
        s.not_seen
    );
    Ok(())
}

fn threads(common: &CommonArgs) -> usize {
    common
        .threads
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

fn progress_bar(common: &CommonArgs) -> Option<ProgressBar> {
    if common.no_progress || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {bytes} scanned ({bytes_per_sec}) {elapsed}")
            .expect("static progress template is valid"),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    Some(bar)
}

fn write_report(
    report: &Report,
    common: &CommonArgs,
    engine: &Engine,
    sarif_paths: &sarif::Paths,
) -> anyhow::Result<()> {
    let to_file = common.output.is_some();
    let mut out: Box<dyn Write> = match &common.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    match common.format {
        Format::Json => report::json::write(report, &mut out)?,
        Format::Jsonl => report::jsonl::write(report, &mut out)?,
        Format::Sarif => report::sarif::write(report, engine.rules(), sarif_paths, &mut out)?,
        Format::Human => {
            let color = match common.color {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => {
                    !to_file
                        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                        && std::io::stdout().is_terminal()
                }
            };
            report::human::write(report, &report::human::Style { color }, &mut out)?
        }
    }
    out.flush()?;
    Ok(())
}

fn exit_code(report: &Report) -> ExitCode {
    if report.findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Warnings and notes go to stderr as they happen; they name the input,
/// never its contents.
struct StderrEvents;

impl scan::Events for StderrEvents {
    fn warning(&self, warning: &Warning) {
        eprintln!("warning: {warning}");
    }
    fn skipped(&self, input: &str, reason: &str) {
        eprintln!("note: skipped {input}: {reason}");
    }
}
