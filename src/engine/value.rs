//! Value rules: a value whose container says what it is (a Kubernetes
//! Secret's data, an environment variable's name) needs no keyword in the
//! text around it. Text rules run first, because a token format names the
//! provider; a value rule reports the whole value when none of them does.

use super::rule::AppliesTo;
use super::{set_line_columns, Confidence, Engine, Match, Overlaps, Scratch};

/// What a value's container says about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueClass {
    /// Declared secret by its container (a Kubernetes Secret's `data`).
    Secret,
    /// Only its name may tell (an environment variable, a ConfigMap key).
    Named,
}

impl Engine {
    /// Scans one named value. With [`Overlaps::Resolve`] value rules run
    /// only when no text rule matched; with [`Overlaps::KeepAll`] (rule
    /// self-checks) both always run. Positions are within `value`.
    pub fn scan_value<'s>(
        &self,
        name: &[u8],
        value: &[u8],
        class: ValueClass,
        scratch: &'s mut Scratch,
        overlaps: Overlaps,
    ) -> &'s [Match] {
        if class == ValueClass::Named
            && overlaps == Overlaps::Resolve
            && self.provider_in_context(name, value, scratch)
        {
            return &scratch.matches;
        }
        self.scan_with(value, scratch, overlaps);
        if overlaps == Overlaps::Resolve && !scratch.matches.is_empty() {
            return &scratch.matches;
        }
        for (ri, rule) in self.rules.iter().enumerate() {
            let applies = match rule.rule.applies_to {
                AppliesTo::Text => false,
                AppliesTo::SecretValue => class == ValueClass::Secret,
                AppliesTo::NamedValue => {
                    class == ValueClass::Named
                        && rule.rule.keywords.iter().any(|k| {
                            let k = k.as_bytes();
                            name.windows(k.len()).any(|w| w.eq_ignore_ascii_case(k))
                        })
                        && !rule.ignore_names().iter().any(|r| r.is_match(name))
                }
            };
            if !applies {
                continue;
            }
            let search = self.search(&mut scratch.searches, ri);
            let Some((Some(secret), whole)) = rule.matcher().find_at(value, 0, search) else {
                continue;
            };
            let bytes = &value[secret.clone()];
            let Some(entropy) = rule.accepts(bytes, &value[whole.clone()]) else {
                continue;
            };
            let mut confidence = earned_confidence(bytes.len(), entropy).min(rule.rule.confidence);
            if rule.demote().iter().any(|d| d.is_match(name)) {
                // A variable that points elsewhere (`_FILE`, `_HEADER`) holds
                // a reference or a label unless the value is long and varied;
                // a declared secret's value stays a finding, only less sure.
                if class == ValueClass::Named && confidence != Confidence::High {
                    continue;
                }
                confidence = lower(confidence);
            }
            let mut m = Match {
                rule: ri,
                secret,
                whole,
                line: 0,
                column: 0,
                entropy: entropy as f32,
                confidence,
                pair: None,
            };
            set_line_columns(value, std::slice::from_mut(&mut m));
            scratch.matches.push(m);
            if overlaps == Overlaps::Resolve {
                break;
            }
        }
        &scratch.matches
    }
}

impl Engine {
    /// Provider rules that need the name as context (`AWS_SECRET_ACCESS_KEY`
    /// before a 40-character key) run over `NAME=VALUE`; true when one
    /// matched inside the value, with the matches left in `scratch`
    /// relative to `value`. Generic rules are left to the value rules.
    fn provider_in_context(&self, name: &[u8], value: &[u8], scratch: &mut Scratch) -> bool {
        let mut text = Vec::with_capacity(name.len() + 1 + value.len());
        text.extend_from_slice(name);
        text.push(b'=');
        text.extend_from_slice(value);
        let offset = text.len() - value.len();
        self.scan_with(&text, scratch, Overlaps::Resolve);
        scratch
            .matches
            .retain(|m| !self.rules[m.rule].generic && m.secret.start >= offset);
        for m in &mut scratch.matches {
            m.secret = m.secret.start - offset..m.secret.end - offset;
            m.whole = m.whole.start.max(offset) - offset..m.whole.end - offset;
            // Indexes into the unfiltered list.
            m.pair = None;
        }
        set_line_columns(value, &mut scratch.matches);
        !scratch.matches.is_empty()
    }
}

/// Long, varied values are likelier generated credentials than short words.
fn earned_confidence(len: usize, entropy: f64) -> Confidence {
    if len >= 16 && entropy >= 3.5 {
        Confidence::High
    } else if len >= 8 && entropy >= 2.5 {
        Confidence::Medium
    } else {
        Confidence::Low
    }
}

fn lower(c: Confidence) -> Confidence {
    match c {
        Confidence::High => Confidence::Medium,
        Confidence::Medium | Confidence::Low => Confidence::Low,
    }
}
