//! Environments inside structured documents: `docker inspect` JSON
//! (`Config.Env: ["K=V"]`) and Kubernetes objects in JSON or YAML
//! (`env: [{name, value}]`; `valueFrom` is a reference, not a value).
//! Parsers give no positions, so each value is found again in the text.

use std::borrow::Cow;

use serde_json::Value as Json;
use serde_norway::Value as Yaml;

use super::Var;

/// One `(name, value)` pair as the document holds it.
struct Pair {
    name: String,
    value: String,
    /// Docker's `"K=V"` strings: the value follows the name and `=`.
    joined: bool,
}

/// Variables of a JSON document; `None` when it is not JSON.
pub fn json(text: &[u8]) -> Option<Vec<Var<'static>>> {
    let doc: Json = serde_json::from_slice(text).ok()?;
    let mut pairs = Vec::new();
    walk_json(&doc, &mut pairs);
    Some(locate(text, pairs))
}

/// Variables of a (multi-document) YAML stream; `None` when it does not parse.
pub fn yaml(text: &[u8]) -> Option<Vec<Var<'static>>> {
    use serde::Deserialize as _;
    let mut pairs = Vec::new();
    for doc in serde_norway::Deserializer::from_slice(text) {
        let doc = Yaml::deserialize(doc).ok()?;
        walk_yaml(&doc, &mut pairs);
    }
    Some(locate(text, pairs))
}

fn walk_json(v: &Json, out: &mut Vec<Pair>) {
    match v {
        Json::Object(map) => {
            for (k, child) in map {
                match (k.as_str(), child) {
                    ("Env", Json::Array(items)) => {
                        for item in items {
                            if let Some((name, value)) =
                                item.as_str().and_then(|s| s.split_once('='))
                            {
                                out.push(Pair {
                                    name: name.to_string(),
                                    value: value.to_string(),
                                    joined: true,
                                });
                            }
                        }
                    }
                    ("env", Json::Array(items)) => {
                        for item in items {
                            let name = item.get("name").and_then(Json::as_str);
                            let value = item.get("value").and_then(json_scalar);
                            if let (Some(name), Some(value)) = (name, value) {
                                out.push(Pair {
                                    name: name.to_string(),
                                    value,
                                    joined: false,
                                });
                            }
                        }
                    }
                    _ => walk_json(child, out),
                }
            }
        }
        Json::Array(items) => items.iter().for_each(|i| walk_json(i, out)),
        _ => {}
    }
}

fn json_scalar(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn walk_yaml(v: &Yaml, out: &mut Vec<Pair>) {
    match v {
        Yaml::Mapping(map) => {
            for (k, child) in map {
                if let (Some("env"), Yaml::Sequence(items)) = (k.as_str(), child) {
                    for item in items {
                        let name = item.get("name").and_then(Yaml::as_str);
                        let value = item.get("value").and_then(yaml_scalar);
                        if let (Some(name), Some(value)) = (name, value) {
                            out.push(Pair {
                                name: name.to_string(),
                                value,
                                joined: false,
                            });
                        }
                    }
                } else {
                    walk_yaml(child, out);
                }
            }
        }
        Yaml::Sequence(items) => items.iter().for_each(|i| walk_yaml(i, out)),
        Yaml::Tagged(t) => walk_yaml(&t.value, out),
        _ => {}
    }
}

fn yaml_scalar(v: &Yaml) -> Option<String> {
    match v {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Number(n) => Some(n.to_string()),
        Yaml::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Finds each pair in document order after the previous one: the value's
/// text where it stands unescaped (verbatim), else the name's place.
fn locate(text: &[u8], pairs: Vec<Pair>) -> Vec<Var<'static>> {
    let mut cursor = 0;
    let mut out = Vec::with_capacity(pairs.len());
    for p in pairs {
        let name_at = if p.joined {
            find(text, cursor, format!("{}=", p.name).as_bytes())
        } else {
            find_word(text, cursor, p.name.as_bytes())
        };
        let from = name_at.map_or(cursor, |n| n + p.name.len());
        let value_at = if p.value.is_empty() {
            None
        } else {
            find(text, from, p.value.as_bytes())
        };
        let (offset, verbatim) = match (value_at, name_at) {
            (Some(v), _) => (v, true),
            (None, Some(n)) => (n, false),
            (None, None) => (cursor, false),
        };
        cursor = value_at.map_or(from, |v| v + p.value.len());
        let (line, column) = line_column(text, offset);
        out.push(Var {
            name: p.name,
            value: Cow::Owned(p.value.into_bytes()),
            line,
            column,
            verbatim,
        });
    }
    out
}

fn find(text: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(text.get(from..)?, needle).map(|i| from + i)
}

/// `needle` standing as a whole name (not part of a longer one).
fn find_word(text: &[u8], mut from: usize, needle: &[u8]) -> Option<usize> {
    let is_name = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_');
    while let Some(at) = find(text, from, needle) {
        let before = at.checked_sub(1).and_then(|i| text.get(i));
        if !is_name(before) && !is_name(text.get(at + needle.len())) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// 1-based line and byte column of `offset`.
pub fn line_column(text: &[u8], offset: usize) -> (u32, u32) {
    let before = &text[..offset.min(text.len())];
    let line = memchr::memchr_iter(b'\n', before).count() as u32 + 1;
    let start = memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
    (line, (offset - start) as u32 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_inspect_env_with_positions() {
        let text = b"[\n  {\n    \"Config\": {\n      \"Env\": [\n        \"PATH=/usr/bin\",\n        \"API_TOKEN=abc\"\n      ]\n    }\n  }\n]\n";
        let vars = json(text).expect("json");
        let got: Vec<_> = vars
            .iter()
            .map(|v| (v.name.as_str(), v.line, v.column, v.verbatim))
            .collect();
        assert_eq!(got, vec![("PATH", 5, 15, true), ("API_TOKEN", 6, 20, true)]);
    }

    #[test]
    fn kubernetes_yaml_skips_value_from() {
        let text = b"apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - name: app\n      env:\n        - name: A\n          valueFrom:\n            secretKeyRef: {name: s, key: k}\n        - name: B\n          value: \"hello\"\n";
        let vars = yaml(text).expect("yaml");
        let got: Vec<_> = vars
            .iter()
            .map(|v| (v.name.as_str(), v.line, v.column))
            .collect();
        assert_eq!(got, vec![("B", 11, 19)]);
    }
}
