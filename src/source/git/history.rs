//! History (and range) scans in three passes:
//!
//! 1. collect the commits reachable from the tips (all refs, or a range),
//!    reading each commit object once; with `--all-objects`, every commit
//!    in the object database that no ref reaches is a tip too (see
//!    `unreachable`);
//! 2. provenance: oldest first (parents before children), diff each
//!    commit's tree against its first parent's and record, per blob, the
//!    first commit that introduced it at each path; diffs run in parallel in
//!    batches, the merge is sequential so "first" is well defined;
//! 3. read every distinct blob once, in parallel, and scan it, together with
//!    every commit message (and, with `--all-objects`, every blob no commit
//!    references). Only the blobs in flight are in memory.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Mutex;

use gix::bstr::{BString, ByteSlice as _};
use gix::hashtable::{HashMap, HashSet};
use gix::objs::tree::EntryMode;
use gix::objs::{CommitRef, CommitRefIter, Find as _, Kind, TreeRefIter};
use gix::ObjectId;
use rayon::prelude::*;

use super::{
    commit_info, local, pack_order, pack_pages, reader, unreachable, warn_object, GitError,
    GitSummary,
};
use crate::source::{CommitInfo, Origin, Sink, UnreachableBlob, Warning};

/// Which commits a history scan walks.
#[derive(Debug, Clone, Copy)]
pub(super) enum Walk {
    /// Everything reachable from any ref.
    Refs,
    /// `Refs`, plus every commit and blob in the database no ref reaches.
    AllObjects,
    /// Reachable from `to` but not from `from`.
    Range { from: ObjectId, to: ObjectId },
}

pub(super) struct Commit {
    pub(super) id: ObjectId,
    tree: ObjectId,
    parents: Vec<ObjectId>,
    /// Committer time, to order unrelated commits oldest first.
    time: i64,
    pub(super) info: CommitInfo,
}

/// The first commit that introduced a blob at one path.
#[derive(Clone, Copy)]
struct Intro {
    path: u32,
    commit: u32,
}

#[derive(Default)]
struct Provenance {
    ids: Vec<ObjectId>,
    index: HashMap<ObjectId, u32>,
    /// Per blob: one entry per distinct path, in order of introduction.
    intros: Vec<Vec<Intro>>,
    /// Per blob: every (commit, path) that adds or modifies it.
    occurrences: Vec<u64>,
    paths: Vec<String>,
    path_index: std::collections::HashMap<BString, u32>,
    seen: std::collections::HashSet<(u32, u32)>,
}

/// Commits per parallel diff batch: big enough to keep both cores busy,
/// small enough that pending diffs stay a small slice of history.
const BATCH: usize = 1024;

pub(super) fn scan(
    sync: &gix::ThreadSafeRepository,
    walk: Walk,
    sink: &dyn Sink,
) -> Result<GitSummary, GitError> {
    let handle = reader(sync);
    let repo = &handle;
    let shallow: HashSet = match repo.shallow_commits() {
        Ok(Some(commits)) => commits.iter().copied().collect(),
        Ok(None) => HashSet::default(),
        Err(e) => {
            sink.warn(Warning {
                input: "shallow".into(),
                message: format!("cannot read the shallow boundary: {e}"),
            });
            HashSet::default()
        }
    };
    let (tips, hidden) = match walk {
        Walk::Refs | Walk::AllObjects => (ref_tips(repo, sink)?, HashSet::default()),
        Walk::Range { from, to } => (vec![(to, None)], ancestors(repo, from, &shallow, sink)),
    };
    let mut commits = collect(repo, tips, &hidden, &shallow, sink);
    let reachable = commits.len();
    let mut blobs = match walk {
        Walk::AllObjects => unreachable::extend(sync, repo, &mut commits, &shallow, sink),
        Walk::Refs | Walk::Range { .. } => Vec::new(),
    };
    let order = topo_order(&commits);
    let bases = first_parent_trees(repo, &commits);
    let shallow = repo.is_shallow();
    let empty_blob = ObjectId::empty_blob(repo.object_hash());
    let pages = pack_pages::PackPages::new(repo);
    drop(handle);
    let mut prov = provenance(sync, &commits, &order, &bases, &pages, sink);
    drop((order, bases));
    // What is left is referenced by no commit (nothing to find in zero bytes).
    blobs.retain(|b| *b != empty_blob && !prov.index.contains_key(b));
    prov.finish();
    scan_objects(sync, &commits, &prov, &blobs, &pages, sink);
    Ok(GitSummary {
        shallow,
        commits: commits.len(),
        unreachable_commits: commits.len() - reachable,
        unreferenced_blobs: blobs.len(),
    })
}

