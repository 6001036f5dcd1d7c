//! User rule files (`--rules DIR`) are untrusted YAML: parsing and
//! validation report errors, never panic, and a rule set that validates
//! builds an engine that scans.
#![no_main]

use leakhound::engine::{ruleset, Engine, Scratch};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(rules) = ruleset::parse_rule_file("fuzz.yaml", text) else {
        return;
    };
    if let Ok(engine) = Engine::new(rules) {
        let mut scratch = Scratch::new();
        engine.scan(text.as_bytes(), &mut scratch);
    }
});
