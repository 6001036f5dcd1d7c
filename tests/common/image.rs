//! Container images built from scratch for the tests (no docker daemon):
//! layer tars, a config, an OCI manifest; written as a `docker save`
//! tarball or an OCI layout, or pushed to a registry (see `registry.rs`).

use std::io::Write;
use std::path::Path;

use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
pub const LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";

pub fn digest(data: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(data))
}

/// A tar of regular files (names taken as given: whiteouts, `./`).
pub fn tar(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_700_000_000);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, path, *data).expect("tar entry");
    }
    b.into_inner().expect("tar")
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

pub fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).expect("zstd")
}

pub struct Layer {
    /// What the registry and the OCI layout store (compressed or not).
    pub blob: Vec<u8>,
    pub media_type: &'static str,
    /// The uncompressed tar (what `docker save` stores).
    pub tar: Vec<u8>,
}

impl Layer {
    pub fn gzip(tar: Vec<u8>) -> Layer {
        Layer {
            blob: gzip(&tar),
            media_type: LAYER_GZIP,
            tar,
        }
    }

    pub fn zstd(tar: Vec<u8>) -> Layer {
        Layer {
            blob: zstd(&tar),
            media_type: LAYER_ZSTD,
            tar,
        }
    }

    pub fn digest(&self) -> String {
        digest(&self.blob)
    }

    pub fn diff_id(&self) -> String {
        digest(&self.tar)
    }
}

pub struct Image {
    pub layers: Vec<Layer>,
    pub config: Vec<u8>,
}

impl Image {
    /// `config` is completed with `rootfs.diff_ids` from the layers.
    pub fn new(layers: Vec<Layer>, mut config: Value) -> Image {
        config["rootfs"] = json!({
            "type": "layers",
            "diff_ids": layers.iter().map(Layer::diff_id).collect::<Vec<_>>(),
        });
        Image {
            config: serde_json::to_vec(&config).expect("config json"),
            layers,
        }
    }

    pub fn manifest(&self) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": digest(&self.config), "size": self.config.len()},
            "layers": self.layers.iter().map(|l| json!({
                "mediaType": l.media_type, "digest": l.digest(), "size": l.blob.len()
            })).collect::<Vec<_>>(),
        }))
        .expect("manifest json")
    }

    pub fn manifest_digest(&self) -> String {
        digest(&self.manifest())
    }

    /// The config digest: what `docker save` archives are identified by.
    pub fn config_digest(&self) -> String {
        digest(&self.config)
    }

    /// A `docker save` tarball in the classic layout: `<id>/layer.tar`
    /// (uncompressed), `<hex>.json` config, `manifest.json`.
    pub fn write_docker_archive(&self, path: &Path, tag: &str) {
        let config_name = format!(
            "{}.json",
            self.config_digest().trim_start_matches("sha256:")
        );
        let layer_names: Vec<String> = self
            .layers
            .iter()
            .map(|l| format!("{}/layer.tar", l.diff_id().trim_start_matches("sha256:")))
            .collect();
        let manifest = serde_json::to_vec(&json!([{
            "Config": config_name, "RepoTags": [tag], "Layers": layer_names,
        }]))
        .expect("manifest.json");
        let mut entries: Vec<(&str, &[u8])> = Vec::new();
        for (name, layer) in layer_names.iter().zip(&self.layers) {
            entries.push((name, &layer.tar));
        }
        entries.push((&config_name, &self.config));
        // docker save writes manifest.json last: the reader must not
        // depend on order.
        entries.push(("manifest.json", &manifest));
        std::fs::write(path, tar(&entries)).expect("write docker archive");
    }

    /// The blobs of this image, by digest (layers, config, manifest).
    pub fn blobs(&self) -> Vec<(String, Vec<u8>)> {
        let mut out: Vec<(String, Vec<u8>)> = self
            .layers
            .iter()
            .map(|l| (l.digest(), l.blob.clone()))
            .collect();
        out.push((self.config_digest(), self.config.clone()));
        out.push((self.manifest_digest(), self.manifest()));
        out
    }
}

/// An OCI image layout directory whose index lists `manifests` (descriptor
/// JSON) and holds `blobs`.
pub fn write_oci_layout(dir: &Path, blobs: &[(String, Vec<u8>)], manifests: Vec<Value>) {
    std::fs::create_dir_all(dir.join("blobs/sha256")).expect("mkdir");
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).expect("write");
    for (d, data) in blobs {
        std::fs::write(
            dir.join("blobs/sha256")
                .join(d.trim_start_matches("sha256:")),
            data,
        )
        .expect("write blob");
    }
    let index = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests});
    std::fs::write(
        dir.join("index.json"),
        serde_json::to_vec(&index).expect("json"),
    )
    .expect("write index");
}

/// The descriptor of an image's manifest in an index.
pub fn manifest_descriptor(image: &Image, platform: Option<(&str, &str)>) -> Value {
    let mut d = json!({
        "mediaType": OCI_MANIFEST,
        "digest": image.manifest_digest(),
        "size": image.manifest().len(),
    });
    if let Some((os, arch)) = platform {
        d["platform"] = json!({"os": os, "architecture": arch});
    }
    d
}

/// A tar of a directory tree (the OCI layout as one file).
pub fn tar_dir(dir: &Path, out: &Path) {
    let mut b = tar::Builder::new(std::fs::File::create(out).expect("create"));
    b.append_dir_all(".", dir).expect("tar dir");
    b.finish().expect("tar");
}
