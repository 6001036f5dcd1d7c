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

/// Placeholder words also checked in long values (PEM blocks, session tokens).
const LONG_PLACEHOLDER_WORDS: &[&str] = &["example", "notreal", "placeholder", "redacted"];

/// Example credentials printed in RFCs and vendor documentation, copied
/// verbatim into library docstrings, tests and tutorials.
const KNOWN_EXAMPLES: &[&str] = &[
    // RFC 6749 / 6750 (OAuth 2.0)
    "2yotnfzfejr1zcsicmwpaa",
    "tgzv3jokf0xg5qx2tlkwia",
    "splxlobezqqybys6wxsbia",
    "czzcagrsa3f0mzpnwdfmqmf0m2jw",
    "s6bhdrkqt3",
    "gx1fbat3bv",
    "mf_9.b5f-4.1jqm",
    // RFC 5849 (OAuth 1.0)
    "dpf43f3p2l4k3l03",
    "kd94hf93k423kf44",
    "hh5s93j4hdidpola",
    "hdk48djdsa",
    "nnch734d00sl2jdk",
    "pfkkdhi9sl3r4s00",
    "ad180jjd733klru7",
    "kllo9940pd9333jh",
    "lsdkfol23w54jlksdef",
    "qwe089234lkjsdf",
    // RFC 7617 (Basic): "Aladdin:open sesame"
    "qwxhzgrpbjpvcgvuihnlc2ftzq==",
    // Stripe documentation test keys
    "sk_test_4ec39hqlyjwdarjtt1zdp7dc",
    "pk_test_tyoomqauvdedq54ntiphi7jx",
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
        if KNOWN_EXAMPLES
            .iter()
            .any(|k| contains(&lower, k.as_bytes()))
        {
            return Some("documented example value");
        }
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
    } else {
        // Long words do not occur in random base64 by chance (p < 1e-7 for
        // "example" in 2 KiB), but vendors mark documented session tokens,
        // keys and certificates with them.
        for w in LONG_PLACEHOLDER_WORDS {
            if contains(&lower, w.as_bytes()) {
                return Some("placeholder word");
            }
        }
    }
    None
}

/// Substrings of values a shape-only rule should not report: default,
/// demo and test credentials and the key names people paste as values.
/// Checked on short values only (a random token of 16+ characters contains
/// one of these by chance with negligible probability).
const WEAK_WORDS: &[&str] = &[
    "password",
    "passwd",
    "passw0rd",
    "p@ssw0rd",
    "p@ssword",
    "pass@word",
    "pa$$w0rd",
    "pa$$word",
    "pa55w0rd",
    "secret",
    "test",
    "demo",
    "admin",
    "letmein",
    "welcome",
    "hunter2",
    "foobar",
    "username",
    "user:pass",
    "default",
    "aladdin",
    "sesame",
    "geheim",
];

/// Prefixes of password hashes and digests: a hash is not the credential.
const HASH_PREFIXES: &[&str] = &[
    "$2a$",
    "$2b$",
    "$2x$",
    "$2y$",
    "$argon2",
    "$1$",
    "$5$",
    "$6$",
    "$apr1$",
    "$pbkdf2",
    "$scrypt$",
    "pbkdf2_sha",
    "pbkdf2:sha",
    "bcrypt_sha",
    "scrypt:",
    "{ssha}",
    "{sha}",
    "{ssha256}",
    "{ssha512}",
    "{bcrypt}",
    "{pbkdf2}",
    "{scrypt}",
    "{sha256}",
    "{md5}",
    "{crypt}",
    "md5",
];

/// Prefixes of digests, public material, paths, URLs and cloud resource names.
const STRICT_PREFIXES: &[&str] = &[
    "sha1-",
    "sha256-",
    "sha384-",
    "sha512-",
    "sha1:",
    "sha256:",
    "sha512:",
    "md5:",
    "md5-",
    "h1:",
    "ssh-rsa",
    "ssh-ed25519",
    "ssh-dss",
    "ecdsa-sha2",
    "sk-ssh-",
    "-----begin public key",
    "-----begin rsa public key",
    "-----begin certificate",
    "-----begin pgp public key",
    "-----begin openssh public key",
    "http://",
    "https://",
    "file://",
    "arn:",
    "/",
    "./",
    "../",
    "~/",
    "\\\\",
];

