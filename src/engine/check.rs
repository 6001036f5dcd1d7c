//! Rule self-checks: every example must match with the exact secret, no
//! negative example may match. Used by `cargo test` and `rules check`.

use super::{AppliesTo, Engine, Match, Overlaps, Rule, Scratch, ValueClass};

/// One failed expectation of one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckFailure {
    pub rule: String,
    pub message: String,
}

impl std::fmt::Display for CheckFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "rule {}: {}", self.rule, self.message)
    }
}

/// Runs every rule's examples and negative examples through the whole
/// engine (prefilter, regex, filters, entropy), each rule judged on its own
/// matches so a more specific rule elsewhere cannot hide a broken one.
pub fn check_examples(engine: &Engine) -> Vec<CheckFailure> {
    engine.compile_all();
    let mut scratch = Scratch::new();
    let mut failures = Vec::new();
    for (ri, rule) in engine.rules().enumerate() {
        let fail = |message: String| CheckFailure {
            rule: rule.id.clone(),
            message,
        };
        for ex in &rule.examples {
            let (matches, input) = run(engine, rule, ex.input().as_bytes(), &mut scratch);
            let found: Vec<&[u8]> = matches
                .iter()
                .filter(|m| m.rule == ri)
                .map(|m| &input[m.secret.clone()])
                .collect();
            if found.is_empty() {
                failures.push(fail(format!("example does not match: {:?}", ex.input())));
            } else if !found.iter().any(|s| *s == ex.secret().as_bytes()) {
                failures.push(fail(format!(
                    "example {:?} captured {:?}, expected secret {:?}",
                    ex.input(),
                    String::from_utf8_lossy(found[0]),
                    ex.secret()
                )));
            }
        }
        for neg in &rule.negative_examples {
            let hit = run(engine, rule, neg.as_bytes(), &mut scratch)
                .0
                .iter()
                .any(|m| m.rule == ri);
            if hit {
                failures.push(fail(format!("negative example matches: {neg:?}")));
            }
        }
    }
    failures
}

/// Runs one example the way the rule sees input: text as it is, value
/// rules' `NAME=VALUE` as a named value. Returns the matches and the bytes
/// their positions refer to.
fn run<'a, 's>(
    engine: &Engine,
    rule: &Rule,
    input: &'a [u8],
    scratch: &'s mut Scratch,
) -> (&'s [Match], &'a [u8]) {
    let class = match rule.applies_to {
        AppliesTo::Text => return (engine.scan_with(input, scratch, Overlaps::KeepAll), input),
        AppliesTo::SecretValue => ValueClass::Secret,
        AppliesTo::NamedValue => ValueClass::Named,
    };
    let eq = input.iter().position(|&b| b == b'=').unwrap_or(input.len());
    let (name, value) = (&input[..eq], input.get(eq + 1..).unwrap_or_default());
    (
        engine.scan_value(name, value, class, scratch, Overlaps::KeepAll),
        value,
    )
}
