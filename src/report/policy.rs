//! When a run fails (exit code 1): what `--fail-on` and
//! `--report-unused-ignores` ask for. Suppressed exposures never fail it.

use super::Report;
use crate::engine::Confidence;

/// `--fail-on`: which unsuppressed exposures fail the run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FailOn {
    /// Any unsuppressed exposure.
    #[default]
    Any,
    /// Only unsuppressed exposures of high severity.
    High,
    /// Never (the exit code is 0 unless there is an error).
    None,
}

/// Whether the run fails: an unsuppressed exposure `fail_on` counts, or
/// unused ignore entries when they are reported (`--report-unused-ignores`,
/// like eslint's unused disable directives). `FailOn::None` never fails.
pub fn fails(report: &Report, fail_on: FailOn, fail_on_unused_ignores: bool) -> bool {
    let exposure = |min: Confidence| {
        report
            .exposures
            .iter()
            .any(|e| !e.suppression.is_suppressed() && e.severity >= min)
    };
    match fail_on {
        FailOn::None => false,
        FailOn::Any => {
            exposure(Confidence::Low) || (fail_on_unused_ignores && report.stats.unused_ignores > 0)
        }
        FailOn::High => {
            exposure(Confidence::High)
                || (fail_on_unused_ignores && report.stats.unused_ignores > 0)
        }
    }
}
