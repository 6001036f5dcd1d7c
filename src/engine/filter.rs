//! Value filters: what looks like a secret by shape but is not one.
//!
//! `placeholder` applies to every rule: template expressions, environment
//! lookups, placeholder words, masked values, encrypted blobs and vendor
//! documentation examples. `strict` adds what only shape-based (generic) rules
//! confuse with secrets: UUIDs, git object ids, digests, integrity hashes,
//! public keys, file paths and URLs without credentials.

/// Why a value was dismissed; used in tests and `--verbose` diagnostics.
pub type Reason = &'static str;

/// Substrings that mark a value as a stand-in rather than a credential.
const PLACEHOLDER_WORDS: &[&str] = &[
    "example",
    "changeme",
    "change_me",
    "change-me",
    "changethis",
    "dummy",
    "placeholder",
    "redacted",
    "your_",
    "your-",
    "yourtoken",
    "yourkey",
    "yourpassword",
    "yoursecret",
    "yourapikey",
    "replace_me",
    "replaceme",
    "replace-me",
    "insert_",
    "insert-",
    "fixme",
    "todo",
    "xxxx",
    "****",
    "....",
    "notreal",
    "not_real",
    "not-a-real",
    "notasecret",
    "not_a_secret",
    "fake",
    "sample",
    "mysecret",
    "mypassword",
    "secret_here",
    "token_here",
    "key_here",
    "password_here",
    "[masked]",
    "[secure]",
    "[filtered]",
    "<redacted>",
];

/// Prefixes of encrypted or wrapped values: ciphertext is not a leak.
const ENCRYPTED_PREFIXES: &[&str] = &[
    "enc[",            // SOPS
    "$ansible_vault;", // ansible-vault
    "vault:v",         // HashiCorp Vault transit ciphertext
    "{cipher}",        // Spring Cloud Config
    "-----begin pgp message",
    "aqicah", // AWS KMS ciphertext blob (base64)
];

/// Substrings of expressions that read a secret from elsewhere.
const LOOKUPS: &[&str] = &[
    "${",
    "{{",
    "}}",
    "$(",
    "%(",
    "<%",
    "#{",
    "os.environ",
    "os.getenv",
    "getenv(",
    "process.env",
    "env[",
    "env.fetch",
    "environment.getenvironmentvariable",
    "system.getenv",
    "secrets.",
    "config[",
    "settings.",
    "vault(",
    "lookup(",
];

/// Returns why `value` is a placeholder, template, lookup or ciphertext, or
/// `None` when it may be a real secret.
pub fn placeholder(value: &[u8]) -> Option<Reason> {
    if value.is_empty() {
        return Some("empty");
    }
    // Long values (PEM blocks, JWTs) are only checked by their prefix and
    // for lookups; placeholder words inside base64 are noise.
    let lower: Vec<u8> = value.iter().map(u8::to_ascii_lowercase).collect();
    let short = value.len() <= 200;
    for p in ENCRYPTED_PREFIXES {
        if lower.starts_with(p.as_bytes()) {
            return Some("encrypted value");
        }
    }
    if short {
        for l in LOOKUPS {
            if contains(&lower, l.as_bytes()) {
                return Some("template or environment lookup");
            }
        }
        if is_variable_reference(value) {
            return Some("variable reference");
        }
        if value.first() == Some(&b'<') && value.last() == Some(&b'>') {
            return Some("angle-bracket placeholder");
        }
        for w in PLACEHOLDER_WORDS {
            if contains(&lower, w.as_bytes()) {
                return Some("placeholder word");
            }
        }
        if low_variety(value) {
            return Some("too few distinct characters");
        }
        if is_sequence(&lower) {
            return Some("character sequence");
        }
    } else if lower.starts_with(b"${") || lower.starts_with(b"{{") {
        return Some("template or environment lookup");
    }
    None
}

/// Returns why a value matched by a shape-only (generic) rule is not a secret.
pub fn strict(value: &[u8]) -> Option<Reason> {
    if let Some(r) = placeholder(value) {
        return Some(r);
    }
    let lower: Vec<u8> = value.iter().map(u8::to_ascii_lowercase).collect();
    if is_uuid(&lower) {
        return Some("uuid");
    }
    if lower.len() == 40 && lower.iter().all(u8::is_ascii_hexdigit) {
        return Some("git object id or sha1");
    }
    for p in [
        &b"sha1-"[..],
        b"sha256-",
        b"sha384-",
        b"sha512-",
        b"sha256:",
        b"sha512:",
        b"md5:",
        b"ssh-rsa",
        b"ssh-ed25519",
        b"ecdsa-sha2",
        b"-----begin public key",
        b"-----begin certificate",
        b"http://",
        b"https://",
        b"file://",
        b"/",
        b"./",
        b"../",
        b"~/",
    ] {
        if lower.starts_with(p) {
            return Some("digest, public key, path or url");
        }
    }
    // Function calls and attribute access: `get_password()`, `cfg.db.pass`.
    if lower.ends_with(b"()") || lower.ends_with(b")") && contains(&lower, b"(") {
        return Some("code expression");
    }
    if is_dotted_identifier(value) {
        return Some("code expression");
    }
    if value.iter().all(|b| b.is_ascii_alphabetic() || *b == b'_')
        && value.len() < 24
        && !value.iter().any(u8::is_ascii_digit)
    {
        // A lone word (`password = secret`, `token: bearer`) names, it does not hold.
        return Some("plain word");
    }
    None
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(hay, needle).is_some()
}

