//! Keyword prefilter: finds every occurrence of every rule keyword (ASCII
//! case-insensitive), so a blob with no keyword costs one cheap pass.
//!
//! Each keyword is found through a *fingerprint*, a window of it that is
//! rare in source text: eight bytes for keywords that long (`r login` for
//! `docker login`, where four bytes such as `logi` would stop at every
//! `login`), else four (`book` for `facebook`, not `face`, which every
//! `interface` contains), else its three bytes. At every position the text
//! there is case-folded; its first three bytes pick a word of a 32 KiB
//! bitmap, and two pairs of bits in that word test it as a short window
//! (bits picked by a hash of its four bytes) and as a long one (of all
//! eight). A test passes when both its bits are set. One load
//! per position serves both tests: the loads are what the scan waits on.
//! Three-byte keywords are tested exactly through three byte tables. Only
//! where a test passes are the keywords behind it compared with the text.
//! With AVX-512 a first stage tests 64 positions at a time without the
//! bitmap: fingerprints' first four folded bytes are put in 32 buckets,
//! and a position passes when, for some bucket, byte tables (one permute
//! each) say all four of its bytes could start one. About one position in
//! eighteen passes in source text; only those are gathered, sixteen at a
//! time, for the bitmap test. Candidates are confirmed after each 2 KiB.
//! Otherwise one position at a time in plain 64-bit arithmetic. An
//! Aho-Corasick automaton over hundreds of case-insensitive keywords walks
//! every byte through a large transition table and measured several times
//! slower here.

use std::collections::HashMap;

use super::common_grams::COMMON_GRAMS;
use super::rule::Rule;

/// Words of 32 bits in the bitmap: 2^13 words = 32 KiB, which stays in L1.
const WORD_BITS: u32 = 13;
const WORDS: usize = 1 << WORD_BITS;
/// Sets bit 5 of every byte: folds ASCII case (and, harmlessly, a few
/// punctuation pairs such as `_`/DEL), so the filter is a superset of
/// case-insensitive equality.
const FOLD: u32 = 0x2020_2020;
const FOLD64: u64 = 0x2020_2020_2020_2020;
/// Multiplier of the first four bytes. Its low byte is zero, so the
/// product's top bits depend on the first three bytes only: the short
/// word, and a term of the long hash, from one multiplication.
const HASH_LO: u32 = 0x9E37_7900;
const HASH_LONG: u32 = 0xC2B2_AE3D;
/// Multiplier of a short window, for its bits.
const HASH_FOUR: u32 = 0x85EB_CA77;
/// Bytes in a long fingerprint.
const LONG: usize = 8;
/// Sets of eight buckets in the first stage.
const FIRST_SETS: usize = 4;
/// Bytes from a step's start the AVX-512 scan needs in the blob: the step's
/// 64 positions, the three bytes after them its four-byte test reads, and
/// eight after each survivor for the bitmap test, with room to spare.
const STEP_REACH: usize = 80;

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
    /// The bits of every fingerprint, short and long.
    bitmap: Box<[u32; WORDS]>,
    short: Table,
    long: Table,
    /// Three-byte keywords by bucket: bit `b` of `tri[j][c]` is set when a
    /// keyword of bucket `b` has folded byte `c` at `j` ([`six`] bits).
    /// Few such keywords share few bytes, so three table lookups ANDed
    /// nearly only pass where one occurs; no hash, no fourth byte.
    tri: [[u8; 64]; 3],
    /// First stage of the AVX-512 scan: bit `b` of `first[s][j][six(c)]` is
    /// set when a fingerprint of bucket `8s + b` has folded byte `c` at `j`.
    /// A position goes on to the bitmap test only where some bucket has all
    /// four of its bytes.
    first: Box<[[[u8; 64]; 4]; FIRST_SETS]>,
    /// For each keyword, the rules that listed it.
    rules_of: Vec<Vec<u32>>,
    /// Whether this CPU runs the AVX-512 scan (checked once, at build).
    avx512: bool,
}

/// Fingerprints by bitmap word, in CSR form: `of[starts[w]..starts[w + 1]]`,
/// stored inline so a candidate reads one short run of memory.
struct Table {
    starts: Box<[u32]>,
    of: Box<[Fingerprint]>,
}

