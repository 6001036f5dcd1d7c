//! The rule format: what a rule file says, as data. Compilation lives in `ruleset`.

use serde::Deserialize;

/// How sure a rule is that a match is a live secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// One example a rule must match. A bare string is itself the whole secret;
/// the long form gives the surrounding text and the exact secret the
/// `secret` capture must yield.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Example {
    Token(String),
    Context { input: String, secret: String },
}

impl Example {
    pub fn input(&self) -> &str {
        match self {
            Example::Token(s) => s,
            Example::Context { input, .. } => input,
        }
    }
    pub fn secret(&self) -> &str {
        match self {
            Example::Token(s) => s,
            Example::Context { secret, .. } => secret,
        }
    }
}

/// The playbook the ticket writer turns into work: where to revoke, how to
/// rotate, how to prove the old value is dead.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rotation {
    /// URL or CLI command where the credential is revoked.
    pub revoke: String,
    /// Ordered steps to issue a replacement and update consumers.
    #[serde(default)]
    pub steps: Vec<String>,
    /// How to check the old credential no longer works.
    pub verify: String,
}

/// What a rule reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AppliesTo {
    /// Free text: the keyword prefilter finds where to run the pattern.
    #[default]
    Text,
    /// A value its container declares secret (a Kubernetes Secret's data):
    /// every value is a finding unless a text rule names it better.
    SecretValue,
    /// A value with a name (an environment variable, a ConfigMap key): a
    /// finding when a keyword is part of the name.
    NamedValue,
}

/// One detection rule as written in `rules/*.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Stable dotted id, e.g. `github.pat`.
    pub id: String,
    pub name: String,
    /// Who issued the credential (`GitHub`, `AWS`); `generic` for rules that
    /// match by shape and context only, which get the strict value filters.
    pub provider: String,
    /// Literals for the prefilter; matched ASCII case-insensitively. For
    /// `named-value` rules, the name must contain one of them.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Rust regex over bytes with a capture named `secret`; for value rules,
    /// it runs over the value alone.
    pub pattern: String,
    #[serde(default)]
    pub applies_to: AppliesTo,
    /// Value rules: regexes over the name (case-insensitive) that lower the
    /// confidence one step (`_FILE`, `_PATH`: a reference, not the value).
    #[serde(default)]
    pub demote_names: Vec<String>,
    /// Value rules: regexes over the name (case-insensitive) of variables
    /// the rule never applies to although a keyword is in them
    /// (`CARGO_PKG_AUTHORS` holds `_auth`).
    #[serde(default)]
    pub ignore_names: Vec<String>,
    #[serde(default)]
    pub min_entropy: Option<f64>,
    pub confidence: Confidence,
    #[serde(default)]
    pub examples: Vec<Example>,
    #[serde(default)]
    pub negative_examples: Vec<String>,
    #[serde(default)]
    pub references: Vec<String>,
    #[serde(default)]
    pub rotation: Option<Rotation>,
    /// Regexes over the whole match; a match any of them hits is dropped.
    #[serde(default)]
    pub allow: Vec<String>,
    /// Rules whose nearby match forms one credential with this one
    /// (AWS key id + secret key).
    #[serde(default)]
    pub pairs_with: Vec<String>,
    /// How far past a keyword hit (bytes) the match may extend; raise it for
    /// multi-line secrets such as PEM blocks.
    #[serde(default)]
    pub max_span: Option<usize>,
    /// How far before a keyword hit (bytes) the match may start.
    #[serde(default)]
    pub lookbehind: Option<usize>,
}

impl Rule {
    pub fn is_generic(&self) -> bool {
        self.provider.eq_ignore_ascii_case("generic")
    }

    pub fn is_value_rule(&self) -> bool {
        self.applies_to != AppliesTo::Text
    }
}

/// A rule file: `rules: [...]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    pub rules: Vec<Rule>,
}
