//! Kubernetes objects in YAML streams or JSON (`kind: List` included):
//! Secret values (base64 `data` decoded, `stringData` as is), ConfigMap
//! data, containers' `env[].value`, the applied object kept in the
//! `last-applied-configuration` annotation, and Helm release objects
//! (handed to [`super::helm`]). SealedSecrets and SOPS-encrypted objects
//! hold ciphertext and are left alone; `valueFrom`/`envFrom` are
//! references, not values.

use serde_norway::Value;

use super::locate::{self, Pos, Positions};
use super::{codec, helm, Decoded, Found, MAX_DEPTH};
use crate::source::{Origin, ValueKind};

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// Prefix of the name Helm gives a release revision's Secret or ConfigMap.
pub const HELM_RELEASE_PREFIX: &str = "sh.helm.release.v1.";
/// How deep a workload's spec is searched for container lists.
const MAX_SPEC_DEPTH: u8 = 8;

/// Decodes every object in `text` (a YAML stream or a JSON document) found
/// at `within`. With `anchor` (text itself decoded from a payload) every
/// value is reported there; without, where it sits in `text`. Objects
/// without a namespace are in `namespace` (a release's, for its manifest).
pub fn objects(
    text: &[u8],
    within: &Origin,
    anchor: Option<Pos>,
    namespace: &str,
    depth: u8,
    out: &mut Found,
) {
    let json = text.trim_ascii_start().starts_with(b"{");
    let docs = if json {
        std::iter::once(0..text.len()).collect()
    } else {
        locate::documents(text)
    };
    let several = docs.len() > 1;
    // Documents come in order: lines are counted once across them.
    let mut lines = locate::LineCounter::default();
    for (i, doc) in docs.into_iter().enumerate() {
        // In a long stream most documents are not objects with values
        // (plain config): the substring sniff is far cheaper than a parse.
        if several && !super::may_hold_objects(&text[doc.clone()]) {
            out.other_objects += 1;
            continue;
        }
        let trimmed = (!json)
            .then(|| object_keys_only(&text[doc.clone()]))
            .flatten();
        // Parsed once: a document whose object keys refer to anchors in
        // blocks cut away is reported as not parsing, like a broken one.
        let parsed = serde_norway::from_slice::<Value>(
            trimmed.as_ref().map_or(&text[doc.clone()], |t| &t.text),
        );
        let value: Value = match parsed {
            Ok(v) => v,
            Err(e) => {
                // Chart templates are not YAML until rendered: not an error.
                if memchr::memmem::find(&text[doc.clone()], b"{{").is_none() {
                    let object = if several {
                        format!("document {}", i + 1)
                    } else {
                        "document".to_string()
                    };
                    let at = e
                        .location()
                        .map(|l| {
                            let line = trimmed.as_ref().map_or(l.line(), |t| t.doc_line(l.line()));
                            format!(" (line {line} of the document)")
                        })
                        .unwrap_or_default();
                    out.warn(&object, format!("not valid YAML or JSON{at}"));
                }
                out.other_objects += 1;
                continue;
            }
        };
        if value.is_null() {
            continue;
        }
        let place = match anchor {
            Some(pos) => Place::Fixed(pos),
            None => {
                let start = lines.pos(text, doc.start);
                Place::Located {
                    text,
                    positions: locate::locate(text, doc, &value, &mut lines),
                    start,
                }
            }
        };
        let cx = Cx {
            place: &place,
            within,
            namespace,
            depth,
        };
        object(&value, &cx, out);
    }
}

/// Where values are reported.
enum Place<'t> {
    /// Each value where it sits in `text`.
    Located {
        text: &'t [u8],
        positions: Positions,
        /// The document's start, for values whose key was not found.
        start: Pos,
    },
    /// Every value at one place (the payload text was decoded from).
    Fixed(Pos),
}

impl Place<'_> {
    /// Where `v` starts, and whether `bytes` stand there verbatim.
    fn at(&self, v: &Value, bytes: &[u8]) -> (Pos, bool) {
        match self {
            Place::Fixed(pos) => (*pos, false),
            Place::Located {
                text,
                positions,
                start,
            } => match positions.of(v) {
                Some((pos, offset)) => (pos, stands_at(text, offset, bytes)),
                None => (*start, false),
            },
        }
    }
}

