//! Source adapters: each walks one kind of input and hands `(origin, bytes)`
//! pairs to a [`Sink`]. Adapters never call the engine themselves.

pub mod archive;
pub mod cilog;
pub mod decode;
pub mod env;
pub mod fs;
pub mod git;
pub mod image;
pub mod input;
pub mod k8s;
pub mod k8s_live;
pub mod text;

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
    /// A blob no commit references, found in the object database by `scan
    /// git --all-objects` (`git add` then `git reset`, `git hash-object -w`).
    /// Serialized as a `git` location with no commit: an empty `path`, the
    /// `blob` id and `"unreachable": true`.
    #[serde(rename = "git")]
    GitUnreachableBlob(UnreachableBlob),
    /// A commit's message.
    #[serde(rename = "git-commit-message")]
    GitCommitMessage {
        #[serde(flatten)]
        commit: CommitInfo,
    },
    /// A blob staged in the index (what the next commit would add).
    #[serde(rename = "git-staged")]
    GitStaged { path: String },
    /// A CI log (a file, stdin or an entry of a GitHub Actions log archive).
    #[serde(rename = "ci-log")]
    CiLog {
        path: String,
        /// The step or job, when the log format names it.
        #[serde(skip_serializing_if = "Option::is_none")]
        step: Option<String>,
        /// The runner's timestamp of the step's first line, when the log
        /// has them (when this copy was printed).
        #[serde(skip_serializing_if = "Option::is_none")]
        started: Option<String>,
    },
    /// One environment variable, from a dump (`path`) or a live process
    /// (`pid` and its command line).
    #[serde(rename = "env")]
    Env {
        #[serde(flatten)]
        holder: EnvHolder,
        variable: String,
    },
    /// A file in a container image layer.
    #[serde(rename = "image")]
    ImageLayer(Box<ImageLayerOrigin>),
    /// A field of a container image's config (`Env[3]`, `history[2].created_by`).
    #[serde(rename = "image-config")]
    ImageConfig(Box<ImageConfigOrigin>),
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

/// What held an environment variable.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum EnvHolder {
    /// A file or stdin (`-`).
    Dump { path: String },
    /// A running process: its id and command line (NULs as spaces,
    /// truncated).
    Process { pid: u32, command: String },
}

/// Where in which image a layer file sits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ImageLayerOrigin {
    /// The reference as given (`registry/repo:tag`, `oci:PATH`, ...).
    pub image: String,
    pub manifest_digest: String,
    /// `os/arch[/variant]`, when known.
    pub platform: Option<String>,
    /// 0-based position of the layer in the manifest.
    pub layer_index: u32,
    pub layer_digest: String,
    pub path: String,
    /// The later layer whose whiteout removes this file: it is gone from
    /// the running container but still shipped in this layer.
    pub deleted_in_layer: Option<u32>,
    /// The later layer that replaces this file with another.
    pub overwritten_in_layer: Option<u32>,
}

/// Which field of which image's config.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ImageConfigOrigin {
    pub image: String,
    pub manifest_digest: String,
    pub platform: Option<String>,
    pub field: String,
}

/// A blob that no commit references (see [`Origin::GitUnreachableBlob`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnreachableBlob {
    /// Full hex object id.
    pub blob: String,
}

impl UnreachableBlob {
    /// The abbreviated id shown to people.
    pub fn short_id(&self) -> &str {
        self.blob.get(..12).unwrap_or(&self.blob)
    }
}

impl Serialize for UnreachableBlob {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        // Shaped like every other `git` location (which all have a `path`),
        // saying outright why there is no path and no commit.
        let mut st = s.serialize_struct("UnreachableBlob", 3)?;
        st.serialize_field("path", "")?;
        st.serialize_field("blob", &self.blob)?;
        st.serialize_field("unreachable", &true)?;
        st.end()
    }
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
    /// No ref reaches the commit (amended away, a dropped stash, a deleted
    /// branch): found only by `scan git --all-objects`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unreachable: bool,
}

impl CommitInfo {
    /// The abbreviated id shown to people.
    pub fn short_id(&self) -> &str {
        self.commit.get(..12).unwrap_or(&self.commit)
    }
}

/// What `Origin::path` returns for a commit message.
pub const COMMIT_MESSAGE_PATH: &str = "commit-message";

