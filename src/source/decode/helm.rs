//! Helm release revisions. Helm 3 and 4 keep each revision as a Secret
//! (`data.release` = base64 of base64 of gzip of JSON as kubectl prints it)
//! or a ConfigMap (base64 of gzip of JSON); releases written without gzip
//! hold the JSON directly. Inside, the user's values (`config`), the
//! chart's defaults, templates and files, the rendered manifests (whose
//! Secrets are decoded in turn) and the notes are scanned. Every value of
//! one revision is reported at the payload's position in the outer text.

use std::borrow::Cow;

use serde_json::Value;

use super::locate::Pos;
use super::{codec, k8s, sniff, Decoded, Found, Shape, MAX_DEPTH};
use crate::source::{Origin, ValueKind};

/// Encoding layers peeled before the JSON (two base64, one gzip, one spare).
const MAX_LAYERS: usize = 4;

/// The object a release payload came from.
pub struct Object {
    /// `Secret prod/sh.helm.release.v1.web.v3`, for warnings.
    pub label: String,
    /// The object's name (`sh.helm.release.v1.NAME.vREV`), empty for a bare payload.
    pub name: String,
    pub namespace: String,
    /// Recognised by its first bytes alone (a bare payload): when it does
    /// not decode to a release it was likely none, so only a decompression
    /// bomb is worth a warning.
    pub guessed: bool,
}

/// Decodes one release payload found at `within` (`pos` in its text).
pub fn release(
    payload: &[u8],
    object: &Object,
    within: &Origin,
    pos: Pos,
    depth: u8,
    out: &mut Found,
) {
    let json = match peel(payload) {
        Ok(j) => j,
        Err(e) => {
            if !object.guessed || matches!(e, codec::DecodeError::TooLarge { .. }) {
                out.warn(&object.label, format!("release: {e}"));
            }
            return;
        }
    };
    let body: Value = match serde_json::from_slice(json.trim_ascii()) {
        Ok(v) => v,
        Err(_) => {
            if !object.guessed {
                out.warn(&object.label, "release: not JSON after decoding");
            }
            return;
        }
    };
    let Some(rev) = Revision::read(&body, object, within, pos) else {
        if !object.guessed {
            out.warn(&object.label, "release: JSON is not a Helm release");
        }
        return;
    };
    rev.scan(&body, depth, out, &object.label);
}

/// Base64 and gzip layers down to the JSON text.
fn peel(payload: &[u8]) -> Result<Cow<'_, [u8]>, codec::DecodeError> {
    let mut bytes = Cow::Borrowed(payload);
    for _ in 0..MAX_LAYERS {
        let next = {
            let t = bytes.trim_ascii();
            if codec::is_gzip(t) {
                codec::gunzip(t)?
            } else if t.starts_with(b"{") {
                break;
            } else {
                codec::base64(t)?
            }
        };
        bytes = Cow::Owned(next);
    }
    Ok(bytes)
}

/// One release revision's identity, shared by the origins of its values.
struct Revision<'w> {
    release: String,
    namespace: String,
    revision: u32,
    status: String,
    within: &'w Origin,
    pos: Pos,
}

impl<'w> Revision<'w> {
    /// The release's identity, or `None` when `body` is not a release.
    fn read(body: &Value, object: &Object, within: &'w Origin, pos: Pos) -> Option<Self> {
        let map = body.as_object()?;
        let release = map.get("name")?.as_str()?;
        if !["info", "chart", "config", "manifest"]
            .iter()
            .any(|k| map.contains_key(*k))
        {
            return None;
        }
        // The object name says `.vREV` when the body does not.
        let from_name = object
            .name
            .rsplit_once(".v")
            .and_then(|(_, n)| n.parse::<u32>().ok());
        let revision = map
            .get("version")
            .and_then(Value::as_u64)
            .and_then(|v| u32::try_from(v).ok())
            .or(from_name)
            .unwrap_or(0);
        let namespace = map
            .get("namespace")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .unwrap_or(&object.namespace);
        let status = body
            .pointer("/info/status")
            .and_then(Value::as_str)
            .unwrap_or("");
        Some(Revision {
            release: release.to_string(),
            namespace: namespace.to_string(),
            revision,
            status: status.to_string(),
            within,
            pos,
        })
    }

