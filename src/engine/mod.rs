//! The detection engine: keyword prefilter, regex confirmation in bounded
//! windows, entropy and value filters. It sees bytes only, never where they
//! came from, and knows nothing of output.

pub mod check;
mod common_grams;
pub mod entropy;
pub mod filter;
mod matcher;
mod prefilter;
pub mod rule;
pub mod ruleset;
mod screen;
#[cfg(test)]
mod tests;
mod value;

use std::ops::Range;
use std::sync::OnceLock;

use regex::bytes::Regex;

use matcher::{Matcher, Search};
use prefilter::Prefilter;
pub use rule::{AppliesTo, Confidence, Example, Rotation, Rule};
use screen::{Screen, ScreenState};
pub use value::ValueClass;

/// Default bytes the match may extend past a keyword hit.
const DEFAULT_SPAN: usize = 512;
/// Default bytes the match may start before a keyword hit.
const DEFAULT_LOOKBEHIND: usize = 256;
/// How far a window may be widened to reach a line boundary.
const LINE_SNAP_LIMIT: usize = 4096;
/// Generic windows a blob needs before they are screened together.
const SCREEN_MIN_WINDOWS: usize = 64;
/// Paired matches (key id + secret) must sit within this many bytes.
const PAIR_DISTANCE: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("invalid rules:\n{}", .0.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
    InvalidRules(Vec<ruleset::RuleError>),
}

struct CompiledRule {
    rule: Rule,
    /// Compiled on first use: most rules never fire on a given run, and
    /// start-up must stay fast. Searched with caches the caller's `Scratch`
    /// owns: no shared pool to take a cache from per window.
    matcher: OnceLock<Matcher>,
    allow: OnceLock<Vec<Regex>>,
    demote: OnceLock<Vec<Regex>>,
    ignore_names: OnceLock<Vec<Regex>>,
    pairs_with: Vec<u32>,
    span: usize,
    lookbehind: usize,
    generic: bool,
}

impl CompiledRule {
    fn keyword_in_secret(&self, secret: &[u8]) -> bool {
        self.rule.keywords.iter().any(|k| {
            let k = k.as_bytes();
            secret.windows(k.len()).any(|w| w.eq_ignore_ascii_case(k))
        })
    }

    /// Whether a captured `secret` (inside the match `whole`) passes the
    /// value filters, the rule's `min_entropy` and its `allow` patterns;
    /// its entropy when it does.
    fn accepts(&self, secret: &[u8], whole: &[u8]) -> Option<f64> {
        let filtered = if self.generic {
            filter::strict(secret)
        } else {
            filter::placeholder(secret)
        };
        if filtered.is_some() {
            return None;
        }
        let entropy = entropy::shannon(secret);
        if self.rule.min_entropy.is_some_and(|min| entropy < min) {
            return None;
        }
        if self.allow().iter().any(|a| a.is_match(whole)) {
            return None;
        }
        Some(entropy)
    }

    fn matcher(&self) -> &Matcher {
        self.matcher.get_or_init(|| {
            Matcher::new(&self.rule.pattern)
                .expect("patterns are validated before the engine is built")
        })
    }
    fn allow(&self) -> &[Regex] {
        self.allow.get_or_init(|| {
            self.rule
                .allow
                .iter()
                .map(|a| {
                    ruleset::compile_pattern(a)
                        .expect("allow patterns are validated before the engine is built")
                })
                .collect()
        })
    }
    fn demote(&self) -> &[Regex] {
        self.demote
            .get_or_init(|| name_patterns(&self.rule.demote_names))
    }
    fn ignore_names(&self) -> &[Regex] {
        self.ignore_names
            .get_or_init(|| name_patterns(&self.rule.ignore_names))
    }
}

/// A value rule's name patterns, case-insensitive.
fn name_patterns(patterns: &[String]) -> Vec<Regex> {
    patterns
        .iter()
        .map(|a| {
            ruleset::compile_pattern(&format!("(?i){a}"))
                .expect("name patterns are validated before the engine is built")
        })
        .collect()
}

/// A confirmed match in one blob, with positions in that blob.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    pub rule: usize,
    /// The secret bytes (the `secret` capture).
    pub secret: Range<usize>,
    /// The whole regex match.
    pub whole: Range<usize>,
    /// 1-based line of the secret's first byte.
    pub line: u32,
    /// 1-based byte column of the secret's first byte.
    pub column: u32,
    pub entropy: f32,
    /// The rule's confidence, or for value rules the one the value earns.
    pub confidence: Confidence,
    /// Index (in the same result slice) of the match this one pairs with.
    pub pair: Option<usize>,
}

