//! A registry's repositories (`/v2/_catalog`) and their tags, page by page
//! (`n` and `last`, what the `Link` header of each page points at).

use oci_client::Reference;

use super::{errors, Registry};

const PAGE: usize = 100;
/// A registry that keeps answering with full pages is not trusted forever.
const MAX_PAGES: usize = 10_000;

pub fn list_images(
    registry: &Registry,
    host: &str,
    prefix: Option<&str>,
    warn: &mut dyn FnMut(String, String),
) -> Result<Vec<String>, String> {
    let (auth, source) = registry.auth(host);
    let probe = Reference::with_tag(
        host.to_string(),
        "catalog".to_string(),
        "latest".to_string(),
    );
    let mut repos = Vec::new();
    let mut last: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page = registry
            .retry(|| {
                registry
                    .client
                    .catalog(&probe, &auth, Some(PAGE), last.as_deref())
            })
            .map_err(|e| format!("catalog: {}", errors::describe(&e, &source)))?;
        let count = page.repositories.len();
        last = page.repositories.last().cloned();
        repos.extend(page.repositories);
        if count < PAGE || last.is_none() {
            break;
        }
    }
    repos.sort();
    repos.dedup();
    let mut refs = Vec::new();
    for repo in repos {
        if prefix.is_some_and(|p| !repo.starts_with(p)) {
            continue;
        }
        match tags(registry, host, &repo, &auth, &source) {
            Ok(tags) => refs.extend(tags.into_iter().map(|t| format!("{host}/{repo}:{t}"))),
            Err(e) => warn(format!("{host}/{repo}"), e),
        }
    }
    Ok(refs)
}

fn tags(
    registry: &Registry,
    host: &str,
    repo: &str,
    auth: &oci_client::secrets::RegistryAuth,
    source: &str,
) -> Result<Vec<String>, String> {
    let reference = Reference::with_tag(host.to_string(), repo.to_string(), "latest".to_string());
    let mut tags = Vec::new();
    let mut last: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page = registry
            .retry(|| {
                registry
                    .client
                    .list_tags(&reference, auth, Some(PAGE), last.as_deref())
            })
            .map_err(|e| format!("tags: {}", errors::describe(&e, source)))?;
        let count = page.tags.len();
        last = page.tags.last().cloned();
        tags.extend(page.tags);
        if count < PAGE || last.is_none() {
            break;
        }
    }
    tags.sort();
    tags.dedup();
    Ok(tags)
}