/// File name extensions: `private_key: server.key` names a file.
const FILE_EXTENSIONS: &[&str] = &[
    ".pem",
    ".key",
    ".crt",
    ".cer",
    ".p12",
    ".pfx",
    ".jks",
    ".json",
    ".txt",
    ".yaml",
    ".yml",
    ".env",
    ".pub",
    ".der",
    ".keystore",
    ".asc",
    ".gpg",
    ".ini",
    ".conf",
    ".cfg",
    ".xml",
];

/// Returns why a value matched by a shape-only (generic) rule is not a secret.
pub fn strict(value: &[u8]) -> Option<Reason> {
    if let Some(r) = placeholder(value) {
        return Some(r);
    }
    let lower: Vec<u8> = value.iter().map(u8::to_ascii_lowercase).collect();
    if is_uuid(&lower) {
        return Some("uuid");
    }
    if lower.len() <= 200 && !lower.is_ascii() {
        // `"password": "Contraseña"`: UI text; no credential format is non-ASCII
        return Some("non-ascii text");
    }
    if lower.len() == 40 && lower.iter().all(u8::is_ascii_hexdigit) {
        return Some("git object id or sha1");
    }
    for p in STRICT_PREFIXES {
        if lower.starts_with(p.as_bytes()) {
            return Some("digest, public key, path or url");
        }
    }
    for p in HASH_PREFIXES {
        if lower.starts_with(p.as_bytes()) && (*p != "md5" || lower.len() == 35) {
            return Some("password hash");
        }
    }
    if lower.len() >= 3 && lower[1] == b':' && lower[0].is_ascii_alphabetic() && lower[2] == b'\\' {
        return Some("windows path");
    }
    // Function calls and attribute access: `get_password()`, `cfg.db.pass`.
    if lower.ends_with(b"()") || lower.ends_with(b")") && contains(&lower, b"(") {
        return Some("code expression");
    }
    if is_dotted_identifier(value) {
        return Some("code expression");
    }
    if value.len() < 24 && is_word_shaped(value) {
        // A lone word (`password = secret`, `token: bearer`, `changeMe`)
        // names, it does not hold. Letters in irregular case
        // (`oJKhInCWOhSAXn`) are not word-shaped and go on to the entropy test.
        return Some("plain word");
    }
    if is_identifier_like(value) {
        // `existingSecret: my-release-postgresql`, `"token": "GITHUB_TOKEN"`,
        // `"password": "Passwort:"`: a name, a label or a reference.
        return Some("identifier or label");
    }
    if value
        .iter()
        .all(|b| b.is_ascii_digit() || b" -.:/+_,".contains(b))
    {
        return Some("number, date or version");
    }
    if lower.len() <= 256 && contains(&lower, b"...") {
        return Some("truncated or elided value");
    }
    if lower.len() <= 256 && has_sequence_runs(&lower) {
        return Some("alphabet or digit sequence");
    }
    if value.contains(&b'{') && value.contains(&b'}') {
        return Some("format string or template");
    }
    if is_url_without_credentials(&lower) {
        return Some("digest, public key, path or url");
    }
    if is_wrapped(value) {
        return Some("wrapped template or placeholder");
    }
    if is_lowercase_path(value) {
        return Some("resource path or name");
    }
    if is_email(&lower) {
        return Some("email address");
    }
    if lower.len() <= 64 {
        for ext in FILE_EXTENSIONS {
            if lower.ends_with(ext.as_bytes())
                && lower
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(b))
            {
                return Some("file name");
            }
        }
        let plain = unleet(&lower);
        if WEAK_WORDS
            .iter()
            .any(|w| contains(&lower, w.as_bytes()) || contains(&plain, w.as_bytes()))
        {
            return Some("default, demo or test value");
        }
    }
    if let Some(decoded) = decode_base64(value) {
        // `Authorization: Basic dXNlcm5hbWU6cGFzc3dvcmQ=` is "username:password".
        if decoded.len() >= 4 && decoded.iter().all(|b| (0x20..0x7f).contains(b)) {
            let dl: Vec<u8> = decoded.iter().map(u8::to_ascii_lowercase).collect();
            if placeholder(&decoded).is_some()
                || WEAK_WORDS.iter().any(|w| contains(&dl, w.as_bytes()))
            {
                return Some("base64 of a placeholder or default credential");
            }
        }
    }
    None
}

