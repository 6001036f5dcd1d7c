//! The JSON documents of an image, read leniently: `docker save`'s
//! manifest.json, OCI/Docker manifests and indexes, the image config.
//! Unknown fields are ignored; missing ones default.

use std::collections::BTreeMap;

use serde::Deserialize;

/// One image of a `docker save` archive's manifest.json.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SaveEntry {
    pub config: String,
    #[serde(default)]
    pub layers: Vec<String>,
}

/// A manifest or an index (OCI or Docker v2 schema 2): which one it is
/// shows in `mediaType` or in which of `layers` / `manifests` it has.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    #[serde(default)]
    pub media_type: Option<String>,
    #[serde(default)]
    pub config: Option<Descriptor>,
    #[serde(default)]
    pub layers: Option<Vec<Descriptor>>,
    #[serde(default)]
    pub manifests: Option<Vec<Descriptor>>,
}

impl Manifest {
    pub fn is_index(&self) -> bool {
        self.manifests.is_some()
            || self
                .media_type
                .as_deref()
                .is_some_and(|m| m.contains("index") || m.contains("manifest.list"))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    pub digest: String,
    #[serde(default)]
    pub platform: Option<Platform>,
    #[serde(default)]
    pub annotations: Option<BTreeMap<String, String>>,
}

impl Descriptor {
    /// Buildkit's attestation manifests (SBOM, provenance) ride along in
    /// indexes as `unknown/unknown`; they are not runnable images.
    pub fn is_attestation(&self) -> bool {
        self.annotations.as_ref().is_some_and(|a| {
            a.get("vnd.docker.reference.type")
                .is_some_and(|t| t == "attestation-manifest")
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Platform {
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub variant: Option<String>,
}

impl Platform {
    /// `os/arch` or `os/arch/variant`.
    pub fn label(&self) -> String {
        platform_label(&self.os, &self.architecture, self.variant.as_deref())
    }
}

pub fn platform_label(os: &str, arch: &str, variant: Option<&str>) -> String {
    match variant {
        Some(v) if !v.is_empty() => format!("{os}/{arch}/{v}"),
        _ => format!("{os}/{arch}"),
    }
}

/// Whether `label` is what `--platform` asked for: `os/arch` matches any
/// variant, `os/arch/variant` only that one.
pub fn platform_matches(wanted: &str, label: &str) -> bool {
    label == wanted
        || label
            .strip_prefix(wanted)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// The image config blob: what a container starts with.
#[derive(Debug, Default, Deserialize)]
pub struct ImageConfig {
    #[serde(default)]
    pub os: Option<String>,
    #[serde(default)]
    pub architecture: Option<String>,
    #[serde(default)]
    pub variant: Option<String>,
    #[serde(default)]
    pub config: Option<RunConfig>,
    #[serde(default)]
    pub history: Vec<History>,
    #[serde(default)]
    pub rootfs: Option<RootFs>,
}

impl ImageConfig {
    pub fn platform(&self) -> Option<String> {
        match (&self.os, &self.architecture) {
            (Some(os), Some(arch)) => Some(platform_label(os, arch, self.variant.as_deref())),
            _ => None,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RunConfig {
    #[serde(default)]
    pub env: Option<Vec<String>>,
    #[serde(default)]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub cmd: Option<Vec<String>>,
    #[serde(default)]
    pub entrypoint: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct History {
    #[serde(default)]
    pub created_by: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RootFs {
    #[serde(default)]
    pub diff_ids: Vec<String>,
}
