//! The scan driver: connects a source to the engine and collects findings
//! into a report. The only place that knows both sides of the pipeline.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use indicatif::ProgressBar;

use crate::engine::{Engine, Match, Overlaps, Scratch, ValueClass};
use crate::report::suppress::{self, Suppressed};
use crate::report::{Finding, Location, Report, Stats};
use crate::source::decode::Decoding;
use crate::source::{text, NamedValue, Origin, Sink, ValueKind, Warning, Worker};

/// What the caller hears about while the scan runs (warnings go to stderr
/// in the CLI). Never handed file contents.
pub trait Events: Sync {
    fn warning(&self, warning: &Warning);
    fn skipped(&self, input: &str, reason: &str);
    /// A finding as soon as it is made (`--format jsonl` streams them),
    /// from any worker thread. Origins' free text is already scrubbed of
    /// secrets known so far and of anything the rules find in it; the raw
    /// value is there only with `--show-secrets`.
    fn finding(&self, _finding: &Finding) {}
    /// Whether `finding` is wanted at all: scrubbing a finding's origin for
    /// streaming costs an engine pass over its text, paid only for a listener.
    fn wants_findings(&self) -> bool {
        false
    }
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
    let progress = opts.progress.clone().map(Progress::new);
    let collector = Collector {
        progress,
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
    if let Some(p) = &collector.progress {
        p.bar.finish_and_clear();
    }
    let stats = Stats {
        bytes: collector.bytes.load(Ordering::Relaxed),
        blobs: collector.blobs.load(Ordering::Relaxed),
        seconds: (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        skipped: collector.skipped.load(Ordering::Relaxed),
        errors: collector.errors.load(Ordering::Relaxed),
        ..Stats::default()
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
    progress: Option<Progress>,
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
            held: None,
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

    fn plan(&self, blobs: u64) {
        if let Some(p) = &self.progress {
            p.plan(blobs);
        }
    }
}

/// The caller's progress bar, counting blobs (with an ETA once the source
/// says how many) and showing bytes scanned and bytes per second.
struct Progress {
    bar: ProgressBar,
    bytes: std::sync::Arc<AtomicU64>,
}

impl Progress {
    fn new(bar: ProgressBar) -> Self {
        let p = Progress {
            bar,
            bytes: std::sync::Arc::default(),
        };
        p.style("{spinner} {pos} blobs, {scanned} {elapsed}");
        p
    }

    fn plan(&self, blobs: u64) {
        self.bar.set_length(blobs);
        // The rate and ETA are the scan's own, not the walk's before it.
        self.bar.reset_elapsed();
        self.bar.reset_eta();
        self.style("{bar:30} {pos}/{len} blobs, {scanned}, ETA {eta}");
    }

    fn style(&self, template: &str) {
        let bytes = std::sync::Arc::clone(&self.bytes);
        let style = indicatif::ProgressStyle::with_template(template)
            .expect("static progress template is valid")
            .with_key(
                "scanned",
                move |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    let done = bytes.load(Ordering::Relaxed);
                    let secs = state.elapsed().as_secs_f64().max(0.001);
                    let _ = write!(
                        w,
                        "{} ({}/s)",
                        indicatif::HumanBytes(done),
                        indicatif::HumanBytes((done as f64 / secs) as u64)
                    );
                },
            );
        self.bar.set_style(style);
    }
}

struct EngineWorker<'a> {
    collector: &'a Collector<'a>,
    scratch: Scratch,
    /// Findings held back by `hold` until `release`.
    held: Option<Vec<Finding>>,
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
        let found = c.record(matches, value.value, std::slice::from_ref(origin), &at);
        self.publish(found);
    }

    fn blob_mapped(&mut self, origin: &Origin, data: &[u8], map: &dyn Fn(u32, u32) -> (u32, u32)) {
        let c = self.collector;
        c.count(data.len());
        let matches = c.engine.scan(data, &mut self.scratch);
        if matches.is_empty() {
            return;
        }
        let at = |m: &Match| map(m.line, m.column);
        let found = c.record(matches, data, std::slice::from_ref(origin), &at);
        self.publish(found);
    }

    fn hold(&mut self) {
        self.held.get_or_insert_with(Vec::new);
    }