/// Whether `bytes` stand at `offset` as written: the same bytes, or the
/// first line of a literal block scalar (`key: |`), whose lines keep their
/// line numbers (their columns then lack the block's indentation).
fn stands_at(text: &[u8], offset: usize, bytes: &[u8]) -> bool {
    let rest = &text[offset..];
    if rest.starts_with(bytes) {
        return true;
    }
    let Some(newline) = memchr::memchr(b'\n', bytes) else {
        return false;
    };
    let line_start = memchr::memrchr(b'\n', &text[..offset]).map_or(0, |i| i + 1);
    let indicator_line = match line_start.checked_sub(1) {
        Some(nl) => &text[memchr::memrchr(b'\n', &text[..nl]).map_or(0, |i| i + 1)..nl],
        None => return false,
    };
    let indicator = indicator_line.trim_ascii_end();
    let literal =
        indicator.ends_with(b"|") || indicator.ends_with(b"|-") || indicator.ends_with(b"|+");
    literal && rest.starts_with(&bytes[..=newline])
}

struct Cx<'a> {
    place: &'a Place<'a>,
    within: &'a Origin,
    /// For objects that name none.
    namespace: &'a str,
    depth: u8,
}

/// An object's identity, for origins and warnings.
struct Meta<'v> {
    kind: &'v str,
    name: &'v str,
    namespace: &'v str,
}

impl Meta<'_> {
    fn label(&self) -> String {
        if self.namespace.is_empty() {
            format!("{} {}", self.kind, self.name)
        } else {
            format!("{} {}/{}", self.kind, self.namespace, self.name)
        }
    }

    fn origin(&self, key: &str, within: &Origin) -> Origin {
        Origin::K8s {
            kind: self.kind.to_string(),
            namespace: self.namespace.to_string(),
            name: self.name.to_string(),
            key: key.to_string(),
            within: Box::new(within.clone()),
        }
    }
}

fn str_at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v str> {
    let mut cur = v;
    for k in path {
        cur = cur.get(*k)?;
    }
    cur.as_str()
}

fn object(v: &Value, cx: &Cx<'_>, out: &mut Found) {
    object_of_kind(v, "", cx, out);
}

/// `list_kind`: the kind an API list (`SecretList`) gives its items, which
/// the API server sends without `kind` (kubectl adds it).
fn object_of_kind(v: &Value, list_kind: &str, cx: &Cx<'_>, out: &mut Found) {
    let kind = str_at(v, &["kind"]).unwrap_or(list_kind);
    if let Some(items) = v.get("items").and_then(Value::as_sequence) {
        if let Some(item_kind) = kind.strip_suffix("List") {
            for item in items {
                object_of_kind(item, item_kind, cx, out);
            }
            return;
        }
    }
    // Ciphertext, not values: SealedSecrets and SOPS-encrypted files.
    if kind == "SealedSecret" || v.get("sops").is_some_and(Value::is_mapping) {
        out.encrypted_objects += 1;
        return;
    }
    out.other_objects += 1;
    let meta = Meta {
        kind,
        name: str_at(v, &["metadata", "name"]).unwrap_or(""),
        namespace: str_at(v, &["metadata", "namespace"]).unwrap_or(cx.namespace),
    };
    last_applied(v, &meta, cx, out);
    match kind {
        "Secret" => secret(v, &meta, cx, out),
        "ConfigMap" => config_map(v, &meta, cx, out),
        _ => {
            if let Some(spec) = v.get("spec") {
                containers(spec, &meta, cx, out, 0);
            }
        }
    }
}

/// A value encrypted in place by SOPS (`ENC[AES256_GCM,data:…]`) or left
/// to a template engine: not a value to decode.
fn not_a_value(s: &str) -> bool {
    s.starts_with("ENC[") || s.contains("{{") || s.contains("${")
}

fn secret(v: &Value, meta: &Meta<'_>, cx: &Cx<'_>, out: &mut Found) {
    let data = v.get("data").and_then(Value::as_mapping);
    let is_helm = str_at(v, &["type"]) == Some("helm.sh/release.v1")
        || meta.name.starts_with(HELM_RELEASE_PREFIX);
    if is_helm {
        if let Some(release) = data.and_then(|d| d.get("release")) {
            helm_release(release, meta, cx, out);
            return;
        }
    }
    for (k, val) in data.into_iter().flatten() {
        let (Some(key), Some(text)) = (k.as_str(), val.as_str()) else {
            continue;
        };
        if text.trim().is_empty() || not_a_value(text) {
            continue;
        }
        match codec::base64(text.as_bytes()) {
            Ok(bytes) => {
                let (pos, _) = cx.place.at(val, b"");
                emit(
                    out,
                    meta.origin(key, cx.within),
                    key,
                    bytes,
                    ValueKind::Secret,
                    pos,
                    false,
                );
            }
            Err(e) => out.warn(&meta.label(), format!("data.{key}: {e}")),
        }
    }
    if let Some(string_data) = v.get("stringData").and_then(Value::as_mapping) {
        plain_values(string_data, meta, ValueKind::Secret, cx, out);
    }
}

