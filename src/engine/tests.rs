//! Engine behaviour on small inline rule sets.

use super::*;

fn rules(yaml: &str) -> Vec<Rule> {
    ruleset::parse_rule_file("test.yaml", yaml).expect("test rules parse")
}

const SET: &str = r#"
rules:
  - id: acme.key-id
    name: Acme key id
    provider: Acme
    keywords: [ACMEID]
    pattern: '\b(?P<secret>ACMEID[A-Z0-9]{10})\b'
    confidence: high
    pairs_with: [acme.secret]
    examples: [ACMEIDQ7W2E9R4T1]
    negative_examples: [ACMEIDSHORT]
  - id: acme.secret
    name: Acme secret
    provider: Acme
    keywords: [acme_secret]
    pattern: 'acme_secret\s*=\s*(?P<secret>[A-Za-z0-9]{20})\b'
    confidence: high
    pairs_with: [acme.key-id]
    examples: [{input: 'acme_secret = Zk3Lq9Wm2Xv8Tb4Nc7Ry', secret: Zk3Lq9Wm2Xv8Tb4Nc7Ry}]
    negative_examples: ['acme_secret = short']
  - id: generic.token
    name: Generic token
    provider: generic
    keywords: [token]
    pattern: '(?i)token\s*[:=]\s*"?(?P<secret>[A-Za-z0-9_]{12,})'
    confidence: low
    examples: [{input: 'token = Zk3Lq9Wm2Xv8Tb4', secret: Zk3Lq9Wm2Xv8Tb4}]
    negative_examples: ['token = get_token()']
  - id: acme.token
    name: Acme token
    provider: Acme
    keywords: [acmetok_]
    pattern: '\b(?P<secret>acmetok_[A-Za-z0-9]{16})\b'
    confidence: medium
    examples: [acmetok_Zk3Lq9Wm2Xv8Tb4N]
    negative_examples: [acmetok_short]
"#;

fn engine() -> Engine {
    Engine::new(rules(SET)).expect("valid test rules")
}

fn ids(engine: &Engine, data: &[u8]) -> Vec<(String, u32, u32)> {
    let mut scratch = Scratch::new();
    engine
        .scan(data, &mut scratch)
        .iter()
        .map(|m| (engine.rule(m.rule).id.clone(), m.line, m.column))
        .collect()
}

#[test]
fn examples_hold() {
    assert!(check::check_examples(&engine()).is_empty());
}

#[test]
fn keyword_is_case_insensitive_but_pattern_decides() {
    let e = engine();
    assert_eq!(ids(&e, b"TOKEN: Zk3Lq9Wm2Xv8Tb4").len(), 1);
    assert!(ids(&e, b"acmeid q7w2e9r4t1").is_empty());
}

#[test]
fn provider_rule_beats_generic_on_the_same_bytes() {
    let e = engine();
    let found = ids(&e, b"\ntoken = acmetok_Zk3Lq9Wm2Xv8Tb4N\n");
    assert_eq!(found, vec![("acme.token".to_string(), 2, 9)]);
}

#[test]
fn pairs_are_linked_when_near() {
    let e = engine();
    let mut scratch = Scratch::new();
    let data = b"id: ACMEIDQ7W2E9R4T1\nacme_secret = Zk3Lq9Wm2Xv8Tb4Nc7Ry\n";
    let m = e.scan(data, &mut scratch).to_vec();
    assert_eq!(m.len(), 2);
    assert_eq!(m[0].pair, Some(1));
    assert_eq!(m[1].pair, Some(0));

    let mut far = b"id: ACMEIDQ7W2E9R4T1\n".to_vec();
    far.extend(std::iter::repeat_n(b'\n', 2000));
    far.extend_from_slice(b"acme_secret = Zk3Lq9Wm2Xv8Tb4Nc7Ry\n");
    let m = e.scan(&far, &mut scratch);
    assert!(m.iter().all(|m| m.pair.is_none()));
}

#[test]
fn line_and_column_are_one_based_bytes() {
    let e = engine();
    let found = ids(&e, "é\n\nxx acmetok_Zk3Lq9Wm2Xv8Tb4N".as_bytes());
    assert_eq!(found, vec![("acme.token".to_string(), 3, 4)]);
}

#[test]
fn many_matches_and_non_utf8() {
    let e = engine();
    let mut data = Vec::new();
    for i in 0..100 {
        data.extend_from_slice(&[0xff, 0xfe, 0x00]);
        data.extend_from_slice(format!("acmetok_Zk3Lq9Wm2Xv8T{i:03}\n").as_bytes());
    }
    let found = ids(&e, &data);
    assert_eq!(found.len(), 100);
    assert_eq!(found[99].1, 100);
}

#[test]
fn keyword_without_match_and_empty_input() {
    let e = engine();
    assert!(ids(&e, b"").is_empty());
    assert!(ids(&e, b"acmetok_ and token and acme_secret").is_empty());
}

