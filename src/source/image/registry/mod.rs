//! Registry access through `oci-client` on a current-thread tokio runtime
//! owned here (the rest of the scan is synchronous). Layer blobs stream
//! chunk by chunk into the archive walker: `Read::read` drives the runtime
//! for the next chunk, so no layer is ever buffered whole.

mod catalog;
mod credentials;
mod errors;

use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Mutex;
use std::time::Duration;

use bytes_stream::BlobReader;
use oci_client::client::{Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
use oci_client::manifest::{
    IMAGE_MANIFEST_LIST_MEDIA_TYPE, IMAGE_MANIFEST_MEDIA_TYPE, OCI_IMAGE_INDEX_MEDIA_TYPE,
    OCI_IMAGE_MEDIA_TYPE,
};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};

pub use credentials::Credentials;

use super::resolve::{self, BlobStore, Doc, Image, Layer, MAX_DOCUMENT};

mod bytes_stream;

#[derive(Clone, Default)]
pub struct RegistryOptions {
    /// From `--username` and `--password-stdin`.
    pub credentials: Option<Credentials>,
    /// Hosts reached over plain HTTP.
    pub insecure: Vec<String>,
    /// A PEM file of extra trusted roots.
    pub ca_cert: Option<PathBuf>,
    /// How long one request may wait for the registry (connect or read)
    /// before it counts as failed and is retried.
    pub timeout: Duration,
}

const ACCEPT: &[&str] = &[
    OCI_IMAGE_INDEX_MEDIA_TYPE,
    IMAGE_MANIFEST_LIST_MEDIA_TYPE,
    OCI_IMAGE_MEDIA_TYPE,
    IMAGE_MANIFEST_MEDIA_TYPE,
];

/// Attempts for a request the registry answered with 5xx or a timeout.
const ATTEMPTS: u32 = 4;

pub struct Registry {
    runtime: tokio::runtime::Runtime,
    client: Client,
    opts: RegistryOptions,
    docker_config: Option<PathBuf>,
    /// Per host: the auth used and where it came from.
    auths: Mutex<HashMap<String, (RegistryAuth, String)>>,
}

impl Registry {
    pub fn new(opts: &RegistryOptions) -> Result<Registry, String> {
        // reqwest is built without a default crypto provider: pick ring.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the network runtime: {e}"))?;
        let mut extra_root_certificates = Vec::new();
        if let Some(path) = &opts.ca_cert {
            let data = std::fs::read(path)
                .map_err(|e| format!("cannot read --ca-cert {}: {e}", path.display()))?;
            extra_root_certificates.push(Certificate {
                encoding: CertificateEncoding::Pem,
                data,
            });
        }
        let config = ClientConfig {
            protocol: if opts.insecure.is_empty() {
                ClientProtocol::Https
            } else {
                ClientProtocol::HttpsExcept(opts.insecure.clone())
            },
            extra_root_certificates,
            // Platforms are chosen here, from the raw index.
            platform_resolver: None,
            connect_timeout: Some(opts.timeout.min(Duration::from_secs(15))),
            read_timeout: Some(opts.timeout),
            ..ClientConfig::default()
        };
        let client = runtime.block_on(async { Client::try_from(config) });
        let client = client.map_err(|e| format!("cannot set up the registry client: {e}"))?;
        Ok(Registry {
            runtime,
            client,
            opts: opts.clone(),
            docker_config: credentials::docker_config_path(),
            auths: Mutex::new(HashMap::new()),
        })
    }

    fn auth(&self, host: &str) -> (RegistryAuth, String) {
        let mut auths = self.auths.lock().unwrap_or_else(|p| p.into_inner());
        auths
            .entry(host.to_string())
            .or_insert_with(|| {
                let found = credentials::for_host(
                    self.opts.credentials.as_ref(),
                    self.docker_config.as_deref(),
                    host,
                );
                let auth = match found.credentials {
                    Some(c) => RegistryAuth::Basic(c.username, c.password),
                    None => RegistryAuth::Anonymous,
                };
                (auth, found.source)
            })
            .clone()
    }

