//! One Aho-Corasick automaton over every rule's keywords: a blob with no
//! keyword costs exactly one pass of it.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use std::collections::HashMap;

use super::rule::Rule;

pub struct Prefilter {
    automaton: AhoCorasick,
    /// For each automaton pattern, the rules that listed that keyword.
    rules_of: Vec<Vec<u32>>,
}

/// A keyword occurrence: which rules to try and where the keyword sits.
#[derive(Debug, Clone, Copy)]
pub struct Hit {
    pub pattern: u32,
    pub start: usize,
    pub end: usize,
}

impl Prefilter {
    pub fn new(rules: &[Rule]) -> Result<Self, aho_corasick::BuildError> {
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut keywords: Vec<String> = Vec::new();
        let mut rules_of: Vec<Vec<u32>> = Vec::new();
        for (ri, rule) in rules.iter().enumerate() {
            for k in &rule.keywords {
                let k = k.to_ascii_lowercase();
                let pi = *index.entry(k.clone()).or_insert_with(|| {
                    keywords.push(k);
                    rules_of.push(Vec::new());
                    keywords.len() - 1
                });
                let ri = u32::try_from(ri).expect("fewer than 2^32 rules");
                if !rules_of[pi].contains(&ri) {
                    rules_of[pi].push(ri);
                }
            }
        }
        let automaton = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&keywords)?;
        Ok(Prefilter {
            automaton,
            rules_of,
        })
    }

    /// Calls `f` for every keyword occurrence, overlapping ones included.
    pub fn for_each_hit(&self, data: &[u8], mut f: impl FnMut(Hit)) {
        for m in self.automaton.find_overlapping_iter(data) {
            f(Hit {
                pattern: m.pattern().as_u32(),
                start: m.start(),
                end: m.end(),
            });
        }
    }

    pub fn rules_for(&self, pattern: u32) -> &[u32] {
        &self.rules_of[pattern as usize]
    }
}