fn config_map(v: &Value, meta: &Meta<'_>, cx: &Cx<'_>, out: &mut Found) {
    let Some(data) = v.get("data").and_then(Value::as_mapping) else {
        return;
    };
    let helm_owned = str_at(v, &["metadata", "labels", "owner"]) == Some("helm")
        && meta.name.starts_with(HELM_RELEASE_PREFIX);
    if helm_owned {
        if let Some(release) = data.get("release") {
            helm_release(release, meta, cx, out);
            return;
        }
    }
    plain_values(data, meta, ValueKind::Named, cx, out);
}

/// String values of a mapping as they stand (`stringData`, ConfigMap `data`).
fn plain_values(
    map: &serde_norway::Mapping,
    meta: &Meta<'_>,
    kind: ValueKind,
    cx: &Cx<'_>,
    out: &mut Found,
) {
    for (k, val) in map {
        let (Some(key), Some(text)) = (k.as_str(), val.as_str()) else {
            continue;
        };
        if text.trim().is_empty() || text.starts_with("ENC[") {
            continue;
        }
        let (pos, verbatim) = cx.place.at(val, text.as_bytes());
        let origin = meta.origin(key, cx.within);
        emit(
            out,
            origin,
            key,
            text.as_bytes().to_vec(),
            kind,
            pos,
            verbatim,
        );
    }
}

fn helm_release(release: &Value, meta: &Meta<'_>, cx: &Cx<'_>, out: &mut Found) {
    let Some(payload) = release.as_str() else {
        out.warn(&meta.label(), "data.release is not a string");
        return;
    };
    let (pos, _) = cx.place.at(release, b"");
    let object = helm::Object {
        label: meta.label(),
        name: meta.name.to_string(),
        namespace: meta.namespace.to_string(),
        guessed: false,
    };
    helm::release(payload.as_bytes(), &object, cx.within, pos, cx.depth, out);
}

/// `env[].value` of every container list under a workload's spec (Pod,
/// Deployment, StatefulSet, DaemonSet, Job, CronJob and custom resources
/// alike).
fn containers(v: &Value, meta: &Meta<'_>, cx: &Cx<'_>, out: &mut Found, depth: u8) {
    if depth > MAX_SPEC_DEPTH {
        return;
    }
    let Some(map) = v.as_mapping() else {
        if let Some(items) = v.as_sequence() {
            for i in items {
                containers(i, meta, cx, out, depth + 1);
            }
        }
        return;
    };
    for (k, child) in map {
        let list = matches!(
            k.as_str(),
            Some("containers" | "initContainers" | "ephemeralContainers")
        );
        match child.as_sequence() {
            Some(items) if list => items.iter().for_each(|c| env(c, meta, cx, out)),
            _ => containers(child, meta, cx, out, depth + 1),
        }
    }
}

fn env(container: &Value, meta: &Meta<'_>, cx: &Cx<'_>, out: &mut Found) {
    let cname = str_at(container, &["name"]).unwrap_or("");
    let Some(vars) = container.get("env").and_then(Value::as_sequence) else {
        return;
    };
    for var in vars {
        let (Some(name), Some(value)) = (str_at(var, &["name"]), var.get("value")) else {
            continue;
        };
        let Some(text) = value.as_str().filter(|t| !t.trim().is_empty()) else {
            continue;
        };
        let (pos, verbatim) = cx.place.at(value, text.as_bytes());
        let origin = meta.origin(&format!("containers[{cname}].env[{name}]"), cx.within);
        let bytes = text.as_bytes().to_vec();
        emit(out, origin, name, bytes, ValueKind::Named, pos, verbatim);
    }
}

/// The object as `kubectl apply` last wrote it, Secret data included.
fn last_applied(v: &Value, meta: &Meta<'_>, cx: &Cx<'_>, out: &mut Found) {
    let Some(annotation) = v.get("metadata").and_then(|m| m.get("annotations")) else {
        return;
    };
    let Some(applied) = annotation.get(LAST_APPLIED) else {
        return;
    };
    let Some(json) = applied.as_str().filter(|s| !s.trim().is_empty()) else {
        return;
    };
    if cx.depth >= MAX_DEPTH {
        return;
    }
    let parsed: Value = match serde_norway::from_str(json) {
        Ok(p) => p,
        Err(_) => {
            out.warn(&meta.label(), format!("{LAST_APPLIED}: not valid JSON"));
            return;
        }
    };
    let (pos, _) = cx.place.at(applied, b"");
    let within = meta.origin(LAST_APPLIED, cx.within);
    let place = Place::Fixed(pos);
    let inner = Cx {
        place: &place,
        within: &within,
        namespace: meta.namespace,
        depth: cx.depth + 1,
    };
    object(&parsed, &inner, out);
}

fn emit(
    out: &mut Found,
    origin: Origin,
    name: &str,
    value: Vec<u8>,
    kind: ValueKind,
    pos: Pos,
    verbatim: bool,
) {
    out.values.push(Decoded {
        origin,
        name: name.to_string(),
        value,
        kind,
        pos,
        verbatim,
    });
}

