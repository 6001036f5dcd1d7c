//! See `leakhound::fuzzing::cilog`: the checks live in the library so the
//! committed regression inputs replay in `cargo test`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| leakhound::fuzzing::cilog(data));
