//! Keyword prefilter: finds every occurrence of every rule keyword (ASCII
//! case-insensitive), so a blob with no keyword costs one cheap pass.
//!
//! Each keyword of four bytes or more is found through its *anchor*: the
//! four-byte window inside it made of the rarest bytes in source text
//! (`book` for `facebook`, not `face`, which every `interface` contains).
//! The scan slides over the bytes eight positions per step, case-folds the
//! four bytes at each position and tests one bit of a 32 KiB bitmap of
//! hashed anchors (three-byte keywords mark all their possible fourth
//! bytes). Only where a bit is set are the keywords of that hash bucket
//! compared with the text. An Aho-Corasick automaton over hundreds of
//! case-insensitive keywords walks every byte through a large transition
//! table and measured several times slower here.

use std::collections::HashMap;

use super::rule::Rule;

/// Bits in the bitmap: 2^18 bits = 32 KiB.
const BITMAP_BITS: u32 = 18;
const SLOTS: usize = 1 << BITMAP_BITS;
/// Sets bit 5 of every byte: folds ASCII case (and, harmlessly, a few
/// punctuation pairs such as `_`/DEL), so the filter is a superset of
/// case-insensitive equality.
const FOLD: u32 = 0x2020_2020;
const FOLD64: u64 = 0x2020_2020_2020_2020;

/// How rare each case-folded byte is in source text: `-8·log2(frequency)`
/// over 80 MB of Rust, Python, JSON, YAML and Markdown (higher is rarer;
/// 255 for bytes never seen or never produced by folding).
#[rustfmt::skip]
const RARITY: [u8; 256] = [
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    20, 76, 57, 62, 92, 122, 77, 68, 53, 53, 41, 97, 47, 71, 61, 54,
    50, 58, 52, 55, 64, 68, 64, 71, 64, 71, 43, 56, 77, 55, 69, 96,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    71, 39, 47, 41, 45, 33, 47, 53, 54, 39, 88, 62, 43, 49, 38, 39,
    42, 77, 38, 37, 34, 40, 59, 58, 55, 55, 74, 56, 79, 56, 115, 39,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    94, 103, 102, 102, 90, 89, 91, 102, 102, 103, 103, 104, 103, 103, 98, 103,
    97, 95, 102, 103, 101, 98, 96, 103, 104, 102, 101, 104, 103, 98, 101, 102,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    105, 79, 95, 107, 127, 122, 125, 124, 125, 131, 105, 100, 90, 105, 118, 108,
    93, 135, 133, 131, 135, 148, 104, 139, 123, 121, 152, 139, 146, 153, 169, 148,
];

pub struct Prefilter {
    /// Lowercased keywords, indexed by pattern id.
    keywords: Vec<Box<[u8]>>,
    /// Per keyword: offset of its anchor, and the anchor's folded bytes with
    /// the mask selecting them (three bytes for three-byte keywords), a
    /// one-instruction test before the full compare.
    anchors: Vec<Anchor>,
    bitmap: Box<[u64; SLOTS / 64]>,
    /// Keywords by hash slot, in CSR form: `ids[starts[s]..starts[s + 1]]`.
    starts: Box<[u32]>,
    ids: Box<[u32]>,
    /// For each keyword, the rules that listed it.
    rules_of: Vec<Vec<u32>>,
}

