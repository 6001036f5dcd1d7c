//! A text rule's pattern as the scan runs it: regex-automata's meta regex,
//! searched with a cache and captures the caller owns (one set per thread,
//! in `Scratch`). The `regex` crate's own API takes a cache from a shared
//! pool and allocates captures on every search, which showed up as a few
//! percent of a whole scan over many small windows.

use std::ops::Range;

use regex_automata::meta::{self, Regex};
use regex_automata::util::captures::Captures;
use regex_automata::util::syntax;
use regex_automata::{Input, PatternID};

use super::ruleset::{PATTERN_DFA_SIZE_LIMIT, PATTERN_SIZE_LIMIT};

pub(super) struct Matcher {
    regex: Regex,
    /// Index of the `secret` capture group (validation requires one).
    secret: Option<usize>,
}

/// One thread's search state for one matcher.
pub(super) struct Search {
    cache: meta::Cache,
    caps: Captures,
}

impl Matcher {
    /// Compiles `pattern` exactly as `ruleset::compile_pattern` does for the
    /// `regex` crate: over bytes, Unicode classes off, same size limits.
    pub(super) fn new(pattern: &str) -> Result<Matcher, Box<meta::BuildError>> {
        let regex = meta::Builder::new()
            .syntax(syntax::Config::new().unicode(false).utf8(false))
            .configure(
                meta::Config::new()
                    .utf8_empty(false)
                    .nfa_size_limit(Some(PATTERN_SIZE_LIMIT))
                    .hybrid_cache_capacity(PATTERN_DFA_SIZE_LIMIT),
            )
            .build(pattern)
            .map_err(Box::new)?;
        let secret = regex.group_info().to_index(PatternID::ZERO, "secret");
        Ok(Matcher { regex, secret })
    }

    pub(super) fn search(&self) -> Search {
        Search {
            cache: self.regex.create_cache(),
            caps: self.regex.create_captures(),
        }
    }

    /// The first match in `hay` at or after `start`: the `secret` group's
    /// range, if it took part, and the whole match's.
    pub(super) fn find_at(
        &self,
        hay: &[u8],
        start: usize,
        search: &mut Search,
    ) -> Option<(Option<Range<usize>>, Range<usize>)> {
        let input = Input::new(hay).range(start..);
        self.regex
            .search_captures_with(&mut search.cache, &input, &mut search.caps);
        let whole = search.caps.get_match()?;
        let secret = self.secret.and_then(|i| search.caps.get_group(i));
        Some((secret.map(|s| s.range()), whole.range()))
    }

    /// Calls `f(secret, whole)` for each successive non-overlapping match in
    /// `hay` whose `secret` group took part.
    pub(super) fn for_each(
        &self,
        hay: &[u8],
        search: &mut Search,
        mut f: impl FnMut(Range<usize>, Range<usize>),
    ) {
        let mut start = 0;
        while let Some((secret, whole)) = self.find_at(hay, start, search) {
            if let Some(secret) = secret {
                f(secret, whole.clone());
            }
            // An empty match would be found again at the same place.
            start = whole.end + usize::from(whole.is_empty());
            if start > hay.len() {
                return;
            }
        }
    }
}