/// A keyword's fingerprint: its folded bytes with the mask selecting them
/// (a one-instruction test before the full compare) and where it sits in
/// the keyword.
#[derive(Debug, Clone, Copy, Default)]
struct Fingerprint {
    folded: u64,
    mask: u64,
    pattern: u32,
    offset: u32,
}

/// A keyword occurrence: which rules to try and where the keyword sits.
#[derive(Debug, Clone, Copy)]
pub struct Hit {
    pub pattern: u32,
    pub start: usize,
    pub end: usize,
}

/// The bitmap word of a window whose first four folded bytes are `lo`:
/// a hash of its first three, the same for a short and a long window, so
/// one load serves both tests.
#[inline(always)]
fn word_of(lo: u32) -> usize {
    (lo.wrapping_mul(HASH_LO) >> (32 - WORD_BITS)) as usize
}

/// Word and bits of a short window (four folded bytes): all four bytes
/// hash to two bits. (The fourth byte alone picked the bits before;
/// fingerprints sharing a word then shared bits.)
#[inline(always)]
fn short_slot(w: u32) -> (usize, u32) {
    let x = w.wrapping_mul(HASH_FOUR);
    (word_of(w), 1 << (x >> 27) | 1 << ((x >> 22) & 31))
}

/// Word and two bits of a long window (eight folded bytes, as two halves):
/// the bits hash all eight.
#[inline(always)]
fn long_slot(lo: u32, hi: u32) -> (usize, u32) {
    let x = (lo.wrapping_mul(HASH_LO) ^ lo ^ hi.rotate_right(16)).wrapping_mul(HASH_LONG);
    (word_of(lo), 1 << (x >> 27) | 1 << ((x >> 22) & 31))
}

/// Up to eight bytes of `k` from `at`, case-folded, little-endian; bytes
/// past the end read as folded zeros.
fn folded_window(k: &[u8], at: usize) -> u64 {
    let mut w = 0u64;
    for (i, &b) in k.iter().skip(at).take(8).enumerate() {
        w |= u64::from(b) << (8 * i);
    }
    w | FOLD64
}

/// The eight folded bytes at `at`, or as many as there are.
#[inline(always)]
fn folded_at(data: &[u8], at: usize) -> u64 {
    match data.get(at..at + LONG) {
        Some(eight) => u64::from_le_bytes(eight.try_into().expect("8 bytes")) | FOLD64,
        None => folded_window(data, at),
    }
}

/// The offset of the rarest `width`-byte window of `k` (first on ties):
/// the one holding fewest of the most frequent four-byte windows of source
/// text, then the one made of the rarest bytes. Byte rarity alone picks
/// `_key` for `api_key` and `s://` for `nats://`, which stop at every
/// `cache_key` and `https://`.
fn rarest_window(k: &[u8], width: usize) -> usize {
    (0..=k.len() - width)
        .max_by_key(|&o| {
            let window = &k[o..o + width];
            let common = window
                .windows(4)
                .filter(|g| {
                    COMMON_GRAMS
                        .binary_search(&(folded_window(g, 0) as u32))
                        .is_ok()
                })
                .count();
            let score: u32 = window
                .iter()
                .map(|&b| u32::from(RARITY[usize::from(b | 0x20)]))
                .sum();
            (std::cmp::Reverse(common), score, std::cmp::Reverse(o))
        })
        .expect("the keyword is at least `width` bytes")
}

fn detect_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512vbmi")
            && std::arch::is_x86_feature_detected!("avx512vbmi2")
            && std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("popcnt")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Buckets three-byte keywords (lowercase) so that keywords sharing bytes
/// share a bucket (`0q~` … `9q~`, `$1$` … `$y$`), keeping each bucket's
/// byte sets, and so its false passes, small. Bytes are looked up folded,
/// by their [`six`] bits.
fn tri_tables(tris: &[[u8; 3]]) -> [[u8; 64]; 3] {
    let mut tables = [[0u8; 64]; 3];
    for t in tris {
        let b = t.map(|c| usize::from(six(c | 0x20)));
        // The bucket whose byte sets grow least, then the emptiest.
        let bucket = (0..8)
            .min_by_key(|&g| {
                let has = |j: usize, c: usize| tables[j][c] & (1 << g) != 0;
                let grow = (0..3).filter(|&j| !has(j, b[j])).count();
                let used = (0..3)
                    .map(|j| (0..64).filter(|&c| has(j, c)).count())
                    .sum::<usize>();
                (grow, used)
            })
            .expect("eight buckets");
        for (j, &c) in b.iter().enumerate() {
            tables[j][c] |= 1 << bucket;
        }
    }
    tables
}

