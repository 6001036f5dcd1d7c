//! Keeps mapped pack files from filling resident memory. gix maps each pack
//! whole; every page a read touches stays resident in this process, so
//! without this a full-history scan's resident size grows with the pack
//! (history size), not with the blobs in flight. The pages are clean file
//! pages: telling the kernel they are not needed (`MADV_DONTNEED`) drops
//! them from this process, and a later read faults them back in from the
//! page cache with the same bytes. Reads go in pack order, so what was
//! dropped is rarely needed again.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// Bytes of blobs read between two releases.
const EVERY: u64 = 256 << 20;

pub(super) struct PackPages {
    /// The mapped pack files to release: the repository's `objects/pack`.
    dir: PathBuf,
    read: AtomicU64,
}

impl PackPages {
    pub(super) fn new(repo: &gix::Repository) -> Self {
        PackPages {
            dir: super::pack_dir(repo),
            read: AtomicU64::new(0),
        }
    }

    /// Counts `bytes` just read; each time another `EVERY` bytes have been
    /// read, drops the pack mappings' resident pages.
    pub(super) fn read(&self, bytes: usize) {
        let bytes = bytes as u64;
        let before = self.read.fetch_add(bytes, Ordering::Relaxed);
        if before / EVERY != (before + bytes) / EVERY {
            self.release();
        }
    }

    /// Drops the pack mappings' resident pages now.
    #[cfg(target_os = "linux")]
    pub(super) fn release(&self) {
        let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
            return;
        };
        for (start, end) in pack_mappings(&maps, &self.dir) {
            // SAFETY: the range is a whole read-only file mapping of a pack
            // (listed by the kernel for this process); MADV_DONTNEED on clean
            // file pages only drops them from this process, later reads of
            // the range see the file's bytes again. Failure changes nothing.
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED);
            }
        }
    }

    #[cfg(not(target_os = "linux"))]
    pub(super) fn release(&self) {}
}

/// The address ranges of read-only mappings of `*.pack` files in `dir`.
fn pack_mappings(maps: &str, dir: &std::path::Path) -> Vec<(usize, usize)> {
    let dir = dir.to_string_lossy();
    maps.lines()
        .filter_map(|line| {
            // start-end perms offset dev inode path
            let mut fields = line.split_ascii_whitespace();
            let range = fields.next()?;
            let perms = fields.next()?;
            let path = fields.nth(3)?;
            let in_dir = path
                .strip_prefix(dir.as_ref())
                .is_some_and(|rest| rest.starts_with('/') && rest.ends_with(".pack"));
            if !in_dir || perms.contains('w') {
                return None;
            }
            let (start, end) = range.split_once('-')?;
            let start = usize::from_str_radix(start, 16).ok()?;
            let end = usize::from_str_radix(end, 16).ok()?;
            (end > start).then_some((start, end))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::pack_mappings;

    #[test]
    fn only_read_only_pack_mappings_of_the_directory() {
        let maps = "\
7f0000000000-7f0000100000 r--s 00000000 fd:01 42 /r/.git/objects/pack/pack-1.pack
7f0000200000-7f0000300000 r--s 00000000 fd:01 43 /r/.git/objects/pack/pack-1.idx
7f0000400000-7f0000500000 rw-s 00000000 fd:01 44 /r/.git/objects/pack/pack-2.pack
7f0000600000-7f0000700000 r--s 00000000 fd:01 45 /other/objects/pack/pack-3.pack
7f0000800000-7f0000900000 r--p 00000000 00:00 0
";
        assert_eq!(
            pack_mappings(maps, std::path::Path::new("/r/.git/objects/pack")),
            vec![(0x7f00_0000_0000, 0x7f00_0010_0000)]
        );
    }
}
