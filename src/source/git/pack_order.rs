//! The order to read blobs in: by their place in the pack files. Reading a
//! deltified object inflates its chain of delta bases; read in pack order,
//! consecutive objects share most of their chains, so each thread's delta
//! cache serves them instead of re-inflating the same bases again and again
//! (history order jumps between distant parts of the pack).

use std::path::PathBuf;

use gix::ObjectId;
use rayon::prelude::*;

/// A permutation of `0..ids.len()`: ids sorted by (pack, offset), those in
/// no pack of this repository's own object directory (loose objects,
/// alternates) last, in their given order. Unreadable index files are
/// passed over here: reading the objects reports what is wrong.
pub(super) fn by_pack_location(repo: &gix::Repository, ids: &[ObjectId]) -> Vec<u32> {
    let dir = super::pack_dir(repo);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "idx"))
                .collect()
        })
        .unwrap_or_default();
    paths.sort();
    let indices: Vec<gix::odb::pack::index::File> = paths
        .iter()
        .filter_map(|p| gix::odb::pack::index::File::at(p, repo.object_hash()).ok())
        .collect();
    let keys: Vec<(u32, u64)> = ids
        .par_iter()
        .map(|id| {
            indices
                .iter()
                .enumerate()
                .find_map(|(n, index)| {
                    let n = u32::try_from(n).expect("fewer than 2^32 packs");
                    index.lookup(id).map(|i| (n, index.pack_offset_at_index(i)))
                })
                .unwrap_or((u32::MAX, 0))
        })
        .collect();
    let mut order: Vec<u32> =
        (0..u32::try_from(ids.len()).expect("fewer than 2^32 blobs")).collect();
    // Stable: ids in no pack keep their order.
    order.par_sort_by_key(|&i| keys[i as usize]);
    order
}
