//! A finding: one secret at one location, never carrying the raw value
//! unless the user asked for it.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::suppress::Suppressed;
use crate::engine::{Confidence, Rule};
use crate::source::Origin;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleRef {
    pub id: String,
    pub name: String,
}

/// Where in a blob: the origin's fields plus 1-based line and byte column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    #[serde(flatten)]
    pub origin: Origin,
    pub line: u32,
    pub column: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub rule: RuleRef,
    pub provider: String,
    pub confidence: Confidence,
    pub location: Location,
    /// Hex SHA-256 of the secret bytes: the same secret anywhere shares it.
    pub fingerprint: String,
    /// A preview that cannot be used as the credential.
    pub redacted: String,
    /// The raw value, present only with `--show-secrets`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Fingerprint of the other half of a paired credential (AWS key id +
    /// secret key) found next to this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paired_with: Option<String>,
    /// Id of the exposure (distinct secret) this finding is a copy of.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exposure: Option<String>,
    pub entropy: f32,
    /// A copy of a secret outside its source of truth is compromised.
    pub compromised: bool,
    /// `"suppressed"` and, when set, `"suppression": {kind, reason}`.
    #[serde(flatten)]
    pub suppression: Suppressed,
}

impl Finding {
    /// Builds a finding; `secret` is kept only when `show_secret` is set.
    pub fn new(
        rule: &Rule,
        location: Location,
        secret: &[u8],
        entropy: f32,
        show_secret: bool,
    ) -> Self {
        Finding {
            rule: RuleRef {
                id: rule.id.clone(),
                name: rule.name.clone(),
            },
            provider: rule.provider.clone(),
            confidence: rule.confidence,
            location,
            fingerprint: fingerprint(secret),
            redacted: redact(secret),
            secret: show_secret.then(|| String::from_utf8_lossy(secret).into_owned()),
            paired_with: None,
            exposure: None,
            entropy: (entropy * 100.0).round() / 100.0,
            compromised: true,
            suppression: Suppressed::default(),
        }
    }
}

/// Hex SHA-256 of the secret bytes.
pub fn fingerprint(secret: &[u8]) -> String {
    let digest = Sha256::digest(secret);
    let mut hex = String::with_capacity(64);
    for b in digest {
        hex.push_str(&format!("{b:02x}"));
    }
    hex
}

/// A preview that identifies a secret to its owner without revealing it:
/// a few leading characters (fewer for short values, none for very short
/// ones), an ellipsis and the length. Non-printable bytes become `?`.
pub fn redact(secret: &[u8]) -> String {
    let shown = match secret.len() {
        0..=7 => 0,
        8..=15 => 2,
        _ => 4,
    };
    let mut out: String = secret[..shown]
        .iter()
        .map(|&b| if b.is_ascii_graphic() { b as char } else { '?' })
        .collect();
    out.push('…');
    out.push_str(&format!("({})", secret.len()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_sha256_hex() {
        assert_eq!(
            fingerprint(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn redaction_hides_most_of_the_value() {
        assert_eq!(
            redact(b"ghp_R8hQm2LkV9xWz4TyPq7Nc1Ds5Fg3Jb6Ha0Ke"),
            "ghp_…(40)"
        );
        assert_eq!(redact(b"hunter22"), "hu…(8)");
        assert_eq!(redact(b"pw1234"), "…(6)");
        assert_eq!(redact(b"\x00\x01ab\xffcdefghijklmnop"), "??ab…(19)");
    }
}
