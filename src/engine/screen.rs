//! One search of a window for many rules at once: which generic rules'
//! patterns match anywhere in it. Generic rules share hot keywords
//! (`password`, `token`, `secret`) and their window is the keyword's line,
//! so a line that names a credential is searched by half a dozen of them;
//! nearly none of those lines holds a secret. One overlapping search for
//! all of them costs less than each rule's own, and a rule is then run only
//! where its pattern matched. Exact: a pattern that matches in the window
//! is always reported, so no finding is lost.

use regex_automata::meta::{self, Regex};
use regex_automata::util::syntax;
use regex_automata::{Input, MatchKind, PatternID, PatternSet};

use super::ruleset::{PATTERN_DFA_SIZE_LIMIT, PATTERN_SIZE_LIMIT};

pub(super) struct Screen {
    /// Every screened rule's pattern, searched with overlapping semantics.
    regex: Regex,
    /// Per rule, its pattern in `regex` (`None` when not screened).
    pattern_of: Vec<Option<PatternID>>,
}

/// Windows remembered per thread, direct-mapped by start: a line's rules
/// close their windows at different hits, so its window is asked about
/// again after others.
const REMEMBERED: usize = 16;

/// One thread's screen state: recent windows and which patterns matched in
/// each (bit `p` for pattern `p`).
pub(super) struct ScreenState {
    cache: meta::Cache,
    set: PatternSet,
    recent: [((usize, usize), u64); REMEMBERED],
}

/// A window no search has: `start > end`.
const NO_WINDOW: (usize, usize) = (usize::MAX, 0);

impl Screen {
    /// A screen over `patterns` (rule index, pattern) of a set of `rules`
    /// rules, the first 64 of them; `None` when fewer than two rules would
    /// share it or the union does not compile within the size limits (each
    /// rule then runs alone).
    pub(super) fn new(rules: usize, patterns: &[(usize, &str)]) -> Option<Screen> {
        let patterns = &patterns[..patterns.len().min(64)];
        if patterns.len() < 2 {
            return None;
        }
        let texts: Vec<&str> = patterns.iter().map(|(_, p)| *p).collect();
        let regex = meta::Builder::new()
            .syntax(syntax::Config::new().unicode(false).utf8(false))
            .configure(
                meta::Config::new()
                    .match_kind(MatchKind::All)
                    .utf8_empty(false)
                    .nfa_size_limit(Some(PATTERN_SIZE_LIMIT))
                    .hybrid_cache_capacity(PATTERN_DFA_SIZE_LIMIT),
            )
            .build_many(&texts)
            .ok()?;
        let mut pattern_of = vec![None; rules];
        for (p, (ri, _)) in patterns.iter().enumerate() {
            pattern_of[*ri] =
                Some(PatternID::new(p).expect("fewer patterns than PatternID::LIMIT"));
        }
        Some(Screen { regex, pattern_of })
    }

    pub(super) fn state(&self) -> ScreenState {
        ScreenState {
            cache: self.regex.create_cache(),
            set: PatternSet::new(self.regex.pattern_len()),
            recent: [(NO_WINDOW, 0); REMEMBERED],
        }
    }

    /// Whether rule `ri` may match in `data[start..end]`: false only when it
    /// is screened and its pattern matches nowhere there.
    pub(super) fn may_match(
        &self,
        state: &mut ScreenState,
        data: &[u8],
        (start, end): (usize, usize),
        ri: usize,
    ) -> bool {
        let Some(pattern) = self.pattern_of[ri] else {
            return true;
        };
        let slot = &mut state.recent[start % REMEMBERED];
        if slot.0 != (start, end) {
            state.set.clear();
            self.regex.which_overlapping_matches_with(
                &mut state.cache,
                &Input::new(&data[start..end]),
                &mut state.set,
            );
            *slot = (
                (start, end),
                state.set.iter().fold(0, |m, p| m | 1 << p.as_usize()),
            );
        }
        slot.1 & 1 << pattern.as_usize() != 0
    }
}

impl ScreenState {
    /// Forgets every window: positions are per blob.
    pub(super) fn reset(&mut self) {
        self.recent = [(NO_WINDOW, 0); REMEMBERED];
    }
}
