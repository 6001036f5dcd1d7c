//! Decoders for objects recognised by their content wherever their bytes
//! come from (a file, a git blob, an image layer, `scan k8s -f`):
//! Kubernetes Secrets, ConfigMaps and workload specs, and Helm release
//! revisions. [`Decoding`] wraps the driver's [`Worker`]: every blob is
//! scanned as it is, and a blob that looks like such objects (a cheap
//! substring sniff) is also parsed, its values handed to the inner worker
//! with nested origins (`k8s`, `helm-release`, `within` the blob's origin).
//!
//! A value found both by the plain text scan and by a decoder (a Secret's
//! `stringData`, a token in a rendered manifest) is one copy: the report
//! keeps the decoded finding, which names the object and key, and drops
//! the finding at the enclosing origin on the same line with the same
//! fingerprint (`report::decoded`).

mod codec;
mod helm;
mod k8s;
pub mod locate;

use std::sync::LazyLock;

use memchr::memmem::Finder;

pub use codec::DecodeError;
use locate::Pos;

use super::{NamedValue, Origin, Sink, ValueKind, Warning, Worker};

/// Objects nest (a release's manifest holds Secrets whose annotation holds
/// the applied object): deeper than this is not followed.
const MAX_DEPTH: u8 = 4;
/// Larger blobs are scanned as text only.
const MAX_PARSE: usize = 256 << 20;

/// A [`Worker`] that also decodes the Kubernetes objects and Helm releases
/// in each blob and hands their values to `inner`.
pub struct Decoding<'s, W> {
    inner: W,
    sink: &'s dyn Sink,
}

impl<'s, W: Worker> Decoding<'s, W> {
    /// `sink` receives the warnings about malformed objects.
    pub fn new(inner: W, sink: &'s dyn Sink) -> Self {
        Decoding { inner, sink }
    }

    /// Hands what `decode` found to the inner worker at each of `roots`.
    fn deliver(&mut self, found: Found, roots: &[Origin]) {
        let Some(first) = roots.first() else {
            return;
        };
        for w in found.warnings {
            self.sink.warn(Warning {
                input: format!("{first} ({})", w.object),
                message: w.message,
            });
        }
        for root in roots {
            for v in &found.values {
                let mut origin = v.origin.clone();
                origin.set_root(root);
                self.inner.value(
                    &origin,
                    &NamedValue {
                        name: &v.name,
                        value: &v.value,
                        kind: v.kind,
                        line: v.pos.line,
                        column: v.pos.column,
                        verbatim: v.verbatim,
                    },
                );
            }
        }
    }
}

impl<W: Worker> Worker for Decoding<'_, W> {
    fn blob(&mut self, origin: &Origin, data: &[u8]) {
        let found = decode(data, origin);
        if !found.as_ref().is_some_and(Found::ciphertext_only) {
            self.inner.blob(origin, data);
        }
        if let Some(found) = found {
            self.deliver(found, std::slice::from_ref(origin));
        }
    }

    fn blob_at_each(&mut self, data: &[u8], origins: &mut dyn FnMut() -> Vec<Origin>) {
        let Some(shape) = sniff(data) else {
            self.inner.blob_at_each(data, origins);
            return;
        };
        // Decoded once against a stand-in root, delivered at every place.
        let stand_in = Origin::File {
            path: String::new(),
        };
        let found = decode_shape(data, shape, &stand_in);
        if !found.as_ref().is_some_and(Found::ciphertext_only) {
            self.inner.blob_at_each(data, origins);
        }
        // Origins are built only for blobs with something to report.
        if let Some(found) = found.filter(|f| !f.values.is_empty() || !f.warnings.is_empty()) {
            let roots = origins();
            self.deliver(found, &roots);
        }
    }

    fn value(&mut self, origin: &Origin, value: &NamedValue<'_>) {
        self.inner.value(origin, value);
    }

    // A rewritten copy (a normalised log) is text, not an object.
    fn blob_mapped(&mut self, origin: &Origin, data: &[u8], map: &dyn Fn(u32, u32) -> (u32, u32)) {
        self.inner.blob_mapped(origin, data, map);
    }

    fn hold(&mut self) {
        self.inner.hold();
    }

    fn release(&mut self, keep: bool) {
        self.inner.release(keep);
    }
}

