//! From a reference to the images it names: an index fans out to one image
//! per platform (attestations skipped, `--platform` applied), a manifest
//! names its config and layers. Shared by the OCI layout and the registry;
//! only how documents are fetched differs.

use std::io::Read;
use std::rc::Rc;

use super::spec::{platform_matches, ImageConfig, Manifest};

/// Manifests, indexes and configs are small; anything bigger is refused.
pub const MAX_DOCUMENT: u64 = 16 << 20;

/// Indexes nest (an index of indexes) this deep at most.
const MAX_INDEX_DEPTH: u32 = 4;

/// Where a layer blob can be streamed from.
pub trait BlobStore {
    fn open(&self, locator: &str) -> Result<Box<dyn Read + '_>, String>;
}

/// One image (one platform) ready to scan.
pub struct Image {
    /// The reference as the user gave it.
    pub name: String,
    pub manifest_digest: String,
    pub platform: Option<String>,
    pub config: ImageConfig,
    pub layers: Vec<Layer>,
}

pub struct Layer {
    /// What identifies the layer across images (and is reported).
    pub digest: String,
    /// What `store.open` takes.
    pub locator: String,
    /// `digest` is the SHA-256 of the bytes `open` returns, to be checked
    /// here (a registry stream checks its own).
    pub verify: bool,
    pub store: Rc<dyn BlobStore>,
}

/// Whether an image of platform `label` is wanted under `--platform`.
pub fn wanted(platform: Option<&str>, label: Option<&str>) -> bool {
    match (platform, label) {
        (None, _) => true,
        (Some(want), Some(label)) => platform_matches(want, label),
        // An image that does not say: take it rather than miss it.
        (Some(_), None) => true,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Doc {
    Manifest,
    Config,
}

/// Fetches a manifest or config by digest; `Err` is the reason.
pub type Fetch<'a> = dyn FnMut(Doc, &str) -> Result<Vec<u8>, String> + 'a;

pub struct Context<'a> {
    pub name: &'a str,
    pub platform: Option<&'a str>,
    pub fetch: &'a mut Fetch<'a>,
    pub make_layer: &'a dyn Fn(&str) -> Result<Layer, String>,
    pub warn: &'a mut dyn FnMut(String),
}

/// Adds the images `bytes` (a manifest or an index with digest `digest`)
/// describes to `out`. A broken child of an index is a warning; the others
/// are still resolved.
pub fn from_document(
    ctx: &mut Context<'_>,
    bytes: &[u8],
    digest: &str,
    platform_hint: Option<String>,
    out: &mut Vec<Image>,
) -> Result<(), String> {
    walk(ctx, bytes, digest, platform_hint, out, 0)
}

fn walk(
    ctx: &mut Context<'_>,
    bytes: &[u8],
    digest: &str,
    platform_hint: Option<String>,
    out: &mut Vec<Image>,
    depth: u32,
) -> Result<(), String> {
    let manifest: Manifest =
        serde_json::from_slice(bytes).map_err(|e| format!("manifest {digest}: {e}"))?;
    if manifest.is_index() {
        if depth >= MAX_INDEX_DEPTH {
            return Err(format!(
                "index {digest} nests deeper than {MAX_INDEX_DEPTH}"
            ));
        }
        for child in manifest.manifests.iter().flatten() {
            if child.is_attestation() {
                continue;
            }
            let label = child.platform.as_ref().map(|p| p.label());
            if !wanted(ctx.platform, label.as_deref()) {
                continue;
            }
            let result = (ctx.fetch)(Doc::Manifest, &child.digest)
                .and_then(|b| walk(ctx, &b, &child.digest, label.clone(), out, depth + 1));
            if let Err(e) = result {
                (ctx.warn)(format!("{}: {e}", child.digest));
            }
        }
        return Ok(());
    }
    let config_desc = manifest
        .config
        .as_ref()
        .ok_or_else(|| format!("manifest {digest} has no config"))?;
    let raw = (ctx.fetch)(Doc::Config, &config_desc.digest)?;
    let config: ImageConfig =
        serde_json::from_slice(&raw).map_err(|e| format!("config {}: {e}", config_desc.digest))?;
    let platform = platform_hint.or_else(|| config.platform());
    if !wanted(ctx.platform, platform.as_deref()) {
        return Ok(());
    }
    let layers = manifest
        .layers
        .iter()
        .flatten()
        .map(|d| (ctx.make_layer)(&d.digest))
        .collect::<Result<Vec<_>, _>>()?;
    out.push(Image {
        name: ctx.name.to_string(),
        manifest_digest: digest.to_string(),
        platform,
        config,
        layers,
    });
    Ok(())
}
