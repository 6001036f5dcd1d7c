//! Every built-in rule is valid and its examples and negative examples hold
//! through the whole engine.

use leakhound::engine::{check, ruleset, Engine};

fn builtin() -> Engine {
    Engine::with_builtin(Vec::new()).expect("built-in rules are valid")
}

#[test]
fn builtin_rules_validate() {
    let rules = ruleset::builtin_rules().expect("built-in rule files parse");
    let errors = ruleset::validate(&rules);
    assert!(errors.is_empty(), "invalid rules: {errors:#?}");
}

#[test]
fn at_least_150_rules_each_with_examples_and_negatives() {
    let engine = builtin();
    assert!(
        engine.rules().len() >= 150,
        "only {} rules",
        engine.rules().len()
    );
    for r in engine.rules() {
        assert!(!r.examples.is_empty(), "{} has no examples", r.id);
        assert!(
            !r.negative_examples.is_empty(),
            "{} has no negative examples",
            r.id
        );
    }
}

#[test]
fn every_example_matches_and_no_negative_does() {
    let failures = check::check_examples(&builtin());
    let text: Vec<String> = failures.iter().map(ToString::to_string).collect();
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        text.join("\n")
    );
}

#[test]
fn every_rule_has_a_rotation_playbook() {
    for r in builtin().rules() {
        let rot = r
            .rotation
            .as_ref()
            .unwrap_or_else(|| panic!("{} has no rotation block", r.id));
        assert!(
            !rot.revoke.trim().is_empty(),
            "{}: empty rotation.revoke",
            r.id
        );
        assert!(
            !rot.verify.trim().is_empty(),
            "{}: empty rotation.verify",
            r.id
        );
    }
}

#[test]
fn rule_files_are_one_provider_family_each_and_embedded() {
    let on_disk = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/rules"))
        .expect("rules dir")
        .filter(|e| {
            e.as_ref()
                .map(|e| e.path().extension().is_some_and(|x| x == "yaml"))
                .unwrap_or(false)
        })
        .count();
    assert_eq!(
        on_disk,
        ruleset::BUILTIN_RULE_FILES.len(),
        "build.rs embeds every rules/*.yaml"
    );
}

#[test]
fn a_broken_user_rule_is_reported_not_panicked() {
    let yaml = r#"
rules:
  - id: acme.token
    name: Acme token
    provider: Acme
    keywords: [acme_]
    pattern: 'acme_[a-z]{10}'
    confidence: high
    examples: [acme_abcdefghij]
    negative_examples: [acme_]
"#;
    let rules = ruleset::parse_rule_file("user.yaml", yaml).expect("parses");
    let errors = ruleset::validate(&rules);
    assert!(
        errors
            .iter()
            .any(|e| e.to_string().contains("no capture named `secret`")),
        "{errors:?}"
    );
    assert!(Engine::new(rules).is_err());
}

#[test]
fn a_user_rule_runs_and_its_examples_are_checked() {
    let yaml = r#"
rules:
  - id: acme.token
    name: Acme token
    provider: Acme
    keywords: [acme_]
    pattern: '\b(?P<secret>acme_[a-z0-9]{12})\b'
    confidence: high
    examples: [acme_k3j9x0q2m7vb]
    negative_examples: [acme_short, acme_k3j9x0q2m7vbTOOLONG]
"#;
    let rules = ruleset::parse_rule_file("user.yaml", yaml).expect("parses");
    let engine = Engine::new(rules).expect("valid");
    assert!(check::check_examples(&engine).is_empty());
    let mut scratch = leakhound::engine::Scratch::new();
    let m = engine.scan(b"x\n  key: acme_k3j9x0q2m7vb\n", &mut scratch);
    assert_eq!(m.len(), 1);
    assert_eq!((m[0].line, m[0].column), (2, 8));
}

/// `rules list | head -1`: the reader closes the pipe early (here before
/// the list is written, as `head` does once it has its lines); the list
/// stops quietly instead of panicking on the failed write.
#[cfg(unix)]
#[test]
fn rules_list_into_a_pipe_closed_early_exits_quietly() {
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_leakhound"))
        .args(["rules", "list"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    // Closes the only read end: every write of the list fails.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("exits");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.status.success(), "{:?} {stderr}", out.status);
}