#[derive(Debug, Clone, Copy)]
struct Anchor {
    offset: usize,
    folded: u32,
    mask: u32,
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

/// Up to four bytes of `k` from `at`, case-folded, little-endian.
fn folded_window(k: &[u8], at: usize) -> u32 {
    let mut w = 0u32;
    for (i, &b) in k.iter().skip(at).take(4).enumerate() {
        w |= u32::from(b) << (8 * i);
    }
    w | FOLD
}

/// The offset of the rarest four-byte window of `k` (first one on ties).
fn anchor_offset(k: &[u8]) -> usize {
    (0..=k.len() - 4)
        .max_by_key(|&o| {
            let score: u32 = k[o..o + 4]
                .iter()
                .map(|&b| u32::from(RARITY[usize::from(b | 0x20)]))
                .sum();
            (score, std::cmp::Reverse(o))
        })
        .expect("keywords of four bytes or more have a window")
}

impl Prefilter {
    pub fn new(rules: &[Rule]) -> Self {
        let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut keywords: Vec<Box<[u8]>> = Vec::new();
        let mut rules_of: Vec<Vec<u32>> = Vec::new();
        for (ri, rule) in rules.iter().enumerate() {
            let ri = u32::try_from(ri).expect("fewer than 2^32 rules");
            // Value rules read names, not text.
            if rule.is_value_rule() {
                continue;
            }
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
        let anchors: Vec<Anchor> = keywords
            .iter()
            .map(|k| {
                if k.len() >= 4 {
                    let offset = anchor_offset(k);
                    Anchor {
                        offset,
                        folded: folded_window(k, offset),
                        mask: u32::MAX,
                    }
                } else {
                    Anchor {
                        offset: 0,
                        folded: folded_window(k, 0) & 0x00FF_FFFF,
                        mask: 0x00FF_FFFF,
                    }
                }
            })
            .collect();
        let slot_of = |a: &Anchor| {
            if a.mask == u32::MAX {
                slot4(a.folded)
            } else {
                slot3(a.folded)
            }
        };
        let mut bitmap = Box::new([0u64; SLOTS / 64]);
        let mut counts = vec![0u32; SLOTS + 1];
        for a in &anchors {
            let s = slot_of(a);
            counts[s + 1] += 1;
            if a.mask == u32::MAX {
                bitmap[s / 64] |= 1 << (s % 64);
            } else {
                // The scan tests one four-byte slot per position: a
                // three-byte keyword marks every fourth byte it may meet.
                for b in 0..=255u8 {
                    let t = slot4(a.folded | u32::from(b | 0x20) << 24);
                    bitmap[t / 64] |= 1 << (t % 64);
                }
            }
        }
        for s in 0..SLOTS {
            counts[s + 1] += counts[s];
        }
        let mut fill = counts.clone();
        let mut ids = vec![0u32; keywords.len()];
        for (pi, a) in anchors.iter().enumerate() {
            let s = slot_of(a);
            ids[fill[s] as usize] = u32::try_from(pi).expect("fewer than 2^32 keywords");
            fill[s] += 1;
        }
        Prefilter {
            keywords,
            anchors,
            bitmap,
            starts: counts.into_boxed_slice(),
            ids: ids.into_boxed_slice(),
            rules_of,
        }
    }

    #[inline(always)]
    fn bit(&self, s: usize) -> bool {
        self.bitmap[s / 64] & (1 << (s % 64)) != 0
    }

    /// Calls `f` for every keyword occurrence, overlapping ones included.
    /// Hits come roughly in position order, not strictly (a keyword is
    /// found at its anchor, which may lie inside it).
    pub fn for_each_hit(&self, data: &[u8], mut f: impl FnMut(Hit)) {
        let n = data.len();
        let mut i = 0;
        // Eight positions per step; no loop-carried state, so the tests of
        // one step run in parallel.
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

    /// Reports every keyword whose anchor sits at `at`.
    #[inline(never)]
    fn confirm(&self, data: &[u8], at: usize, f: &mut impl FnMut(Hit)) {
        let w = folded_window(data, at);
        let mut report = |s: usize| {
            let bucket = &self.ids[self.starts[s] as usize..self.starts[s + 1] as usize];
            for &pi in bucket {
                let a = self.anchors[pi as usize];
                if w & a.mask != a.folded || at < a.offset {
                    continue;
                }
                let k = &self.keywords[pi as usize];
                let start = at - a.offset;
                if data
                    .get(start..start + k.len())
                    .is_some_and(|text| text.eq_ignore_ascii_case(k))
                {
                    f(Hit {
                        pattern: pi,
                        start,
                        end: start + k.len(),
                    });
                }
            }
        };
        if data.len() - at >= 4 {
            report(slot4(w));
        }
        report(slot3(w));
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
        let mut got = hits(&p, text);
        got.sort_unstable();
        assert_eq!(
            got,
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
    fn anchors_are_the_rarest_window() {
        assert_eq!(anchor_offset(b"facebook"), 4); // "book"... rarer than "face"
        assert_eq!(anchor_offset(b"ghp_"), 0);
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