    fn origin(&self, field: &str) -> Origin {
        Origin::HelmRelease {
            release: self.release.clone(),
            namespace: self.namespace.clone(),
            revision: self.revision,
            revisions: self.revision.to_string(),
            status: self.status.clone(),
            field: field.to_string(),
            within: Box::new(self.within.clone()),
        }
    }

    fn scan(&self, body: &Value, depth: u8, out: &mut Found, label: &str) {
        if let Some(config) = body.get("config") {
            self.leaves(config, "config", out);
        }
        if let Some(values) = body.pointer("/chart/values") {
            self.leaves(values, "chart.values", out);
        }
        for list in ["templates", "files"] {
            let Some(files) = body
                .pointer(&format!("/chart/{list}"))
                .and_then(Value::as_array)
            else {
                continue;
            };
            for f in files {
                let name = f.get("name").and_then(Value::as_str).unwrap_or("");
                let Some(data) = f.get("data").and_then(Value::as_str) else {
                    continue;
                };
                let field = format!("chart.{list}[{name}]");
                match codec::base64(data.as_bytes()) {
                    Ok(text) => self.text(&field, text, out),
                    Err(e) => out.warn(label, format!("release {field}: {e}")),
                }
            }
        }
        if let Some(manifest) = body.get("manifest").and_then(Value::as_str) {
            self.manifest("manifest", manifest, depth, out, label);
        }
        for hook in body
            .get("hooks")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = hook.get("name").and_then(Value::as_str).unwrap_or("");
            if let Some(manifest) = hook.get("manifest").and_then(Value::as_str) {
                let field = format!("hooks[{name}].manifest");
                self.manifest(&field, manifest, depth, out, label);
            }
        }
        if let Some(notes) = body.pointer("/info/notes").and_then(Value::as_str) {
            self.text("info.notes", notes.as_bytes().to_vec(), out);
        }
    }

    /// Every string leaf of a values tree, named by its dotted path so the
    /// name rules apply (`config.database.password`).
    fn leaves(&self, v: &Value, path: &str, out: &mut Found) {
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    self.leaves(child, &format!("{path}.{k}"), out);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    self.leaves(child, &format!("{path}[{i}]"), out);
                }
            }
            Value::String(s) if !s.trim().is_empty() => out.values.push(Decoded {
                origin: self.origin(path),
                name: path.to_string(),
                value: s.as_bytes().to_vec(),
                kind: ValueKind::Named,
                pos: self.pos,
                verbatim: false,
            }),
            _ => {}
        }
    }

    /// A text part scanned by the text rules alone (its name is no
    /// variable name: `templates/secret.yaml` says nothing of its content).
    fn text(&self, field: &str, text: Vec<u8>, out: &mut Found) {
        if text.trim_ascii().is_empty() {
            return;
        }
        out.values.push(Decoded {
            origin: self.origin(field),
            name: String::new(),
            value: text,
            kind: ValueKind::Named,
            pos: self.pos,
            verbatim: false,
        });
    }

    /// Rendered YAML: scanned as text, and its objects decoded in turn.
    fn manifest(&self, field: &str, manifest: &str, depth: u8, out: &mut Found, label: &str) {
        self.text(field, manifest.as_bytes().to_vec(), out);
        if depth + 1 < MAX_DEPTH && sniff(manifest.as_bytes()) == Some(Shape::Objects) {
            let within = self.origin(field);
            let earlier = out.warnings.len();
            k8s::objects(
                manifest.as_bytes(),
                &within,
                Some(self.pos),
                &self.namespace,
                depth + 1,
                out,
            );
            // Name the release the malformed document is in.
            for w in &mut out.warnings[earlier..] {
                w.object = format!(
                    "{}, release {} revision {} {field} {}",
                    label, self.release, self.revision, w.object
                );
            }
        }
    }
}
