//! Command-line definitions (clap only; no scanning logic here).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "leakhound",
    version,
    about = "Find leaked secrets in every copy: files, history, images, clusters, logs",
    long_about = None
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per process: the size of the scan variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan a source for secrets.
    #[command(subcommand)]
    Scan(ScanCommand),
    /// List or check detection rules.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Install a git pre-commit hook that scans what is staged.
    #[command(subcommand)]
    Hook(HookCommand),
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  leakhound completions bash > /etc/bash_completion.d/leakhound\n  leakhound completions zsh > \"${fpath[1]}/_leakhound\"\n  leakhound completions fish > ~/.config/fish/completions/leakhound.fish"
    )]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    #[command(after_help = "Example:\n  leakhound man > /usr/local/share/man/man1/leakhound.1")]
    Man,
}

#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Write .git/hooks/pre-commit (or core.hooksPath) running `leakhound scan git --staged`.
    #[command(
        after_help = "Examples:\n  leakhound hook install\n  leakhound hook install --chain     # keep the existing hook, run it first\n  leakhound hook install --force     # replace a hook leakhound did not write\n\nWith the pre-commit framework, use this repository's .pre-commit-hooks.yaml instead."
    )]
    Install {
        /// The repository (a work tree or a directory inside one).
        #[arg(default_value = ".")]
        repo: PathBuf,
        /// Replace a pre-commit hook that leakhound did not write.
        #[arg(long, conflicts_with = "chain")]
        force: bool,
        /// Keep an existing pre-commit hook and run it before leakhound.
        #[arg(long)]
        chain: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ScanCommand {
    /// Scan files and directories (honours .gitignore unless --no-ignore).
    #[command(
        after_help = "Examples:\n  leakhound scan fs\n  leakhound scan fs src/ config/ --format json --output report.json\n  leakhound scan fs . --no-ignore --max-file-size 200MiB"
    )]
    Fs(FsArgs),
    /// Scan a git repository: every blob in every ref's history (once each), commit messages,
    /// with --all-objects also unreachable objects, the staged index, or what a commit range adds.
    #[command(
        after_help = "Examples:\n  leakhound scan git\n  leakhound scan git path/to/repo.git --format json\n  leakhound scan git --staged            # pre-commit hook\n  leakhound scan git --range origin/main..HEAD\n  leakhound scan git --since v1.4.0\n  leakhound scan git --all-objects       # also amended-away commits, dropped stashes, dangling blobs"
    )]
    Git(GitArgs),
    /// Scan CI logs: files, directories, GitHub Actions log archives (zip), `-` for stdin.
    #[command(
        name = "ci-log",
        after_help = "Examples:\n  leakhound scan ci-log build.log\n  leakhound scan ci-log logs_1234.zip --format json\n  gh run view 1234 --log | leakhound scan ci-log -"
    )]
    CiLog(CiLogArgs),
    /// Scan environment dumps (env, export -p, .env, /proc/PID/environ, docker inspect,
    /// Kubernetes objects, systemctl show) or, with --proc, the live host's processes.
    #[command(
        after_help = "Examples:\n  leakhound scan env .env crash-report.txt\n  docker inspect app | leakhound scan env -\n  sudo leakhound scan env --proc"
    )]
    Env(EnvArgs),
    /// Scan container images: every layer (files a later layer deleted too), the config
    /// (Env, Labels, Cmd, Entrypoint, history), from a registry, a `docker save` tarball or an
    /// OCI layout.
    #[command(
        after_help = "References:\n  host[:port]/repo:tag, host[:port]/repo@sha256:...   from a registry\n  docker-archive:PATH                                  a `docker save` tarball\n  oci:PATH                                             an OCI image layout (directory or tar)\n\nExamples:\n  leakhound scan image registry.example.com/team/app:1.4\n  leakhound scan image docker-archive:app.tar oci:build/layout --format json\n  echo \"$TOKEN\" | leakhound scan image ghcr.io/org/app:main --username ci --password-stdin\n  leakhound scan image localhost:5000/app:dev --insecure-registry localhost:5000 --platform linux/arm64"
    )]
    Image(Box<ImageArgs>),
    /// Scan every image in a registry: each repository (under --repo), each tag, each distinct
    /// manifest once.
    #[command(
        after_help = "Examples:\n  leakhound scan registry registry.internal:5000 --repo team/\n  leakhound scan registry localhost:5000 --insecure-registry localhost:5000 --format json"
    )]
    Registry(Box<RegistryScanArgs>),
    /// Scan Kubernetes objects (Secrets, ConfigMaps, workload env, Helm release revisions)
    /// from kubectl output (files or stdin) or listed from a cluster.
    #[command(
        after_help = "Examples:\n  kubectl get secrets,configmaps,pods,deployments -A -o json | leakhound scan k8s -f -\n  leakhound scan k8s -f cluster-dump.yaml --format json\n  leakhound scan k8s --context prod --all-namespaces"
    )]
    K8s(K8sArgs),
}

