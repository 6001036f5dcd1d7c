//! The checks the fuzz targets (`fuzz/`) run on untrusted bytes, kept in
//! the library so `tests/fuzz_regressions.rs` replays every committed
//! input through the very same code on each `cargo test`. Each function
//! panics when an invariant breaks.

use std::sync::OnceLock;

use crate::engine::{ruleset, Engine, Overlaps, Scratch, ValueClass};
use crate::source::archive::{walk_archive_file, walk_tar_stream, Limits, Visitor};
use crate::source::cilog::normalize::normalise;
use crate::source::decode::decode;
use crate::source::env::parse;
use crate::source::text::{detect_utf16, utf16_to_utf8, Utf16};
use crate::source::Origin;

/// One fuzz target's check.
pub type Check = fn(&[u8]);

/// Every fuzz target by name, for the regression replay.
pub const TARGETS: &[(&str, Check)] = &[
    ("engine_scan", engine_scan),
    ("engine_value", engine_value),
    ("utf16", utf16),
    ("rule_file", rule_file),
    ("archive", archive),
    ("k8s_helm", k8s_helm),
    ("cilog", cilog),
    ("env", env),
];

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::with_builtin(Vec::new()).expect("built-in rules build"))
}

/// The whole engine (prefilter, windows, regexes, filters) over arbitrary
/// bytes: no panic, and every match lies inside the input at the line and
/// column it claims.
pub fn engine_scan(data: &[u8]) {
    let mut scratch = Scratch::new();
    for m in engine().scan(data, &mut scratch) {
        assert!(m.secret.start <= m.secret.end && m.secret.end <= data.len());
        assert!(m.whole.start <= m.whole.end && m.whole.end <= data.len());
        let before = &data[..m.secret.start];
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        assert_eq!(m.line as usize, line);
        assert_eq!(m.column as usize, m.secret.start - line_start + 1);
    }
}

/// Named values (environment variables, Secret keys) through text and value
/// rules: `NAME=VALUE` split at the first `=`, both value classes.
pub fn engine_value(data: &[u8]) {
    let eq = data.iter().position(|&b| b == b'=').unwrap_or(data.len());
    let (name, value) = (&data[..eq], data.get(eq + 1..).unwrap_or_default());
    let mut scratch = Scratch::new();
    for class in [ValueClass::Named, ValueClass::Secret] {
        for overlaps in [Overlaps::Resolve, Overlaps::KeepAll] {
            for m in engine().scan_value(name, value, class, &mut scratch, overlaps) {
                assert!(m.secret.end <= value.len() && m.secret.start <= m.secret.end);
                assert!(m.line >= 1 && m.column >= 1);
            }
        }
    }
}

/// UTF-16 detection and transcoding: no panic, valid UTF-8 out, and one
/// output line per input line.
pub fn utf16(data: &[u8]) {
    let detected = detect_utf16(data);
    for order in [Utf16::Le, Utf16::Be] {
        let out = utf16_to_utf8(data, order);
        assert!(std::str::from_utf8(&out).is_ok());
        let newlines_in = data
            .chunks_exact(2)
            .filter(|p| match order {
                Utf16::Le => p == &[b'\n', 0],
                Utf16::Be => p == &[0, b'\n'],
            })
            .count();
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), newlines_in);
    }
    if detected.is_some() {
        assert!(data.len() >= 2);
    }
}

/// User rule files (`--rules DIR`) are untrusted YAML: parsing and
/// validation report errors, never panic, and a rule set that validates
/// builds an engine that scans.
pub fn rule_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(rules) = ruleset::parse_rule_file("fuzz.yaml", text) else {
        return;
    };
    if let Ok(engine) = Engine::new(rules) {
        let mut scratch = Scratch::new();
        engine.scan(text.as_bytes(), &mut scratch);
    }
}

struct EntryCheck<'a>(&'a Limits);

impl Visitor for EntryCheck<'_> {
    fn file(&mut self, _path: &str, data: &[u8]) {
        assert!(data.len() as u64 <= self.0.max_entry_size);
    }
    fn warn(&mut self, _input: &str, _message: String) {}
    fn skipped(&mut self, _input: &str, _reason: &str) {}
}

/// Layer and archive streaming (gzip, zstd, tar, nested tar/zip) under the
/// default bomb limits: no panic, and no visited file larger than the entry
/// limit.
pub fn archive(data: &[u8]) {
    // Small limits so a bomb in the corpus stays cheap.
    let limits = Limits {
        max_entry_size: 1 << 20,
        max_expanded: 8 << 20,
        ..Limits::default()
    };
    let _ = walk_tar_stream(data, &limits, &mut EntryCheck(&limits));
    walk_archive_file("fuzz.tgz", data, &limits, &mut EntryCheck(&limits));
    walk_archive_file("fuzz.zip", data, &limits, &mut EntryCheck(&limits));
}

/// Kubernetes objects and Helm releases (YAML streams, JSON, base64,
/// gzip): the decoder never panics, and every decoded value's position is a
/// real line of the input.
pub fn k8s_helm(data: &[u8]) {
    let root = Origin::File {
        path: "fuzz.yaml".to_string(),
    };
    if let Some(found) = decode(data, &root) {
        let lines = 1 + data.iter().filter(|&&b| b == b'\n').count() as u32;
        for v in &found.values {
            assert!(
                v.pos.line >= 1 && v.pos.line <= lines,
                "line {} of {lines}",
                v.pos.line
            );
        }
    }
}

/// CI log normalisation (escapes, runner prefixes, `\r` rewrites): no
/// panic, one output line per input line, and every mapped position lies in
/// the original.
pub fn cilog(data: &[u8]) {
    let n = normalise(data);
    let originals: Vec<usize> = data.split(|&b| b == b'\n').map(<[u8]>::len).collect();
    assert!(n.lines() <= originals.len());
    for (i, &original) in originals.iter().enumerate().take(n.lines()) {
        let len = n.line(i).len() as u32;
        if len == 0 {
            continue;
        }
        let (line, column) = n.original(i as u32 + 1, len);
        assert_eq!(line as usize, i + 1);
        assert!(
            column as usize <= original,
            "column {column} past the original line"
        );
    }
}

/// Environment dump parsing (every format, detected from content): no
/// panic, names never empty, positions inside the input.
pub fn env(data: &[u8]) {
    let lines = 1 + data.iter().filter(|&&b| b == b'\n' || b == 0).count() as u32;
    if let Ok(vars) = parse(data) {
        for v in vars {
            assert!(!v.name.is_empty());
            assert!(v.line >= 1 && v.line <= lines, "line {} of {lines}", v.line);
        }
    }
}