/// Names, labels and references rather than credentials: a value of
/// letters (and separators) in one dominant case or camelCase, optionally
/// with a trailing `:` `.` `!` `?`, or snake/kebab words with version-like
/// numbers (`postgres-2024-creds`, `API_KEY_V2`).
fn is_identifier_like(v: &[u8]) -> bool {
    let mut t = v;
    while let [rest @ .., last] = t {
        if b":.!?".contains(last) {
            t = rest;
        } else {
            break;
        }
    }
    if t.is_empty() || t.len() > 64 {
        return t.is_empty();
    }
    if !t
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || b"_-.:/".contains(b))
    {
        return false;
    }
    if !t.iter().any(u8::is_ascii_alphabetic) {
        return false;
    }
    let digits = t.iter().filter(|b| b.is_ascii_digit()).count();
    if digits > 0 && t.iter().any(|b| b":/".contains(b)) {
        return false;
    }
    if digits == 0 {
        let upper = t.iter().filter(|b| b.is_ascii_uppercase()).count();
        let lower = t.iter().filter(|b| b.is_ascii_lowercase()).count();
        let letters = upper + lower;
        // camelCase, PascalCase, snake_case, CONSTANT_CASE; random letters
        // are about half upper case.
        return upper * 4 <= letters || lower * 4 <= letters;
    }
    // With digits: at least two words, each `word`, `word42`, `42`, in one case.
    let mut segments = 0;
    for seg in t.split(|b| b"_-.".contains(b)) {
        if seg.is_empty() {
            continue;
        }
        segments += 1;
        let letters_end = seg
            .iter()
            .position(|b| !b.is_ascii_alphabetic())
            .unwrap_or(seg.len());
        let (word, num) = seg.split_at(letters_end);
        if !num.iter().all(u8::is_ascii_digit) {
            return false;
        }
        let one_case = word.iter().all(u8::is_ascii_lowercase)
            || word.iter().all(u8::is_ascii_uppercase)
            || (word.len() > 1
                && word[0].is_ascii_uppercase()
                && word[1..].iter().all(u8::is_ascii_lowercase));
        if !one_case || (word.len() == 1 && !num.is_empty() && num.len() > 2) {
            return false;
        }
    }
    segments >= 2
}

/// Leetspeak folded back to letters, for the weak-word check: `P@55w0rd`.
fn unleet(lower: &[u8]) -> Vec<u8> {
    lower
        .iter()
        .map(|b| match b {
            b'0' => b'o',
            b'1' => b'i',
            b'3' => b'e',
            b'4' | b'@' => b'a',
            b'5' | b'$' => b's',
            b'7' => b't',
            _ => *b,
        })
        .collect()
}

/// Documentation filler built from the alphabet: `abCDeFGhiJKlmnOP`,
/// `abcd1234defg5678`, `A1b2c3d4`. One ascending run of six, or two of four,
/// or letters and digits that each count up.
fn has_sequence_runs(lower: &[u8]) -> bool {
    let mut run = 1;
    let mut long_runs = 0;
    let mut longest = 1;
    for w in lower.windows(2) {
        let consecutive = w[1] == w[0].wrapping_add(1)
            && (w[0].is_ascii_lowercase() && w[1].is_ascii_lowercase()
                || w[0].is_ascii_digit() && w[1].is_ascii_digit());
        if consecutive {
            run += 1;
        } else {
            if run >= 4 {
                long_runs += 1;
            }
            run = 1;
        }
        longest = longest.max(run);
    }
    if run >= 4 {
        long_runs += 1;
    }
    if longest >= 6 || long_runs >= 2 {
        return true;
    }
    if lower.len() <= 16 {
        let letters: Vec<u8> = lower
            .iter()
            .copied()
            .filter(u8::is_ascii_lowercase)
            .collect();
        let digits: Vec<u8> = lower.iter().copied().filter(u8::is_ascii_digit).collect();
        let counts_up = |s: &[u8]| s.len() >= 3 && s.windows(2).all(|w| w[1] == w[0] + 1);
        if counts_up(&letters) && counts_up(&digits) {
            return true;
        }
    }
    false
}

/// `s3://bucket/key`, `fileb://token.bin`, `vault://kv/app`: a URL with no
/// user information names a location.
fn is_url_without_credentials(lower: &[u8]) -> bool {
    let Some(pos) = memchr::memmem::find(lower, b"://") else {
        return false;
    };
    pos > 0
        && lower[..pos]
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+.-".contains(b))
        && !lower.contains(&b'@')
}

