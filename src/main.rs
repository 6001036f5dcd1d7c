//! Binary glue: parse arguments, build the engine, run the scan driver, map
//! the outcome to an exit code. Everything testable lives in the library.

mod cli;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser as _;

use cli::{Cli, Command, RulesCommand};
use leakhound::engine::{check, ruleset, Engine};

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
        Command::Scan(scan) => todo_scan(scan),
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

fn todo_scan(_scan: cli::ScanCommand) -> anyhow::Result<ExitCode> {
    anyhow::bail!("scan is not wired yet")
}