/// Every ref's target (branches, tags peeled to their commit, remotes,
/// notes, the stash and its reflog) plus HEAD, with the ref's name.
fn ref_tips(
    repo: &gix::Repository,
    sink: &dyn Sink,
) -> Result<Vec<(ObjectId, Option<String>)>, GitError> {
    let refs_err = |e: Box<dyn std::error::Error + Send + Sync>| GitError::Refs { source: e };
    let platform = repo.references().map_err(|e| refs_err(e.into()))?;
    let mut tips = Vec::new();
    for r in platform.all().map_err(|e| refs_err(e.into()))? {
        let mut r = match r {
            Ok(r) => r,
            Err(e) => {
                sink.warn(Warning {
                    input: "reference".into(),
                    message: format!("unreadable: {e}"),
                });
                continue;
            }
        };
        let name = r.name().as_bstr().to_string();
        match r.peel_to_id() {
            Ok(id) => tips.push((id.detach(), Some(name.clone()))),
            Err(e) => sink.warn(Warning {
                input: name.clone(),
                message: format!("cannot resolve: {e}"),
            }),
        }
        // Older stashes live only in the stash's reflog.
        if name == "refs/stash" {
            let mut log = r.log_iter();
            if let Ok(Some(lines)) = log.all() {
                for line in lines.flatten() {
                    tips.push((line.new_oid(), Some(format!("{name} (reflog)"))));
                }
            }
        }
    }
    // A detached HEAD is a tip no ref names.
    if let Ok(id) = repo.head_id() {
        tips.push((id.detach(), Some("HEAD".into())));
    }
    Ok(tips)
}

/// Reads one object into `buf`, turning absence and read errors into
/// warnings naming the object.
fn read<'a>(
    repo: &gix::Repository,
    id: &gix::oid,
    what: &str,
    buf: &'a mut Vec<u8>,
    sink: &dyn Sink,
) -> Option<gix::objs::Data<'a>> {
    match repo.objects.try_find(id, buf) {
        Ok(Some(data)) => Some(data),
        Ok(None) => {
            warn_object(sink, id, what, "missing object");
            None
        }
        Err(e) => {
            warn_object(sink, id, what, format!("cannot read: {e}"));
            None
        }
    }
}

/// Every commit reachable from `from` (the excluded side of a range).
fn ancestors(
    repo: &gix::Repository,
    from: ObjectId,
    shallow: &HashSet,
    sink: &dyn Sink,
) -> HashSet {
    let mut seen = HashSet::default();
    let mut stack = vec![from];
    let mut buf = Vec::new();
    while let Some(id) = stack.pop() {
        if !seen.insert(id) || shallow.contains(&id) {
            continue;
        }
        let Some(data) = read(repo, &id, "commit", &mut buf, sink) else {
            continue;
        };
        if data.kind == Kind::Commit {
            stack.extend(CommitRefIter::from_bytes(data.data, repo.object_hash()).parent_ids());
        }
    }
    seen
}

/// Walks from the tips, never into `hidden`, reading each commit once.
pub(super) fn collect(
    repo: &gix::Repository,
    tips: Vec<(ObjectId, Option<String>)>,
    hidden: &HashSet,
    shallow: &HashSet,
    sink: &dyn Sink,
) -> Vec<Commit> {
    let mut seen = HashSet::default();
    let mut out = Vec::new();
    let mut buf = Vec::new();
    let mut stack = tips;
    while let Some((id, tip)) = stack.pop() {
        if hidden.contains(&id) || !seen.insert(id) {
            continue;
        }
        let Some(data) = read(repo, &id, "commit", &mut buf, sink) else {
            continue;
        };
        if data.kind != Kind::Commit {
            match tip {
                // A tag on a tree or blob (rare): not history.
                Some(name) => {
                    sink.skipped(&name, &format!("points at a {}, not a commit", data.kind))
                }
                None => warn_object(sink, &id, "commit", format!("is a {}", data.kind)),
            }
            continue;
        }
        let commit = match CommitRef::from_bytes(data.data, repo.object_hash()) {
            Ok(c) => c,
            Err(e) => {
                warn_object(sink, &id, "commit", format!("corrupt: {e}"));
                continue;
            }
        };
        // A shallow boundary's parents are not in this clone.
        let parents: Vec<ObjectId> = if shallow.contains(&id) {
            Vec::new()
        } else {
            commit.parents().collect()
        };
        stack.extend(parents.iter().map(|p| (*p, None)));
        out.push(Commit {
            id,
            tree: commit.tree(),
            parents,
            time: commit.time().map(|t| t.seconds).unwrap_or(0),
            info: commit_info(&id, &commit),
        });
    }
    out
}

