//! Keyword prefilter: finds every occurrence of every rule keyword (ASCII
//! case-insensitive), so a blob with no keyword costs one cheap pass.
//!
//! Two stages. A filter slides over the bytes eight positions at a time,
//! case-folds the four bytes starting at each position and tests one bit of
//! a small bitmap holding the hashed first four bytes of every keyword
//! (three-byte keywords mark all their possible fourth bytes). Only where a
//! bit is set are the keywords of that hash bucket compared with the text. An Aho-Corasick automaton over
//! hundreds of case-insensitive keywords walks every byte through a large
//! transition table and is several times slower.

use std::collections::HashMap;

use super::rule::Rule;

/// Bits in the bitmap: 2^18 bits = 32 KiB.
const BITMAP_BITS: u32 = 18;
const SLOTS: usize = 1 << BITMAP_BITS;
/// Sets bit 5 of every byte: folds ASCII case (and, harmlessly, a few
/// punctuation pairs such as `_`/DEL), so the filter is a superset of
/// case-insensitive equality.
const FOLD: u32 = 0x2020_2020;

pub struct Prefilter {
    /// Lowercased keywords, indexed by pattern id.
    keywords: Vec<Box<[u8]>>,
    /// Per keyword, its case-folded first (up to) four bytes and the mask
    /// that selects them: a one-instruction test before the full compare.
    heads: Vec<(u32, u32)>,
    bitmap: Box<[u64; SLOTS / 64]>,
    /// Second level, consulted only where the first one hits: per
    /// four-byte slot, the shortest keyword length there (capped at 8), and
    /// a bitmap of the hashed first that-many bytes of those keywords.
    /// `interface` hits the slot of `facebook` but not this.
    min_len: Box<[u8]>,
    bitmap2: Box<[u64; SLOTS / 64]>,
    /// Keywords by hash slot, in CSR form: `ids[starts[s]..starts[s + 1]]`.
    starts: Box<[u32]>,
    ids: Box<[u32]>,
    /// For each keyword, the rules that listed it.
    rules_of: Vec<Vec<u32>>,
}

/// A keyword occurrence: which rules to try and where the keyword sits.
#[derive(Debug, Clone, Copy)]
pub struct Hit {
    pub pattern: u32,
    pub start: usize,
    pub end: usize,
}

#[inline(always)]
fn slot4(folded: u32) -> usize {
    (folded.wrapping_mul(0x9E37_79B1) >> (32 - BITMAP_BITS)) as usize
}

#[inline(always)]
fn slot3(folded: u32) -> usize {
    ((folded & 0x00FF_FFFF).wrapping_mul(0x85EB_CA77) >> (32 - BITMAP_BITS)) as usize
}

/// Hash of the first `len` (5 to 8) case-folded bytes, salted by `len`.
#[inline(always)]
fn slot8(head: u64, len: u8) -> usize {
    ((head ^ u64::from(len)).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - BITMAP_BITS)) as usize
}

/// The first `len` (at most 8) bytes of `k`, case-folded, little-endian.
#[inline(always)]
fn folded_head(k: &[u8], len: usize) -> u64 {
    let mut w = 0u64;
    for (i, &b) in k.iter().take(len.min(8)).enumerate() {
        w |= u64::from(b | 0x20) << (8 * i);
    }
    w
}

fn folded_prefix(k: &[u8]) -> u32 {
    let mut w = 0u32;
    for (i, &b) in k.iter().take(4).enumerate() {
        w |= u32::from(b) << (8 * i);
    }
    w | FOLD
}

