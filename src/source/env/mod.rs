//! The environment source (`scan env`): environment dumps in any of the
//! formats processes leave behind, and the live host's `/proc/*/environ`.
//! Every variable goes to the worker as a named value, so provider rules
//! and `env.secret-named` both apply.

mod assign;
mod proc;
mod structured;

pub use assign::parse as parse_assignment;

use std::borrow::Cow;
use std::path::PathBuf;

use super::input::{self, InputError};
use super::{EnvHolder, NamedValue, Origin, Sink, ValueKind, Warning, Worker};

#[derive(Debug, Clone)]
pub struct EnvOptions {
    /// Dumps to read (`-` for stdin).
    pub paths: Vec<PathBuf>,
    /// Also read every `/proc/PID/environ` the caller may read.
    pub proc: bool,
    pub max_file_size: u64,
}

/// One variable found in a dump, with where its value starts.
pub struct Var<'a> {
    pub name: String,
    pub value: Cow<'a, [u8]>,
    pub line: u32,
    pub column: u32,
    /// The value stands as it is at `line:column`.
    pub verbatim: bool,
}

/// The formats a dump is recognised as, from its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// NUL-separated, as in `/proc/PID/environ`.
    Environ,
    /// `docker inspect`, Kubernetes objects as JSON.
    Json,
    /// Kubernetes objects as YAML.
    KubernetesYaml,
    /// `systemctl show`.
    Systemd,
    /// `env`, `printenv`, `export -p`, `declare -x`, `.env`, crash reports.
    Assignments,
}

/// The `variable` of findings in a dump's text outside any variable (a
/// dump that did not parse, or held none).
pub const TEXT_VARIABLE: &str = "(text)";

pub fn scan(opts: &EnvOptions, sink: &dyn Sink) -> Result<(), InputError> {
    let mut worker = sink.worker();
    input::each(&opts.paths, opts.max_file_size, sink, &mut |name, text| {
        let (vars, parsed) = match parse(text) {
            Ok(vars) => (vars, true),
            Err(format) => {
                sink.warn(Warning {
                    input: name.to_string(),
                    message: format!(
                        "looks like {format} but does not parse; scanned as lines and as text"
                    ),
                });
                (assign::lines(text), false)
            }
        };
        let holder = EnvHolder::Dump {
            path: name.to_string(),
        };
        hand_over(worker.as_mut(), &holder, &vars);
        // A dump that is not one (or is broken) still goes through the text
        // rules: a token in it is a token wherever it sits.
        if !parsed || vars.is_empty() {
            let origin = Origin::Env {
                holder,
                variable: TEXT_VARIABLE.to_string(),
            };
            worker.blob(&origin, text);
        }
    })?;
    if opts.proc {
        proc::scan(sink, worker.as_mut());
    }
    Ok(())
}

/// Sends each variable to the worker with its origin.
fn hand_over(worker: &mut dyn Worker, holder: &EnvHolder, vars: &[Var<'_>]) {
    for v in vars {
        let origin = Origin::Env {
            holder: holder.clone(),
            variable: v.name.clone(),
        };
        worker.value(
            &origin,
            &NamedValue {
                name: &v.name,
                value: &v.value,
                kind: ValueKind::Named,
                line: v.line,
                column: v.column,
                verbatim: v.verbatim,
            },
        );
    }
}

/// Recognises the dump's format and reads its variables; `Err` names the
/// format the text looked like but failed to parse as.
pub fn parse(text: &[u8]) -> Result<Vec<Var<'_>>, &'static str> {
    match detect(text) {
        Format::Environ => Ok(environ(text)),
        Format::Json => structured::json(text).ok_or("JSON"),
        Format::KubernetesYaml => structured::yaml(text).ok_or("Kubernetes YAML"),
        Format::Systemd => Ok(assign::systemd(text)),
        Format::Assignments => Ok(assign::lines(text)),
    }
}

pub fn detect(text: &[u8]) -> Format {
    if memchr::memchr(0, text).is_some() {
        return Format::Environ;
    }
    if matches!(
        text.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'[' | b'{')
    ) {
        return Format::Json;
    }
    let mut yaml_keys = 0;
    for (_, line) in assign::line_spans(text) {
        if line.starts_with(b"Environment=") {
            return Format::Systemd;
        }
        if line.starts_with(b"apiVersion:") || line.starts_with(b"kind:") {
            yaml_keys += 1;
        }
    }
    if yaml_keys >= 2 {
        Format::KubernetesYaml
    } else {
        Format::Assignments
    }
}

/// NUL-separated `NAME=VALUE` entries; each entry counts as a line.
pub fn environ(text: &[u8]) -> Vec<Var<'_>> {
    text.split(|&b| b == 0)
        .enumerate()
        .filter_map(|(i, entry)| {
            let eq = memchr::memchr(b'=', entry)?;
            if eq == 0 {
                return None;
            }
            Some(Var {
                name: String::from_utf8_lossy(&entry[..eq]).into_owned(),
                value: Cow::Borrowed(&entry[eq + 1..]),
                line: i as u32 + 1,
                column: eq as u32 + 2,
                verbatim: true,
            })
        })
        .collect()
}
