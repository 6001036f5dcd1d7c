//! `scan k8s --context NAME`: lists Secrets, ConfigMaps and workloads from
//! a live cluster through the `kube` client and the user's kubeconfig, one
//! page (`limit`/`continue`) at a time; each page's JSON is handed to the
//! worker as a blob and decoded like any other (`super::decode`). A
//! namespace or resource the credentials may not list (RBAC 403) is a
//! warning; the other namespaces are still scanned.

use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use kube::{Client, Config};
use serde::Deserialize;

use super::{Origin, Sink, Warning};

/// What to list (API path prefix, resource), core kinds first.
const RESOURCES: &[(&str, &str)] = &[
    ("/api/v1", "secrets"),
    ("/api/v1", "configmaps"),
    ("/api/v1", "pods"),
    ("/apis/apps/v1", "deployments"),
    ("/apis/apps/v1", "statefulsets"),
    ("/apis/apps/v1", "daemonsets"),
    ("/apis/batch/v1", "jobs"),
    ("/apis/batch/v1", "cronjobs"),
];

#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// The kubeconfig context (its current context when `None`).
    pub context: Option<String>,
    /// Only this namespace; otherwise the context's, or all with `all_namespaces`.
    pub namespace: Option<String>,
    pub all_namespaces: bool,
    /// Objects per page.
    pub page_size: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("cannot load the kubeconfig")]
    Kubeconfig(#[source] KubeconfigError),
    #[error("cannot build a client for context {context}")]
    Client {
        context: String,
        #[source]
        source: Box<kube::Error>,
    },
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
}

/// Lists every resource of [`RESOURCES`] in the chosen namespaces.
pub fn scan(opts: &LiveOptions, sink: &dyn Sink) -> Result<(), LiveError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(LiveError::Runtime)?;
    runtime.block_on(scan_async(opts, sink))
}

async fn scan_async(opts: &LiveOptions, sink: &dyn Sink) -> Result<(), LiveError> {
    let kubeconfig = Kubeconfig::read().map_err(LiveError::Kubeconfig)?;
    let context = opts
        .context
        .clone()
        .or_else(|| kubeconfig.current_context.clone())
        .unwrap_or_default();
    let options = KubeConfigOptions {
        context: opts.context.clone(),
        ..KubeConfigOptions::default()
    };
    let config = Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(LiveError::Kubeconfig)?;
    let default_namespace = config.default_namespace.clone();
    let client = Client::try_from(config).map_err(|source| LiveError::Client {
        context: context.clone(),
        source: Box::new(source),
    })?;
    let lister = Lister {
        client,
        context,
        page_size: opts.page_size.max(1),
        sink,
    };
    let namespaces = if let Some(ns) = &opts.namespace {
        vec![ns.clone()]
    } else if opts.all_namespaces {
        lister.namespaces(&default_namespace).await
    } else {
        vec![default_namespace]
    };
    let mut worker = sink.worker();
    for ns in &namespaces {
        for (prefix, resource) in RESOURCES {
            let path = format!("{prefix}/namespaces/{ns}/{resource}");
            let mut scan_page = |origin: &Origin, page: &[u8]| worker.blob(origin, page);
            lister.list(&path, ns, resource, &mut scan_page).await;
        }
    }
    Ok(())
}

struct Lister<'s> {
    client: Client,
    context: String,
    page_size: u32,
    sink: &'s dyn Sink,
}

/// The parts of a list response paging needs.
#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    metadata: PageMeta,
    #[serde(default)]
    items: Vec<Named>,
}

#[derive(Deserialize, Default)]
struct PageMeta {
    #[serde(default, rename = "continue")]
    next: Option<String>,
}

#[derive(Deserialize)]
struct Named {
    metadata: NameOnly,
}

#[derive(Deserialize)]
struct NameOnly {
    name: String,
}

impl Lister<'_> {
    /// Every page of `path`, handed to `each` with the list's origin;
    /// false when a request failed (a warning naming the namespace and
    /// resource).
    async fn list(
        &self,
        path: &str,
        namespace: &str,
        resource: &str,
        each: &mut dyn FnMut(&Origin, &[u8]),
    ) -> bool {
        let origin = Origin::K8sApi {
            context: self.context.clone(),
            path: path.to_string(),
        };
        let mut next: Option<String> = None;
        loop {
            let mut url = format!("{path}?limit={}", self.page_size);
            if let Some(token) = &next {
                url.push_str("&continue=");
                url.push_str(&percent_encode(token));
            }
            let request = http::Request::get(url)
                .body(Vec::new())
                .expect("a GET with a path and no headers is a valid request");
            let text = match self.client.request_text(request).await {
                Ok(t) => t,
                Err(e) => {
                    self.warn(namespace, resource, &e);
                    return false;
                }
            };
            each(&origin, text.as_bytes());
            next = serde_json::from_str::<Page>(&text)
                .ok()
                .and_then(|p| p.metadata.next)
                .filter(|t| !t.is_empty());
            if next.is_none() {
                return true;
            }
        }
    }

    /// All namespace names; when they may not be listed (RBAC), a
    /// warning and the context's namespace.
    async fn namespaces(&self, fallback: &str) -> Vec<String> {
        let mut pages = Vec::new();
        let mut collect = |_: &Origin, page: &[u8]| pages.push(page.to_vec());
        let listed = self
            .list("/api/v1/namespaces", "(all)", "namespaces", &mut collect)
            .await;
        let mut names: Vec<String> = pages
            .iter()
            .filter_map(|page| serde_json::from_slice::<Page>(page).ok())
            .flat_map(|p| p.items.into_iter().map(|i| i.metadata.name))
            .collect();
        if !listed && names.is_empty() {
            names.push(fallback.to_string());
        }
        names
    }

    fn warn(&self, namespace: &str, resource: &str, e: &kube::Error) {
        // Status messages name the user and resource, never object data.
        let why = match e {
            kube::Error::Api(status) if status.code == 403 => {
                "forbidden (RBAC): not scanned".to_string()
            }
            kube::Error::Api(status) => format!("API error {} {}", status.code, status.reason),
            other => format!("request failed: {other}"),
        };
        self.sink.warn(Warning {
            input: format!("{} namespace {namespace} {resource}", self.context),
            message: why,
        });
    }
}

/// Percent-encodes a continue token for the query string.
fn percent_encode(token: &str) -> String {
    let mut out = String::with_capacity(token.len());
    for b in token.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn continue_tokens_are_percent_encoded() {
        assert_eq!(super::percent_encode("eyJ2Ijo=+/x"), "eyJ2Ijo%3D%2B%2Fx");
    }
}