impl Prefilter {
    pub fn new(rules: &[Rule]) -> Self {
        let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut keywords: Vec<Box<[u8]>> = Vec::new();
        let mut rules_of: Vec<Vec<u32>> = Vec::new();
        for (ri, rule) in rules.iter().enumerate() {
            let ri = u32::try_from(ri).expect("fewer than 2^32 rules");
            for k in &rule.keywords {
                let k = k.to_ascii_lowercase().into_bytes();
                let pi = *index.entry(k.clone()).or_insert_with(|| {
                    keywords.push(k.into_boxed_slice());
                    rules_of.push(Vec::new());
                    keywords.len() - 1
                });
                if !rules_of[pi].contains(&ri) {
                    rules_of[pi].push(ri);
                }
            }
        }
        // Validation guarantees keywords of 3+ bytes.
        let slot_of = |k: &[u8]| {
            let w = folded_prefix(k);
            if k.len() >= 4 {
                slot4(w)
            } else {
                slot3(w)
            }
        };
        let mut bitmap = Box::new([0u64; SLOTS / 64]);
        let mut counts = vec![0u32; SLOTS + 1];
        for k in &keywords {
            let s = slot_of(k);
            counts[s + 1] += 1;
            if k.len() >= 4 {
                bitmap[s / 64] |= 1 << (s % 64);
            } else {
                // The scan tests one four-byte slot per position: a
                // three-byte keyword marks every fourth byte it may meet.
                for b in 0..=255u8 {
                    let t = slot4(folded_prefix(k) | u32::from(b) << 24);
                    bitmap[t / 64] |= 1 << (t % 64);
                }
            }
        }
        for s in 0..SLOTS {
            counts[s + 1] += counts[s];
        }
        let mut fill = counts.clone();
        let mut ids = vec![0u32; keywords.len()];
        for (pi, k) in keywords.iter().enumerate() {
            let s = slot_of(k);
            ids[fill[s] as usize] = u32::try_from(pi).expect("fewer than 2^32 keywords");
            fill[s] += 1;
        }
        let heads = keywords
            .iter()
            .map(|k| {
                let mask = if k.len() >= 4 { u32::MAX } else { 0x00FF_FFFF };
                (folded_prefix(k) & mask, mask)
            })
            .collect();
        let mut min_len = vec![u8::MAX; SLOTS].into_boxed_slice();
        for k in keywords.iter().filter(|k| k.len() >= 4) {
            let s = slot4(folded_prefix(k));
            min_len[s] = min_len[s].min(k.len().min(8) as u8);
        }
        let mut bitmap2 = Box::new([0u64; SLOTS / 64]);
        for k in keywords.iter().filter(|k| k.len() >= 4) {
            let m = min_len[slot4(folded_prefix(k))];
            let t = slot8(folded_head(k, usize::from(m)), m);
            bitmap2[t / 64] |= 1 << (t % 64);
        }
        Prefilter {
            keywords,
            heads,
            bitmap,
            min_len,
            bitmap2,
            starts: counts.into_boxed_slice(),
            ids: ids.into_boxed_slice(),
            rules_of,
        }
    }

    #[inline(always)]
    fn bit(&self, s: usize) -> bool {
        self.bitmap[s / 64] & (1 << (s % 64)) != 0
    }

    /// Calls `f` for every keyword occurrence, overlapping ones included, in
    /// order of start position.
    pub fn for_each_hit(&self, data: &[u8], mut f: impl FnMut(Hit)) {
        let n = data.len();
        let mut i = 0;
        // Eight positions per step; no loop-carried state, so the tests of
        // one step run in parallel.
        const FOLD64: u64 = 0x2020_2020_2020_2020;
        while i + 12 <= n {
            // Positions i..i+4 from bytes i..i+8, positions i+4..i+8 from
            // bytes i+4..i+12: plain 64-bit shifts, no 128-bit arithmetic.
            let lo = u64::from_le_bytes(data[i..i + 8].try_into().expect("8 bytes")) | FOLD64;
            let mid = u64::from_le_bytes(data[i + 4..i + 12].try_into().expect("8 bytes")) | FOLD64;
            for j in 0..4 {
                if self.bit(slot4((lo >> (8 * j)) as u32)) {
                    self.confirm(data, i + j, &mut f);
                }
            }
            for j in 0..4 {
                if self.bit(slot4((mid >> (8 * j)) as u32)) {
                    self.confirm(data, i + 4 + j, &mut f);
                }
            }
            i += 8;
        }
        while i + 3 <= n {
            self.confirm(data, i, &mut f);
            i += 1;
        }
    }

