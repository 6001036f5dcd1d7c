//! Source adapters: each walks one kind of input and hands `(origin, bytes)`
//! pairs to a [`Sink`]. Adapters never call the engine themselves.

pub mod decode;
pub mod fs;
pub mod git;
pub mod k8s;
pub mod k8s_live;

use std::fmt;

use serde::Serialize;

/// Where a blob of bytes came from. Serialized into a finding's `location`
/// (together with line and column) with a `source` tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "source")]
pub enum Origin {
    /// A file on disk.
    #[serde(rename = "fs")]
    File { path: String },
    /// A blob in git history, at the path and commit that first introduced it.
    #[serde(rename = "git")]
    Git {
        path: String,
        #[serde(flatten)]
        commit: CommitInfo,
        /// How many (commit, path) pairs add or modify this same blob.
        occurrences: u64,
    },
    /// A commit's message.
    #[serde(rename = "git-commit-message")]
    GitCommitMessage {
        #[serde(flatten)]
        commit: CommitInfo,
    },
    /// A blob staged in the index (what the next commit would add).
    #[serde(rename = "git-staged")]
    GitStaged { path: String },
    /// A list the Kubernetes API server returned (`scan k8s --context`).
    #[serde(rename = "k8s-api")]
    K8sApi {
        /// The kubeconfig context.
        context: String,
        /// The request path, without paging parameters.
        path: String,
    },
    /// A value inside a Kubernetes object (a Secret's key, a ConfigMap's
    /// key, a container's env var) found in the bytes of `within`.
    #[serde(rename = "k8s")]
    K8s {
        kind: String,
        namespace: String,
        name: String,
        key: String,
        within: Box<Origin>,
    },
    /// A part of a Helm release revision (user values, chart, rendered
    /// manifest) decoded from the release object in `within`.
    #[serde(rename = "helm-release")]
    HelmRelease {
        release: String,
        namespace: String,
        revision: u32,
        /// Revisions of this release carrying the same secret at the same
        /// field, as ranges (`1-3,5`); set when the report is built.
        revisions: String,
        status: String,
        /// Dotted path inside the release (`config.database.password`,
        /// `manifest`, `chart.templates[templates/secret.yaml]`).
        field: String,
        within: Box<Origin>,
    },
}

/// The commit a git finding points at.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct CommitInfo {
    /// Full hex object id.
    pub commit: String,
    /// Author name.
    pub author: String,
    pub email: String,
    /// Author date, ISO-8601 with the author's offset.
    pub date: String,
    /// First line of the message.
    pub summary: String,
}

impl CommitInfo {
    /// The abbreviated id shown to people.
    pub fn short_id(&self) -> &str {
        self.commit.get(..12).unwrap_or(&self.commit)
    }
}

/// What `Origin::path` returns for a commit message.
pub const COMMIT_MESSAGE_PATH: &str = "commit-message";

impl Origin {
    pub fn file(path: &std::path::Path) -> Self {
        Origin::File {
            path: path.to_string_lossy().into_owned(),
        }
    }

    /// The file path findings are grouped and sorted by.
    pub fn path(&self) -> &str {
        match self {
            Origin::File { path }
            | Origin::Git { path, .. }
            | Origin::GitStaged { path }
            | Origin::K8sApi { path, .. } => path,
            Origin::GitCommitMessage { .. } => COMMIT_MESSAGE_PATH,
            Origin::K8s { within, .. } | Origin::HelmRelease { within, .. } => within.path(),
        }
    }

    /// The outermost origin: the file, blob or message a decoded value
    /// (a Secret's key, a Helm release field) was found in.
    pub fn root(&self) -> &Origin {
        match self {
            Origin::K8s { within, .. } | Origin::HelmRelease { within, .. } => within.root(),
            _ => self,
        }
    }

    /// The outermost origin, to update (a git blob's `occurrences`).
    pub fn root_mut(&mut self) -> &mut Origin {
        match self {
            Origin::K8s { within, .. } | Origin::HelmRelease { within, .. } => within.root_mut(),
            _ => self,
        }
    }

    /// The origin a decoded value's origin is nested in, if any.
    pub fn within(&self) -> Option<&Origin> {
        match self {
            Origin::K8s { within, .. } | Origin::HelmRelease { within, .. } => Some(within),
            _ => None,
        }
    }

    /// Replaces the outermost origin with `root` (a decoded blob known at
    /// several places is decoded once and reported at each).
    pub fn set_root(&mut self, root: &Origin) {
        match self {
            Origin::K8s { within, .. } | Origin::HelmRelease { within, .. } => {
                within.set_root(root)
            }
            _ => *self = root.clone(),
        }
    }