/// Parents before children; among commits ready at the same time, the
/// oldest first (Kahn's algorithm on a min-heap of commit times).
fn topo_order(commits: &[Commit]) -> Vec<u32> {
    let index: HashMap<ObjectId, u32> = commits
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id, i as u32))
        .collect();
    let mut pending = vec![0u32; commits.len()];
    let mut children: Vec<Vec<u32>> = vec![Vec::new(); commits.len()];
    for (i, c) in commits.iter().enumerate() {
        for p in &c.parents {
            if let Some(&pi) = index.get(p) {
                pending[i] += 1;
                children[pi as usize].push(i as u32);
            }
        }
    }
    let mut ready: BinaryHeap<Reverse<(i64, u32)>> = pending
        .iter()
        .enumerate()
        .filter(|(_, &n)| n == 0)
        .map(|(i, _)| Reverse((commits[i].time, i as u32)))
        .collect();
    let mut order = Vec::with_capacity(commits.len());
    while let Some(Reverse((_, i))) = ready.pop() {
        order.push(i);
        for &child in &children[i as usize] {
            pending[child as usize] -= 1;
            if pending[child as usize] == 0 {
                ready.push(Reverse((commits[child as usize].time, child)));
            }
        }
    }
    order
}

/// The tree each commit is diffed against: its first parent's, or none
/// (root commits, shallow boundaries, unreadable parents) for the empty tree.
fn first_parent_trees(repo: &gix::Repository, commits: &[Commit]) -> Vec<Option<ObjectId>> {
    let trees: HashMap<ObjectId, ObjectId> = commits.iter().map(|c| (c.id, c.tree)).collect();
    let mut outside: HashMap<ObjectId, Option<ObjectId>> = HashMap::default();
    let mut buf = Vec::new();
    commits
        .iter()
        .map(|c| {
            let p = c.parents.first()?;
            if let Some(t) = trees.get(p) {
                return Some(*t);
            }
            // Outside the walked set: the excluded side of a range (read it
            // here), or a missing parent (already warned about: stay quiet).
            *outside.entry(*p).or_insert_with(|| {
                let data = repo.objects.try_find(p, &mut buf).ok().flatten()?;
                (data.kind == Kind::Commit)
                    .then(|| {
                        CommitRefIter::from_bytes(data.data, repo.object_hash())
                            .tree_id()
                            .ok()
                    })
                    .flatten()
            })
        })
        .collect()
}

/// One thread's tree differ, with its own repository handle (object and
/// delta caches) and tree buffers reused across commits.
struct Differ {
    repo: gix::Repository,
    bufs: Vec<Vec<u8>>,
}

impl Differ {
    /// Blobs (with paths) that `new` adds or changes relative to `old`.
    fn changes(
        &mut self,
        old: Option<ObjectId>,
        new: ObjectId,
        sink: &dyn Sink,
    ) -> Vec<(BString, ObjectId)> {
        let mut out = Vec::new();
        let mut prefix = BString::default();
        self.diff(old, new, &mut prefix, &mut out, sink);
        out
    }

