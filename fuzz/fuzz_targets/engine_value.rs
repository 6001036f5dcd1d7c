//! Named values (environment variables, Secret keys) through text and value
//! rules: `NAME=VALUE` split at the first `=`, both value classes.
#![no_main]

use std::sync::OnceLock;

use leakhound::engine::{Engine, Overlaps, Scratch, ValueClass};
use libfuzzer_sys::fuzz_target;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::with_builtin(Vec::new()).expect("built-in rules build"))
}

fuzz_target!(|data: &[u8]| {
    let eq = data.iter().position(|&b| b == b'=').unwrap_or(data.len());
    let (name, value) = (&data[..eq], data.get(eq + 1..).unwrap_or_default());
    let mut scratch = Scratch::new();
    for class in [ValueClass::Named, ValueClass::Secret] {
        for overlaps in [Overlaps::Resolve, Overlaps::KeepAll] {
            for m in engine().scan_value(name, value, class, &mut scratch, overlaps) {
                assert!(m.secret.end <= value.len() && m.secret.start <= m.secret.end);
                assert!(m.line >= 1 && m.column >= 1);
            }
        }
    }
});
