//! GitHub Actions log archives: a zip of per-step `.txt` files. Entries
//! are read with limits, since a small archive can inflate without end.

use std::io::{Cursor, Read};

use crate::source::{Sink, Warning};

/// Largest entry inflated (bytes).
pub const MAX_ENTRY: u64 = 256 << 20;
/// Largest inflated/compressed ratio believed (logs compress ~10-20x).
const MAX_RATIO: u64 = 200;
/// Total inflated bytes per archive.
const MAX_TOTAL: u64 = 1 << 30;

pub fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
}

/// Calls `each(entry name, bytes)` for every file entry within limits;
/// others are warnings naming `archive!entry`.
pub fn entries(
    archive: &str,
    bytes: &[u8],
    max_entry: u64,
    sink: &dyn Sink,
    each: &mut dyn FnMut(&str, &[u8]),
) {
    let mut zip = match zip::ZipArchive::new(Cursor::new(bytes)) {
        Ok(z) => z,
        Err(e) => {
            sink.warn(Warning {
                input: archive.to_string(),
                message: format!("not a readable zip archive: {e}"),
            });
            return;
        }
    };
    let max_entry = max_entry.min(MAX_ENTRY);
    let mut total = 0u64;
    let mut buf = Vec::new();
    for i in 0..zip.len() {
        let mut entry = match zip.by_index(i) {
            Ok(e) => e,
            Err(e) => {
                sink.warn(Warning {
                    input: format!("{archive}!#{i}"),
                    message: format!("unreadable entry: {e}"),
                });
                continue;
            }
        };
        if entry.is_dir() {
            continue;
        }
        let name = entry.name().to_string();
        let input = format!("{archive}!{name}");
        let size = entry.size();
        let ratio_ok = size <= 1 << 20 || size / entry.compressed_size().max(1) <= MAX_RATIO;
        if size > max_entry || !ratio_ok || total + size > MAX_TOTAL {
            sink.warn(Warning {
                input,
                message: format!(
                    "entry not inflated: {size} bytes from {} compressed exceeds the archive limits",
                    entry.compressed_size()
                ),
            });
            continue;
        }
        buf.clear();
        // The declared size may lie: never inflate past it.
        match entry.by_ref().take(size + 1).read_to_end(&mut buf) {
            Ok(n) if n as u64 > size => sink.warn(Warning {
                input,
                message: "entry inflates past its declared size; skipped".to_string(),
            }),
            Ok(_) => {
                total += buf.len() as u64;
                each(&name, &buf);
            }
            Err(e) => sink.warn(Warning {
                input,
                message: format!("cannot inflate: {e}"),
            }),
        }
    }
}
