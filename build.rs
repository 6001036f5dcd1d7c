// Embeds every rules/*.yaml into the binary so it runs with no rules on
// disk. Each file is converted to JSON here: parsing JSON at start-up is
// several times faster than parsing YAML, and start-up is on the hot path of
// a pre-commit hook. The YAML files stay the source of truth.
use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let manifest =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let dir = manifest.join("rules");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("rules/ directory must exist")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("yaml") | Some("yml")
            )
        })
        .collect();
    files.sort();
    let mut out = String::from("&[\n");
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let name = f
            .file_name()
            .expect("file has a name")
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(f).expect("rule file is readable UTF-8");
        let value: serde_json::Value = serde_norway::from_str(&text)
            .unwrap_or_else(|e| panic!("rules/{name} is not valid YAML: {e}"));
        let json_path = out_dir.join(format!("{name}.json"));
        std::fs::write(
            &json_path,
            serde_json::to_string(&value).expect("JSON value serializes"),
        )
        .expect("write rule JSON");
        writeln!(
            out,
            "    ({name:?}, include_str!({:?})),",
            json_path.display().to_string()
        )
        .expect("write to String");
    }
    out.push(']');
    std::fs::write(out_dir.join("builtin_rules.rs"), out).expect("write builtin_rules.rs");
}
