//! The filesystem source: a parallel walk (ignore's walker, honouring
//! .gitignore unless told not to), every regular file read once into the
//! worker's reused buffer.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use ignore::{WalkBuilder, WalkState};

use super::archive::{self, Limits};
use super::{Origin, Sink, Warning, Worker};

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
                Ok(true) => {
                    let name = path.to_string_lossy();
                    let mut entries = ArchiveEntries {
                        sink,
                        worker: worker.as_mut(),
                    };
                    // A chart `.tgz` or a `.jar` is read entry by entry; its
                    // compressed bytes hold nothing to match.
                    if !archive::walk_archive_file(&name, &buf, &limits, &mut entries) {
                        worker.blob(&Origin::file(path), &buf);
                    }
                }
                Ok(false) => sink.skipped(
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

/// Reads `path` into `buf` (reused); `Ok(false)` when it exceeds `max`.
fn read_file(path: &Path, max: u64, buf: &mut Vec<u8>) -> std::io::Result<bool> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    if len > max {
        return Ok(false);
    }
    buf.clear();
    // A file may grow while we read it: never take more than `max`.
    buf.reserve(usize::try_from(len).unwrap_or(0));
    file.by_ref().take(max + 1).read_to_end(buf)?;
    Ok(buf.len() as u64 <= max)
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
