//! UTF-16 detection and transcoding: no panic, valid UTF-8 out, and one
//! output line per input line.
#![no_main]

use leakhound::source::text::{detect_utf16, utf16_to_utf8, Utf16};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let detected = detect_utf16(data);
    for order in [Utf16::Le, Utf16::Be] {
        let out = utf16_to_utf8(data, order);
        assert!(std::str::from_utf8(&out).is_ok());
        let newlines_in = data
            .chunks_exact(2)
            .filter(|p| match order {
                Utf16::Le => p == &[b'\n', 0],
                Utf16::Be => p == &[0, b'\n'],
            })
            .count();
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), newlines_in);
    }
    let _ = detected;
});