    /// Runs `call` on the runtime, again after a pause when the registry
    /// answers 5xx or times out.
    fn retry<T, F>(&self, call: impl Fn() -> F) -> Result<T, OciDistributionError>
    where
        F: std::future::Future<Output = Result<T, OciDistributionError>>,
    {
        let mut pause = Duration::from_millis(200);
        let mut attempt = 1;
        loop {
            match self.runtime.block_on(call()) {
                Err(e) if attempt < ATTEMPTS && errors::transient(&e) => {
                    std::thread::sleep(pause);
                    pause *= 2;
                    attempt += 1;
                }
                result => return result,
            }
        }
    }

    fn manifest(&self, reference: &Reference) -> Result<(Vec<u8>, String), String> {
        let (auth, source) = self.auth(reference.resolve_registry());
        let (bytes, digest) = self
            .retry(|| self.client.pull_manifest_raw(reference, &auth, ACCEPT))
            .map_err(|e| errors::describe(&e, &source))?;
        if bytes.len() as u64 > MAX_DOCUMENT {
            return Err(format!("manifest larger than {MAX_DOCUMENT} bytes"));
        }
        Ok((bytes.to_vec(), digest))
    }

    fn stream(&self, reference: &Reference, digest: &str) -> Result<BlobReader<'_>, String> {
        let (auth, source) = self.auth(reference.resolve_registry());
        // Blob requests reuse the auth stored by the manifest request.
        self.runtime.block_on(
            self.client
                .store_auth_if_needed(reference.resolve_registry(), &auth),
        );
        let sized = self
            .retry(|| self.client.pull_blob_stream(reference, digest))
            .map_err(|e| errors::describe(&e, &source))?;
        Ok(BlobReader::new(&self.runtime, sized.stream))
    }

    fn small_blob(&self, reference: &Reference, digest: &str) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        self.stream(reference, digest)?
            .take(MAX_DOCUMENT + 1)
            .read_to_end(&mut out)
            .map_err(|e| format!("blob {digest}: {}", errors::io_message(&e)))?;
        if out.len() as u64 > MAX_DOCUMENT {
            return Err(format!("blob {digest} larger than {MAX_DOCUMENT} bytes"));
        }
        Ok(out)
    }

    /// The images `name` (`host[:port]/repo:tag` or `@sha256:…`) names.
    pub fn resolve(
        self: &Rc<Self>,
        name: &str,
        platform: Option<&str>,
        warn: &mut dyn FnMut(String),
    ) -> Result<Vec<Image>, String> {
        let reference: Reference = name
            .parse()
            .map_err(|e| format!("not an image reference: {e}"))?;
        let (bytes, digest) = self.manifest(&reference)?;
        let me = Rc::clone(self);
        let fetch_ref = reference.clone();
        let mut fetch = move |doc: Doc, digest: &str| match doc {
            Doc::Manifest => me
                .manifest(&fetch_ref.clone_with_digest(digest.to_string()))
                .map(|(b, _)| b),
            Doc::Config => me.small_blob(&fetch_ref, digest),
        };
        let store: Rc<dyn BlobStore> = Rc::new(RegistryStore {
            registry: Rc::clone(self),
            reference: reference.clone(),
        });
        let make_layer = move |digest: &str| -> Result<Layer, String> {
            Ok(Layer {
                digest: digest.to_string(),
                locator: digest.to_string(),
                // oci-client checks the digest as the stream ends.
                verify: false,
                store: Rc::clone(&store),
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
        resolve::from_document(&mut ctx, &bytes, &digest, None, &mut images)?;
        Ok(images)
    }

    /// `host/repo:tag` for every tag of every repository (under `prefix`).
    pub fn list_images(
        &self,
        host: &str,
        prefix: Option<&str>,
        warn: &mut dyn FnMut(String, String),
    ) -> Result<Vec<String>, String> {
        catalog::list_images(self, host, prefix, warn)
    }
}

/// Layers of one repository of a registry.
struct RegistryStore {
    registry: Rc<Registry>,
    reference: Reference,
}

impl BlobStore for RegistryStore {
    fn open(&self, locator: &str) -> Result<Box<dyn Read + '_>, String> {
        Ok(Box::new(self.registry.stream(&self.reference, locator)?))
    }
}
