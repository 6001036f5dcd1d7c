//! Registry failures as one clear line each: which status, which
//! credentials were tried (by source, never their value).

use std::error::Error as _;
use std::io;

use oci_client::errors::{DigestError, OciDistributionError, OciErrorCode};

/// Worth another attempt: the registry said 5xx, or a request timed out.
pub fn transient(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::ServerError { code, .. } => *code >= 500,
        OciDistributionError::RequestError(r) => r.is_timeout(),
        OciDistributionError::RegistryError { envelope, .. } => envelope
            .errors
            .iter()
            .any(|e| e.code == OciErrorCode::Toomanyrequests),
        _ => false,
    }
}

pub fn describe(e: &OciDistributionError, tried: &str) -> String {
    use OciDistributionError as E;
    match e {
        E::UnauthorizedError { .. } => {
            format!("401 unauthorized: the registry refused {tried}")
        }
        E::AuthenticationFailure(_) => {
            format!("authentication failed: the token service refused {tried}")
        }
        E::RegistryError { envelope, .. } => {
            let codes: Vec<&OciErrorCode> = envelope.errors.iter().map(|e| &e.code).collect();
            if codes.contains(&&OciErrorCode::Unauthorized) {
                format!("401 unauthorized: the registry refused {tried}")
            } else if codes.contains(&&OciErrorCode::Denied) {
                format!("403 denied: the registry refused {tried}")
            } else if codes.iter().any(|c| {
                matches!(
                    c,
                    OciErrorCode::ManifestUnknown
                        | OciErrorCode::NameUnknown
                        | OciErrorCode::BlobUnknown
                        | OciErrorCode::NotFound
                )
            }) {
                format!("404 not found ({})", code_names(&codes))
            } else {
                format!("registry error ({})", code_names(&codes))
            }
        }
        E::ServerError { code: 401, .. } => {
            format!("401 unauthorized: the registry refused {tried}")
        }
        E::ServerError { code: 403, .. } => format!("403 denied: the registry refused {tried}"),
        E::ServerError { code: 404, .. } => "404 not found".to_string(),
        E::ServerError { code, .. } if *code >= 500 => {
            format!("HTTP {code} from the registry (after retries)")
        }
        E::ServerError { code, .. } => format!("HTTP {code} from the registry"),
        E::ImageManifestNotFoundError(_) => "404 not found (manifest)".to_string(),
        E::RequestError(r) => request_message(r),
        E::DigestError(d) => format!("digest mismatch: {d}"),
        other => other.to_string(),
    }
}

/// A transport error with its causes (TLS, connection refused, ...).
fn request_message(e: &reqwest::Error) -> String {
    let mut out = if e.is_connect() {
        "cannot connect to the registry".to_string()
    } else if e.is_timeout() {
        "the registry timed out (after retries)".to_string()
    } else {
        "request failed".to_string()
    };
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

fn code_names(codes: &[&OciErrorCode]) -> String {
    codes
        .iter()
        .map(|c| format!("{c:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A stream read error: a digest mismatch reported by the verifying
/// stream, else a cut transfer.
pub fn io_message(e: &io::Error) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = e.get_ref().map(|i| i as _);
    while let Some(s) = source {
        if let Some(d) = s.downcast_ref::<DigestError>() {
            return format!("digest mismatch: {d}");
        }
        source = s.source();
    }
    format!("transfer cut short: {e}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16) -> OciDistributionError {
        OciDistributionError::ServerError {
            code,
            url: "http://reg/v2/app/manifests/1".into(),
            message: "body".into(),
        }
    }

    #[test]
    fn only_5xx_is_retried() {
        assert!(transient(&status(503)));
        assert!(transient(&status(500)));
        assert!(!transient(&status(404)));
        assert!(!transient(&status(401)));
    }

    #[test]
    fn statuses_name_the_credential_source() {
        let tried = "the credentials from --username/--password-stdin";
        assert_eq!(
            describe(&status(401), tried),
            format!("401 unauthorized: the registry refused {tried}")
        );
        assert!(describe(&status(403), tried).starts_with("403 denied"));
        assert_eq!(describe(&status(404), tried), "404 not found");
        assert!(describe(&status(502), tried).contains("HTTP 502"));
    }
}