/// What a blob looks like to the sniff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// YAML or JSON that may hold Kubernetes objects.
    Objects,
    /// A Helm release body on its own (`H4sI…`: base64 of gzip; or the
    /// Secret's base64 of that), as `kubectl get -o jsonpath` prints it.
    ReleasePayload,
}

static API_VERSION: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("apiVersion"));
static KIND: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("kind"));
static OBJECT_WORDS: LazyLock<[Finder<'static>; 4]> = LazyLock::new(|| {
    [
        Finder::new("Secret"),
        Finder::new("ConfigMap"),
        Finder::new("containers"),
        Finder::new("last-applied-configuration"),
    ]
});

/// A few substring searches: most files lack `apiVersion` and cost one
/// pass; only objects that may hold values are parsed.
pub fn sniff(data: &[u8]) -> Option<Shape> {
    let head = data.trim_ascii_start();
    if head.starts_with(b"H4sI") || head.starts_with(b"SDRzSU") {
        return Some(Shape::ReleasePayload);
    }
    if may_hold_objects(data) {
        return Some(Shape::Objects);
    }
    None
}

/// Whether `data` (a file, or one document of a YAML stream) may hold a
/// Kubernetes object with values: parsing is worth its cost only then.
pub fn may_hold_objects(data: &[u8]) -> bool {
    API_VERSION.find(data).is_some()
        && KIND.find(data).is_some()
        && OBJECT_WORDS.iter().any(|f| f.find(data).is_some())
}

/// Parses the objects in `data` (found at `root`), if it looks like any.
pub fn decode(data: &[u8], root: &Origin) -> Option<Found> {
    decode_shape(data, sniff(data)?, root)
}

/// [`decode`] for a blob the sniff has already seen.
fn decode_shape(data: &[u8], shape: Shape, root: &Origin) -> Option<Found> {
    if data.len() > MAX_PARSE {
        return None;
    }
    let mut found = Found::default();
    match shape {
        Shape::Objects => k8s::objects(data, root, None, "", 0, &mut found),
        Shape::ReleasePayload => {
            let offset = data.len() - data.trim_ascii_start().len();
            let pos = locate::LineCounter::default().pos(data, offset);
            let object = helm::Object {
                label: "Helm release payload".to_string(),
                name: String::new(),
                namespace: String::new(),
                guessed: true,
            };
            helm::release(data, &object, root, pos, 0, &mut found);
        }
    }
    Some(found)
}

/// Values and warnings one blob's objects produced.
#[derive(Debug, Default)]
pub struct Found {
    pub values: Vec<Decoded>,
    pub warnings: Vec<DecodeWarning>,
    /// Objects holding only ciphertext (SealedSecrets, SOPS-encrypted).
    pub encrypted_objects: usize,
    /// Every other object and every document that did not parse.
    pub other_objects: usize,
}

/// One value for [`Worker::value`], owned (it may be decoded).
#[derive(Debug)]
pub struct Decoded {
    pub origin: Origin,
    pub name: String,
    pub value: Vec<u8>,
    pub kind: ValueKind,
    pub pos: Pos,
    pub verbatim: bool,
}

/// A malformed object: named, never quoted.
#[derive(Debug)]
pub struct DecodeWarning {
    /// `Secret prod/db`, `Helm release payload`.
    pub object: String,
    pub message: String,
}

impl Found {
    /// A blob of encrypted objects only: its text scan would report
    /// ciphertext, so it is skipped.
    pub fn ciphertext_only(&self) -> bool {
        self.encrypted_objects > 0 && self.other_objects == 0
    }