    /// The commit, for origins in git history.
    pub fn commit(&self) -> Option<&CommitInfo> {
        match self {
            Origin::Git { commit, .. } | Origin::GitCommitMessage { commit } => Some(commit),
            Origin::File { .. } | Origin::GitStaged { .. } | Origin::K8sApi { .. } => None,
            Origin::K8s { within, .. } | Origin::HelmRelease { within, .. } => within.commit(),
        }
    }

    /// Replaces `secret` wherever it appears in the origin's free text (a
    /// commit summary, an author field, a path) with `replacement`: a token
    /// pasted into a commit message must not come back through the summary
    /// of every finding in that commit.
    pub fn scrub(&mut self, secret: &str, replacement: &str) {
        let fix = |s: &mut String| {
            if s.contains(secret) {
                *s = s.replace(secret, replacement);
            }
        };
        match self {
            Origin::File { path } | Origin::GitStaged { path } => fix(path),
            Origin::Git { path, commit, .. } => {
                fix(path);
                commit.scrub(&fix);
            }
            Origin::GitCommitMessage { commit } => commit.scrub(&fix),
            Origin::K8sApi { context, path } => {
                fix(context);
                fix(path);
            }
            Origin::K8s {
                kind,
                namespace,
                name,
                key,
                within,
            } => {
                for s in [kind, namespace, name, key] {
                    fix(s);
                }
                within.scrub(secret, replacement);
            }
            Origin::HelmRelease {
                release,
                namespace,
                status,
                field,
                within,
                ..
            } => {
                for s in [release, namespace, status, field] {
                    fix(s);
                }
                within.scrub(secret, replacement);
            }
        }
    }
}

impl CommitInfo {
    fn scrub(&mut self, fix: &dyn Fn(&mut String)) {
        fix(&mut self.author);
        fix(&mut self.email);
        fix(&mut self.summary);
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File { path } => f.write_str(path),
            Origin::Git { path, commit, .. } => write!(f, "{}:{path}", commit.short_id()),
            Origin::GitCommitMessage { commit } => {
                write!(f, "{}:{COMMIT_MESSAGE_PATH}", commit.short_id())
            }
            Origin::GitStaged { path } => write!(f, "{path} (staged)"),
            Origin::K8sApi { context, path } => write!(f, "{context}:{path}"),
            Origin::K8s {
                kind,
                namespace,
                name,
                key,
                within,
            } => {
                write!(f, "{within} [{kind} ")?;
                if !namespace.is_empty() {
                    write!(f, "{namespace}/")?;
                }
                write!(f, "{name} key {key}]")
            }
            Origin::HelmRelease {
                release,
                namespace,
                revisions,
                field,
                within,
                ..
            } => {
                write!(f, "{within} [helm release ")?;
                if !namespace.is_empty() {
                    write!(f, "{namespace}/")?;
                }
                let several = revisions.contains(['-', ',']);
                let word = if several { "revisions" } else { "revision" };
                write!(f, "{release} {word} {revisions} {field}]")
            }
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

/// What a value's container says about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// Declared secret by its container (a Kubernetes Secret's `data`): a
    /// finding unless it is a placeholder.
    Secret,
    /// Only its name may tell (an environment variable, a ConfigMap key): a
    /// finding when a token format matches or the name says secret.
    Named,
}

/// A value a source found inside structured data (an environment
/// variable, a Secret's key), handed over with its name.
#[derive(Debug, Clone, Copy)]
pub struct NamedValue<'a> {
    pub name: &'a str,
    pub value: &'a [u8],
    pub kind: ValueKind,
    /// 1-based line and byte column in the origin's text where the value
    /// starts.
    pub line: u32,
    pub column: u32,
    /// The bytes stand as they are at `line:column`. When false (decoded
    /// base64 or gzip), every finding in the value points at `line:column`.
    pub verbatim: bool,
}

/// A per-thread consumer of blobs; holds that thread's scratch buffers.
pub trait Worker {
    fn blob(&mut self, origin: &Origin, data: &[u8]);
    /// One blob known at several places (a git blob at several paths):
    /// scanned once, each finding reported at every origin. `origins` is
    /// called only when the blob has findings, so sources need not build
    /// origins for the (many) clean blobs.
    fn blob_at_each(&mut self, data: &[u8], origins: &mut dyn FnMut() -> Vec<Origin>);
    /// One named value, scanned on its own (see [`NamedValue`]).
    fn value(&mut self, origin: &Origin, value: &NamedValue<'_>);
}

/// Receives what sources produce. Shared by all source threads; each
/// thread asks for its own [`Worker`].
pub trait Sink: Sync {
    fn worker(&self) -> Box<dyn Worker + Send + '_>;
    fn warn(&self, warning: Warning);
    /// An input deliberately not scanned (too large, not a regular file).
    fn skipped(&self, input: &str, reason: &str);
}
