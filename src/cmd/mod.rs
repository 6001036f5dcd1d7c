//! What every scan subcommand shares, between its own argument mapping and
//! the library: the engine, suppressions, the JSONL stream, the scan driver,
//! owners and tickets, the report and the exit code. Clap types stop here.

use std::io::{IsTerminal as _, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use indicatif::ProgressBar;
use leakhound::engine::{ruleset, Engine};
use leakhound::report::jsonl::Stream;
use leakhound::report::policy;
use leakhound::report::suppress::{self, Suppressions};
use leakhound::report::ticket::{TicketFormat, TicketOptions};
use leakhound::report::{self, sarif, Finding, Report};
use leakhound::scan::{self, ScanOptions};
use leakhound::source::{Sink, Warning};

use crate::cli::{ColorChoice, CommonArgs, FailOn, Format, TicketsFormat};

/// What a subcommand tells the shared pipeline about its input.
pub struct Target {
    /// Where `.leakhoundignore` and `.leakhound/owners.yaml` are looked up.
    pub root: PathBuf,
    /// The repository named in tickets, for git sources.
    pub repo_label: Option<String>,
    pub sarif_paths: sarif::Paths,
}

/// Runs `source` through the whole pipeline and writes the report; returns
/// it (for messages a subcommand adds) with the exit code.
pub fn scan<E>(
    common: &CommonArgs,
    target: Target,
    source: impl FnOnce(&dyn Sink) -> Result<(), E>,
) -> anyhow::Result<(Report, ExitCode)>
where
    anyhow::Error: From<E>,
{
    let engine = build_engine(&common.rules)?;
    let scan_opts = ScanOptions {
        show_secrets: common.show_secrets,
        progress: progress_bar(common),
    };
    let suppressions = suppressions(common, &target.root)?;
    let stream = stream(common, &suppressions)?;
    let events = StderrEvents {
        stream: stream.as_ref(),
        quiet: common.quiet,
    };
    let mut report = scan::run(&engine, &scan_opts, &events, source)?;
    suppress(&mut report, &suppressions, common)?;
    exposures(
        &mut report,
        &engine,
        common,
        &target.root,
        target.repo_label,
    )?;
    write_report(&report, common, &engine, &target.sarif_paths, stream)?;
    if common.verbose {
        let s = &report.stats;
        let mib = s.bytes as f64 / f64::from(1 << 20);
        eprintln!(
            "scanned {mib:.1} MiB in {} blobs in {:.3} s ({:.0} MiB/s) with {} threads and {} rules; {} skipped, {} unreadable",
            s.blobs,
            s.seconds,
            if s.seconds > 0.0 { mib / s.seconds } else { 0.0 },
            threads(common),
            engine.rules().len(),
            s.skipped,
            s.errors
        );
    }
    let code = exit_code(&report, common);
    Ok((report, code))
}

pub fn build_engine(extra: &[PathBuf]) -> anyhow::Result<Engine> {
    let mut rules = Vec::new();
    for p in extra {
        rules.extend(ruleset::load_rules_path(p)?);
    }
    Ok(Engine::with_builtin(rules)?)
}

pub fn threads(common: &CommonArgs) -> usize {
    common
        .threads
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// A note on stderr unless `--quiet`.
pub fn note(common: &CommonArgs, message: std::fmt::Arguments<'_>) {
    if !common.quiet {
        eprintln!("note: {message}");
    }
}

/// The ignore file (`--ignore-file`, else `.leakhoundignore` at `root`) and
/// the `--baseline`, read before the scan so a bad entry stops it early.
fn suppressions(common: &CommonArgs, root: &Path) -> anyhow::Result<Suppressions> {
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
    root: &Path,
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
    if common.quiet {
        return Ok(());
    }
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

fn progress_bar(common: &CommonArgs) -> Option<ProgressBar> {
    if common.no_progress || common.quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    // The scan driver styles it (blobs, bytes, rate, ETA when known).
    let bar = ProgressBar::new_spinner();
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
    /// `--quiet`: warnings and notes are only counted in the stats.
    quiet: bool,
}

impl scan::Events for StderrEvents<'_, '_> {
    fn warning(&self, warning: &Warning) {
        if !self.quiet {
            eprintln!("warning: {warning}");
        }
    }
    fn skipped(&self, input: &str, reason: &str) {
        if !self.quiet {
            eprintln!("note: skipped {input}: {reason}");
        }
    }
    fn wants_findings(&self) -> bool {
        self.stream.is_some()
    }
    fn finding(&self, finding: &Finding) {
        if let Some(stream) = self.stream {
            stream.finding(finding);
        }
    }
}