#[test]
fn scratch_is_reused_across_blobs() {
    let e = engine();
    let mut scratch = Scratch::new();
    assert_eq!(e.scan(b"acmetok_Zk3Lq9Wm2Xv8Tb4N", &mut scratch).len(), 1);
    assert_eq!(e.scan(b"nothing here", &mut scratch).len(), 0);
}

#[test]
fn engine_is_sync_and_send() {
    fn assert_sync<T: Sync + Send>() {}
    assert_sync::<Engine>();
}

fn builtin() -> Engine {
    Engine::with_builtin(Vec::new()).expect("built-in rules build")
}

fn value_rule_ids(engine: &Engine, name: &str, value: &str, class: ValueClass) -> Vec<String> {
    let mut scratch = Scratch::new();
    engine
        .scan_value(
            name.as_bytes(),
            value.as_bytes(),
            class,
            &mut scratch,
            Overlaps::Resolve,
        )
        .iter()
        .map(|m| engine.rule(m.rule).id.clone())
        .collect()
}

#[test]
fn a_token_format_in_a_named_value_names_the_provider() {
    let e = builtin();
    let ids = value_rule_ids(
        &e,
        "CI_TOKEN",
        "ghp_R2b8Xq4Lm9Tz7Vw3Ny6Pk1Js5Hd0Fg2Ca8Qe",
        ValueClass::Named,
    );
    assert_eq!(ids, ["github.pat"]);
}

#[test]
fn a_secret_named_variable_is_a_finding_only_when_its_name_says_so() {
    let e = builtin();
    let v = "q8Tz2LmW9xVn4RkP";
    assert_eq!(
        value_rule_ids(&e, "BILLING_SERVICE_PASSWORD", v, ValueClass::Named),
        ["env.secret-named"]
    );
    assert!(value_rule_ids(&e, "BUILD_NUMBER", v, ValueClass::Named).is_empty());
    // A Secret's value needs no telling name.
    assert_eq!(
        value_rule_ids(&e, "build-number", v, ValueClass::Secret),
        ["kubernetes.secret-value"]
    );
}

#[test]
fn value_confidence_follows_length_entropy_and_name() {
    let e = builtin();
    let mut scratch = Scratch::new();
    let mut confidence = |name: &str, value: &str, class| {
        e.scan_value(
            name.as_bytes(),
            value.as_bytes(),
            class,
            &mut scratch,
            Overlaps::Resolve,
        )
        .first()
        .map(|m| (m.confidence, (m.line, m.column)))
    };
    assert_eq!(
        confidence("API_TOKEN", "f8Kq2LmZ93xPw7TnV4bR", ValueClass::Named),
        Some((Confidence::High, (1, 1)))
    );
    assert_eq!(
        confidence("db-username", "f8Kq2LmZ93xPw7TnV4bR", ValueClass::Secret),
        Some((Confidence::Medium, (1, 1)))
    );
    assert_eq!(
        confidence("API_TOKEN", "  Tr0ub4dor&3", ValueClass::Named),
        Some((Confidence::Medium, (1, 3)))
    );
    assert_eq!(
        confidence("TOKEN_HEADER", "X-Api-Key", ValueClass::Named),
        None
    );
}

/// The generic rules' screen skips only rules that could not match: a blob
/// of every generic rule's examples and negatives, mixed with lines that
/// name credentials without holding one, scans to the same matches with
/// and without it (more lines than the screen remembers windows, so its
/// slots are reused).
#[test]
fn the_generic_screen_changes_no_match() {
    let screened = builtin();
    let unscreened = builtin();
    assert!(unscreened.screen.set(None).is_ok(), "screen not built yet");
    let mut text = String::new();
    for (i, rule) in screened.rules().filter(|r| r.is_generic()).enumerate() {
        for e in rule
            .examples
            .iter()
            .map(|e| e.input())
            .chain(rule.negative_examples.iter().map(String::as_str))
        {
            text.push_str(e);
            text.push('\n');
            text.push_str(&format!(
                "    if password_{i}_field.is_valid(): token = get_token()\n"
            ));
        }
    }
    assert!(text.lines().count() > 2 * SCREEN_MIN_WINDOWS);
    let mut scratch = Scratch::new();
    let with: Vec<Match> = screened.scan(text.as_bytes(), &mut scratch).to_vec();
    let without: Vec<Match> = unscreened.scan(text.as_bytes(), &mut scratch).to_vec();
    assert!(screened.screen().is_some(), "the screen was built and used");
    assert!(with.len() > 20, "generic examples match: {}", with.len());
    assert_eq!(with, without);
}

/// A few credential lines (a pre-commit hook's scan) are searched rule by
/// rule: the screen is not built for them.
#[test]
fn a_blob_with_few_generic_windows_does_not_build_the_screen() {
    let e = builtin();
    let mut scratch = Scratch::new();
    let text = b"db_password = \"q8Tz2LmW9xVn4RkP7\"\napi_token: ${TOKEN}\n";
    assert_eq!(e.scan(text, &mut scratch).len(), 1);
    assert!(e.screen.get().is_none());
}
