//! Registry credentials: `--username` with `--password-stdin`, else the
//! host's entry in the Docker client config (`auths`, base64 `auth`), else
//! anonymous. Passwords never reach a message: only where they came from.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;

#[derive(Clone)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Credentials for one host and a description of where they came from, fit
/// for a warning.
pub struct Found {
    pub credentials: Option<Credentials>,
    pub source: String,
}

/// The Docker client config: `$DOCKER_CONFIG/config.json`, else
/// `~/.docker/config.json`.
pub fn docker_config_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker/config.json"))
}

pub fn for_host(explicit: Option<&Credentials>, config: Option<&Path>, host: &str) -> Found {
    if let Some(c) = explicit {
        return Found {
            credentials: Some(c.clone()),
            source: "the credentials from --username/--password-stdin".to_string(),
        };
    }
    if let Some(path) = config {
        if let Some(c) = from_docker_config(path, host) {
            return Found {
                credentials: Some(c),
                source: format!("the credentials for {host} in {}", path.display()),
            };
        }
    }
    Found {
        credentials: None,
        source: "anonymous access (no credentials given or configured)".to_string(),
    }
}

fn from_docker_config(path: &Path, host: &str) -> Option<Credentials> {
    let text = std::fs::read(path).ok()?;
    let config: serde_json::Value = serde_json::from_slice(&text).ok()?;
    let auths = config.get("auths")?.as_object()?;
    let host = key_host(host);
    let entry = auths.iter().find(|(key, _)| key_host(key) == host)?.1;
    let encoded = entry.get("auth")?.as_str()?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (username, password) = decoded.split_once(':')?;
    Some(Credentials {
        username: username.to_string(),
        password: password.to_string(),
    })
}

/// `https://host:5000/v1/` → `host:5000`; Docker Hub's legacy key counts
/// for its registry host.
fn key_host(key: &str) -> &str {
    let rest = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let host = rest.split('/').next().unwrap_or(rest);
    if host == "index.docker.io" || host == "registry-1.docker.io" {
        "docker.io"
    } else {
        host
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_config_auths_by_host() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.json");
        let auth = base64::engine::general_purpose::STANDARD.encode("ci:pa55:word");
        std::fs::write(
            &path,
            format!(r#"{{"auths": {{"https://reg.example:5000/v1/": {{"auth": "{auth}"}}}}}}"#),
        )
        .expect("write");
        let found = for_host(None, Some(&path), "reg.example:5000");
        let c = found.credentials.expect("found");
        assert_eq!(
            (c.username.as_str(), c.password.as_str()),
            ("ci", "pa55:word")
        );
        assert!(found.source.contains("config.json"));
        assert!(!format!("{c:?}").contains("pa55"));
        assert!(for_host(None, Some(&path), "other:5000")
            .credentials
            .is_none());
    }
}