    fn diff(
        &mut self,
        old: Option<ObjectId>,
        new: ObjectId,
        prefix: &mut BString,
        out: &mut Vec<(BString, ObjectId)>,
        sink: &dyn Sink,
    ) {
        if old == Some(new) {
            return;
        }
        let mut new_buf = self.bufs.pop().unwrap_or_default();
        let mut old_buf = self.bufs.pop().unwrap_or_default();
        let hash = self.repo.object_hash();
        if let Some(new_tree) = read_as(&self.repo, &new, Kind::Tree, &mut new_buf, sink) {
            let mut old_entries: Vec<(&[u8], EntryMode, ObjectId)> = Vec::new();
            if let Some(old_id) = old {
                if let Some(old_tree) = read_as(&self.repo, &old_id, Kind::Tree, &mut old_buf, sink)
                {
                    for e in TreeRefIter::from_bytes(old_tree, hash) {
                        match e {
                            Ok(e) => {
                                old_entries.push((e.filename.as_bytes(), e.mode, e.oid.to_owned()))
                            }
                            Err(err) => {
                                warn_object(sink, &old_id, "tree", format!("corrupt: {err}"));
                                break;
                            }
                        }
                    }
                    // Git orders trees as if their names ended in '/': re-sort
                    // by plain name to look entries up by name.
                    old_entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
                }
            }
            for e in TreeRefIter::from_bytes(new_tree, hash) {
                let e = match e {
                    Ok(e) => e,
                    Err(err) => {
                        warn_object(sink, &new, "tree", format!("corrupt: {err}"));
                        break;
                    }
                };
                let name = e.filename.as_bytes();
                let before = old_entries
                    .binary_search_by(|o| o.0.cmp(name))
                    .ok()
                    .map(|i| old_entries[i]);
                if e.mode.is_tree() {
                    let old_sub = before.filter(|b| b.1.is_tree()).map(|b| b.2);
                    let len = prefix.len();
                    prefix.extend_from_slice(name);
                    prefix.push(b'/');
                    self.diff(old_sub, e.oid.to_owned(), prefix, out, sink);
                    prefix.truncate(len);
                } else if e.mode.is_blob_or_symlink() {
                    // Same content at the same path: not introduced here (a
                    // mode change alone adds no bytes).
                    if before.is_some_and(|b| b.1.is_blob_or_symlink() && b.2 == e.oid) {
                        continue;
                    }
                    let mut path = prefix.clone();
                    path.extend_from_slice(name);
                    out.push((path, e.oid.to_owned()));
                }
                // Submodule commits belong to another repository.
            }
        }
        self.bufs.push(old_buf);
        self.bufs.push(new_buf);
    }
}

/// Per-thread state for a rayon pool, kept across batches so caches stay
/// warm: slot `i` belongs to pool thread `i`, so its lock is never contended.
struct Slots<T> {
    slots: Vec<Mutex<Option<T>>>,
}

impl<T> Slots<T> {
    fn new() -> Self {
        Slots {
            slots: (0..rayon::current_num_threads().max(1))
                .map(|_| Mutex::new(None))
                .collect(),
        }
    }

    fn with<R>(&self, init: impl FnOnce() -> T, f: impl FnOnce(&mut T) -> R) -> R {
        let i = rayon::current_thread_index().unwrap_or(0) % self.slots.len();
        let mut slot = self.slots[i]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(slot.get_or_insert_with(init))
    }
}

fn provenance(
    repo: &gix::ThreadSafeRepository,
    commits: &[Commit],
    order: &[u32],
    bases: &[Option<ObjectId>],
    pages: &pack_pages::PackPages,
    sink: &dyn Sink,
) -> Provenance {
    let empty_blob = ObjectId::empty_blob(local(repo).object_hash());
    let differs: Slots<Differ> = Slots::new();
    let mut prov = Provenance::default();
    for (n, batch) in order.chunks(BATCH).enumerate() {
        let changes: Vec<Vec<(BString, ObjectId)>> = batch
            .par_iter()
            .map(|&ci| {
                let c = &commits[ci as usize];
                differs.with(
                    || Differ {
                        repo: local(repo),
                        bufs: Vec::new(),
                    },
                    |d| d.changes(bases[ci as usize], c.tree, sink),
                )
            })
            .collect();
        for (&ci, changes) in batch.iter().zip(changes) {
            for (path, blob) in changes {
                // Nothing to find in zero bytes.
                if blob == empty_blob {
                    continue;
                }
                prov.add(blob, path, ci);
            }
        }
        // Trees of earlier batches are seldom read again.
        if n % 8 == 7 {
            pages.release();
        }
    }
    prov
}

impl Provenance {
    /// Frees what only the merge needs before blobs are read.
    fn finish(&mut self) {
        self.index = HashMap::default();
        self.path_index = Default::default();
        self.seen = Default::default();
        self.ids.shrink_to_fit();
        self.intros.shrink_to_fit();
        self.occurrences.shrink_to_fit();
        self.paths.shrink_to_fit();
    }

    fn add(&mut self, blob: ObjectId, path: BString, commit: u32) {
        let next = self.ids.len() as u32;
        let bi = *self.index.entry(blob).or_insert(next);
        if bi == next {
            self.ids.push(blob);
            self.intros.push(Vec::new());
            self.occurrences.push(0);
        }
        let pid = match self.path_index.get(&path) {
            Some(&p) => p,
            None => {
                let p = self.paths.len() as u32;
                self.paths.push(path.to_str_lossy().into_owned());
                self.path_index.insert(path, p);
                p
            }
        };
        self.occurrences[bi as usize] += 1;
        if self.seen.insert((bi, pid)) {
            self.intros[bi as usize].push(Intro { path: pid, commit });
        }
    }
}

