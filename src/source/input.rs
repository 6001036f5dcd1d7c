//! Named inputs for the text sources (`scan ci-log`, `scan env`): files,
//! directories walked without ignore rules, and `-` for stdin.

use std::io::Read;
use std::path::PathBuf;

use super::{Sink, Warning};

/// What `-` is called in origins and warnings.
pub const STDIN: &str = "-";

#[derive(Debug, thiserror::Error)]
#[error("cannot scan {path}", path = path.display())]
pub struct InputError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// Calls `each(name, bytes)` for stdin (`-`) and every regular file under
/// `paths`, in order. Fails only when a root itself is missing; unreadable
/// and oversized files are warnings and notes.
pub fn each(
    paths: &[PathBuf],
    max_size: u64,
    sink: &dyn Sink,
    each: &mut dyn FnMut(&str, &[u8]),
) -> Result<(), InputError> {
    for p in paths {
        if p.as_os_str() != STDIN {
            std::fs::metadata(p).map_err(|source| InputError {
                path: p.clone(),
                source,
            })?;
        }
    }
    let mut buf = Vec::new();
    for p in paths {
        if p.as_os_str() == STDIN {
            read_bounded(
                std::io::stdin().lock(),
                max_size,
                STDIN,
                sink,
                &mut buf,
                each,
            );
            continue;
        }
        let walk = ignore::WalkBuilder::new(p)
            .standard_filters(false)
            .follow_links(false)
            .sort_by_file_name(|a, b| a.cmp(b))
            .build();
        for entry in walk {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    sink.warn(Warning {
                        input: p.display().to_string(),
                        message: e.to_string(),
                    });
                    continue;
                }
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                continue;
            }
            let name = entry.path().to_string_lossy().into_owned();
            match std::fs::File::open(entry.path()) {
                Ok(f) => read_bounded(f, max_size, &name, sink, &mut buf, each),
                Err(e) => sink.warn(Warning {
                    input: name,
                    message: format!("cannot read: {e}"),
                }),
            }
        }
    }
    Ok(())
}

fn read_bounded(
    r: impl Read,
    max_size: u64,
    name: &str,
    sink: &dyn Sink,
    buf: &mut Vec<u8>,
    each: &mut dyn FnMut(&str, &[u8]),
) {
    buf.clear();
    match r.take(max_size + 1).read_to_end(buf) {
        Ok(_) if buf.len() as u64 > max_size => sink.skipped(
            name,
            &format!("larger than --max-file-size ({max_size} bytes)"),
        ),
        Ok(_) => each(name, buf),
        Err(e) => sink.warn(Warning {
            input: name.to_string(),
            message: format!("cannot read: {e}"),
        }),
    }
}