/// Top-level keys under which a Kubernetes object (or a list of them) keeps
/// what the decoder reads.
const OBJECT_KEYS: &[&[u8]] = &[
    b"apiVersion",
    b"kind",
    b"metadata",
    b"type",
    b"data",
    b"stringData",
    b"binaryData",
    b"spec",
    b"items",
    b"sops",
];

/// A block-style YAML document cut down to its top-level blocks whose key
/// is one of [`OBJECT_KEYS`] (the first of each: duplicate keys are
/// invalid), joined: a manifest inside a long config file parses at the
/// cost of the manifest, not of every line around it. Values are located in
/// the whole document afterwards, so only parse errors need `blocks` to
/// find their line.
struct ObjectKeys {
    text: Vec<u8>,
    /// Per kept block: its first line in `text` and in the document
    /// (0-based).
    blocks: Vec<(usize, usize)>,
}

impl ObjectKeys {
    /// The document's 1-based line for `text`'s 1-based `line`.
    fn doc_line(&self, line: usize) -> usize {
        let at = line.saturating_sub(1);
        let i = self.blocks.partition_point(|&(t, _)| t <= at);
        match i.checked_sub(1).map(|i| self.blocks[i]) {
            Some((t, d)) => d + (at - t) + 1,
            None => line,
        }
    }
}

/// [`ObjectKeys`] of `doc`; `None` when every block is kept.
fn object_keys_only(doc: &[u8]) -> Option<ObjectKeys> {
    // Where each run of kept or of cut blocks starts (offset, line), and
    // which it is; the lines before any key are kept.
    let mut starts = vec![(0, 0, true)];
    let mut seen: Vec<&[u8]> = Vec::new();
    let line_starts = std::iter::once(0).chain(memchr::memchr_iter(b'\n', doc).map(|nl| nl + 1));
    // One more start than newlines: the last index is the line count.
    let mut lines = 0;
    for (line, at) in line_starts.enumerate() {
        lines = line;
        let starts_block = doc
            .get(at)
            .is_some_and(|&b| b.is_ascii_alphabetic() || b == b'"' || b == b'\'' || b == b'_');
        if !starts_block {
            continue;
        }
        let rest = &doc[at..];
        let key = rest[..memchr::memchr2(b':', b'\n', rest).unwrap_or(rest.len())].trim_ascii();
        let unquoted = |k: &'static [u8]| {
            key == k || (key.len() == k.len() + 2 && &key[1..key.len() - 1] == k)
        };
        let kept = OBJECT_KEYS.iter().any(|k| unquoted(k)) && !seen.contains(&key);
        if kept {
            seen.push(key);
        }
        if starts.last().is_some_and(|&(_, _, k)| k != kept) {
            starts.push((at, line, kept));
        }
    }
    // The end, as the start of one more run.
    starts.push((doc.len(), lines, false));
    let mut out = ObjectKeys {
        text: Vec::new(),
        blocks: Vec::new(),
    };
    let (mut cut, mut text_lines) = (false, 0);
    for pair in starts.windows(2) {
        let ((from, from_line, kept), (to, to_line, _)) = (pair[0], pair[1]);
        if from == to {
            continue;
        }
        if kept {
            out.blocks.push((text_lines, from_line));
            out.text.extend_from_slice(&doc[from..to]);
            text_lines += to_line - from_line;
        } else {
            cut = true;
        }
    }
    cut.then_some(out)
}

#[cfg(test)]
mod trim_tests {
    use super::object_keys_only;

    #[test]
    fn config_blocks_around_a_manifest_are_cut_and_lines_map_back() {
        let doc = b"apiVersion: v1\nlogin:\n  - page\n  - entity\nkind: Secret\ndata:\n  password: cGFzcw==\nutil:\n  - x\nkind: Again\n";
        let t = object_keys_only(doc).expect("cut");
        assert_eq!(
            String::from_utf8(t.text.clone()).expect("utf-8"),
            "apiVersion: v1\nkind: Secret\ndata:\n  password: cGFzcw==\n"
        );
        // Line 2 of the text (`kind`) is line 5 of the document, line 4
        // (`password`) line 7.
        assert_eq!((t.doc_line(1), t.doc_line(2), t.doc_line(4)), (1, 5, 7));
        let plain = b"apiVersion: v1\nkind: Secret\ndata:\n  k: dg==\n";
        assert!(object_keys_only(plain).is_none());
        // No final newline; a leading comment is kept with what follows.
        let t = object_keys_only(b"# c\nx: 1\nkind: A").expect("cut");
        assert_eq!(t.text, b"# c\nkind: A");
        assert_eq!(t.doc_line(2), 3);
    }
}
