//! Rotation tickets (`--tickets DIR`): one per exposure, a ledger kept
//! across runs. `DIR/<id>.json` is the source of truth: each run reads it
//! back, merges the copies it found, keeps `status` (and any field people
//! added), and rewrites the Markdown and tracker payloads from it. Tickets
//! whose secret is not found are marked, never deleted. Never a raw secret.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use super::exposure::parse_iso8601;
use super::Report;
use crate::engine::Rotation;

pub const SEEN: &str = "copies seen in the last scan";
pub const NOT_SEEN: &str = "no copies seen in the last scan";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketFormat {
    /// `<id>.md`.
    Markdown,
    /// `<id>.github.json`: a GitHub issue payload (`title`, `body`, `labels`).
    Github,
    /// `<id>.jira.json`: a Jira issue payload (`fields.summary`, `fields.description`, `fields.labels`).
    Jira,
}

pub struct TicketOptions<'a> {
    pub dir: PathBuf,
    pub formats: Vec<TicketFormat>,
    /// The rotation playbook of a rule id.
    pub rotation: &'a dyn Fn(&str) -> Option<Rotation>,
    /// The repository git copies belong to, as people should read it.
    pub repo: Option<String>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TicketSummary {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Existing tickets whose secret this run did not find.
    pub not_seen: usize,
}

#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct TicketError {
    pub path: String,
    pub message: String,
}

