//! Source adapters: each walks one kind of input and hands `(origin, bytes)`
//! pairs to a [`Sink`]. Adapters never call the engine themselves.

pub mod fs;

use std::fmt;

use serde::Serialize;

/// Where a blob of bytes came from. Serialized into a finding's `location`
/// (together with line and column) with a `source` tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "source")]
pub enum Origin {
    /// A file on disk.
    #[serde(rename = "fs")]
    File { path: String },
}

impl Origin {
    pub fn file(path: &std::path::Path) -> Self {
        Origin::File {
            path: path.to_string_lossy().into_owned(),
        }
    }

    /// The file path findings are grouped and sorted by.
    pub fn path(&self) -> &str {
        match self {
            Origin::File { path } => path,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File { path } => f.write_str(path),
        }
    }
}

/// Something that went wrong with one input; the scan goes on.
#[derive(Debug, Clone)]
pub struct Warning {
    /// The input it concerns (a path, an object id), never its contents.
    pub input: String,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.input, self.message)
    }
}

/// A per-thread consumer of blobs; holds that thread's scratch buffers.
pub trait Worker {
    fn blob(&mut self, origin: &Origin, data: &[u8]);
}

/// Receives what sources produce. Shared by all source threads; each
/// thread asks for its own [`Worker`].
pub trait Sink: Sync {
    fn worker(&self) -> Box<dyn Worker + Send + '_>;
    fn warn(&self, warning: Warning);
    /// An input deliberately not scanned (too large, not a regular file).
    fn skipped(&self, input: &str, reason: &str);
}