/// Per-thread buffers reused across blobs; create one per worker.
#[derive(Default)]
pub struct Scratch {
    /// Per rule, its matcher's search state, made on the rule's first use.
    searches: Vec<Option<Search>>,
    windows: Vec<(u32, usize, usize)>,
    /// Per rule, the window still growing (`CLOSED` when none).
    open: Vec<(usize, usize)>,
    touched: Vec<u32>,
    matches: Vec<Match>,
    /// The generic rules' screen state, made on the first generic window.
    screen: Option<ScreenState>,
}

const CLOSED: (usize, usize) = (usize::MAX, 0);

impl Scratch {
    pub fn new() -> Self {
        Self::default()
    }
}

/// Whether overlapping matches from different rules are reduced to the most
/// specific one. Rule self-checks want every rule's own view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlaps {
    Resolve,
    KeepAll,
}

/// The compiled rule set. `Sync`: one engine is shared by all threads.
pub struct Engine {
    rules: Vec<CompiledRule>,
    prefilter: Prefilter,
    /// Built on the first generic window, like the rules' own patterns.
    screen: OnceLock<Option<Screen>>,
}

impl Engine {
    /// Builds an engine, validating the rules first. Patterns themselves are
    /// compiled lazily, on their first keyword hit.
    pub fn new(rules: Vec<Rule>) -> Result<Self, EngineError> {
        Self::build(rules, 0)
    }

    /// The first `trusted` rules are the built-in ones, whose patterns the
    /// test suite compiles and checks: compiling them again here would cost
    /// most of start-up.
    fn build(rules: Vec<Rule>, trusted: usize) -> Result<Self, EngineError> {
        let errors = ruleset::validate_with(&rules, trusted);
        if !errors.is_empty() {
            return Err(EngineError::InvalidRules(errors));
        }
        let prefilter = Prefilter::new(&rules);
        let index: std::collections::HashMap<&str, u32> = rules
            .iter()
            .enumerate()
            .map(|(i, r)| {
                (
                    r.id.as_str(),
                    u32::try_from(i).expect("fewer than 2^32 rules"),
                )
            })
            .collect();
        let pairs: Vec<Vec<u32>> = rules
            .iter()
            .map(|r| {
                r.pairs_with
                    .iter()
                    .filter_map(|p| index.get(p.as_str()).copied())
                    .collect()
            })
            .collect();
        let compiled = rules
            .into_iter()
            .zip(pairs)
            .map(|(rule, pairs_with)| {
                let generic = rule.is_generic();
                CompiledRule {
                    pairs_with,
                    // Generic rules read `name = value` on one line: their
                    // window is the keyword's line, which keeps hot keywords
                    // (`password`, `token`) cheap.
                    span: rule
                        .max_span
                        .unwrap_or(if generic { 0 } else { DEFAULT_SPAN }),
                    lookbehind: rule.lookbehind.unwrap_or(if generic {
                        0
                    } else {
                        DEFAULT_LOOKBEHIND
                    }),
                    generic,
                    matcher: OnceLock::new(),
                    allow: OnceLock::new(),
                    demote: OnceLock::new(),
                    ignore_names: OnceLock::new(),
                    rule,
                }
            })
            .collect();
        Ok(Engine {
            rules: compiled,
            prefilter,
            screen: OnceLock::new(),
        })
    }

    /// The built-in rules plus any extra ones.
    pub fn with_builtin(extra: Vec<Rule>) -> Result<Self, EngineError> {
        let mut rules = ruleset::builtin_rules().map_err(|e| EngineError::InvalidRules(vec![e]))?;
        let trusted = rules.len();
        rules.extend(extra);
        Self::build(rules, trusted)
    }

    /// Compiles every pattern now (for `rules check` and benchmarks).
    pub fn compile_all(&self) {
        for r in &self.rules {
            r.matcher();
            r.allow();
            r.demote();
            r.ignore_names();
        }
    }

    pub fn rules(&self) -> impl ExactSizeIterator<Item = &Rule> {
        self.rules.iter().map(|r| &r.rule)
    }

    pub fn rule(&self, index: usize) -> &Rule {
        &self.rules[index].rule
    }