fn err(path: &Path, e: impl std::fmt::Display) -> TicketError {
    TicketError {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Writes (or updates) one ticket per exposure of `report` and sets each
/// exposure's `ticket` to its JSON path.
pub fn write(report: &mut Report, opts: &TicketOptions) -> Result<TicketSummary, TicketError> {
    std::fs::create_dir_all(&opts.dir).map_err(|e| err(&opts.dir, e))?;
    // Raw values (present only with --show-secrets) must not reach tickets
    // through free text such as commit summaries.
    let secrets: Vec<(String, String)> = report
        .findings
        .iter()
        .filter_map(|f| f.secret.clone().map(|s| (s, f.redacted.clone())))
        .filter(|(s, _)| !s.is_empty())
        .collect();
    let mut summary = TicketSummary::default();
    let mut touched = BTreeSet::new();
    for e in &mut report.exposures {
        if e.suppression.is_suppressed() {
            // Accepted on purpose: no new ticket, and an existing one is
            // left exactly as it is (not marked unseen either).
            touched.insert(e.id.clone());
            continue;
        }
        let json_path = opts.dir.join(format!("{}.json", e.id));
        let existing = read_ticket(&json_path)?;
        let is_new = existing.is_none();
        let mut t = existing.unwrap_or_default();

        let mut copies: Vec<Value> = match t.get("copies") {
            Some(Value::Array(a)) => a.clone(),
            _ => Vec::new(),
        };
        let mut keys: BTreeSet<String> = copies.iter().map(copy_key).collect();
        for loc in &e.copies {
            let mut v = serde_json::to_value(loc).map_err(|x| err(&json_path, x))?;
            // A file is the same copy whatever directory the scan ran from.
            if let (crate::source::Origin::File { path }, Some(obj)) =
                (&loc.origin, v.as_object_mut())
            {
                if let Ok(abs) = std::fs::canonicalize(path) {
                    obj.insert("path".into(), json!(abs.to_string_lossy()));
                }
            }
            if let (Some(repo), Some(obj)) = (&opts.repo, v.as_object_mut()) {
                let git_object = matches!(loc.origin, crate::source::Origin::GitUnreachableBlob(_));
                if loc.origin.commit().is_some()
                    || git_object
                    || obj.get("source") == Some(&json!("git-staged"))
                {
                    obj.insert("repo".into(), json!(repo));
                }
            }
            scrub(&mut v, &secrets);
            if keys.insert(copy_key(&v)) {
                copies.push(v);
            }
        }
        let mut fps: BTreeSet<String> = match t.get("fingerprints") {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
            _ => BTreeSet::new(),
        };
        fps.extend(e.fingerprints.iter().cloned());
        let first = pick_date(t.get("first_seen"), e.first_seen.as_deref(), true);
        let last = pick_date(t.get("last_seen"), e.last_seen.as_deref(), false);
        // A later run that knows no owner does not erase one found before.
        let keep_owner = e.owner_rule.starts_with("default")
            && t.get("owner")
                .and_then(Value::as_str)
                .is_some_and(|o| o != "unassigned");
        if keep_owner {
            e.owner = t["owner"].as_str().unwrap_or_default().to_string();
            e.owner_rule = t
                .get("owner_rule")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
        }
        let rotation = (opts.rotation)(&e.rule.id).unwrap_or_else(generic_rotation);

        t.insert("id".into(), json!(e.id));
        t.entry("status").or_insert_with(|| json!("open"));
        t.insert("fingerprint".into(), json!(e.fingerprint));
        t.insert("fingerprints".into(), json!(fps));
        t.insert("rule".into(), json!(e.rule));
        t.insert("provider".into(), json!(e.provider));
        t.insert("severity".into(), json!(e.severity));
        t.insert("redacted".into(), json!(e.redacted));
        t.insert("owner".into(), json!(e.owner));
        t.insert("owner_rule".into(), json!(e.owner_rule));
        t.insert("first_seen".into(), json!(first));
        t.insert("last_seen".into(), json!(last));
        t.insert("copies".into(), Value::Array(copies));
        t.insert("rotation".into(), json!(rotation));
        t.entry("checklist")
            .or_insert_with(|| checklist(&rotation.verify));
        t.insert("last_scan".into(), json!(SEEN));

        let changed = save(&opts.dir, &e.id, &t, &opts.formats)?;
        match (is_new, changed) {
            (true, _) => summary.created += 1,
            (false, true) => summary.updated += 1,
            (false, false) => summary.unchanged += 1,
        }
        e.ticket = Some(json_path.display().to_string());
        touched.insert(e.id.clone());
    }

    // The ledger keeps tickets this run did not see.
    let entries = std::fs::read_dir(&opts.dir).map_err(|e| err(&opts.dir, e))?;
    let mut stale: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|d| d.file_name().to_str().map(String::from))
        .filter_map(|n| n.strip_suffix(".json").map(String::from))
        .filter(|id| id.starts_with("LH-") && !id.contains('.') && !touched.contains(id))
        .collect();
    stale.sort();
    for id in stale {
        let path = opts.dir.join(format!("{id}.json"));
        let Some(mut t) = read_ticket(&path)? else {
            continue;
        };
        t.insert("last_scan".into(), json!(NOT_SEEN));
        save(&opts.dir, &id, &t, &opts.formats)?;
        summary.not_seen += 1;
    }
    Ok(summary)
}

fn read_ticket(path: &Path) -> Result<Option<Map<String, Value>>, TicketError> {
    match std::fs::read_to_string(path) {
        Ok(text) => match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(m)) => Ok(Some(m)),
            Ok(_) => Err(err(path, "ticket is not a JSON object")),
            Err(e) => Err(err(path, format!("ticket is not valid JSON: {e}"))),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(err(path, e)),
    }
}

/// Writes the ticket's files; true when the JSON changed.
fn save(
    dir: &Path,
    id: &str,
    t: &Map<String, Value>,
    formats: &[TicketFormat],
) -> Result<bool, TicketError> {
    let text = serde_json::to_string_pretty(t).map_err(|e| err(dir, e))? + "\n";
    let changed = write_if_changed(&dir.join(format!("{id}.json")), &text)?;
    let md = markdown(t);
    for f in formats {
        let (path, body) = match f {
            TicketFormat::Markdown => (dir.join(format!("{id}.md")), md.clone()),
            TicketFormat::Github => (
                dir.join(format!("{id}.github.json")),
                pretty(&json!({"title": title(t), "body": md, "labels": labels(t)})),
            ),
            TicketFormat::Jira => (
                dir.join(format!("{id}.jira.json")),
                pretty(&json!({"fields": {
                    "summary": title(t),
                    "description": md,
                    "labels": labels(t),
                    "issuetype": {"name": "Task"},
                }})),
            ),
        };
        write_if_changed(&path, &body)?;
    }
    Ok(changed)
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default() + "\n"
}