/// `$VAR`, `$var_name`, `%VAR%`, `@VAR@`: a reference to a variable.
fn is_variable_reference(v: &[u8]) -> bool {
    let ident = |s: &[u8]| {
        !s.is_empty()
            && s.iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'.')
    };
    match v {
        [b'$', rest @ ..] => ident(rest),
        [b'%', mid @ .., b'%'] | [b'@', mid @ .., b'@'] => ident(mid),
        _ => false,
    }
}

/// Dotted identifiers such as `settings.db_password` or `self.token`.
fn is_dotted_identifier(v: &[u8]) -> bool {
    let mut parts = 0;
    for part in v.split(|b| *b == b'.') {
        let ok = part
            .first()
            .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
            && part.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_');
        if !ok {
            return false;
        }
        parts += 1;
    }
    parts >= 2
}

fn low_variety(v: &[u8]) -> bool {
    if v.len() < 6 {
        return false;
    }
    let mut seen = [false; 256];
    let mut distinct = 0;
    for &b in v {
        if !seen[b as usize] {
            seen[b as usize] = true;
            distinct += 1;
        }
    }
    distinct <= 3 || (v.len() >= 16 && distinct <= 4)
}

/// `123456789`, `abcdefgh`, `0123456789abcdef`: keyboard filler.
fn is_sequence(lower: &[u8]) -> bool {
    if lower.len() < 6 {
        return false;
    }
    const SEQS: &[&[u8]] = &[
        b"0123456789abcdefghijklmnopqrstuvwxyz",
        b"qwertyuiopasdfghjklzxcvbnm",
        b"9876543210",
    ];
    SEQS.iter().any(|s| contains(s, lower))
}

fn is_uuid(lower: &[u8]) -> bool {
    if lower.len() != 36 {
        return false;
    }
    lower.iter().enumerate().all(|(i, b)| match i {
        8 | 13 | 18 | 23 => *b == b'-',
        _ => b.is_ascii_hexdigit(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_dismissed() {
        for v in [
            "${GITHUB_TOKEN}",
            "$DB_PASSWORD",
            "%API_KEY%",
            "{{ .Values.token }}",
            "<your-token>",
            "%(password)s",
            "changeme",
            "xxxxxxxxxxxxxxxx",
            "****************",
            "REDACTED",
            "AKIAIOSFODNN7EXAMPLE",
            "your_api_key_here",
            "os.environ['TOKEN']",
            "process.env.TOKEN",
            "ENV['SECRET']",
            "ENC[AES256_GCM,data:abc,iv:def,tag:ghi,type:str]",
            "$ANSIBLE_VAULT;1.1;AES256",
            "123456789",
            "dummy-secret-value",
            "[MASKED]",
        ] {
            assert!(
                placeholder(v.as_bytes()).is_some(),
                "{v} should be a placeholder"
            );
        }
    }

    #[test]
    fn real_looking_values_pass() {
        for v in [
            "ghp_R8hQm2LkV9xWz4TyPq7Nc1Ds5Fg3Jb6Ha0Ke",
            "hT9#kq2!Lm4vZx8w",
            "s3cr3tP4ssw0rdQ7",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq91KEYx",
        ] {
            assert_eq!(placeholder(v.as_bytes()), None, "{v} should pass");
        }
    }

    #[test]
    fn strict_dismisses_ids_digests_and_code() {
        for v in [
            "123e4567-e89b-12d3-a456-426614174000",
            "da39a3ee5e6b4b0d3255bfef95601890afd80709",
            "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==",
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ",
            "get_password()",
            "settings.DB_PASSWORD",
            "password",
            "/etc/secrets/token",
        ] {
            assert!(strict(v.as_bytes()).is_some(), "{v} should be dismissed");
        }
        assert_eq!(strict(b"hT9kq2Lm4vZx8wQ1"), None);
    }
}
