//! An image config's fields, each its own origin: `Env` entries and
//! `Labels` as named values (a variable named like a secret is a finding
//! with no provider rule), `Cmd`, `Entrypoint` and each history step's
//! `created_by` (RUN lines, build args) as text.

use crate::source::{ImageConfigOrigin, NamedValue, Origin, ValueKind, Worker};

use super::spec::ImageConfig;

/// Who the config belongs to.
pub struct ConfigOwner<'a> {
    pub image: &'a str,
    pub manifest_digest: &'a str,
    pub platform: Option<&'a str>,
}

impl ConfigOwner<'_> {
    fn origin(&self, field: String) -> Origin {
        Origin::ImageConfig(Box::new(ImageConfigOrigin {
            image: self.image.to_string(),
            manifest_digest: self.manifest_digest.to_string(),
            platform: self.platform.map(str::to_string),
            field,
        }))
    }
}

pub fn scan(config: &ImageConfig, owner: &ConfigOwner<'_>, worker: &mut dyn Worker) {
    if let Some(run) = &config.config {
        for (i, entry) in run.env.iter().flatten().enumerate() {
            let (name, value) = entry.split_once('=').unwrap_or((entry, ""));
            worker.value(
                &owner.origin(format!("Env[{i}]")),
                &named(name, value, name.len() + 1),
            );
        }
        for (key, value) in run.labels.iter().flatten() {
            worker.value(
                &owner.origin(format!("Labels[{key}]")),
                &named(key, value, 0),
            );
        }
        for (field, args) in [("Cmd", &run.cmd), ("Entrypoint", &run.entrypoint)] {
            if let Some(args) = args {
                worker.blob(&owner.origin(field.to_string()), args.join(" ").as_bytes());
            }
        }
    }
    for (i, step) in config.history.iter().enumerate() {
        if let Some(created_by) = &step.created_by {
            created_by_step(
                created_by,
                &owner.origin(format!("history[{i}].created_by")),
                worker,
            );
        }
    }
}

/// A value starting at byte `offset` of its field's text (line 1).
fn named<'a>(name: &'a str, value: &'a str, offset: usize) -> NamedValue<'a> {
    NamedValue {
        name,
        value: value.as_bytes(),
        kind: ValueKind::Named,
        line: 1,
        column: u32::try_from(offset + 1).unwrap_or(u32::MAX),
        verbatim: true,
    }
}

/// `|2 NPM_TOKEN=npm_… DEBUG=1 /bin/sh -c npm ci`: Docker records a RUN
/// step's build args as `|N` and N `NAME=value` words before the command.
/// The args go through as named values (so `DB_PASSWORD=…` is found by its
/// name), the command as text with the args blanked (so a token in an arg
/// is reported once, at its own column).
fn created_by_step(text: &str, origin: &Origin, worker: &mut dyn Worker) {
    let mut blanked = text.as_bytes().to_vec();
    if let Some(args) = build_args(text) {
        for (start, name, value) in args {
            worker.value(origin, &named(name, value, start + name.len() + 1));
            let end = start + name.len() + 1 + value.len();
            blanked[start..end].fill(b' ');
        }
    }
    worker.blob(origin, &blanked);
}

/// The `(byte offset, name, value)` of each build arg, when `text` starts
/// with `|N`.
fn build_args(text: &str) -> Option<Vec<(usize, &str, &str)>> {
    let rest = text.strip_prefix('|')?;
    let digits = rest.find(' ')?;
    let count: usize = rest[..digits].parse().ok()?;
    let mut pos = 1 + digits;
    let mut out = Vec::with_capacity(count.min(64));
    for _ in 0..count {
        while text[pos..].starts_with(' ') {
            pos += 1;
        }
        let end = text[pos..].find(' ').map_or(text.len(), |e| pos + e);
        let word = &text[pos..end];
        let (name, value) = word.split_once('=')?;
        out.push((pos, name, value));
        pos = end;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_args_are_split_with_offsets() {
        let text = "|2 NPM_TOKEN=abc DEBUG=1 /bin/sh -c npm ci";
        let args = build_args(text).expect("args");
        assert_eq!(args, vec![(3, "NPM_TOKEN", "abc"), (17, "DEBUG", "1")]);
        assert_eq!(&text[3 + "NPM_TOKEN=".len()..][..3], "abc");
        assert!(build_args("/bin/sh -c true").is_none());
        assert!(build_args("|x oops").is_none());
    }
}
