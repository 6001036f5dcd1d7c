//! `--staged`: exactly what the next commit would add, from the index and
//! the object database (never the work tree). Only directories whose
//! cache-tree entry differs from HEAD's tree are visited, so a small change
//! in a large repository reads a handful of trees, not history.

use std::ops::Range;

use gix::bstr::ByteSlice as _;
use gix::index::entry::{Flags, Stage};
use gix::index::extension::Tree as CacheTree;
use gix::objs::tree::EntryMode;
use gix::objs::{Kind, TreeRefIter};
use gix::ObjectId;
use rayon::prelude::*;

use super::{local, warn_object, GitError, GitSummary};
use crate::source::{Origin, Sink};

pub(super) fn scan(
    sync: &gix::ThreadSafeRepository,
    sink: &dyn Sink,
) -> Result<GitSummary, GitError> {
    let repo = &local(sync);
    // The checksum is not verified: hashing a large index with SHA-1 cost
    // half of a pre-commit run (a 100k-file index is 9 MB), and git writes
    // the index by lock-and-rename, so a torn file is not what we guard
    // against here; a damaged one still fails to decode.
    let index = match gix::index::File::at(
        repo.index_path(),
        repo.object_hash(),
        true,
        Default::default(),
    ) {
        Ok(index) => index,
        // No index file yet: nothing has been staged.
        Err(gix::index::file::init::Error::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(GitSummary::default())
        }
        Err(e) => return Err(GitError::Index { source: e.into() }),
    };
    let head_err = |e: Box<dyn std::error::Error + Send + Sync>| GitError::Head { source: e };
    let head = repo.head().map_err(|e| head_err(e.into()))?;
    // No HEAD (a first commit): every entry is staged.
    let head_tree = match head.id() {
        Some(_) => Some(
            repo.head_tree_id()
                .map_err(|e| head_err(e.into()))?
                .detach(),
        ),
        None => None,
    };
    let mut walk = Walk {
        repo,
        index: &index,
        sink,
        staged: Vec::new(),
    };
    walk.dir(0..index.entries().len(), 0, head_tree, index.tree());
    let staged = walk.staged;
    staged.par_iter().for_each_init(
        || (local(sync), sink.worker(), Vec::new()),
        |(repo, worker, buf), (path, id)| {
            let data = match gix::objs::Find::try_find(&repo.objects, id, buf) {
                Ok(Some(data)) if data.kind == Kind::Blob => data,
                Ok(Some(data)) => {
                    warn_object(sink, id, "blob", format!("is a {}", data.kind));
                    return;
                }
                Ok(None) => {
                    warn_object(
                        sink,
                        id,
                        "blob",
                        format!("missing object (staged as {path})"),
                    );
                    return;
                }
                Err(e) => {
                    warn_object(sink, id, "blob", format!("cannot read: {e}"));
                    return;
                }
            };
            worker.blob_at_each(data.data, &mut || {
                vec![Origin::GitStaged { path: path.clone() }]
            });
        },
    );
    Ok(GitSummary {
        shallow: repo.is_shallow(),
        ..GitSummary::default()
    })
}

struct Walk<'a> {
    repo: &'a gix::Repository,
    index: &'a gix::index::File,
    sink: &'a dyn Sink,
    staged: Vec<(String, ObjectId)>,
}

impl Walk<'_> {
    /// Index entries `entries` all lie under a directory whose path (with
    /// its trailing '/') is `prefix` bytes long; `head` is HEAD's tree there.
    fn dir(
        &mut self,
        entries: Range<usize>,
        prefix: usize,
        head: Option<ObjectId>,
        cache: Option<&CacheTree>,
    ) {
        // The cache-tree says this directory's staged content hashes to HEAD's
        // tree: nothing below it is staged.
        if let (Some(c), Some(h)) = (cache, head) {
            if c.num_entries.is_some() && c.id == h {
                return;
            }
        }
        let hash = self.repo.object_hash();
        let mut buf = Vec::new();
        let mut before: Vec<(&[u8], EntryMode, ObjectId)> = Vec::new();
        if let Some(h) = head {
            match gix::objs::Find::try_find(&self.repo.objects, &h, &mut buf) {
                Ok(Some(data)) if data.kind == Kind::Tree => {
                    for e in TreeRefIter::from_bytes(data.data, hash) {
                        match e {
                            Ok(e) => before.push((e.filename.as_bytes(), e.mode, e.oid.to_owned())),
                            Err(err) => {
                                warn_object(self.sink, &h, "tree", format!("corrupt: {err}"));
                                break;
                            }
                        }
                    }
                    before.sort_unstable_by(|a, b| a.0.cmp(b.0));
                }
                Ok(_) => warn_object(self.sink, &h, "tree", "missing object"),
                Err(e) => warn_object(self.sink, &h, "tree", format!("cannot read: {e}")),
            }
        }
        let lookup = |name: &[u8]| {
            before
                .binary_search_by(|b| b.0.cmp(name))
                .ok()
                .map(|i| before[i])
        };
        let all = self.index.entries();
        let mut i = entries.start;
        while i < entries.end {
            let path = all[i].path(self.index);
            let rel = &path[prefix..];
            if let Some(slash) = rel.find_byte(b'/') {
                // Entries sharing a directory prefix are contiguous in the
                // (sorted) index.
                let sub = &path[..prefix + slash + 1];
                let mut j = i + 1;
                while j < entries.end && all[j].path(self.index).starts_with(sub) {
                    j += 1;
                }
                let name = &rel[..slash];
                let sub_head = lookup(name).filter(|b| b.1.is_tree()).map(|b| b.2);
                let sub_cache =
                    cache.and_then(|c| c.children.iter().find(|t| t.name.as_slice() == name));
                self.dir(i..j, sub.len(), sub_head, sub_cache);
                i = j;
                continue;
            }
            let e = &all[i];
            i += 1;
            let is_file = e
                .mode
                .to_tree_entry_mode()
                .is_some_and(|m| m.is_blob_or_symlink());
            // Conflicts cannot be committed; intent-to-add entries have no
            // content yet; submodules belong to another repository.
            if !is_file
                || e.stage() != Stage::Unconflicted
                || e.flags.contains(Flags::INTENT_TO_ADD)
            {
                continue;
            }
            if lookup(rel).is_some_and(|b| b.1.is_blob_or_symlink() && b.2 == e.id) {
                continue;
            }
            if e.id == ObjectId::empty_blob(hash) {
                continue;
            }
            self.staged.push((path.to_str_lossy().into_owned(), e.id));
        }
    }
}
