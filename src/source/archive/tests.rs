use std::io::Write;

use super::*;

#[derive(Default)]
struct Seen {
    files: Vec<(String, Vec<u8>)>,
    headers: Vec<(String, EntryKind)>,
    warnings: Vec<(String, String)>,
    skipped: Vec<(String, String)>,
}

impl Visitor for Seen {
    fn header(&mut self, path: &str, kind: EntryKind) -> bool {
        self.headers.push((path.to_string(), kind));
        true
    }
    fn file(&mut self, path: &str, data: &[u8]) {
        self.files.push((path.to_string(), data.to_vec()));
    }
    fn warn(&mut self, input: &str, message: String) {
        self.warnings.push((input.to_string(), message));
    }
    fn skipped(&mut self, input: &str, reason: &str) {
        self.skipped.push((input.to_string(), reason.to_string()));
    }
}

fn tar_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = ::tar::Builder::new(Vec::new());
    for (path, data) in entries {
        let mut h = ::tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(::tar::EntryType::Regular);
        // `append_data` refuses `..`; a hostile layer has them all the same.
        h.as_gnu_mut().expect("gnu header").name[..path.len()].copy_from_slice(path.as_bytes());
        h.set_cksum();
        b.append(&h, *data).expect("append");
    }
    b.into_inner().expect("tar")
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = ::zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (path, data) in entries {
        w.start_file(*path, ::zip::write::SimpleFileOptions::default())
            .expect("zip entry");
        w.write_all(data).expect("zip write");
    }
    w.finish().expect("zip").into_inner()
}

fn walk(data: &[u8], limits: &Limits) -> (Seen, Result<(), ArchiveError>) {
    let mut seen = Seen::default();
    let r = walk_tar_stream(data, limits, &mut seen);
    (seen, r)
}

fn names(seen: &Seen) -> Vec<&str> {
    seen.files.iter().map(|(p, _)| p.as_str()).collect()
}

#[test]
fn plain_gzip_and_zstd_tars_give_the_same_entries() {
    let tar = tar_of(&[
        ("a.txt", b"one"),
        ("../../etc/x", b"two"),
        ("/abs", b"three"),
    ]);
    let zst = zstd::encode_all(&tar[..], 3).expect("zstd");
    for data in [tar.clone(), gzip(&tar), zst] {
        let (seen, r) = walk(&data, &Limits::default());
        r.expect("walk");
        assert_eq!(names(&seen), ["a.txt", "../../etc/x", "/abs"]);
        assert_eq!(seen.files[1].1, b"two");
    }
}

#[test]
fn nested_tgz_zip_and_jar_are_opened_with_joined_names() {
    let inner_tar = tar_of(&[("deep.env", b"X=1")]);
    let jar = zip_of(&[
        ("META-INF/app.properties", b"k=v"),
        ("lib.tgz", &gzip(&inner_tar)),
    ]);
    let outer = tar_of(&[("app/app.jar", &jar), ("notes.zip", b"not really a zip")]);
    let (seen, r) = walk(&gzip(&outer), &Limits::default());
    r.expect("walk");
    assert_eq!(
        names(&seen),
        [
            "app/app.jar!/META-INF/app.properties",
            "app/app.jar!/lib.tgz!/deep.env",
            "notes.zip"
        ]
    );
    assert!(seen.warnings.is_empty(), "{:?}", seen.warnings);
}

#[test]
fn nesting_stops_at_the_depth_limit_with_a_note() {
    let mut data = tar_of(&[("secret.txt", b"s")]);
    for level in 0..4 {
        data = tar_of(&[(&format!("l{level}.tar"), &data)]);
    }
    let (seen, r) = walk(&data, &Limits::default());
    r.expect("walk");
    assert!(seen.files.is_empty());
    assert_eq!(seen.skipped.len(), 1);
    assert_eq!(seen.skipped[0].0, "l3.tar!/l2.tar!/l1.tar!/l0.tar");
    assert!(seen.skipped[0].1.contains("3 levels"));
}

#[test]
fn a_gzip_bomb_inside_is_refused_with_a_warning_naming_it() {
    let zeros = vec![0u8; 4 << 20];
    let bomb = gzip(&tar_of(&[("zeros.bin", &zeros)]));
    assert!(bomb.len() * 100 < zeros.len());
    let outer = tar_of(&[("bomb.tar.gz", &bomb), ("after.txt", b"still scanned")]);
    let (seen, r) = walk(&outer, &Limits::default());
    r.expect("walk");
    assert_eq!(names(&seen), ["after.txt"]);
    assert_eq!(seen.warnings.len(), 1, "{:?}", seen.warnings);
    assert_eq!(seen.warnings[0].0, "bomb.tar.gz");
    assert!(seen.warnings[0].1.contains("archive bomb"));
}

#[test]
fn a_zip_bomb_entry_is_refused() {
    let zeros = vec![0u8; 4 << 20];
    let z = zip_of(&[("zeros.bin", &zeros), ("ok.txt", b"fine")]);
    let outer = tar_of(&[("x.zip", &z)]);
    let (seen, r) = walk(&outer, &Limits::default());
    r.expect("walk");
    assert_eq!(names(&seen), ["x.zip!/ok.txt"]);
    assert_eq!(seen.warnings[0].0, "x.zip!/zeros.bin");
}

#[test]
fn entries_over_the_size_limit_are_skipped_with_a_note() {
    let limits = Limits {
        max_entry_size: 10,
        ..Limits::default()
    };
    let outer = tar_of(&[("big.bin", &[b'a'; 11]), ("small.txt", b"ok")]);
    let (seen, r) = walk(&outer, &limits);
    r.expect("walk");
    assert_eq!(names(&seen), ["small.txt"]);
    assert_eq!(seen.skipped[0].0, "big.bin");
}

#[test]
fn a_truncated_stream_keeps_what_came_before_and_reports_the_rest() {
    let tar = tar_of(&[("a.txt", b"first"), ("b.txt", &[b'b'; 4096])]);
    let cut = &tar[..tar.len() - 3000];
    let (seen, r) = walk(cut, &Limits::default());
    assert_eq!(names(&seen), ["a.txt"]);
    match r {
        Err(ArchiveError::EntryCut { path, .. }) => assert_eq!(path, "b.txt"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn garbage_is_not_a_tar() {
    let (seen, r) = walk(&[7u8; 1024], &Limits::default());
    assert!(seen.files.is_empty());
    assert!(r.is_err());
}