    fn warn(&mut self, object: &str, message: impl Into<String>) {
        self.warnings.push(DecodeWarning {
            object: object.to_string(),
            message: message.into(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> Origin {
        Origin::File {
            path: "x.yaml".into(),
        }
    }

    /// (key, value, line, column, verbatim) of every decoded value.
    fn values(text: &str) -> Vec<(String, String, u32, u32, bool)> {
        let found = decode(text.as_bytes(), &file()).expect("sniffed");
        assert!(found.warnings.is_empty(), "{:?}", found.warnings);
        found
            .values
            .iter()
            .map(|v| {
                let key = match &v.origin {
                    Origin::K8s { key, .. } => key.clone(),
                    other => panic!("unexpected origin {other:?}"),
                };
                let value = String::from_utf8(v.value.clone()).expect("utf-8");
                (key, value, v.pos.line, v.pos.column, v.verbatim)
            })
            .collect()
    }

    #[test]
    fn ordinary_files_are_not_parsed() {
        assert_eq!(
            sniff(
                b"name: web
kind: of a list
secret: no
"
            ),
            None
        );
        assert_eq!(
            sniff(
                b"fn main() {}
"
            ),
            None
        );
        assert_eq!(
            sniff(
                b"apiVersion: v1
kind: ConfigMap
"
            ),
            Some(Shape::Objects)
        );
        assert_eq!(sniff(b"\nH4sIAAAAAAAA/"), Some(Shape::ReleasePayload));
    }

    #[test]
    fn cronjob_init_containers_and_pods() {
        let text = "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: nightly\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          initContainers:\n          - name: init\n            env:\n            - name: A_TOKEN\n              value: \"abc def\"\n          containers:\n          - name: main\n            env:\n            - name: B\n              valueFrom:\n                secretKeyRef: {name: s, key: k}\n";
        assert_eq!(
            values(text),
            vec![(
                "containers[init].env[A_TOKEN]".to_string(),
                "abc def".to_string(),
                14,
                23,
                true
            )]
        );
    }

    #[test]
    fn secret_values_templates_and_sops_values() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  a: aGVsbG8=\n  t: '{{ .Values.x | b64enc }}'\n  e: ENC[AES256_GCM,data:abc=,type:str]\n  empty: \"\"\nstringData:\n  p: plain text\n";
        assert_eq!(
            values(text),
            vec![
                ("a".to_string(), "hello".to_string(), 6, 6, false),
                ("p".to_string(), "plain text".to_string(), 11, 6, true),
            ]
        );
    }

    #[test]
    fn literal_blocks_keep_their_lines() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  app.properties: |\n    user=app\n    password=x\n  folded: >\n    a\n    b\n";
        assert_eq!(
            values(text),
            vec![
                (
                    "app.properties".to_string(),
                    "user=app\npassword=x\n".to_string(),
                    7,
                    5,
                    true
                ),
                ("folded".to_string(), "a b\n".to_string(), 10, 5, false),
            ]
        );
    }

    #[test]
    fn bare_release_payloads() {
        use base64::Engine as _;
        use std::io::Write as _;
        let json = br#"{"name":"web","namespace":"prod","version":3,"info":{"status":"deployed"},"config":{"api":{"token":"Zq7mR2vLp9wXk4Tn"}}}"#;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(json).expect("in memory");
        let payload =
            base64::engine::general_purpose::STANDARD.encode(gz.finish().expect("in memory"));
        let found = decode(payload.as_bytes(), &file()).expect("sniffed");
        assert!(found.warnings.is_empty());
        let fields: Vec<String> = found
            .values
            .iter()
            .map(|v| match &v.origin {
                Origin::HelmRelease {
                    field, revision, ..
                } => format!("{field}@{revision}"),
                other => panic!("unexpected origin {other:?}"),
            })
            .collect();
        assert_eq!(fields, vec!["config.api.token@3"]);
        // Something else that starts like one: silent.
        let found = decode(b"H4sIthis is not gzip", &file()).expect("sniffed");
        assert!(found.values.is_empty() && found.warnings.is_empty());
    }

    #[test]
    fn sealed_secrets_are_ciphertext_only() {
        let text = "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: s\nspec:\n  encryptedData:\n    a: AgBy3i4OJSWK\n";
        let found = decode(text.as_bytes(), &file()).expect("sniffed");
        assert!(found.values.is_empty() && found.ciphertext_only());
    }
}
