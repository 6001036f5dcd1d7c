//! The whole engine (prefilter, windows, regexes, filters) over arbitrary
//! bytes: no panic, and every match lies inside the input at the line and
//! column it claims.
#![no_main]

use std::sync::OnceLock;

use leakhound::engine::{Engine, Scratch};
use libfuzzer_sys::fuzz_target;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::with_builtin(Vec::new()).expect("built-in rules build"))
}

fuzz_target!(|data: &[u8]| {
    let mut scratch = Scratch::new();
    for m in engine().scan(data, &mut scratch) {
        assert!(m.secret.start <= m.secret.end && m.secret.end <= data.len());
        assert!(m.whole.start <= m.whole.end && m.whole.end <= data.len());
        let before = &data[..m.secret.start];
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        assert_eq!(m.line as usize, line);
        assert_eq!(m.column as usize, m.secret.start - line_start + 1);
    }
});