fn write_if_changed(path: &Path, text: &str) -> Result<bool, TicketError> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(false);
    }
    std::fs::write(path, text).map_err(|e| err(path, e))?;
    Ok(true)
}

/// What makes two copies the same place.
fn copy_key(v: &Value) -> String {
    let f = |k: &str| match v.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    // `blob` tells unreachable blobs apart: they have neither path nor commit.
    ["source", "repo", "path", "commit", "blob", "line", "column"]
        .map(f)
        .join("\u{0}")
}

fn scrub(v: &mut Value, secrets: &[(String, String)]) {
    match v {
        Value::String(s) => {
            for (secret, redacted) in secrets {
                if s.contains(secret.as_str()) {
                    *s = s.replace(secret.as_str(), redacted);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| scrub(x, secrets)),
        Value::Object(m) => m.values_mut().for_each(|x| scrub(x, secrets)),
        _ => {}
    }
}

/// The earlier (`earliest`) or later of a ticket's date and this run's.
fn pick_date(old: Option<&Value>, new: Option<&str>, earliest: bool) -> Option<String> {
    let old = old.and_then(Value::as_str);
    match (old, new) {
        (Some(a), Some(b)) => {
            let (ta, tb) = (parse_iso8601(a), parse_iso8601(b));
            let a_wins = if earliest { ta <= tb } else { ta >= tb };
            Some(if a_wins { a } else { b }.to_string())
        }
        (a, b) => a.or(b).map(String::from),
    }
}

fn generic_rotation() -> Rotation {
    Rotation {
        revoke: "Revoke or disable the credential where it was issued (the provider's console or the service's admin)".into(),
        steps: vec![
            "Issue a replacement credential with the least privilege needed".into(),
            "Store it in a secret manager, not in files or history".into(),
            "Update every consumer (services, CI variables, deployments) to the replacement".into(),
        ],
        verify: "Use the old value against the service: it must be rejected".into(),
    }
}

fn checklist(verify: &str) -> Value {
    let items = [
        "Revoke the leaked credential".to_string(),
        "Rotate: issue a replacement".to_string(),
        "Update every consumer to the replacement".to_string(),
        format!("Verify the old value is dead: {verify}"),
        "Remove the copies where possible (rewrite history, purge logs, delete image tags and old revisions)".to_string(),
    ];
    Value::Array(
        items
            .into_iter()
            .map(|i| json!({"item": i, "done": false}))
            .collect(),
    )
}

fn s<'a>(t: &'a Map<String, Value>, k: &str) -> &'a str {
    t.get(k).and_then(Value::as_str).unwrap_or("")
}