/// Six bits that tell folded bytes apart as well as their low seven do:
/// bit 5 is set in every folded byte, so bit 6 takes its place.
fn six(c: u8) -> u8 {
    (c & 0x1F) | (c >> 1 & 0x20)
}

/// The first stage's tables for the first four folded bytes of every four-
/// and eight-byte fingerprint (three-byte ones are tested by `tri`).
fn first_tables(prefixes: &[[u8; 4]]) -> Box<[[[u8; 64]; 4]; FIRST_SETS]> {
    let mut sorted = prefixes.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let idx: Vec<[usize; 4]> = sorted
        .iter()
        .map(|p| p.map(|c| usize::from(six(c))))
        .collect();
    let mut tables = Box::new([[[0u8; 64]; 4]; FIRST_SETS]);
    for (x, b) in idx.iter().zip(buckets(&idx)) {
        for (j, &c) in x.iter().enumerate() {
            tables[b / 8][j][c] |= 1 << (b % 8);
        }
    }
    tables
}

/// A bucket for each prefix (its bytes' [`six`] bits), so that the
/// buckets' summed pass rate over source text is low. A bucket passes
/// where each byte is one of its prefixes' bytes at that place: the product
/// of those bytes' frequencies, by [`RARITY`]. Greedy placement, then a
/// few rounds of moving each prefix where it costs least.
fn buckets(idx: &[[usize; 4]]) -> Vec<usize> {
    const BUCKETS: usize = 8 * FIRST_SETS;
    let mut freq = [0f64; 64];
    for c in 0..=255u8 {
        freq[usize::from(six(c | 0x20))] +=
            (-f64::from(RARITY[usize::from(c | 0x20)]) / 8.0).exp2();
    }
    // How many of a bucket's prefixes have each byte at each place, and
    // the summed frequency of the bytes present (zero in an empty bucket,
    // whose pass rate, their product, is then zero too).
    let mut uses = vec![[[0u16; 64]; 4]; BUCKETS];
    let mut sum = [[0f64; 4]; BUCKETS];
    let mut home: Vec<Option<usize>> = vec![None; idx.len()];
    // Placed greedily in the first round, then moved while that helps.
    for _round in 0..4 {
        let mut moved = false;
        for (i, x) in idx.iter().enumerate() {
            if let Some(from) = home[i] {
                for j in 0..4 {
                    uses[from][j][x[j]] -= 1;
                    if uses[from][j][x[j]] == 0 {
                        sum[from][j] -= freq[x[j]];
                    }
                }
            }
            // How much bucket `b`'s pass rate grows with `x` in it.
            let cost = |b: usize| {
                let grown = |j: usize| {
                    let new = if uses[b][j][x[j]] == 0 {
                        freq[x[j]]
                    } else {
                        0.0
                    };
                    sum[b][j] + new
                };
                (0..4).map(grown).product::<f64>() - sum[b].iter().product::<f64>()
            };
            let to = (0..BUCKETS)
                .min_by(|&a, &b| cost(a).total_cmp(&cost(b)))
                .expect("buckets");
            moved |= home[i] != Some(to);
            home[i] = Some(to);
            for j in 0..4 {
                if uses[to][j][x[j]] == 0 {
                    sum[to][j] += freq[x[j]];
                }
                uses[to][j][x[j]] += 1;
            }
        }
        if !moved {
            break;
        }
    }
    home.into_iter()
        .map(|b| b.expect("every prefix placed in the first round"))
        .collect()
}

impl Table {
    /// Groups `prints` by their bitmap word.
    fn new(prints: &[(usize, Fingerprint)]) -> Table {
        let mut starts = vec![0u32; WORDS + 1];
        for (w, _) in prints {
            starts[w + 1] += 1;
        }
        for w in 0..WORDS {
            starts[w + 1] += starts[w];
        }
        let mut fill = starts.clone();
        let mut of = vec![Fingerprint::default(); prints.len()];
        for (w, p) in prints {
            of[fill[*w] as usize] = *p;
            fill[*w] += 1;
        }
        Table {
            starts: starts.into_boxed_slice(),
            of: of.into_boxed_slice(),
        }
    }

