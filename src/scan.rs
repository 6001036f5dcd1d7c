//! The scan driver: connects a source to the engine and collects findings
//! into a report. The only place that knows both sides of the pipeline.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use indicatif::ProgressBar;

use crate::engine::{Engine, Match, Overlaps, Scratch, ValueClass};
use crate::report::{Finding, Location, Report, Stats};
use crate::source::decode::Decoding;
use crate::source::{NamedValue, Origin, Sink, ValueKind, Warning, Worker};

/// What the caller hears about while the scan runs (warnings go to stderr
/// in the CLI). Never handed file contents.
pub trait Events: Sync {
    fn warning(&self, warning: &Warning);
    fn skipped(&self, input: &str, reason: &str);
}

pub struct ScanOptions {
    /// Keep raw secret values in findings (`--show-secrets`).
    pub show_secrets: bool,
    /// Advanced by bytes scanned, when the caller draws one.
    pub progress: Option<ProgressBar>,
}

/// Runs `source` against `engine`, returning the finished report.
pub fn run<E>(
    engine: &Engine,
    opts: &ScanOptions,
    events: &dyn Events,
    source: impl FnOnce(&dyn Sink) -> Result<(), E>,
) -> Result<Report, E> {
    let started = Instant::now();
    let collector = Collector {
        engine,
        opts,
        events,
        findings: Mutex::new(Vec::new()),
        bytes: AtomicU64::new(0),
        blobs: AtomicU64::new(0),
        skipped: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        secrets: Mutex::new(BTreeSet::new()),
    };
    source(&collector)?;
    if let Some(p) = &opts.progress {
        p.finish_and_clear();
    }
    let stats = Stats {
        bytes: collector.bytes.load(Ordering::Relaxed),
        blobs: collector.blobs.load(Ordering::Relaxed),
        seconds: (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        skipped: collector.skipped.load(Ordering::Relaxed),
        errors: collector.errors.load(Ordering::Relaxed),
    };
    let mut findings = collector
        .findings
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let secrets = collector
        .secrets
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    // Origins carry free text people write (commit summaries, command
    // lines): a secret found anywhere must not come back through it.
    for f in &mut findings {
        for (secret, redacted) in &secrets {
            f.location.origin.scrub(secret, redacted);
        }
    }
    Ok(Report::new(findings, stats))
}

struct Collector<'a> {
    engine: &'a Engine,
    opts: &'a ScanOptions,
    events: &'a dyn Events,
    findings: Mutex<Vec<Finding>>,
    bytes: AtomicU64,
    blobs: AtomicU64,
    skipped: AtomicU64,
    errors: AtomicU64,
    /// Raw values found in this run, with their redacted form, kept only in
    /// memory to scrub origins' free text (see `Origin::scrub`).
    secrets: Mutex<BTreeSet<(String, String)>>,
}

impl Sink for Collector<'_> {
    fn worker(&self) -> Box<dyn Worker + Send + '_> {
        // Kubernetes objects and Helm releases are decoded wherever their
        // bytes come from.
        let engine = EngineWorker {
            collector: self,
            scratch: Scratch::new(),
        };
        Box::new(Decoding::new(engine, self))
    }

    fn warn(&self, warning: Warning) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        self.events.warning(&warning);
    }

    fn skipped(&self, input: &str, reason: &str) {
        self.skipped.fetch_add(1, Ordering::Relaxed);
        self.events.skipped(input, reason);
    }
}

struct EngineWorker<'a> {
    collector: &'a Collector<'a>,
    scratch: Scratch,
}

impl Worker for EngineWorker<'_> {
    fn blob(&mut self, origin: &Origin, data: &[u8]) {
        self.scan(data, &mut || vec![origin.clone()]);
    }

    fn blob_at_each(&mut self, data: &[u8], origins: &mut dyn FnMut() -> Vec<Origin>) {
        self.scan(data, origins);
    }

    fn value(&mut self, origin: &Origin, value: &NamedValue<'_>) {
        let c = self.collector;
        c.count(value.value.len());
        let class = match value.kind {
            ValueKind::Secret => ValueClass::Secret,
            ValueKind::Named => ValueClass::Named,
        };
        let matches = c.engine.scan_value(
            value.name.as_bytes(),
            value.value,
            class,
            &mut self.scratch,
            Overlaps::Resolve,
        );
        if matches.is_empty() {
            return;
        }
        // Positions inside the value become positions in the origin's text.
        let at = |m: &Match| {
            if !value.verbatim {
                (value.line, value.column)
            } else if m.line == 1 {
                (value.line, value.column.saturating_add(m.column - 1))
            } else {
                (value.line.saturating_add(m.line - 1), m.column)
            }
        };
        c.record(matches, value.value, std::slice::from_ref(origin), &at);
    }
}

impl EngineWorker<'_> {
    /// Scans `data` once and reports its findings at each origin.
    fn scan(&mut self, data: &[u8], origins: &mut dyn FnMut() -> Vec<Origin>) {
        let c = self.collector;
        c.count(data.len());
        let matches = c.engine.scan(data, &mut self.scratch);
        if matches.is_empty() {
            return;
        }
        c.record(matches, data, &origins(), &|m| (m.line, m.column));
    }
}

impl Collector<'_> {
    fn count(&self, bytes: usize) {
        self.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
        self.blobs.fetch_add(1, Ordering::Relaxed);
        if let Some(p) = &self.opts.progress {
            p.inc(bytes as u64);
        }
    }

    /// Turns the matches in `data` into findings at each origin; `at` gives
    /// a match's line and column in the origin's text.
    fn record(
        &self,
        matches: &[Match],
        data: &[u8],
        origins: &[Origin],
        at: &dyn Fn(&Match) -> (u32, u32),
    ) {
        let Some((first, rest)) = origins.split_first() else {
            return;
        };
        let mut found: Vec<Finding> = matches
            .iter()
            .map(|m| {
                let (line, column) = at(m);
                let location = Location {
                    origin: first.clone(),
                    line,
                    column,
                };
                let mut f = Finding::new(
                    self.engine.rule(m.rule),
                    location,
                    &data[m.secret.clone()],
                    m.entropy,
                    self.opts.show_secrets,
                );
                f.confidence = m.confidence;
                f
            })
            .collect();
        for (i, m) in matches.iter().enumerate() {
            if let Some(j) = m.pair {
                found[i].paired_with = Some(found[j].fingerprint.clone());
            }
        }
        // Same bytes, same findings: only the origin differs.
        let per_origin = found.len();
        for origin in rest {
            for i in 0..per_origin {
                let mut copy = found[i].clone();
                copy.location.origin = origin.clone();
                found.push(copy);
            }
        }
        if !self.opts.show_secrets {
            let mut secrets = self
                .secrets
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            for (m, f) in matches.iter().zip(&found) {
                if let Ok(text) = std::str::from_utf8(&data[m.secret.clone()]) {
                    secrets.insert((text.to_string(), f.redacted.clone()));
                }
            }
        }
        self.findings
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .extend(found);
    }
}