fn title(t: &Map<String, Value>) -> String {
    let rule = t
        .get("rule")
        .and_then(|r| r.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("");
    format!(
        "[{}] Leaked {} credential: {} ({}) - revoke and rotate",
        s(t, "id"),
        s(t, "provider"),
        rule,
        s(t, "redacted")
    )
}

fn labels(t: &Map<String, Value>) -> Vec<String> {
    let clean = |x: &str| x.replace(char::is_whitespace, "-");
    vec![
        "leakhound".into(),
        "leaked-secret".into(),
        format!("severity:{}", clean(s(t, "severity"))),
        format!("provider:{}", clean(s(t, "provider"))),
    ]
}

/// One copy in plain words.
pub fn describe_copy(c: &Value) -> String {
    let g = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("");
    let line = c.get("line").and_then(Value::as_u64).unwrap_or(0);
    let repo = match g("repo") {
        "" => "the repository".to_string(),
        r => r.to_string(),
    };
    let commit = g("commit");
    let short = commit.get(..7).unwrap_or(commit);
    let date = g("date").get(..10).unwrap_or(g("date"));
    let by = match g("email") {
        "" => g("author").to_string(),
        e => e.to_string(),
    };
    let unreachable = c.get("unreachable").and_then(Value::as_bool) == Some(true);
    let reach = if unreachable { "unreachable " } else { "" };
    match g("source") {
        "fs" => format!("in file {} line {line}", g("path")),
        "git" if g("commit").is_empty() && unreachable => {
            let blob = g("blob");
            let short = blob.get(..7).unwrap_or(blob);
            format!("in unreachable blob {short} of {repo} (no commit references it), line {line}")
        }
        "git" => {
            let mut s = format!(
                "in git history of {repo} since {reach}commit {short} ({date}, by {by}), at path {} line {line}",
                g("path")
            );
            if let Some(n) = c
                .get("occurrences")
                .and_then(Value::as_u64)
                .filter(|&n| n > 1)
            {
                s.push_str(&format!(" (the blob is added or changed in {n} commits)"));
            }
            s
        }
        "git-commit-message" => {
            format!(
                "in the message of {reach}commit {short} in {repo} ({date}, by {by}), line {line}"
            )
        }
        "git-staged" => format!(
            "staged in the index of {repo}, at path {} line {line}",
            g("path")
        ),
        other => format!("in {other} {} line {line}", g("path")),
    }
}

/// The human ticket, rendered from the ledger JSON.
pub fn markdown(t: &Map<String, Value>) -> String {
    let mut out = String::new();
    let rule = t.get("rule").cloned().unwrap_or(Value::Null);
    let rule_name = rule.get("name").and_then(Value::as_str).unwrap_or("");
    let rule_id = rule.get("id").and_then(Value::as_str).unwrap_or("");
    out.push_str(&format!("# {}\n\n", title(t)));
    out.push_str(&format!(
        "Status: **{}** · Severity: **{}** · Owner: **{}** · Last scan: {}\n\n",
        s(t, "status"),
        s(t, "severity"),
        s(t, "owner"),
        s(t, "last_scan")
    ));
    out.push_str("## What leaked\n\n");
    out.push_str(&format!("- Provider: {}\n", s(t, "provider")));
    out.push_str(&format!("- Rule: {rule_name} (`{rule_id}`)\n"));
    out.push_str(&format!("- Redacted preview: `{}`\n", s(t, "redacted")));
    let fps: Vec<&str> = t
        .get("fingerprints")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if fps.len() > 1 {
        out.push_str("- Fingerprints (SHA-256 of each part of the credential):\n");
        for f in fps {
            out.push_str(&format!("  - `{f}`\n"));
        }
    } else {
        out.push_str(&format!(
            "- Fingerprint (SHA-256): `{}`\n",
            s(t, "fingerprint")
        ));
    }
    if let Some(first) = t.get("first_seen").and_then(Value::as_str) {
        out.push_str(&format!(
            "- First seen: {first}; last seen: {}\n",
            s(t, "last_seen")
        ));
    }
    out.push_str("\n## Why it is compromised\n\n");
    out.push_str(
        "Anyone who can read one of these copies has the credential. Fixing the file is not \
         enough: the value must be revoked and rotated.\n\n",
    );
    if let Some(copies) = t.get("copies").and_then(Value::as_array) {
        for c in copies {
            out.push_str(&format!("- {}\n", describe_copy(c)));
        }
    }
    out.push_str("\n## Owner\n\n");
    out.push_str(&format!(
        "{} (decided by: {})\n",
        s(t, "owner"),
        s(t, "owner_rule")
    ));
    out.push_str(&format!("\n## Rotation (from rule `{rule_id}`)\n\n"));
    let rot = t.get("rotation").cloned().unwrap_or(Value::Null);
    let rs = |k: &str| rot.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    out.push_str(&format!("- Revoke: {}\n", rs("revoke")));
    if let Some(steps) = rot.get("steps").and_then(Value::as_array) {
        if !steps.is_empty() {
            out.push_str("- Steps:\n");
            for (i, st) in steps.iter().enumerate() {
                out.push_str(&format!("  {}. {}\n", i + 1, st.as_str().unwrap_or("")));
            }
        }
    }
    out.push_str(&format!(
        "- Verify the old value is dead: `{}`\n",
        rs("verify")
    ));
    out.push_str("\n## Checklist\n\n");
    if let Some(items) = t.get("checklist").and_then(Value::as_array) {
        for i in items {
            let done = i.get("done").and_then(Value::as_bool).unwrap_or(false);
            let text = i.get("item").and_then(Value::as_str).unwrap_or("");
            out.push_str(&format!("- [{}] {text}\n", if done { "x" } else { " " }));
        }
    }
    out
}
