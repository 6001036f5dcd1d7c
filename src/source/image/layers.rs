//! One layer's file system changes (files added, whiteouts) and the visitor
//! that scans a layer's files: a file that a later layer deletes or
//! replaces is still reported, with the layer that hid it.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash as _, Hasher as _};

use crate::source::archive::{EntryKind, Visitor};
use crate::source::{ImageLayerOrigin, Origin, Sink, Warning, Worker};

/// `.wh.NAME` deletes NAME from the layers below.
const WHITEOUT: &str = ".wh.";
/// `DIR/.wh..wh..opq` hides everything the layers below had in DIR.
const OPAQUE: &str = ".wh..wh..opq";

/// What a layer does to the file system below it.
#[derive(Debug, Default)]
pub struct LayerFiles {
    /// Regular files it adds or replaces, as path hashes: a run keeps the
    /// lists of many layers (a registry audit), and a hash collision could
    /// only mislabel a file as overwritten.
    files: HashSet<u64>,
    /// Paths (files or whole directories) it deletes.
    whiteouts: HashSet<String>,
    /// Directories whose lower contents it hides.
    opaque: HashSet<String>,
}

/// How a later layer hides a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hidden {
    Deleted,
    Overwritten,
}

impl LayerFiles {
    /// Records one tar header; returns whether the entry is content to scan
    /// (whiteout markers are not).
    pub fn record(&mut self, path: &str, kind: EntryKind) -> bool {
        let path = normalize(path);
        let (dir, name) = match path.rsplit_once('/') {
            Some((d, n)) => (d, n),
            None => ("", path),
        };
        if name == OPAQUE {
            self.opaque.insert(dir.to_string());
            return false;
        }
        if let Some(deleted) = name.strip_prefix(WHITEOUT) {
            let target = if dir.is_empty() {
                deleted.to_string()
            } else {
                format!("{dir}/{deleted}")
            };
            self.whiteouts.insert(target);
            return false;
        }
        if kind == EntryKind::File {
            self.files.insert(path_hash(path));
        }
        true
    }

    /// Whether this layer hides `path` of a lower layer.
    pub fn hides(&self, path: &str) -> Option<Hidden> {
        let path = normalize(path);
        // A file inside a nested archive lives and dies with the archive.
        let path = path.split("!/").next().unwrap_or(path);
        let mut ancestor = path;
        let mut first = true;
        loop {
            if self.whiteouts.contains(ancestor) {
                return Some(Hidden::Deleted);
            }
            if !first && self.opaque.contains(ancestor) {
                return Some(Hidden::Deleted);
            }
            first = false;
            match ancestor.rsplit_once('/') {
                Some((parent, _)) => ancestor = parent,
                None => break,
            }
        }
        if self.opaque.contains("") {
            return Some(Hidden::Deleted);
        }
        self.files
            .contains(&path_hash(path))
            .then_some(Hidden::Overwritten)
    }
}

/// Same path, same hash, in every run (fixed SipHash keys).
fn path_hash(path: &str) -> u64 {
    let mut h = DefaultHasher::new();
    path.hash(&mut h);
    h.finish()
}

/// Layer paths as the file system sees them: no `./`, no leading `/`.
pub fn normalize(path: &str) -> &str {
    let mut p = path;
    loop {
        if let Some(rest) = p.strip_prefix("./") {
            p = rest;
        } else if let Some(rest) = p.strip_prefix('/') {
            p = rest;
        } else {
            return p.trim_end_matches('/');
        }
    }
}

/// One place a layer sits: which image, at which index, and the file lists
/// of the layers above it there (`None` for a layer not read, or not yet).
pub struct Placement<'a> {
    pub image: &'a str,
    pub manifest_digest: &'a str,
    pub platform: Option<&'a str>,
    pub layer_index: u32,
    pub later: Vec<Option<&'a LayerFiles>>,
}

impl Placement<'_> {
    fn origin(&self, layer_digest: &str, path: &str) -> Origin {
        let mut deleted = None;
        let mut overwritten = None;
        for (offset, files) in self.later.iter().enumerate() {
            let Some(files) = files else { continue };
            let index = self.layer_index + 1 + offset as u32;
            match files.hides(path) {
                Some(Hidden::Deleted) => {
                    deleted = Some(index);
                    break;
                }
                Some(Hidden::Overwritten) => {
                    overwritten = Some(index);
                    break;
                }
                None => {}
            }
        }
        Origin::ImageLayer(Box::new(ImageLayerOrigin {
            image: self.image.to_string(),
            manifest_digest: self.manifest_digest.to_string(),
            platform: self.platform.map(str::to_string),
            layer_index: self.layer_index,
            layer_digest: layer_digest.to_string(),
            path: normalize(path).to_string(),
            deleted_in_layer: deleted,
            overwritten_in_layer: overwritten,
        }))
    }
}

/// Feeds one layer's files to the worker, recording its file list.
pub struct LayerVisitor<'a> {
    pub digest: &'a str,
    pub placements: &'a [Placement<'a>],
    pub files: LayerFiles,
    pub worker: &'a mut dyn Worker,
    pub sink: &'a dyn Sink,
}

impl LayerVisitor<'_> {
    fn input(&self, path: &str) -> String {
        format!("{}:{}", self.digest, normalize(path))
    }
}

impl Visitor for LayerVisitor<'_> {
    fn header(&mut self, path: &str, kind: EntryKind) -> bool {
        self.files.record(path, kind)
    }

    fn file(&mut self, path: &str, data: &[u8]) {
        let (digest, placements) = (self.digest, self.placements);
        self.worker.blob_at_each(data, &mut || {
            placements.iter().map(|p| p.origin(digest, path)).collect()
        });
    }

    fn warn(&mut self, input: &str, message: String) {
        self.sink.warn(Warning {
            input: self.input(input),
            message,
        });
    }

    fn skipped(&mut self, input: &str, reason: &str) {
        self.sink.skipped(&self.input(input), reason);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(entries: &[&str]) -> LayerFiles {
        let mut l = LayerFiles::default();
        for e in entries {
            l.record(e, EntryKind::File);
        }
        l
    }

    #[test]
    fn whiteouts_opaque_dirs_and_overwrites() {
        let l = layer(&[
            "./app/.wh..env",
            "etc/.wh..wh..opq",
            "/usr/bin/tool",
            ".wh.tmp",
        ]);
        assert_eq!(l.hides("app/.env"), Some(Hidden::Deleted));
        assert_eq!(l.hides("/app/.env"), Some(Hidden::Deleted));
        assert_eq!(l.hides("app/other"), None);
        assert_eq!(l.hides("etc/ssl/key.pem"), Some(Hidden::Deleted));
        assert_eq!(l.hides("etc"), None);
        assert_eq!(l.hides("usr/bin/tool"), Some(Hidden::Overwritten));
        assert_eq!(l.hides("tmp/cache/x.jar!/inner.txt"), Some(Hidden::Deleted));
        assert_eq!(l.hides("tmpfile"), None);
    }

    #[test]
    fn markers_are_not_content() {
        let mut l = LayerFiles::default();
        assert!(!l.record("a/.wh.b", EntryKind::File));
        assert!(!l.record("a/.wh..wh..opq", EntryKind::File));
        assert!(l.record("a/c", EntryKind::File));
    }
}