    /// Scans `data`; results live in `scratch` until the next scan.
    pub fn scan<'s>(&self, data: &[u8], scratch: &'s mut Scratch) -> &'s [Match] {
        self.scan_with(data, scratch, Overlaps::Resolve)
    }

    pub fn scan_with<'s>(
        &self,
        data: &[u8],
        scratch: &'s mut Scratch,
        overlaps: Overlaps,
    ) -> &'s [Match] {
        scratch.windows.clear();
        scratch.matches.clear();
        scratch.touched.clear();
        if scratch.open.len() != self.rules.len() {
            scratch.open = vec![CLOSED; self.rules.len()];
        }
        // Hits arrive roughly in position order; each rule keeps one open
        // window that grows while hits overlap it, so dense keywords cost one
        // window per region instead of one per hit.
        self.prefilter.for_each_hit(data, |hit| {
            // Rules sharing a keyword mostly share their reach: snap to line
            // boundaries once per distinct (lookbehind, span).
            let mut last: Option<(usize, usize, usize, usize)> = None;
            for &ri in self.prefilter.rules_for(hit.pattern) {
                let rule = &self.rules[ri as usize];
                let (start, end) = match last {
                    Some((lb, sp, s, e)) if lb == rule.lookbehind && sp == rule.span => (s, e),
                    _ => {
                        let s = line_start(data, hit.start.saturating_sub(rule.lookbehind));
                        let e = line_end(data, hit.end.saturating_add(rule.span).min(data.len()));
                        last = Some((rule.lookbehind, rule.span, s, e));
                        (s, e)
                    }
                };
                let open = &mut scratch.open[ri as usize];
                if *open == CLOSED {
                    *open = (start, end);
                    scratch.touched.push(ri);
                } else if start <= open.1 && end >= open.0 {
                    *open = (open.0.min(start), open.1.max(end));
                } else if start > open.1 {
                    scratch.windows.push((ri, open.0, open.1));
                    *open = (start, end);
                } else {
                    scratch.windows.push((ri, start, end));
                }
            }
        });
        for &ri in &scratch.touched {
            let open = std::mem::replace(&mut scratch.open[ri as usize], CLOSED);
            scratch.windows.push((ri, open.0, open.1));
        }
        if scratch.windows.is_empty() {
            return &scratch.matches;
        }
        if let Some(state) = &mut scratch.screen {
            state.reset();
        }
        // Building the screen costs a few milliseconds once: worth it for
        // blobs with many generic windows, not for a pre-commit hook's
        // few lines.
        let screened = scratch
            .windows
            .iter()
            .filter(|w| self.rules[w.0 as usize].generic)
            .nth(SCREEN_MIN_WINDOWS - 1)
            .is_some();
        for &(ri, start, end) in &scratch.windows {
            if screened && self.rules[ri as usize].generic {
                if let Some(screen) = self.screen() {
                    let state = scratch.screen.get_or_insert_with(|| screen.state());
                    if !screen.may_match(state, data, (start, end), ri as usize) {
                        continue;
                    }
                }
            }
            let search = self.search(&mut scratch.searches, ri as usize);
            self.confirm(ri as usize, data, start, end, search, &mut scratch.matches);
        }
        // Out-of-order hits can yield a window overlapping an earlier one.
        scratch
            .matches
            .sort_unstable_by_key(|m| (m.rule, m.secret.start, m.secret.end));
        scratch
            .matches
            .dedup_by_key(|m| (m.rule, m.secret.start, m.secret.end));
        if overlaps == Overlaps::Resolve {
            self.resolve_overlaps(data, &mut scratch.matches);
        }
        scratch
            .matches
            .sort_unstable_by_key(|m| (m.secret.start, m.secret.end, m.rule));
        set_line_columns(data, &mut scratch.matches);
        self.pair(&mut scratch.matches);
        &scratch.matches
    }

    /// The generic text rules' screen, built on first use.
    fn screen(&self) -> Option<&Screen> {
        self.screen
            .get_or_init(|| {
                let patterns: Vec<(usize, &str)> = self
                    .rules
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| r.generic && !r.rule.is_value_rule())
                    .map(|(i, r)| (i, r.rule.pattern.as_str()))
                    .collect();
                Screen::new(self.rules.len(), &patterns)
            })
            .as_ref()
    }

    /// Rule `ri`'s search state in `searches` (one slot per rule), made on
    /// its first use.
    fn search<'s>(&self, searches: &'s mut Vec<Option<Search>>, ri: usize) -> &'s mut Search {
        if searches.len() != self.rules.len() {
            *searches = std::iter::repeat_with(|| None)
                .take(self.rules.len())
                .collect();
        }
        searches[ri].get_or_insert_with(|| self.rules[ri].matcher().search())
    }

    fn confirm(
        &self,
        ri: usize,
        data: &[u8],
        start: usize,
        end: usize,
        search: &mut Search,
        out: &mut Vec<Match>,
    ) {
        let rule = &self.rules[ri];
        let window = &data[start..end];
        rule.matcher().for_each(window, search, |secret, whole| {
            let Some(entropy) = rule.accepts(&window[secret.clone()], &window[whole.clone()])
            else {
                return;
            };
            out.push(Match {
                rule: ri,
                secret: start + secret.start..start + secret.end,
                whole: start + whole.start..start + whole.end,
                line: 0,
                column: 0,
                entropy: entropy as f32,
                confidence: rule.rule.confidence,
                pair: None,
            });
        });
    }

    /// The same bytes found by two rules are one finding: a provider rule
    /// beats a generic one, then higher confidence, then file order.
    fn resolve_overlaps(&self, data: &[u8], matches: &mut Vec<Match>) {
        if matches.len() < 2 {
            return;
        }
        // Provider rules beat generic ones; then a rule whose keyword is part
        // of the secret itself (a token format such as `ghp_`) names the
        // credential better than one that found it by context
        // (`.git-credentials`, `password =`); then confidence, then order.
        let rank = |m: &Match| {
            let rule = &self.rules[m.rule];
            (
                !rule.generic,
                rule.keyword_in_secret(&data[m.secret.clone()]),
                rule.rule.confidence,
                std::cmp::Reverse(m.rule),
            )
        };
        matches.sort_unstable_by_key(|m| (m.secret.start, std::cmp::Reverse(m.secret.end)));
        let mut keep = vec![true; matches.len()];
        for i in 0..matches.len() {
            for j in i + 1..matches.len() {
                if matches[j].secret.start >= matches[i].secret.end {
                    break;
                }
                if !keep[i] || !keep[j] {
                    continue;
                }
                let (a, b) = (&matches[i], &matches[j]);
                let same = a.secret == b.secret;
                let one_generic = self.rules[a.rule].generic != self.rules[b.rule].generic;
                if same || one_generic {
                    if rank(a) >= rank(b) {
                        keep[j] = false;
                    } else {
                        keep[i] = false;
                    }
                }
            }
        }
        let mut k = keep.iter();
        matches.retain(|_| *k.next().expect("one flag per match"));
    }

    fn pair(&self, matches: &mut [Match]) {
        for i in 0..matches.len() {
            let partners = &self.rules[matches[i].rule].pairs_with;
            if partners.is_empty() {
                continue;
            }
            let here = matches[i].secret.start;
            let best = (0..matches.len())
                .filter(|&j| j != i && partners.contains(&(matches[j].rule as u32)))
                .map(|j| (matches[j].secret.start.abs_diff(here), j))
                .filter(|&(d, _)| d <= PAIR_DISTANCE)
                .min();
            matches[i].pair = best.map(|(_, j)| j);
        }
    }
}

fn line_start(data: &[u8], pos: usize) -> usize {
    let floor = pos.saturating_sub(LINE_SNAP_LIMIT);
    match memchr::memrchr(b'\n', &data[floor..pos]) {
        Some(i) => floor + i + 1,
        None => floor,
    }
}

fn line_end(data: &[u8], pos: usize) -> usize {
    let ceil = pos.saturating_add(LINE_SNAP_LIMIT).min(data.len());
    match memchr::memchr(b'\n', &data[pos..ceil]) {
        Some(i) => pos + i,
        None => ceil,
    }
}

/// Fills 1-based line and column; `matches` must be sorted by position.
fn set_line_columns(data: &[u8], matches: &mut [Match]) {
    let mut line = 1u32;
    let mut counted_to = 0usize;
    let mut line_begin = 0usize;
    for m in matches.iter_mut() {
        let pos = m.secret.start;
        if pos >= counted_to {
            for nl in memchr::memchr_iter(b'\n', &data[counted_to..pos]) {
                line += 1;
                line_begin = counted_to + nl + 1;
            }
            counted_to = pos;
        }
        m.line = line;
        m.column = u32::try_from(pos - line_begin + 1).unwrap_or(u32::MAX);
    }
}
