//! `scan git --all-objects`: what the object database holds beyond the
//! refs' history. Every object id (each pack, loose objects, alternates) is
//! listed once; the kind of each one the ref walk did not already read
//! comes from its header, so no object is inflated here and only commit and
//! blob ids are kept.
//!
//! Unreachable commits become extra tips of the history walk (their trees
//! and messages are scanned, their blobs attributed to them); blobs no
//! commit references are what is left once provenance is known.

use gix::hashtable::HashSet;
use gix::objs::Kind;
use gix::ObjectId;
use rayon::prelude::*;

use super::history::{collect, Commit};
use super::{reader, warn_object};
use crate::source::{Sink, Warning};

/// Object ids whose headers one reader handle looks up: enough to amortise
/// opening the handle, small enough to spread over every thread.
const CHUNK: usize = 4096;

/// The objects the ref walk did not account for.
#[derive(Default)]
struct Unwalked {
    /// Commits the walk did not reach, in no particular order.
    commits: Vec<ObjectId>,
    /// Every blob in the database: whether a commit references one is known
    /// only after provenance.
    blobs: Vec<ObjectId>,
}

/// Appends the commits no ref reaches to `commits` (the reachable ones),
/// marked unreachable, and returns every blob id in the database.
pub(super) fn extend(
    sync: &gix::ThreadSafeRepository,
    repo: &gix::Repository,
    commits: &mut Vec<Commit>,
    shallow: &HashSet,
    sink: &dyn Sink,
) -> Vec<ObjectId> {
    let walked: HashSet = commits.iter().map(|c| c.id).collect();
    let unwalked = list(sync, &walked, sink);
    // Tips of their own, walked only as far as the reachable history (their
    // parents may be unreachable too: an amended commit's older ancestors).
    // Appended after it, so that on equal commit times the topological order
    // still prefers a reachable commit as the first introducer.
    let tips = unwalked.commits.into_iter().map(|id| (id, None)).collect();
    let mut extra = collect(repo, tips, &walked, shallow, sink);
    for c in &mut extra {
        c.info.unreachable = true;
    }
    commits.append(&mut extra);
    unwalked.blobs
}

/// Lists every object in the repository's database, skipping the commits
/// in `walked`. Unlistable stores and unreadable headers are warnings; what
/// can be listed still is.
fn list(sync: &gix::ThreadSafeRepository, walked: &HashSet, sink: &dyn Sink) -> Unwalked {
    let ids = all_ids(sync, walked, sink);
    let kinds: Vec<Vec<(ObjectId, Kind)>> = ids
        .par_chunks(CHUNK)
        .map(|chunk| {
            let repo = reader(sync);
            chunk
                .iter()
                .filter_map(|id| kind(&repo, id, sink).map(|k| (*id, k)))
                .collect()
        })
        .collect();
    drop(ids);
    let mut out = Unwalked::default();
    for (id, kind) in kinds.into_iter().flatten() {
        match kind {
            Kind::Commit => out.commits.push(id),
            Kind::Blob => out.blobs.push(id),
            // An unreachable tree's blobs and an unreachable tag's target
            // are objects of their own, listed here too: a blob no commit
            // references is scanned without a path either way.
            Kind::Tree | Kind::Tag => {}
        }
    }
    out
}

/// Every distinct object id in the database but the commits in `walked`,
/// sorted. Packs and loose objects may hold the same object more than once.
fn all_ids(sync: &gix::ThreadSafeRepository, walked: &HashSet, sink: &dyn Sink) -> Vec<ObjectId> {
    let repo = reader(sync);
    let iter = match repo.objects.iter() {
        Ok(iter) => iter,
        Err(e) => {
            sink.warn(Warning {
                input: "object database".into(),
                message: format!("cannot list objects: {e}"),
            });
            return Vec::new();
        }
    };
    let mut ids = Vec::with_capacity(iter.size_hint().0);
    for id in iter {
        match id {
            Ok(id) if !walked.contains(&id) => ids.push(id),
            Ok(_) => {}
            Err(e) => sink.warn(Warning {
                input: "object database".into(),
                message: format!("cannot list loose objects: {e}"),
            }),
        }
    }
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The kind of one listed object, from its header.
fn kind(repo: &gix::Repository, id: &ObjectId, sink: &dyn Sink) -> Option<Kind> {
    match repo.try_find_header(*id) {
        Ok(Some(header)) => Some(header.kind()),
        // Listed a moment ago: removed since (a concurrent gc).
        Ok(None) => {
            warn_object(sink, id, "object", "missing object");
            None
        }
        Err(e) => {
            warn_object(sink, id, "object", format!("cannot read: {e}"));
            None
        }
    }
}
