//! Replays every committed fuzz input (`fuzz/regressions/TARGET/*`: crash
//! inputs once found and fixed, and seeds of each format) through the same
//! checks the fuzz targets run, so a regression fails `cargo test`.

use std::path::Path;

#[test]
fn every_committed_fuzz_input_passes_its_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let mut replayed = 0;
    for (name, check) in leakhound::fuzzing::TARGETS {
        let dir = root.join(name);
        let inputs: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}: every target keeps its inputs", dir.display()))
            .collect();
        assert!(!inputs.is_empty(), "{name}: no committed inputs");
        for entry in inputs {
            let path = entry.expect("entry").path();
            let data = std::fs::read(&path).expect("read input");
            let outcome = std::panic::catch_unwind(|| check(&data));
            assert!(outcome.is_ok(), "{name}: {} fails", path.display());
            replayed += 1;
        }
    }
    assert!(replayed > leakhound::fuzzing::TARGETS.len());
}
