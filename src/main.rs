//! Binary glue: parse arguments, build the engine, run the scan driver, map
//! the outcome to an exit code. Everything testable lives in the library.

mod cli;

use std::io::{IsTerminal as _, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser as _;

use cli::{
    Cli, ColorChoice, Command, CommonArgs, FailOn, Format, HookCommand, RulesCommand, ScanCommand,
    TicketsFormat,
};
use indicatif::{ProgressBar, ProgressStyle};
use leakhound::engine::{check, ruleset, Engine};
use leakhound::hook;
use leakhound::report::jsonl::Stream;
use leakhound::report::policy;
use leakhound::report::suppress::{self, Suppressions};
use leakhound::report::ticket::{TicketFormat, TicketOptions};
use leakhound::report::{self, sarif, Finding, Report};
use leakhound::scan::{self, ScanOptions};
use leakhound::source::git::{GitMode, GitOptions};
use leakhound::source::{self, fs::FsOptions, Warning};

fn main() -> ExitCode {
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
    let root = opts
        .paths
        .first()
        .cloned()
        .unwrap_or_else(|| PathBuf::from("."));
    let suppressions = suppressions(&args.common, &root)?;
    let stream = stream(&args.common, &suppressions)?;
    let events = StderrEvents {
        stream: stream.as_ref(),
    };
    let mut report = scan::run(&engine, &scan_opts, &events, |sink| {
        source::fs::scan(&opts, sink)
    })?;
    suppress(&mut report, &suppressions, &args.common)?;
    exposures(&mut report, &engine, &args.common, &root, None)?;
    write_report(&report, &args.common, &engine, &sarif_paths, stream)?;
    Ok(exit_code(&report, &args.common))
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
    let suppressions = suppressions(&args.common, &opts.repo)?;
    let stream = stream(&args.common, &suppressions)?;
    let events = StderrEvents {
        stream: stream.as_ref(),
    };
    let mut summary = None;
    let mut report = scan::run(&engine, &scan_opts, &events, |sink| {
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
    suppress(&mut report, &suppressions, &args.common)?;
    exposures(&mut report, &engine, &args.common, &repo, Some(label))?;
    write_report(&report, &args.common, &engine, &sarif::Paths::Repo, stream)?;
    let code = exit_code(&report, &args.common);
    if args.staged && code == ExitCode::from(1) {
        report::blocked::write(&report, &mut std::io::stderr().lock())?;
    }
    Ok(code)
}

/// The ignore file (`--ignore-file`, else `.leakhoundignore` at `root`) and
/// the `--baseline`, read before the scan so a bad entry stops it early.
fn suppressions(common: &CommonArgs, root: &std::path::Path) -> anyhow::Result<Suppressions> {
    let ignore_file = common
        .ignore_file
        .clone()
        .or_else(|| suppress::find_ignore(root));
    let ignores = match ignore_file {
        Some(path) => suppress::load_ignore(&path)?,
        None => Vec::new(),
    };
    let baseline = common
        .baseline
        .as_deref()
        .map(suppress::load_baseline)
        .transpose()?;
    Ok(Suppressions { ignores, baseline })
}

/// Marks suppressed findings and exposures; unused ignore entries are
/// warnings with `--report-unused-ignores`.
fn suppress(
    report: &mut Report,
    suppressions: &Suppressions,
    common: &CommonArgs,
) -> anyhow::Result<()> {
    let unused = suppress::apply(report, suppressions)?;
    if common.report_unused_ignores {
        for entry in unused {
            eprintln!("warning: {entry}: ignore entry matched nothing in this scan");
        }
    }
    Ok(())
}

/// `--format jsonl` streams findings into the output while the scan runs.
fn stream<'a>(
    common: &CommonArgs,
    suppressions: &'a Suppressions,
) -> anyhow::Result<Option<Stream<'a>>> {
    if common.format != Format::Jsonl {
        return Ok(None);
    }
    Ok(Some(Stream::new(open_output(common)?, suppressions)))
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

fn open_output(common: &CommonArgs) -> anyhow::Result<Box<dyn Write + Send>> {
    Ok(match &common.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    })
}

fn write_report(
    report: &Report,
    common: &CommonArgs,
    engine: &Engine,
    sarif_paths: &sarif::Paths,
    stream: Option<Stream>,
) -> anyhow::Result<()> {
    if let Some(stream) = stream {
        stream.finish(report)?;
        return Ok(());
    }
    let to_file = common.output.is_some();
    let mut out = open_output(common)?;
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

/// 1 when an unsuppressed exposure counts under `--fail-on` (or unused
/// ignore entries are reported), else 0.
fn exit_code(report: &Report, common: &CommonArgs) -> ExitCode {
    let fail_on = match common.fail_on {
        FailOn::Any => policy::FailOn::Any,
        FailOn::High => policy::FailOn::High,
        FailOn::None => policy::FailOn::None,
    };
    if policy::fails(report, fail_on, common.report_unused_ignores) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Warnings and notes go to stderr as they happen; they name the input,
/// never its contents. Findings go to the JSONL stream when there is one.
struct StderrEvents<'s, 'a> {
    stream: Option<&'s Stream<'a>>,
}

impl scan::Events for StderrEvents<'_, '_> {
    fn warning(&self, warning: &Warning) {
        eprintln!("warning: {warning}");
    }
    fn skipped(&self, input: &str, reason: &str) {
        eprintln!("note: skipped {input}: {reason}");
    }
    fn finding(&self, finding: &Finding) {
        if let Some(stream) = self.stream {
            stream.finding(finding);
        }
    }
}