#[derive(Clone, Copy)]
enum Item {
    Blob(u32),
    Message(u32),
    /// An index into the blobs no commit references.
    Unreferenced(u32),
}

/// Reads and scans every distinct blob once, then every commit message,
/// then every blob in `unreferenced`.
fn scan_objects(
    repo: &gix::ThreadSafeRepository,
    commits: &[Commit],
    prov: &Provenance,
    unreferenced: &[ObjectId],
    pages: &pack_pages::PackPages,
    sink: &dyn Sink,
) {
    let handle = reader(repo);
    let items: Vec<Item> = pack_order::by_pack_location(&handle, &prov.ids)
        .into_iter()
        .map(Item::Blob)
        .chain((0..commits.len() as u32).map(Item::Message))
        .chain((0..unreferenced.len() as u32).map(Item::Unreferenced))
        .collect();
    drop(handle);
    sink.plan(items.len() as u64);
    // One reader per pool thread (`for_each_init` would open a handle, with
    // its caches, for every split of the work).
    let slots: Slots<(
        gix::Repository,
        Box<dyn crate::source::Worker + Send + '_>,
        Vec<u8>,
    )> = Slots::new();
    items.par_iter().for_each(|item| {
        slots.with(
            || (reader(repo), sink.worker(), Vec::new()),
            |(repo, worker, buf)| {
                let scan = Scan {
                    repo,
                    commits,
                    prov,
                    unreferenced,
                    sink,
                    pages,
                };
                scan.item(worker.as_mut(), buf, *item)
            },
        )
    });
}

/// What scanning one item needs to read it and name its origins.
struct Scan<'a> {
    repo: &'a gix::Repository,
    commits: &'a [Commit],
    prov: &'a Provenance,
    unreferenced: &'a [ObjectId],
    sink: &'a dyn Sink,
    pages: &'a pack_pages::PackPages,
}

impl Scan<'_> {
    /// Reads one blob, counting its bytes towards releasing pack pages.
    fn read_blob<'b>(&self, id: &gix::oid, buf: &'b mut Vec<u8>) -> Option<&'b [u8]> {
        let data = read_as(self.repo, id, Kind::Blob, buf, self.sink)?;
        self.pages.read(data.len());
        Some(data)
    }

    fn item(&self, worker: &mut dyn crate::source::Worker, buf: &mut Vec<u8>, item: Item) {
        let (repo, commits, prov, sink) = (self.repo, self.commits, self.prov, self.sink);
        match item {
            Item::Blob(bi) => {
                let Some(data) = self.read_blob(&prov.ids[bi as usize], buf) else {
                    return;
                };
                worker.blob_at_each(data, &mut || {
                    let occurrences = prov.occurrences[bi as usize];
                    prov.intros[bi as usize]
                        .iter()
                        .map(|intro| Origin::Git {
                            path: prov.paths[intro.path as usize].clone(),
                            commit: commits[intro.commit as usize].info.clone(),
                            occurrences,
                        })
                        .collect()
                });
            }
            Item::Message(ci) => {
                let c = &commits[ci as usize];
                let Some(data) = read(repo, &c.id, "commit", buf, sink) else {
                    return;
                };
                if let Ok(commit) = CommitRef::from_bytes(data.data, repo.object_hash()) {
                    worker.blob_at_each(commit.message, &mut || {
                        vec![Origin::GitCommitMessage {
                            commit: c.info.clone(),
                        }]
                    });
                }
            }
            Item::Unreferenced(ui) => {
                let id = &self.unreferenced[ui as usize];
                let Some(data) = self.read_blob(id, buf) else {
                    return;
                };
                worker.blob_at_each(data, &mut || {
                    vec![Origin::GitUnreachableBlob(UnreachableBlob {
                        blob: id.to_string(),
                    })]
                });
            }
        }
    }
}

/// Reads one object that must be of `kind`, warning (naming it) when it is
/// missing, unreadable or of another kind.
fn read_as<'a>(
    repo: &gix::Repository,
    id: &gix::oid,
    kind: Kind,
    buf: &'a mut Vec<u8>,
    sink: &dyn Sink,
) -> Option<&'a [u8]> {
    // Kind names are ASCII ("blob", "tree").
    let what = std::str::from_utf8(kind.as_bytes()).unwrap_or("object");
    let data = read(repo, id, what, buf, sink)?;
    if data.kind != kind {
        warn_object(sink, id, what, format!("is a {}", data.kind));
        return None;
    }
    Some(data.data)
}
