//! Which step or job each line of a log belongs to, from the marks the
//! normaliser found: GitHub Actions `##[group]Run …`, GitLab sections,
//! Jenkins `[Pipeline] { (Stage)`.

use super::normalize::Mark;

/// Longest step name kept in an origin (bytes; cut at a space so a token
/// in a command is never cut in half).
const MAX_STEP: usize = 160;

/// Consecutive 0-based line ranges `[start, end)` with their step.
pub fn ranges(lines: usize, marks: &[(usize, Mark)]) -> Vec<(usize, usize, Option<String>)> {
    let mut out: Vec<(usize, usize, Option<String>)> = Vec::new();
    let mut group: Option<String> = None;
    let mut sections: Vec<String> = Vec::new();
    let mut stages: Vec<Option<String>> = Vec::new();
    let mut current: Option<String> = None;
    let mut start = 0;
    for (line, mark) in marks {
        match mark {
            Mark::Group(title) if title.starts_with("Run ") => group = Some(title.clone()),
            Mark::Group(_) => {}
            Mark::SectionStart(name) => sections.push(name.clone()),
            Mark::SectionEnd => {
                sections.pop();
            }
            Mark::PipelineOpen(name) => stages.push(name.clone()),
            Mark::PipelineClose => {
                stages.pop();
            }
        }
        let step = sections
            .last()
            .cloned()
            .or_else(|| stages.iter().rev().find_map(Clone::clone))
            .or_else(|| group.clone())
            .map(|s| shorten(&s));
        if step != current {
            // A line that opens a step belongs to it (a group's title is
            // the step's first command); a closing line to the one it ends.
            let cut = match mark {
                Mark::SectionEnd | Mark::PipelineClose => line + 1,
                _ => *line,
            };
            if cut > start {
                out.push((start, cut, current.take()));
                start = cut;
            }
            current = step;
        }
    }
    if lines > start {
        out.push((start, lines, current));
    }
    out
}

fn shorten(s: &str) -> String {
    if s.len() <= MAX_STEP {
        return s.to_string();
    }
    let mut end = MAX_STEP;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let cut = s[..end].rfind(' ').unwrap_or(0);
    format!("{}…", &s[..cut])
}

/// The step a GitHub Actions archive entry holds: `build/2_Run tests.txt`
/// is `Run tests`; a job's whole log `0_build.txt` is `build`.
pub fn from_entry(entry: &str) -> Option<String> {
    let base = entry.rsplit('/').next()?;
    let base = base.strip_suffix(".txt").unwrap_or(base);
    let name = match base.split_once('_') {
        Some((n, rest)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => rest,
        _ => base,
    };
    (!name.is_empty()).then(|| shorten(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_and_groups() {
        let marks = vec![
            (1, Mark::Group("Run make".into())),
            (3, Mark::SectionStart("deploy".into())),
            (5, Mark::SectionEnd),
        ];
        assert_eq!(
            ranges(8, &marks),
            vec![
                (0, 1, None),
                (1, 3, Some("Run make".into())),
                (3, 6, Some("deploy".into())),
                (6, 8, Some("Run make".into())),
            ]
        );
    }

    #[test]
    fn entry_names() {
        assert_eq!(
            from_entry("build/2_Run tests.txt").as_deref(),
            Some("Run tests")
        );
        assert_eq!(from_entry("0_build.txt").as_deref(), Some("build"));
    }
}