/// `{db_password}`, `[TOKEN]`, `(secret)`, `__API_KEY__`, `@@PASS@@`, `%%TOKEN%%`.
fn is_wrapped(v: &[u8]) -> bool {
    if v.len() < 3 {
        return false;
    }
    let (first, last) = (v[0], v[v.len() - 1]);
    if matches!(
        (first, last),
        (b'{', b'}') | (b'[', b']') | (b'(', b')') | (b'<', b'>')
    ) {
        return true;
    }
    v.len() >= 5
        && v[0] == v[1]
        && v[v.len() - 1] == v[v.len() - 2]
        && v[0] == v[v.len() - 1]
        && b"_@%#$".contains(&v[0])
}

/// `projects/acme/secrets/db/versions/latest`, `secret/data/app:password`:
/// lower-case segments joined by `/` name a resource, they do not hold one.
fn is_lowercase_path(v: &[u8]) -> bool {
    v.contains(&b'/')
        && v.iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"/:#_.-".contains(b))
        && v.split(|b| *b == b'/').all(|seg| {
            // a segment of random lower-case base64 would be long and mixed
            // with digits; resource names are words
            seg.len() <= 64 && seg.iter().filter(|b| b.is_ascii_digit()).count() * 2 <= seg.len()
        })
}

fn is_email(lower: &[u8]) -> bool {
    let Some(at) = lower.iter().position(|b| *b == b'@') else {
        return false;
    };
    let (local, domain) = (&lower[..at], &lower[at + 1..]);
    !local.is_empty()
        && local
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"._%+-".contains(b))
        && domain.contains(&b'.')
        && domain
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b".-".contains(b))
        && domain
            .rsplit(|b| *b == b'.')
            .next()
            .is_some_and(|tld| tld.len() >= 2 && tld.iter().all(u8::is_ascii_alphabetic))
}