    fn word(&self, w: usize) -> &[Fingerprint] {
        &self.of[self.starts[w] as usize..self.starts[w + 1] as usize]
    }
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
        let mut bitmap = Box::new([0u32; WORDS]);
        let (mut short, mut long, mut tris) = (Vec::new(), Vec::new(), Vec::new());
        // First four folded bytes of the four- and eight-byte fingerprints.
        let mut prefixes: Vec<[u8; 4]> = Vec::new();
        // Validation guarantees keywords of 3+ bytes.
        for (pi, k) in keywords.iter().enumerate() {
            let pattern = u32::try_from(pi).expect("fewer than 2^32 keywords");
            let at = |offset: usize, mask: u64| Fingerprint {
                folded: folded_window(k, offset) & mask,
                mask,
                pattern,
                offset: u32::try_from(offset).expect("keywords are short"),
            };
            if k.len() >= LONG {
                let p = at(rarest_window(k, LONG), u64::MAX);
                let (w, bits) = long_slot(p.folded as u32, (p.folded >> 32) as u32);
                bitmap[w] |= bits;
                long.push((w, p));
                prefixes.push((p.folded as u32).to_le_bytes());
            } else if k.len() >= 4 {
                let p = at(rarest_window(k, 4), 0xFFFF_FFFF);
                let (w, bits) = short_slot(p.folded as u32);
                bitmap[w] |= bits;
                short.push((w, p));
                prefixes.push((p.folded as u32).to_le_bytes());
            } else {
                let p = at(0, 0x00FF_FFFF);
                short.push((word_of(p.folded as u32), p));
                tris.push([k[0], k[1], k[2]]);
            }
        }
        Prefilter {
            first: first_tables(&prefixes),
            keywords,
            bitmap,
            short: Table::new(&short),
            long: Table::new(&long),
            tri: tri_tables(&tris),
            rules_of,
            avx512: detect_avx512(),
        }
    }

    /// Whether a three-byte keyword may start at `at` (`at + 3 <= len`).
    #[inline(always)]
    fn tri_marked(&self, data: &[u8], at: usize) -> bool {
        let t = |j: usize| self.tri[j][usize::from(six(data[at + j] | 0x20))];
        t(0) & t(1) & t(2) != 0
    }

    #[inline(always)]
    fn marked(&self, (w, bits): (usize, u32)) -> bool {
        self.bitmap[w] & bits == bits
    }

    /// Calls `f` for every keyword occurrence, overlapping ones included.
    /// Hits come roughly in position order, not strictly (a keyword is
    /// found at its fingerprint, which may lie inside it).
    pub fn for_each_hit(&self, data: &[u8], mut f: impl FnMut(Hit)) {
        #[cfg(target_arch = "x86_64")]
        if self.avx512 {
            // SAFETY: `avx512` is set only when the CPU has every feature
            // `scan_avx512` is compiled for.
            let done = unsafe { self.scan_avx512(data, &mut f) };
            self.scan_scalar(data, done, &mut f);
            return;
        }
        self.scan_scalar(data, 0, &mut f);
    }

    /// Tests every position from `from` on.
    fn scan_scalar(&self, data: &[u8], from: usize, f: &mut impl FnMut(Hit)) {
        let n = data.len();
        let mut i = from;
        while i + LONG <= n {
            let w = u64::from_le_bytes(data[i..i + LONG].try_into().expect("8 bytes")) | FOLD64;
            if self.marked(short_slot(w as u32)) || self.tri_marked(data, i) {
                self.confirm_short(data, i, f);
            }
            if self.marked(long_slot(w as u32, (w >> 32) as u32)) {
                self.confirm_long(data, i, f);
            }
            i += 1;
        }
        // No long fingerprint fits in the last few positions; the very last
        // three hold only three-byte keywords, which any byte may end.
        while i + 3 <= n {
            self.confirm_short(data, i, f);
            i += 1;
        }
    }

    /// Tests positions sixty-four per step through the first stage, its
    /// survivors sixteen at a time against the bitmap, while the loads fit,
    /// and returns the first position left for the scalar loop.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi,avx512vbmi2,avx2,popcnt")]
    unsafe fn scan_avx512(&self, data: &[u8], f: &mut impl FnMut(Hit)) -> usize {
        use std::arch::x86_64::*;
        let n = data.len();
        // Short blobs (a named value, a small file) are left to the scalar
        // loop before any table is loaded or buffer zeroed.
        if n < STEP_REACH {
            return 0;
        }
        // SAFETY: reads 64-byte tables.
        let tri: [__m512i; 3] =
            std::array::from_fn(|j| unsafe { _mm512_loadu_si512(self.tri[j].as_ptr().cast()) });
        // SAFETY: reads 64-byte tables.
        let first: [[__m512i; 4]; FIRST_SETS] = std::array::from_fn(|s| {
            std::array::from_fn(|j| unsafe { _mm512_loadu_si512(self.first[s][j].as_ptr().cast()) })
        });
        let low_five = _mm512_set1_epi8(0x1F);
        let (fold32, one) = (_mm512_set1_epi32(FOLD as i32), _mm512_set1_epi32(1));
        let (hash_lo, hash_four, hash_long) = (
            _mm512_set1_epi32(HASH_LO as i32),
            _mm512_set1_epi32(HASH_FOUR as i32),
            _mm512_set1_epi32(HASH_LONG as i32),
        );
        let bitmap = self.bitmap.as_ptr().cast::<i32>();
        let iota16 = {
            let lanes: [u16; 32] = std::array::from_fn(|l| l as u16);
            // SAFETY: reads 64 bytes from a 64-byte array.
            unsafe { _mm512_loadu_si512(lanes.as_ptr().cast()) }
        };
        // Picks the low and the high dwords of eight qwords in two vectors.
        let (evens, odds) = (
            _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30),
            _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31),
        );
        // Whether bits `x >> 27` and `(x >> 22) % 32` of `got` are both set,
        // as `short_slot` and `long_slot` pick them: the two bits AND NOT
        // `got` is zero.
        let test = |got: __m512i, x: __m512i| -> u16 {
            let missing = _mm512_ternarylogic_epi32::<0x0E>(
                got,
                _mm512_rolv_epi32(one, _mm512_srli_epi32::<27>(x)),
                _mm512_rolv_epi32(one, _mm512_srli_epi32::<22>(x)),
            );
            _mm512_testn_epi32_mask(missing, missing)
        };
        // Two gathers of eight measured faster than one of sixteen on Zen 4.
        let gather = |base: *const i32, idx: __m512i| -> __m512i {
            // SAFETY: callers pass indexes inside `base`'s allocation.
            unsafe {
                let low = _mm256_i32gather_epi32::<1>(base, _mm512_castsi512_si256(idx));
                let high = _mm256_i32gather_epi32::<1>(base, _mm512_extracti64x4_epi64::<1>(idx));
                _mm512_inserti64x4::<1>(_mm512_castsi256_si512(low), high)
            }
        };
        // The first stage's survivors, as positions; the bitmap test reads
        // their windows sixteen at a time. A chunk of steps at a time, so
        // the gathers of a chunk flow without waiting behind branches.
        const STEPS: usize = 32;
        let mut survivors = [0u16; STEPS * 64 + 32];
        let (mut shorts, mut longs) = ([0u64; STEPS], [0u64; STEPS]);
        let mut i = 0;
        while i + STEP_REACH <= n {
            let steps = ((n + 64 - STEP_REACH - i) / 64).min(STEPS);
            let mut count = 0usize;
            for step in 0..steps {
                let at = i + 64 * step;
                // SAFETY: at + STEP_REACH <= n, so the 64 bytes at at..at + 3 are
                // in `data`.
                let raw: [__m512i; 4] = std::array::from_fn(|j| unsafe {
                    _mm512_loadu_si512(data.as_ptr().add(at + j).cast())
                });
                // `six` of each byte folded: its low five bits and bit 6
                // (the permute ignores the bits above; folding only sets
                // bit 5, which `six` drops).
                let six = raw.map(|r| {
                    _mm512_ternarylogic_epi32::<0xB8>(_mm512_srli_epi16::<1>(r), low_five, r)
                });
                let mut any = _mm512_setzero_si512();
                for set in &first {
                    let m = _mm512_ternarylogic_epi32::<0x80>(
                        _mm512_permutexvar_epi8(six[0], set[0]),
                        _mm512_permutexvar_epi8(six[1], set[1]),
                        _mm512_permutexvar_epi8(six[2], set[2]),
                    );
                    any = _mm512_ternarylogic_epi32::<0xF8>(
                        any,
                        m,
                        _mm512_permutexvar_epi8(six[3], set[3]),
                    );
                }
                let passes = _mm512_test_epi8_mask(any, any);
                let t = _mm512_ternarylogic_epi32::<0x80>(
                    _mm512_permutexvar_epi8(six[0], tri[0]),
                    _mm512_permutexvar_epi8(six[1], tri[1]),
                    _mm512_permutexvar_epi8(six[2], tri[2]),
                );
                shorts[step] = _mm512_test_epi8_mask(t, t);
                longs[step] = 0;
                // Positions from the chunk's start, 32 per compress.
                let rel = _mm512_add_epi16(iota16, _mm512_set1_epi16((64 * step) as i16));
                let low = passes as u32;
                let (a, b) = (
                    _mm512_maskz_compress_epi16(low, rel),
                    _mm512_maskz_compress_epi16(
                        (passes >> 32) as u32,
                        _mm512_add_epi16(rel, _mm512_set1_epi16(32)),
                    ),
                );
                // SAFETY: at most 64 per step, 32 lanes of room after.
                unsafe {
                    let to = survivors.as_mut_ptr().add(count);
                    _mm512_storeu_si512(to.cast(), a);
                    _mm512_storeu_si512(to.add(low.count_ones() as usize).cast(), b);
                }
                count += passes.count_ones() as usize;
            }
            let mut k = 0;
            while k < count {
                let live = if count - k >= 16 {
                    u16::MAX
                } else {
                    (1u16 << (count - k)) - 1
                };
                // SAFETY: 16 lanes from k < count fit in `survivors`. Lanes
                // past `count` may hold an earlier chunk's positions, past
                // this one's end: they are zeroed.
                let at = _mm512_maskz_mov_epi32(live, unsafe {
                    _mm512_cvtepu16_epi32(_mm256_loadu_si256(survivors.as_ptr().add(k).cast()))
                });
                // The eight bytes at each position, as eight qwords twice.
                // SAFETY: every position has eight bytes after it in `data`
                // (at + STEP_REACH <= n above).
                let (first8, last8) = unsafe {
                    let chunk = data.as_ptr().add(i).cast();
                    (
                        _mm512_i32gather_epi64::<1>(_mm512_castsi512_si256(at), chunk),
                        _mm512_i32gather_epi64::<1>(_mm512_extracti64x4_epi64::<1>(at), chunk),
                    )
                };
                let lo = _mm512_or_si512(_mm512_permutex2var_epi32(first8, evens, last8), fold32);
                let hi = _mm512_or_si512(_mm512_permutex2var_epi32(first8, odds, last8), fold32);
                let product = _mm512_mullo_epi32(lo, hash_lo);
                let word = _mm512_srli_epi32::<{ 32 - WORD_BITS }>(product);
                let got = gather(bitmap, _mm512_slli_epi32::<2>(word));
                let x4 = _mm512_mullo_epi32(lo, hash_four);
                let short = test(got, x4);
                let x = _mm512_mullo_epi32(
                    _mm512_ternarylogic_epi32::<0x96>(product, lo, _mm512_ror_epi32::<16>(hi)),
                    hash_long,
                );
                let long = test(got, x);
                let mut set = (short | long) & live;
                while set != 0 {
                    let lane = set.trailing_zeros();
                    set &= set - 1;
                    let rel = usize::from(survivors[k + lane as usize]);
                    shorts[rel / 64] |= u64::from(short >> lane & 1) << (rel % 64);
                    longs[rel / 64] |= u64::from(long >> lane & 1) << (rel % 64);
                }
                k += 16;
            }
            for step in 0..steps {
                let base = i + 64 * step;
                let mut set = shorts[step];
                while set != 0 {
                    self.confirm_short(data, base + set.trailing_zeros() as usize, f);
                    set &= set - 1;
                }
                let mut set = longs[step];
                while set != 0 {
                    self.confirm_long(data, base + set.trailing_zeros() as usize, f);
                    set &= set - 1;
                }
            }
            i += 64 * steps;
        }
        i
    }

    /// Reports every keyword with a short (or three-byte) fingerprint at `at`.
    #[inline(never)]
    fn confirm_short(&self, data: &[u8], at: usize, f: &mut impl FnMut(Hit)) {
        let w = folded_at(data, at);
        self.confirm(self.short.word(word_of(w as u32)), w, data, at, f);
    }

    /// Reports every keyword with a long fingerprint at `at`.
    #[inline(never)]
    fn confirm_long(&self, data: &[u8], at: usize, f: &mut impl FnMut(Hit)) {
        let w = folded_at(data, at);
        self.confirm(self.long.word(word_of(w as u32)), w, data, at, f);
    }

    /// Reports each of `prints` that matches the folded window `w` at `at`
    /// and whose whole keyword is there.
    #[inline(always)]
    fn confirm(
        &self,
        prints: &[Fingerprint],
        w: u64,
        data: &[u8],
        at: usize,
        f: &mut impl FnMut(Hit),
    ) {
        for p in prints {
            if w & p.mask != p.folded {
                continue;
            }
            let Some(start) = at.checked_sub(p.offset as usize) else {
                continue;
            };
            let k = &self.keywords[p.pattern as usize];
            if data
                .get(start..start + k.len())
                .is_some_and(|text| text.eq_ignore_ascii_case(k))
            {
                f(Hit {
                    pattern: p.pattern,
                    start,
                    end: start + k.len(),
                });
            }
        }
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

    /// Every builtin keyword planted at every alignment in noise made of
    /// keyword bytes: the AVX-512 and the scalar scan report the same hits,
    /// and the same as a naive search.
    #[test]
    fn simd_and_scalar_scans_agree_on_every_builtin_keyword() {
        let rules = crate::engine::ruleset::builtin_rules().expect("builtin rules load");
        let mut p = Prefilter::new(&rules);
        let mut text = Vec::new();
        let mut x: u64 = 99;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for (i, k) in p.keywords.clone().iter().enumerate() {
            for _ in 0..(i % 7) {
                let noise = b" _-.:/$~q0aezKEYtoken\n";
                text.push(noise[(next() % noise.len() as u64) as usize]);
            }
            // Alternate cases so folding is exercised.
            text.extend(k.iter().map(|&b| {
                if next() % 2 == 0 {
                    b.to_ascii_uppercase()
                } else {
                    b
                }
            }));
        }
        let simd = p.avx512;
        let mut with_simd = hits(&p, &text);
        p.avx512 = false;
        let mut scalar = hits(&p, &text);
        with_simd.sort_unstable();
        scalar.sort_unstable();
        assert_eq!(with_simd, scalar, "AVX-512 in use: {simd}");
        let mut naive = Vec::new();
        for at in 0..text.len() {
            for k in &p.keywords {
                if text.len() - at >= k.len() && text[at..at + k.len()].eq_ignore_ascii_case(k) {
                    naive.push((at, at + k.len()));
                }
            }
        }
        naive.sort_unstable();
        naive.dedup();
        scalar.dedup();
        assert_eq!(scalar, naive);
    }

    /// The AVX-512 scan works in chunks of steps and batches of sixteen
    /// survivors: a blob ending anywhere in a chunk, after a fuller one,
    /// finds what the scalar scan finds. Keywords packed with bytes the
    /// folding maps onto letters (control, high and punctuation bytes).
    #[test]
    fn simd_and_scalar_scans_agree_at_every_length_around_chunk_ends() {
        let rules = crate::engine::ruleset::builtin_rules().expect("builtin rules load");
        let mut p = Prefilter::new(&rules);
        let simd = p.avx512;
        let noise = [
            0u8, 9, 13, 0x40, 0x5B, 0x7F, 0x80, 0xC1, 0xE9, 0xFF, b'_', b'=',
        ];
        let mut text = Vec::new();
        let mut i = 0;
        while text.len() < 4_400 {
            for k in &p.keywords {
                text.extend_from_slice(k);
                text.push(noise[i % noise.len()]);
                i += 1;
            }
        }
        let lengths = (0..200).chain(2_000..2_250).chain(4_050..4_400);
        for n in lengths {
            p.avx512 = simd;
            let mut with_simd = hits(&p, &text[..n]);
            p.avx512 = false;
            let mut scalar = hits(&p, &text[..n]);
            with_simd.sort_unstable();
            scalar.sort_unstable();
            assert_eq!(with_simd, scalar, "length {n}, AVX-512 in use: {simd}");
        }
    }

    #[test]
    fn anchors_are_the_rarest_window() {
        assert_eq!(rarest_window(b"facebook", 4), 4); // "book"... rarer than "face"
        assert_eq!(rarest_window(b"ghp_", 4), 0);
        // Frequent four-byte windows of code are avoided.
        assert_eq!(rarest_window(b"api_key", 4), 1); // "pi_k", not "_key"
        assert_eq!(rarest_window(b"nats://", 4), 2); // "ts:/", not "s://"
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
