//! Zip (and jar, war, ear) entries from an archive already in memory (it
//! was one entry of an outer tar, so it is within the entry limit).

use std::io::{Cursor, Read};

use super::{ArchiveError, Walker};

impl Walker<'_> {
    pub(super) fn zip(
        &mut self,
        data: &[u8],
        prefix: &str,
        depth: u32,
        allowed: u64,
    ) -> Result<(), ArchiveError> {
        let mut archive = ::zip::ZipArchive::new(Cursor::new(data))
            .map_err(|e| ArchiveError::NotTar(format!("zip: {e}")))?;
        let mut buf = self.take_buffer(depth);
        let mut expanded: u64 = 0;
        for i in 0..archive.len() {
            let mut file = match archive.by_index(i) {
                Ok(f) => f,
                Err(e) => {
                    self.visitor
                        .warn(&format!("{prefix}#{i}"), format!("zip entry: {e}"));
                    continue;
                }
            };
            if !file.is_file() {
                continue;
            }
            let path = format!("{prefix}{}", String::from_utf8_lossy(file.name_raw()));
            let size = file.size();
            if size > self.limits.max_entry_size {
                self.too_large(&path, size);
                continue;
            }
            let ratio_limit = file.compressed_size().saturating_mul(self.limits.max_ratio);
            if size > ratio_limit.max(64 << 10) {
                // Tiny entries may have silly ratios; big ones may not.
                self.visitor.warn(
                    &path,
                    format!(
                        "zip entry expands {size} bytes from {} (ratio limit {}): \
                         possible archive bomb, not scanned",
                        file.compressed_size(),
                        self.limits.max_ratio
                    ),
                );
                continue;
            }
            buf.clear();
            let limit = self
                .limits
                .max_entry_size
                .min(allowed.saturating_sub(expanded))
                + 1;
            if let Err(e) = file.by_ref().take(limit).read_to_end(&mut buf) {
                self.visitor
                    .warn(&path, format!("zip entry unreadable: {e}"));
                continue;
            }
            expanded += buf.len() as u64;
            if expanded > allowed {
                drop(file);
                self.put_buffer(depth, buf);
                let outer = prefix.trim_end_matches("!/").to_string();
                self.bomb(&outer, allowed);
                return Ok(());
            }
            drop(file);
            self.file(&path, &buf, depth);
        }
        self.put_buffer(depth, buf);
        Ok(())
    }
}