/// Standard or URL-safe base64 (padded or with a length that is a multiple
/// of four), decoded; `None` when `v` is not base64.
fn decode_base64(v: &[u8]) -> Option<Vec<u8>> {
    if v.len() < 8 || v.len() > 512 || !v.len().is_multiple_of(4) {
        return None;
    }
    let body = v
        .strip_suffix(b"==")
        .or_else(|| v.strip_suffix(b"="))
        .unwrap_or(v);
    let val = |b: u8| -> Option<u32> {
        Some(match b {
            b'A'..=b'Z' => u32::from(b - b'A'),
            b'a'..=b'z' => u32::from(b - b'a') + 26,
            b'0'..=b'9' => u32::from(b - b'0') + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        })
    };
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for &b in body {
        acc = (acc << 6) | val(b)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Letters and underscores shaped like words: `secret`, `SECRET`,
/// `my_secret`, `changeMe`, `MyPassword`. In a camel-case part no two
/// capitals touch, it does not end in a capital and at most a third of its
/// letters are capitals; random letters (`oJKhInCWOhSAXn`) fail that.
fn is_word_shaped(v: &[u8]) -> bool {
    if v.is_empty() || !v.iter().all(|b| b.is_ascii_alphabetic() || *b == b'_') {
        return false;
    }
    v.split(|b| *b == b'_').all(|part| {
        let caps = part.iter().filter(|b| b.is_ascii_uppercase()).count();
        caps == 0
            || caps == part.len()
            || (!part
                .windows(2)
                .any(|w| w[0].is_ascii_uppercase() && w[1].is_ascii_uppercase())
                && !part.last().is_some_and(u8::is_ascii_uppercase)
                && caps * 3 <= part.len())
    })
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
    if v.starts_with(b"eyJ") {
        // a JWT: base64url segments joined by dots
        return false;
    }
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
    fn word_shapes() {
        for w in [
            "secret",
            "SECRET",
            "my_secret",
            "changeMe",
            "MyPassword",
            "Bearer",
        ] {
            assert!(is_word_shaped(w.as_bytes()), "{w}");
        }
        for w in [
            "oJKhInCWOhSAXn",
            "MsYFrPQLkfFevQTiy",
            "aBcDeFgHi",
            "hT9kq2Lm",
        ] {
            assert!(!is_word_shaped(w.as_bytes()), "{w}");
        }
    }

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
            "AQoXdzELDDY//////////wEaoAK1wvxJY12r2IrDFT2IvAzTCn3zHoZ7YNtpiQLF0MqZye/qwjzP2iEXAMPLEbw/m3hsj8VBTkPORGvr9jM5sgP+w9IZWZnU+LWhmg+a5fDi2oTGUYcdg9uexQ4mtCHIHfi4citgqZTgco40Yqr4wIlY//Rm1GiN4aIU0iRsg4m4ltlgr8zc3czCDHVdRJg7fCPaRMBjtPuCS8jSFkw7Xr3fKHvCwNk20LNzEn8vVA+P7k4MNy6+7ig1bOC+e80mR6wgyOVpbWT12bW0e4o/YPwzY/x5OTUZ+L4KvTM1xPBCBMLyQnaREiR7Gw4K0g==",
            "2YotnFZFEjr1zCsicMWpAA",
            "czZCaGRSa3F0MzpnWDFmQmF0M2JW",
            "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
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

    #[test]
    fn strict_dismisses_names_labels_and_references() {
        for v in [
            // i18n labels and form field names
            "Passwort:",
            "Password:",
            "Forgot-password?",
            "Mot-de-passe",
            "Contraseña",
            "Пароль",
            "パスワード",
            "existingSecretName",
            "my-release-postgresql",
            "db-credentials-secret",
            "GITHUB_TOKEN",
            "API_KEY_V2",
            "postgres-2024-creds",
            "abc123_def456",
            // numbers, dates, versions
            "86400000",
            "2024-01-31",
            "1.24.3",
            // templates and replacement tokens
            "{db_password}",
            "[PASSWORD]",
            "__API_KEY__",
            "@@DB_PASS@@",
            "%%TOKEN%%",
            // password hashes
            "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
            "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$4bN0bW9yZQ",
            "pbkdf2_sha256$600000$q0Lr8dnd3CZx$7vJ2W4sLk1aXbYc=",
            "{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=",
            "md5a3556571e93b0d20722ba62be61e8c2d",
            // resource names, paths, files, emails
            "projects/acme-prod/secrets/db-password/versions/latest",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf",
            "secret/data/payments:api_key",
            "C:\\Users\\deploy\\token.txt",
            "server-2024.key",
            "ops.team@acme-corp.io",
            // default, demo and test credentials
            "password123",
            "P@ssw0rd!",
            "admin1234",
            "test-token-9f8e7d",
            "letmein2024",
            "hunter22",
            "P@55w0rd!",
            "Pass@Word1",
            "adm1n2024",
            // documentation filler and templates
            "abCDeFGhiJKlmnOPqrSTuvwxYZ1aBCdEFghijK7LM51n",
            "abcd1234defg5678",
            "a1b2c3d4567890ab",
            "A1b2c3d4",
            "eyJ2IjoiMSIsInMiOjEsImMiOi...",
            "{registry_id}-auth-token",
            "share-{portfolio_id}-{org_type}",
            "fileb://ImportToken.bin",
            "s3://acme-deploy/tokens/api.bin",
            "serverlessrepo:applicationId",
            "x25519.X25519PrivateKey",
            "rust_openssl.hpke.MLKEM768X25519PrivateKey",
            // base64 of placeholder credentials
            "dXNlcm5hbWU6cGFzc3dvcmQ=",
            "YWRtaW46YWRtaW4=",
            "QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
        ] {
            assert!(strict(v.as_bytes()).is_some(), "{v} should be dismissed");
        }
    }

    #[test]
    fn strict_keeps_real_looking_credentials() {
        for v in [
            "hT9kq2Lm4vZx8wQ1",
            "Tr0ub4dor&3xK",
            "Zq7!mR2#vLp9wX",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq91KEYx",
            "d41d8cd98f00b204e9800998ecf8427e",
            "c2VydmljZTpYN2tRMm1aOXBMNHZSOHRX",
            "Kx8vQ2pL9mZr4TnW7bYc",
            "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318",
            "key-3ax6xnjp29jd6fds4gc373sgvjxteol0",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyNDIifQ.Qm9aWx7Lk2vTn8pRs4cYd1fGh3jKl5zX",
            "xK9mQ2vL7pR4tW8zBc3N",
        ] {
            assert_eq!(strict(v.as_bytes()), None, "{v} should pass");
        }
    }

    #[test]
    fn base64_decoding() {
        assert_eq!(
            decode_base64(b"dXNlcjpwYXNz").as_deref(),
            Some(&b"user:pass"[..])
        );
        assert_eq!(
            decode_base64(b"YWRtaW46YWRtaW4=").as_deref(),
            Some(&b"admin:admin"[..])
        );
        assert_eq!(decode_base64(b"not base64!!"), None);
        assert_eq!(decode_base64(b"abc"), None);
    }
}
