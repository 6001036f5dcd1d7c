//! Container images: `docker-archive:PATH`, `oci:PATH` and registry
//! references. Each image's config fields are scanned as their own origins;
//! each distinct layer is streamed once (blob → gzip/zstd/plain → tar
//! entries → worker), ordered so that the layers above it in every image
//! that has it are read first: their file lists tell which of its files a
//! later layer deleted or replaced, without a second download.

mod config;
mod digest;
mod layers;
mod local;
mod order;
pub mod registry;
mod resolve;
mod spec;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::rc::Rc;

use crate::source::archive::{self, Limits};
use crate::source::{Sink, Warning, Worker};

use layers::{LayerFiles, LayerVisitor, Placement};
pub use registry::{Credentials, RegistryOptions};
use resolve::Image;

pub struct ImageOptions {
    pub refs: Vec<String>,
    /// `os/arch[/variant]`: only images of that platform (default: all).
    pub platform: Option<String>,
    pub registry: RegistryOptions,
    pub limits: Limits,
}

/// Audit of a whole registry (`scan registry`).
pub struct RegistryScanOptions {
    pub host: String,
    /// Only repositories whose name starts with this.
    pub repo_prefix: Option<String>,
    pub image: ImageOptions,
}

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("no image could be scanned (every reference failed: {0}, see the warnings)")]
    NothingScanned(usize),
    #[error("{0}")]
    Registry(String),
}

/// What a run read.
#[derive(Debug, Default, Clone, Copy)]
pub struct ImageSummary {
    pub images: usize,
    pub layers: usize,
    /// Layers unreadable or failing their digest check.
    pub layers_failed: usize,
}

/// A reference as the user wrote it.
enum Target {
    DockerArchive(PathBuf),
    Oci(PathBuf),
    Registry(String),
}

fn target(reference: &str) -> Target {
    if let Some(p) = reference.strip_prefix("docker-archive:") {
        Target::DockerArchive(PathBuf::from(p))
    } else if let Some(p) = reference.strip_prefix("oci:") {
        Target::Oci(PathBuf::from(p))
    } else {
        Target::Registry(reference.to_string())
    }
}

/// Scans every image `opts.refs` names. Fails only when none of them
/// could be read; each failure is a warning naming its reference.
pub fn scan(opts: &ImageOptions, sink: &dyn Sink) -> Result<ImageSummary, ImageError> {
    let mut registry: Option<Rc<registry::Registry>> = None;
    let mut images = Vec::new();
    let mut failed = 0;
    for reference in &opts.refs {
        let mut warn = |message: String| {
            sink.warn(Warning {
                input: reference.clone(),
                message,
            })
        };
        let platform = opts.platform.as_deref();
        let resolved = match target(reference) {
            Target::DockerArchive(path) => local::docker_archive(reference, &path, platform),
            Target::Oci(path) => local::oci_layout(reference, &path, platform, &mut warn),
            Target::Registry(r) => {
                let client = match &registry {
                    Some(c) => Rc::clone(c),
                    None => {
                        let c = Rc::new(
                            registry::Registry::new(&opts.registry)
                                .map_err(ImageError::Registry)?,
                        );
                        registry = Some(Rc::clone(&c));
                        c
                    }
                };
                client.resolve(&r, platform, &mut warn)
            }
        };
        match resolved {
            Ok(found) if found.is_empty() => {
                failed += 1;
                warn(match platform {
                    Some(p) => format!("no image for platform {p}"),
                    None => "no image found".to_string(),
                });
            }
            Ok(found) => images.extend(found),
            Err(message) => {
                failed += 1;
                warn(message);
            }
        }
    }
    if images.is_empty() && failed > 0 {
        return Err(ImageError::NothingScanned(failed));
    }
    Ok(scan_images(dedup(images), &opts.limits, sink))
}

/// Audits a registry: every repository (under the prefix), every tag, each
/// distinct manifest once.
pub fn scan_registry(
    opts: &RegistryScanOptions,
    sink: &dyn Sink,
) -> Result<ImageSummary, ImageError> {
    let client = registry::Registry::new(&opts.image.registry).map_err(ImageError::Registry)?;
    let refs = client
        .list_images(
            &opts.host,
            opts.repo_prefix.as_deref(),
            &mut |input, message| sink.warn(Warning { input, message }),
        )
        .map_err(|e| ImageError::Registry(format!("{}: {e}", opts.host)))?;
    drop(client);
    let image_opts = ImageOptions {
        refs,
        platform: opts.image.platform.clone(),
        registry: opts.image.registry.clone(),
        limits: opts.image.limits,
    };
    if image_opts.refs.is_empty() {
        return Ok(ImageSummary::default());
    }
    scan(&image_opts, sink)
}