/// What `Origin::path` returns for a live process's environment.
pub const PROCESS_ENV_PATH: &str = "/proc/*/environ";

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
            // No tree names it: each unreachable blob is its own "file".
            Origin::GitUnreachableBlob(b) => &b.blob,
            Origin::CiLog { path, .. } => path,
            Origin::Env { holder, .. } => match holder {
                EnvHolder::Dump { path } => path,
                EnvHolder::Process { .. } => PROCESS_ENV_PATH,
            },
            Origin::ImageLayer(o) => &o.path,
            Origin::ImageConfig(o) => &o.field,
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

    /// When this copy existed, as ISO-8601, when the source knows: the
    /// introducing commit's date, a log line's timestamp.
    pub fn date(&self) -> Option<&str> {
        match self {
            Origin::CiLog { started, .. } => started.as_deref(),
            Origin::K8s { within, .. } | Origin::HelmRelease { within, .. } => within.date(),
            other => other.commit().map(|c| c.date.as_str()),
        }
    }

    /// The commit, for origins in git history.
    pub fn commit(&self) -> Option<&CommitInfo> {
        match self {
            Origin::Git { commit, .. } | Origin::GitCommitMessage { commit } => Some(commit),
            Origin::File { .. }
            | Origin::GitStaged { .. }
            | Origin::GitUnreachableBlob(_)
            | Origin::CiLog { .. }
            | Origin::Env { .. }
            | Origin::ImageLayer(_)
            | Origin::ImageConfig(_)
            | Origin::K8sApi { .. } => None,
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
            // An object id is no free text.
            Origin::GitUnreachableBlob(_) => {}
            Origin::CiLog { path, step, .. } => {
                fix(path);
                if let Some(step) = step {
                    fix(step);
                }
            }
            Origin::Env { holder, variable } => {
                fix(variable);
                match holder {
                    EnvHolder::Dump { path } => fix(path),
                    EnvHolder::Process { command, .. } => fix(command),
                }
            }
            Origin::ImageLayer(o) => {
                fix(&mut o.image);
                fix(&mut o.path);
            }
            Origin::ImageConfig(o) => {
                fix(&mut o.image);
                fix(&mut o.field);
            }
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
            Origin::GitUnreachableBlob(b) => write!(f, "unreachable blob {}", b.short_id()),
            Origin::CiLog {
                path, step: None, ..
            } => f.write_str(path),
            Origin::CiLog {
                path,
                step: Some(step),
                ..
            } => write!(f, "{path} (step: {step})"),
            Origin::Env { holder, variable } => match holder {
                EnvHolder::Dump { path } => write!(f, "{path}: {variable}"),
                EnvHolder::Process { pid, command } => {
                    write!(f, "pid {pid}: {variable} ({command})")
                }
            },
            Origin::ImageLayer(o) => {
                write!(f, "{} layer {}:{}", o.image, o.layer_index, o.path)?;
                if let Some(n) = o.deleted_in_layer {
                    write!(f, " (deleted in layer {n})")?;
                } else if let Some(n) = o.overwritten_in_layer {
                    write!(f, " (overwritten in layer {n})")?;
                }
                Ok(())
            }
            Origin::ImageConfig(o) => write!(f, "{} config:{}", o.image, o.field),
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
    /// A blob that is a rewritten copy of the origin's text (a log with
    /// its escapes and prefixes stripped, a decoded run): `map` turns a
    /// 1-based (line, column) in `data` into one in the original.
    fn blob_mapped(&mut self, origin: &Origin, data: &[u8], map: &dyn Fn(u32, u32) -> (u32, u32));
    /// Holds back the findings of what is scanned next until
    /// [`Worker::release`]: for a stream verified only at its end (an image
    /// layer checked against its digest).
    fn hold(&mut self);
    /// Ends a [`Worker::hold`]: keeps the held findings, or drops them.
    fn release(&mut self, keep: bool);
}

/// Receives what sources produce. Shared by all source threads; each
/// thread asks for its own [`Worker`].
pub trait Sink: Sync {
    fn worker(&self) -> Box<dyn Worker + Send + '_>;
    fn warn(&self, warning: Warning);
    /// An input deliberately not scanned (too large, not a regular file).
    fn skipped(&self, input: &str, reason: &str);
    /// How many blobs the source is about to hand over, when it knows
    /// (progress with an ETA).
    fn plan(&self, _blobs: u64) {}
}