    /// Reports every keyword that starts exactly at `at`.
    #[inline(never)]
    fn confirm(&self, data: &[u8], at: usize, f: &mut impl FnMut(Hit)) {
        let rest = &data[at..];
        let mut w = 0u32;
        for (k, &b) in rest.iter().take(4).enumerate() {
            w |= u32::from(b) << (8 * k);
        }
        w |= FOLD;
        let mut report = |s: usize, long: bool| {
            let bucket = &self.ids[self.starts[s] as usize..self.starts[s + 1] as usize];
            for &pi in bucket {
                let (head, mask) = self.heads[pi as usize];
                if w & mask != head {
                    continue;
                }
                let k = &self.keywords[pi as usize];
                if (k.len() >= 4) == long
                    && rest.len() >= k.len()
                    && rest[..k.len()].eq_ignore_ascii_case(k)
                {
                    f(Hit {
                        pattern: pi,
                        start: at,
                        end: at + k.len(),
                    });
                }
            }
        };
        if rest.len() >= 4 {
            let s = slot4(w);
            let m = self.min_len[s];
            let second_level_rejects = m > 4 && usize::from(m) <= rest.len() && {
                let t = slot8(folded_head(rest, usize::from(m)), m);
                self.bitmap2[t / 64] & (1 << (t % 64)) == 0
            };
            if !second_level_rejects {
                report(s, true);
            }
        }
        report(slot3(w), false);
    }

    pub fn rules_for(&self, pattern: u32) -> &[u32] {
        &self.rules_of[pattern as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ruleset::parse_rule_file;

    fn prefilter(keywords: &[&str]) -> Prefilter {
        let yaml = keywords
            .iter()
            .enumerate()
            .map(|(i, k)| {
                format!(
                    "  - {{id: t.r{i}, name: r, provider: t, keywords: ['{k}'], pattern: '(?P<secret>x)', confidence: low}}\n"
                )
            })
            .collect::<String>();
        Prefilter::new(&parse_rule_file("t", &format!("rules:\n{yaml}")).expect("parses"))
    }

    fn hits(p: &Prefilter, data: &[u8]) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        p.for_each_hit(data, |h| out.push((h.start, h.end)));
        out
    }

    #[test]
    fn finds_every_occurrence_case_insensitively_and_overlapping() {
        let p = prefilter(&["pass", "password", "eyj", "word"]);
        let text = b"xx PASSWORD=1 eyJhb passwor pass";
        assert_eq!(
            hits(&p, text),
            vec![(3, 7), (3, 11), (7, 11), (14, 17), (20, 24), (28, 32)]
        );
    }

    #[test]
    fn matches_at_every_offset_and_at_the_end() {
        let p = prefilter(&["ghp_", "sg."]);
        for pad in 0..40 {
            let mut text = vec![b'a'; pad];
            text.extend_from_slice(b"ghp_");
            let got = hits(&p, &text);
            assert_eq!(got, vec![(pad, pad + 4)], "pad {pad}");
            let mut text = vec![b'z'; pad];
            text.extend_from_slice(b"SG.");
            assert_eq!(hits(&p, &text), vec![(pad, pad + 3)], "pad {pad}");
        }
    }

    #[test]
    fn agrees_with_a_naive_search() {
        let kws = [
            "token",
            "tok",
            "secret",
            "api_key",
            "xoxb-",
            "akia",
            "$1$",
            "-----begin",
        ];
        let p = prefilter(&kws);
        let mut text = Vec::new();
        let mut x: u64 = 7;
        let alphabet = b"tokensecrapi_kyxb-AKI$1 -BEGIN";
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            text.push(alphabet[(x % alphabet.len() as u64) as usize]);
        }
        let mut naive = Vec::new();
        for at in 0..text.len() {
            for k in &kws {
                if text.len() - at >= k.len()
                    && text[at..at + k.len()].eq_ignore_ascii_case(k.as_bytes())
                {
                    naive.push((at, at + k.len()));
                }
            }
        }
        let mut got = hits(&p, &text);
        got.sort_unstable();
        naive.sort_unstable();
        assert_eq!(got, naive);
    }
}