#[derive(Debug, Args)]
pub struct CiLogArgs {
    /// Log files, directories, zip archives, `-` for stdin.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Skip logs (and archive entries) larger than this.
    #[arg(long, default_value = "200MiB", value_parser = parse_size)]
    pub max_file_size: u64,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct EnvArgs {
    /// Dumps to read, `-` for stdin.
    #[arg(required_unless_present = "proc")]
    pub paths: Vec<PathBuf>,
    /// Read every /proc/PID/environ this user may read.
    #[arg(long)]
    pub proc: bool,
    /// Skip dumps larger than this.
    #[arg(long, default_value = "50MiB", value_parser = parse_size)]
    pub max_file_size: u64,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct ImageArgs {
    /// Image references (see below).
    #[arg(required = true, value_name = "REF")]
    pub refs: Vec<String>,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct RegistryScanArgs {
    /// The registry, `host[:port]`.
    pub host: String,
    /// Only repositories whose name starts with PREFIX.
    #[arg(long, value_name = "PREFIX")]
    pub repo: Option<String>,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct RegistryArgs {
    /// Only images of this platform, `os/arch[/variant]` (default: every platform).
    #[arg(long, value_name = "OS/ARCH")]
    pub platform: Option<String>,
    /// Registry user; the password is read from standard input (--password-stdin).
    #[arg(long, requires = "password_stdin")]
    pub username: Option<String>,
    /// Read the registry password from standard input (never from an argument).
    #[arg(long, requires = "username")]
    pub password_stdin: bool,
    /// Reach this registry host[:port] over plain HTTP (repeatable).
    #[arg(long, value_name = "HOST")]
    pub insecure_registry: Vec<String>,
    /// Also trust the CA certificates in this PEM file.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Seconds a registry request may wait (connect or read) before it is retried;
    /// a registry that hangs costs at most four of these per request.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub registry_timeout: u64,
    /// Skip layer files larger than this (bytes, or with KiB/MiB/GiB suffix).
    #[arg(long, default_value = "50MiB", value_parser = parse_size)]
    pub max_file_size: u64,
}

#[derive(Debug, Args)]
pub struct K8sArgs {
    /// A file of `kubectl get -o yaml|json` output; `-` reads stdin (repeatable).
    /// Without it, the cluster of the kubeconfig's context is listed.
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Kubeconfig context of the cluster to list (default: the current context).
    #[arg(long, value_name = "NAME", conflicts_with = "files")]
    pub context: Option<String>,
    /// Only this namespace (default: the context's namespace).
    #[arg(long, short = 'n', value_name = "NS", conflicts_with_all = ["files", "all_namespaces"])]
    pub namespace: Option<String>,
    /// Every namespace the credentials may list (others are warnings).
    #[arg(long, short = 'A', conflicts_with = "files")]
    pub all_namespaces: bool,
    /// Objects per API page (`limit`; pages follow `continue`).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 500,
        conflicts_with = "files"
    )]
    pub page_size: u32,
    /// Refuse inputs larger than this (bytes, or with KiB/MiB/GiB suffix).
    #[arg(long, default_value = "1GiB", value_parser = parse_size)]
    pub max_size: u64,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct GitArgs {
    /// A work tree (or a directory inside one) or a bare repository.
    #[arg(default_value = ".")]
    pub repo: PathBuf,
    /// Scan only what the index would commit (staged changes against HEAD).
    #[arg(long, conflicts_with_all = ["since", "range"])]
    pub staged: bool,
    /// Scan only what commits after REV add (same as --range REV..HEAD).
    #[arg(long, value_name = "REV", conflicts_with = "range")]
    pub since: Option<String>,
    /// Scan only what commits reachable from B but not from A add.
    #[arg(long, value_name = "A..B")]
    pub range: Option<String>,
    /// Also scan what no ref reaches but the object database still holds:
    /// unreachable commits (amended away, dropped stashes, deleted branches)
    /// and blobs no commit references (added then reset, `git hash-object -w`).
    #[arg(long, conflicts_with_all = ["staged", "since", "range"])]
    pub all_objects: bool,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct FsArgs {
    /// Files or directories to scan.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Also scan files that .gitignore/.ignore exclude.
    #[arg(long)]
    pub no_ignore: bool,
    /// Skip files larger than this (bytes, or with KiB/MiB/GiB suffix).
    #[arg(long, default_value = "50MiB", value_parser = parse_size)]
    pub max_file_size: u64,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print raw secret values. Never use this in CI or shared logs.
    #[arg(long)]
    pub show_secrets: bool,
    /// Extra rule files or directories, added to the built-in rules.
    #[arg(long, value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Never draw a progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Print only the report and errors: warnings and notes are counted in the stats.
    #[arg(long, short = 'q', conflicts_with = "verbose")]
    pub quiet: bool,
    /// Also print a run summary (bytes, blobs, time, throughput, threads, rules) on stderr.
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// Colour in human output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j')]
    pub threads: Option<usize>,
    /// Write one rotation ticket per exposure (distinct secret) into DIR, updating
    /// the tickets already there (the directory is a ledger across runs).
    #[arg(long, value_name = "DIR")]
    pub tickets: Option<PathBuf>,
    /// Ticket files besides the JSON ledger (repeatable): markdown, github, jira.
    #[arg(long, value_enum, value_name = "FORMAT", default_values_t = [TicketsFormat::Markdown])]
    pub tickets_format: Vec<TicketsFormat>,
    /// Ignore file to use instead of `.leakhoundignore` at the scan root
    /// (lines: `FINGERPRINT  # reason`; the reason is mandatory).
    #[arg(long, value_name = "PATH")]
    pub ignore_file: Option<PathBuf>,
    /// A previous `--format json` report: exposures whose fingerprint it
    /// holds are suppressed (still listed in JSON, marked with the reason).
    #[arg(long, value_name = "REPORT.json")]
    pub baseline: Option<PathBuf>,
    /// List ignore entries that matched nothing as warnings, and fail (exit 1)
    /// when there are any. Use it on full scans, not on --staged or --range.
    #[arg(long)]
    pub report_unused_ignores: bool,
    /// Which unsuppressed exposures make the exit code 1.
    #[arg(long, value_enum, default_value_t = FailOn::Any)]
    pub fail_on: FailOn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Any unsuppressed exposure.
    Any,
    /// Only unsuppressed exposures of high severity.
    High,
    /// Never: exit 0 unless there is an error.
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    /// Streamed: one `{"type":"finding"}` line per finding as it is found, then
    /// one `{"type":"exposure"}` line per exposure and a `{"type":"summary"}` line.
    Jsonl,
    /// SARIF 2.1.0 (GitHub code scanning); never holds raw secrets.
    Sarif,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TicketsFormat {
    /// `<id>.md`, for people and for pasting into any tracker.
    Markdown,
    /// `<id>.github.json`: a GitHub issue payload.
    Github,
    /// `<id>.jira.json`: a Jira issue payload.
    Jira,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Print every rule, one per line, id first.
    #[command(
        after_help = "Examples:\n  leakhound rules list\n  leakhound rules list | grep -i github\n  leakhound rules list --rules my-rules/"
    )]
    List {
        /// Extra rule files or directories to include.
        #[arg(long, value_name = "DIR")]
        rules: Vec<PathBuf>,
    },
    /// Check rules' examples and negative examples (built-in rules when no path is given).
    #[command(
        after_help = "Examples:\n  leakhound rules check\n  leakhound rules check my-rules/\n  leakhound rules check my-rules/internal.yaml"
    )]
    Check {
        /// Rule files or directories to check.
        paths: Vec<PathBuf>,
    },
}

/// Parses `1048576`, `512KiB`, `50MiB`, `2GiB` (also KB/MB/GB, K/M/G).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().map_err(|_| format!("not a size: {s:?}"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return Err(format!("unknown size unit in {s:?}")),
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("size too large: {s:?}"))
}
