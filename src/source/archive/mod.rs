//! Archive streaming: a byte stream (gzip, zstd or plain) holding a tar is
//! walked entry by entry and each regular file's bytes go to a [`Visitor`]
//! with its path. Nothing is extracted to disk; `../` and absolute names are
//! only names. Files that are archives themselves (tar, tar.gz, tgz, zip,
//! jar) are opened to a bounded depth, under size and ratio limits against
//! bombs. Memory holds one entry per nesting level at a time.

mod budget;
pub mod compress;
mod tar;
mod zip;

use std::io::Read;

pub use compress::{decompress, Compression};

/// Bounds on what a walk reads.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Entries larger than this are skipped with a note (the fs source's
    /// `--max-file-size`).
    pub max_entry_size: u64,
    /// How many archives deep nested archives are opened (the outer stream
    /// is depth 0).
    pub max_depth: u32,
    /// Most bytes a nested compressed archive may expand to per byte of its
    /// own size.
    pub max_ratio: u64,
    /// Most bytes one nested archive may expand to in all.
    pub max_expanded: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entry_size: 50 << 20,
            max_depth: 3,
            max_ratio: 100,
            max_expanded: 512 << 20,
        }
    }
}

/// What a tar header says an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Dir,
    /// Symbolic or hard link: no bytes of its own.
    Link,
    Other,
}

/// Receives a walk's entries.
pub trait Visitor {
    /// Every entry header of the outer tar, in order, before its bytes are
    /// read (image layers record their file lists and whiteouts here).
    /// Returning false skips the entry's bytes.
    fn header(&mut self, _path: &str, _kind: EntryKind) -> bool {
        true
    }
    /// A regular file's bytes. Entries of nested archives are named
    /// `outer.jar!/inner/path`.
    fn file(&mut self, path: &str, data: &[u8]);
    /// Something unreadable or refused; `input` names the entry.
    fn warn(&mut self, input: &str, message: String);
    /// An entry deliberately not scanned (too large, too deep).
    fn skipped(&mut self, input: &str, reason: &str);
}

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("cannot read the stream: {0}")]
    Read(#[source] std::io::Error),
    #[error("not a tar archive ({0})")]
    NotTar(String),
    #[error("{path}: entry cut short: {source}")]
    EntryCut {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl ArchiveError {
    /// The stream broke (as opposed to holding something that is not a tar).
    pub fn is_transport(&self) -> bool {
        matches!(self, ArchiveError::Read(_) | ArchiveError::EntryCut { .. })
    }
}

/// Walks the tar in `reader` (gzip, zstd or plain, detected by magic).
/// Entries read before an error are already visited; the error says why
/// the rest could not be.
pub fn walk_tar_stream(
    reader: impl Read,
    limits: &Limits,
    visitor: &mut dyn Visitor,
) -> Result<(), ArchiveError> {
    let (decoded, _) = decompress(reader).map_err(ArchiveError::Read)?;
    let mut walker = Walker {
        limits,
        visitor,
        buffers: Vec::new(),
    };
    walker.tar(decoded, "", 0)
}

/// A file that may be an archive (a chart `.tgz`, a `.jar`) read whole by
/// a source: when its name and magic say archive, its entries go to the
/// visitor as `path!/entry` under `limits` (nested ones too) and true is
/// returned; otherwise nothing is visited.
pub fn walk_archive_file(
    path: &str,
    data: &[u8],
    limits: &Limits,
    visitor: &mut dyn Visitor,
) -> bool {
    if !archive_name(path) {
        return false;
    }
    let Some(kind) = sniff_nested(data) else {
        return false;
    };
    let mut walker = Walker {
        limits,
        visitor,
        buffers: Vec::new(),
    };
    walker.nested(path, data, kind, 1);
    true
}

/// Names that may hold an archive worth opening (the magic decides).
/// Asked of every file the fs scan reads: no allocation.
fn archive_name(path: &str) -> bool {
    let path = path.as_bytes();
    [
        ".tar", ".tar.gz", ".tgz", ".tar.zst", ".zip", ".jar", ".war", ".ear",
    ]
    .iter()
    .any(|ext| {
        path.len() >= ext.len()
            && path[path.len() - ext.len()..].eq_ignore_ascii_case(ext.as_bytes())
    })
}

/// What the bytes of a named archive actually are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Nested {
    Tar(Compression),
    Zip,
}

fn sniff_nested(data: &[u8]) -> Option<Nested> {
    if data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06") {
        return Some(Nested::Zip);
    }
    match Compression::sniff(data) {
        Compression::None => (data.len() >= 262 && &data[257..262] == b"ustar")
            .then_some(Nested::Tar(Compression::None)),
        c => Some(Nested::Tar(c)),
    }
}

