//! Tar entries, streamed: headers in order, each regular file read into
//! the walker's buffer for its depth (bounded by the entry limit).

use std::io::Read;

use super::{ArchiveError, EntryKind, Walker};

impl Walker<'_> {
    /// Walks the (already decoded) tar stream `reader`, naming entries
    /// `prefix` + their path.
    pub(super) fn tar(
        &mut self,
        reader: Box<dyn Read + '_>,
        prefix: &str,
        depth: u32,
    ) -> Result<(), ArchiveError> {
        let mut archive = tar::Archive::new(reader);
        let entries = archive
            .entries()
            .map_err(|e| ArchiveError::NotTar(e.to_string()))?;
        let mut buf = self.take_buffer(depth);
        let mut result = Ok(());
        for (i, entry) in entries.enumerate() {
            let mut entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    result = Err(if i == 0 {
                        ArchiveError::NotTar(e.to_string())
                    } else {
                        ArchiveError::Read(e)
                    });
                    break;
                }
            };
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let path = format!("{prefix}{name}");
            let kind = kind_of(entry.header().entry_type());
            // Only the outer tar's headers describe the layer's file system.
            let wanted = if depth == 0 {
                self.visitor.header(&path, kind)
            } else {
                true
            };
            if !wanted || kind != EntryKind::File {
                continue;
            }
            let size = entry.size();
            if size > self.limits.max_entry_size {
                self.too_large(&path, size);
                continue;
            }
            buf.clear();
            let limit = self.limits.max_entry_size + 1;
            let read = entry.by_ref().take(limit).read_to_end(&mut buf);
            // A short read is a cut stream too (tar reports EOF inside an
            // entry as its end).
            let read = read.and_then(|n| {
                if (n as u64) < size {
                    Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        format!("{n} of {size} bytes"),
                    ))
                } else {
                    Ok(())
                }
            });
            if let Err(source) = read {
                // The stream itself is broken (truncated, corrupt, or past
                // a bomb budget): what follows cannot be trusted either.
                result = Err(ArchiveError::EntryCut { path, source });
                break;
            }
            self.file(&path, &buf, depth);
        }
        self.put_buffer(depth, buf);
        result
    }
}

fn kind_of(t: tar::EntryType) -> EntryKind {
    use tar::EntryType as T;
    match t {
        T::Regular | T::Continuous => EntryKind::File,
        T::Directory => EntryKind::Dir,
        T::Symlink | T::Link => EntryKind::Link,
        _ => EntryKind::Other,
    }
}