    fn release(&mut self, keep: bool) {
        if let Some(held) = self.held.take() {
            if keep {
                self.emit(held);
            }
        }
    }
}

impl EngineWorker<'_> {
    /// Scans `data` once and reports its findings at each origin.
    fn scan(&mut self, data: &[u8], origins: &mut dyn FnMut() -> Vec<Origin>) {
        let c = self.collector;
        c.count(data.len());
        // UTF-16 text hides secrets behind NULs: scan its UTF-8 form too
        // (the raw bytes as well, in case a binary merely looked like it).
        let transcoded = text::detect_utf16(data).map(|order| text::utf16_to_utf8(data, order));
        let mut built: Option<Vec<Origin>> = None;
        for text in std::iter::once(data).chain(transcoded.as_deref()) {
            let matches = c.engine.scan(text, &mut self.scratch);
            if matches.is_empty() {
                continue;
            }
            let origins = built.get_or_insert_with(&mut *origins);
            let found = c.record(matches, text, origins, &|m| (m.line, m.column));
            self.publish(found);
        }
    }
}

impl Collector<'_> {
    fn count(&self, bytes: usize) {
        self.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
        self.blobs.fetch_add(1, Ordering::Relaxed);
        if let Some(p) = &self.progress {
            p.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
            p.bar.inc(1);
        }
    }

    fn keep(&self, found: Vec<Finding>) {
        self.findings
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .extend(found);
    }

    /// Turns the matches in `data` into findings at each origin; `at` gives
    /// a match's line and column in the origin's text. The caller publishes
    /// them (`EngineWorker::publish`).
    #[must_use]
    fn record(
        &self,
        matches: &[Match],
        data: &[u8],
        origins: &[Origin],
        at: &dyn Fn(&Match) -> (u32, u32),
    ) -> Vec<Finding> {
        let Some((first, rest)) = origins.split_first() else {
            return Vec::new();
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
                // `leakhound:allow` on the finding's line; read only for lines with findings.
                f.suppression = Suppressed(suppress::inline(data, m, matches));
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
                // A short value (a Secret's `shop`) is also a common word:
                // scrubbing it would garble namespaces and paths.
                let text = std::str::from_utf8(&data[m.secret.clone()]).ok();
                if let Some(text) = text.filter(|t| t.len() >= 8) {
                    secrets.insert((text.to_string(), f.redacted.clone()));
                }
            }
        }
        found
    }
}

impl EngineWorker<'_> {
    /// Keeps findings for the report, streaming each (see `announce`);
    /// while a `hold` is on, they wait for its `release`.
    fn publish(&mut self, found: Vec<Finding>) {
        match &mut self.held {
            Some(held) => held.extend(found),
            None => self.emit(found),
        }
    }

    fn emit(&mut self, found: Vec<Finding>) {
        if self.collector.events.wants_findings() {
            for f in &found {
                self.announce(f);
            }
        }
        self.collector.keep(found);
    }

    /// Hands `f` to `Events::finding`. A streamed line cannot be taken back,
    /// so origins with free text (commit summaries) are scrubbed now: of the
    /// secrets found so far (this blob's included) and of whatever the rules
    /// find in the origin's own text.
    fn announce(&mut self, f: &Finding) {
        let c = self.collector;
        if c.opts.show_secrets || f.location.origin.commit().is_none() {
            c.events.finding(f);
            return;
        }
        let mut shown = f.clone();
        let text = serde_json::to_string(&shown.location.origin).unwrap_or_default();
        let in_text: Vec<(String, String)> = c
            .engine
            .scan(text.as_bytes(), &mut self.scratch)
            .iter()
            .filter_map(|m| {
                let secret = text.as_bytes().get(m.secret.clone())?;
                let secret = std::str::from_utf8(secret).ok()?;
                Some((
                    secret.to_string(),
                    crate::report::finding::redact(secret.as_bytes()),
                ))
            })
            .collect();
        {
            let known = c
                .secrets
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            for (secret, redacted) in known.iter().chain(&in_text) {
                shown.location.origin.scrub(secret, redacted);
            }
        }
        c.events.finding(&shown);
    }
}
