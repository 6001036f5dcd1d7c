//! `scan k8s -f FILE|-`: the output of `kubectl get … -o yaml|json` (the
//! auditor's own kubectl does the fetching), read whole and handed to the
//! worker like any file; the driver's decoding worker
//! ([`super::decode::Decoding`]) finds the objects in it.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::{decode, Origin, Sink, Warning};

/// What `-` reads, and how findings name it.
pub const STDIN: &str = "-";
const STDIN_LABEL: &str = "(stdin)";

#[derive(Debug, thiserror::Error)]
pub enum K8sError {
    #[error("cannot read {path}", path = path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is larger than {max} bytes", path = path.display())]
    TooLarge { path: PathBuf, max: u64 },
}

/// Scans each input (`-` is stdin), at most `max_size` bytes each.
pub fn scan(inputs: &[PathBuf], max_size: u64, sink: &dyn Sink) -> Result<(), K8sError> {
    let mut worker = sink.worker();
    let mut buf = Vec::new();
    for path in inputs {
        buf.clear();
        let read = if path.as_os_str() == STDIN {
            read_limited(std::io::stdin().lock(), max_size, &mut buf)
        } else {
            std::fs::File::open(path).and_then(|f| read_limited(f, max_size, &mut buf))
        };
        read.map_err(|source| K8sError::Read {
            path: path.clone(),
            source,
        })?;
        if buf.len() as u64 > max_size {
            return Err(K8sError::TooLarge {
                path: path.clone(),
                max: max_size,
            });
        }
        let label = label_of(path);
        if decode::sniff(&buf).is_none() {
            sink.warn(Warning {
                input: label.clone(),
                message: "no Kubernetes objects or Helm release found; scanned as text".into(),
            });
        }
        worker.blob(&Origin::File { path: label }, &buf);
    }
    Ok(())
}

fn read_limited(r: impl Read, max: u64, buf: &mut Vec<u8>) -> std::io::Result<()> {
    r.take(max + 1).read_to_end(buf).map(|_| ())
}

fn label_of(path: &Path) -> String {
    if path.as_os_str() == STDIN {
        STDIN_LABEL.to_string()
    } else {
        path.to_string_lossy().into_owned()
    }
}
