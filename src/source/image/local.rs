//! Images on disk: a `docker save` tarball (`docker-archive:PATH`) and an
//! OCI image layout, as a directory or its tar (`oci:PATH`). Tar members are
//! found by one pass over the headers, then read in place (seek + take):
//! nothing is extracted.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::digest::sha256;
use super::resolve::{self, BlobStore, Image, Layer, MAX_DOCUMENT};
use super::spec::{ImageConfig, SaveEntry};
use crate::source::archive::Compression;

/// Where each member of a tar file sits.
struct TarIndex {
    path: PathBuf,
    members: HashMap<String, (u64, u64)>,
}

impl TarIndex {
    fn open(path: &Path) -> Result<TarIndex, String> {
        let mut file = File::open(path).map_err(|e| e.to_string())?;
        let mut head = [0u8; 4];
        let n = file.read(&mut head).map_err(|e| e.to_string())?;
        if Compression::sniff(&head[..n]).is_compressed() {
            return Err("a compressed archive cannot be read in place: decompress it first".into());
        }
        file.seek(SeekFrom::Start(0)).map_err(|e| e.to_string())?;
        let mut archive = tar::Archive::new(file);
        let mut members = HashMap::new();
        for entry in archive
            .entries()
            .map_err(|e| format!("not a tar archive: {e}"))?
        {
            let entry = entry.map_err(|e| format!("unreadable tar: {e}"))?;
            if entry.header().entry_type().is_file() {
                let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
                let name = name.trim_start_matches("./").to_string();
                members.insert(name, (entry.raw_file_position(), entry.size()));
            }
        }
        Ok(TarIndex {
            path: path.to_path_buf(),
            members,
        })
    }

    fn open_member(&self, name: &str) -> Result<Box<dyn Read + '_>, String> {
        let &(offset, size) = self
            .members
            .get(name.trim_start_matches("./"))
            .ok_or_else(|| format!("{name} is missing from the archive"))?;
        let mut file = File::open(&self.path).map_err(|e| e.to_string())?;
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| e.to_string())?;
        Ok(Box::new(file.take(size)))
    }
}

impl BlobStore for TarIndex {
    fn open(&self, locator: &str) -> Result<Box<dyn Read + '_>, String> {
        self.open_member(locator)
    }
}

/// An OCI layout directory: blobs at `blobs/<alg>/<hex>`.
struct LayoutDir(PathBuf);

impl BlobStore for LayoutDir {
    fn open(&self, locator: &str) -> Result<Box<dyn Read + '_>, String> {
        let file = File::open(self.0.join(locator)).map_err(|e| format!("{locator}: {e}"))?;
        Ok(Box::new(file))
    }
}

fn read_small(store: &dyn BlobStore, locator: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    store
        .open(locator)?
        .take(MAX_DOCUMENT + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("{locator}: {e}"))?;
    if out.len() as u64 > MAX_DOCUMENT {
        return Err(format!("{locator} is larger than {MAX_DOCUMENT} bytes"));
    }
    Ok(out)
}

/// `blobs/sha256/<hex>` for `sha256:<hex>`.
fn blob_path(digest: &str) -> Result<String, String> {
    match digest.split_once(':') {
        Some((alg, hex))
            if !alg.is_empty()
                && !hex.is_empty()
                && hex.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            Ok(format!("blobs/{alg}/{hex}"))
        }
        _ => Err(format!("malformed digest {digest:?}")),
    }
}

/// The images of a `docker save` tarball.
pub fn docker_archive(
    name: &str,
    path: &Path,
    platform: Option<&str>,
) -> Result<Vec<Image>, String> {
    let index = Rc::new(TarIndex::open(path)?);
    let manifest = read_small(index.as_ref(), "manifest.json")?;
    let entries: Vec<SaveEntry> =
        serde_json::from_slice(&manifest).map_err(|e| format!("manifest.json: {e}"))?;
    let store: Rc<dyn BlobStore> = index.clone();
    let mut images = Vec::new();
    for entry in entries {
        let raw = read_small(index.as_ref(), &entry.config)?;
        let config: ImageConfig =
            serde_json::from_slice(&raw).map_err(|e| format!("{}: {e}", entry.config))?;
        let label = config.platform();
        if !resolve::wanted(platform, label.as_deref()) {
            continue;
        }
        let diff_ids = config
            .rootfs
            .as_ref()
            .map(|r| r.diff_ids.as_slice())
            .unwrap_or(&[]);
        let layers = entry
            .layers
            .iter()
            .enumerate()
            .map(|(i, member)| {
                // Newer `docker save` stores layers as content-addressed
                // blobs (verifiable); older ones as `<id>/layer.tar`, named
                // by the config's diff id.
                let addressed = member
                    .strip_prefix("blobs/sha256/")
                    .map(|hex| format!("sha256:{hex}"));
                Layer {
                    digest: addressed
                        .clone()
                        .or_else(|| diff_ids.get(i).cloned())
                        .unwrap_or_else(|| member.clone()),
                    locator: member.clone(),
                    verify: addressed.is_some(),
                    store: Rc::clone(&store),
                }
            })
            .collect();
        images.push(Image {
            name: name.to_string(),
            // docker save keeps no manifest: the config digest (image id)
            // stands in for it.
            manifest_digest: sha256(&raw),
            platform: label,
            config,
            layers,
        });
    }
    Ok(images)
}

/// The images of an OCI image layout (directory or tar).
pub fn oci_layout(
    name: &str,
    path: &Path,
    platform: Option<&str>,
    warn: &mut dyn FnMut(String),
) -> Result<Vec<Image>, String> {
    let store: Rc<dyn BlobStore> = if path.is_dir() {
        Rc::new(LayoutDir(path.to_path_buf()))
    } else {
        Rc::new(TarIndex::open(path)?)
    };
    let index = read_small(store.as_ref(), "index.json")?;
    let fetch_store = Rc::clone(&store);
    let mut fetch =
        move |_: resolve::Doc, digest: &str| read_small(fetch_store.as_ref(), &blob_path(digest)?);
    let layer_store = Rc::clone(&store);
    let make_layer = move |digest: &str| -> Result<Layer, String> {
        Ok(Layer {
            digest: digest.to_string(),
            locator: blob_path(digest)?,
            verify: true,
            store: Rc::clone(&layer_store),
        })
    };
    let mut images = Vec::new();
    let mut ctx = resolve::Context {
        name,
        platform,
        fetch: &mut fetch,
        make_layer: &make_layer,
        warn,
    };
    resolve::from_document(&mut ctx, &index, &sha256(&index), None, &mut images)?;
    Ok(images)
}