/// One image per manifest digest: tags that point at the same manifest are
/// read once, under the first name.
fn dedup(images: Vec<Image>) -> Vec<Image> {
    let mut seen = HashSet::new();
    images
        .into_iter()
        .filter(|i| seen.insert(i.manifest_digest.clone()))
        .collect()
}

fn scan_images(images: Vec<Image>, limits: &Limits, sink: &dyn Sink) -> ImageSummary {
    let mut worker = sink.worker();
    for image in &images {
        let owner = config::ConfigOwner {
            image: &image.name,
            manifest_digest: &image.manifest_digest,
            platform: image.platform.as_deref(),
        };
        config::scan(&image.config, &owner, worker.as_mut());
    }
    let mut summary = ImageSummary {
        images: images.len(),
        ..ImageSummary::default()
    };
    let stacks: Vec<Vec<&str>> = images
        .iter()
        .map(|i| i.layers.iter().map(|l| l.digest.as_str()).collect())
        .collect();
    let mut files: HashMap<&str, LayerFiles> = HashMap::new();
    let order = order::top_down(&stacks);
    let done_with = order::last_uses(&stacks, &order);
    for (position, &digest) in order.iter().enumerate() {
        let occurrences: Vec<(usize, usize)> = stacks
            .iter()
            .enumerate()
            .flat_map(|(i, stack)| {
                stack
                    .iter()
                    .enumerate()
                    .filter(|(_, d)| **d == digest)
                    .map(move |(k, _)| (i, k))
            })
            .collect();
        let Some(&(first_image, first_index)) = occurrences.first() else {
            continue;
        };
        let layer = &images[first_image].layers[first_index];
        let placements: Vec<Placement<'_>> = occurrences
            .iter()
            .map(|&(i, k)| Placement {
                image: &images[i].name,
                manifest_digest: &images[i].manifest_digest,
                platform: images[i].platform.as_deref(),
                layer_index: u32::try_from(k).unwrap_or(u32::MAX),
                later: stacks[i][k + 1..].iter().map(|d| files.get(d)).collect(),
            })
            .collect();
        let input = format!("{} layer {}", images[first_image].name, digest);
        let outcome = scan_layer(layer, &placements, limits, worker.as_mut(), sink);
        drop(placements);
        summary.layers += 1;
        match outcome {
            Ok(found) => {
                files.insert(digest, found);
            }
            Err(message) => {
                summary.layers_failed += 1;
                sink.warn(Warning { input, message });
            }
        }
        for d in &done_with[position] {
            files.remove(d);
        }
    }
    summary
}

/// Streams one layer through the archive walker into the worker. Its
/// findings are kept only when the blob's digest checks out (or cannot be
/// checked, for `docker save`'s older layout); returns its file list.
fn scan_layer(
    layer: &resolve::Layer,
    placements: &[Placement<'_>],
    limits: &Limits,
    worker: &mut dyn Worker,
    sink: &dyn Sink,
) -> Result<LayerFiles, String> {
    let raw = layer.store.open(&layer.locator)?;
    let mut hashed = digest::DigestReader::new(raw);
    worker.hold();
    let mut visitor = LayerVisitor {
        digest: &layer.digest,
        placements,
        files: LayerFiles::default(),
        worker,
        sink,
    };
    let walked = archive::walk_tar_stream(&mut hashed, limits, &mut visitor);
    let files = std::mem::take(&mut visitor.files);
    let worker = visitor.worker;
    // The rest of the blob (tar padding) still counts for its digest, and a
    // registry stream reports a mismatch or a cut only at its end.
    let drained = hashed.drain();
    let problem = match (&walked, &drained) {
        (Err(e), _) if e.is_transport() => Some(format!(
            "layer stream failed ({e}); its findings are discarded"
        )),
        (_, Err(e)) => Some(format!("{e}; the layer's findings are discarded")),
        _ => {
            let actual = hashed.finish();
            (layer.verify && actual != layer.digest).then(|| {
                format!("digest mismatch: the blob hashes to {actual}; its findings are discarded")
            })
        }
    };
    worker.release(problem.is_none());
    if let Some(p) = problem {
        return Err(p);
    }
    if let Err(e) = walked {
        // A verified blob that is not a tar: nothing scanned, nothing wrong
        // with the transport.
        return Err(format!("not a readable layer: {e}"));
    }
    Ok(files)
}