/// One walk: the limits, the visitor and one reusable buffer per depth.
struct Walker<'a> {
    limits: &'a Limits,
    visitor: &'a mut dyn Visitor,
    buffers: Vec<Vec<u8>>,
}

impl Walker<'_> {
    /// Takes the buffer of `depth` out (returned with `put_buffer`), so a
    /// nested walk can use the next one while this one holds its archive.
    fn take_buffer(&mut self, depth: u32) -> Vec<u8> {
        let d = depth as usize;
        if self.buffers.len() <= d {
            self.buffers.resize_with(d + 1, Vec::new);
        }
        std::mem::take(&mut self.buffers[d])
    }

    fn put_buffer(&mut self, depth: u32, mut buf: Vec<u8>) {
        // A huge entry once must not pin its memory for the whole walk.
        if buf.capacity() > 8 << 20 {
            buf = Vec::new();
        }
        buf.clear();
        self.buffers[depth as usize] = buf;
    }

    /// A regular file at `depth`: opened when it is an archive, else handed
    /// to the visitor.
    fn file(&mut self, path: &str, data: &[u8], depth: u32) {
        if archive_name(path) {
            if let Some(kind) = sniff_nested(data) {
                if depth >= self.limits.max_depth {
                    self.visitor.skipped(
                        path,
                        &format!(
                            "archive nested more than {} levels deep, not opened",
                            self.limits.max_depth
                        ),
                    );
                    return;
                }
                self.nested(path, data, kind, depth + 1);
                return;
            }
        }
        self.visitor.file(path, data);
    }

    fn nested(&mut self, path: &str, data: &[u8], kind: Nested, depth: u32) {
        let compressed = !matches!(kind, Nested::Tar(Compression::None));
        let allowed = if compressed {
            (data.len() as u64)
                .saturating_mul(self.limits.max_ratio)
                .min(self.limits.max_expanded)
        } else {
            self.limits.max_expanded
        };
        let prefix = format!("{path}!/");
        let result = match kind {
            Nested::Tar(_) => {
                // The budget counts decoded bytes: that is what a bomb inflates.
                let (decoded, _) = match decompress(data) {
                    Ok(d) => d,
                    Err(e) => {
                        self.visitor.warn(path, format!("nested archive: {e}"));
                        return;
                    }
                };
                let (budgeted, exceeded) = budget::Budget::new(decoded, allowed);
                let opened = self.tar(Box::new(budgeted), &prefix, depth);
                if exceeded.get() {
                    self.bomb(path, allowed);
                    return;
                }
                opened
            }
            Nested::Zip => self.zip(data, &prefix, depth, allowed),
        };
        if let Err(e) = result {
            self.visitor.warn(path, format!("nested archive: {e}"));
        }
    }

    fn bomb(&mut self, path: &str, allowed: u64) {
        self.visitor.warn(
            path,
            format!(
                "nested archive expands past {allowed} bytes (size and ratio limits): \
                 possible archive bomb, the rest of it is not scanned"
            ),
        );
    }

    fn too_large(&mut self, path: &str, size: u64) {
        self.visitor.skipped(
            path,
            &format!(
                "{size} bytes, larger than the {} byte entry limit",
                self.limits.max_entry_size
            ),
        );
    }
}

#[cfg(test)]
mod tests;
