//! The driver hands each finding to `Events::finding` as soon as it is made
//! (what `--format jsonl` streams), already safe to print.

mod common;

use std::sync::Mutex;

use common::token;
use leakhound::engine::Engine;
use leakhound::report::jsonl::Stream;
use leakhound::report::suppress::Suppressions;
use leakhound::report::Finding;
use leakhound::scan::{self, Events, ScanOptions};
use leakhound::source::{CommitInfo, Origin, Sink, Warning};

#[derive(Default)]
struct Recorder {
    findings: Mutex<Vec<Finding>>,
}

impl Events for Recorder {
    fn warning(&self, _: &Warning) {}
    fn skipped(&self, _: &str, _: &str) {}
    fn finding(&self, f: &Finding) {
        self.findings.lock().expect("lock").push(f.clone());
    }
    fn wants_findings(&self) -> bool {
        true
    }
}

fn opts() -> ScanOptions {
    ScanOptions {
        show_secrets: false,
        progress: None,
    }
}

fn git_origin(path: &str, summary: &str) -> Origin {
    Origin::Git {
        path: path.to_string(),
        commit: CommitInfo {
            commit: "a".repeat(40),
            author: "Ada".into(),
            email: "ada@example.com".into(),
            date: "2024-01-02T03:04:05+00:00".into(),
            summary: summary.to_string(),
            unreachable: false,
        },
        occurrences: 1,
    }
}

#[test]
fn findings_reach_events_before_the_scan_ends() {
    let engine = Engine::with_builtin(Vec::new()).expect("rules");
    let (a, b) = (token("stream-a"), token("stream-b"));
    let events = Recorder::default();
    let report = scan::run(&engine, &opts(), &events, |sink: &dyn Sink| {
        let mut w = sink.worker();
        w.blob(
            &Origin::File {
                path: "a.env".into(),
            },
            format!("GITHUB_TOKEN={a}\n").as_bytes(),
        );
        // Heard while the source is still running.
        assert_eq!(events.findings.lock().expect("lock").len(), 1);
        w.blob(
            &Origin::File {
                path: "clean.txt".into(),
            },
            b"nothing here\n",
        );
        assert_eq!(events.findings.lock().expect("lock").len(), 1);
        w.blob(
            &Origin::File {
                path: "b.env".into(),
            },
            format!("GITHUB_TOKEN={b} # leakhound:allow demo\n").as_bytes(),
        );
        let heard = events.findings.lock().expect("lock");
        assert_eq!(heard.len(), 2);
        // Inline suppression is known when the finding is made.
        assert!(heard[1].suppression.is_suppressed());
        assert!(!heard[0].suppression.is_suppressed());
        Ok::<_, std::convert::Infallible>(())
    })
    .expect("scan");
    assert_eq!(report.findings.len(), 2);
    let heard = events.findings.into_inner().expect("lock");
    assert!(heard.iter().all(|f| f.secret.is_none()));
}

#[test]
fn streamed_git_summaries_are_scrubbed() {
    let engine = Engine::with_builtin(Vec::new()).expect("rules");
    let (pasted, other) = (token("stream-pasted"), token("stream-other"));
    let events = Recorder::default();
    scan::run(&engine, &opts(), &events, |sink: &dyn Sink| {
        let mut w = sink.worker();
        // The summary quotes a token found in this blob, and one that only
        // the summary holds (found nowhere else yet).
        let origin = git_origin("app.env", &format!("add {pasted} and {other}"));
        w.blob(&origin, format!("GITHUB_TOKEN={pasted}\n").as_bytes());
        Ok::<_, std::convert::Infallible>(())
    })
    .expect("scan");
    let heard = events.findings.into_inner().expect("lock");
    assert_eq!(heard.len(), 1);
    let line = serde_json::to_string(&heard[0]).expect("json");
    assert!(!line.contains(&pasted), "{line}");
    assert!(!line.contains(&other), "{line}");
    assert!(line.contains("add ghp_…(40) and ghp_…(40)"), "{line}");
}

/// A writer the test can read while the stream still owns it.
#[derive(Clone, Default)]
struct Shared(std::sync::Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn jsonl_stream_writes_each_finding_at_once() {
    let engine = Engine::with_builtin(Vec::new()).expect("rules");
    let buf = Shared::default();
    let suppressions = Suppressions::default();
    let stream = Stream::new(Box::new(buf.clone()), &suppressions);
    struct Forward<'s, 'a>(&'s Stream<'a>);
    impl Events for Forward<'_, '_> {
        fn warning(&self, _: &Warning) {}
        fn skipped(&self, _: &str, _: &str) {}
        fn finding(&self, f: &Finding) {
            self.0.finding(f);
        }
        fn wants_findings(&self) -> bool {
            true
        }
    }
    let t = token("stream-jsonl");
    let report = scan::run(&engine, &opts(), &Forward(&stream), |sink: &dyn Sink| {
        let mut w = sink.worker();
        w.blob(
            &Origin::File {
                path: "a.env".into(),
            },
            format!("GITHUB_TOKEN={t}\n").as_bytes(),
        );
        let text = String::from_utf8(buf.0.lock().expect("lock").clone()).expect("utf-8");
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.starts_with("{\"type\":\"finding\""), "{text}");
        Ok::<_, std::convert::Infallible>(())
    })
    .expect("scan");
    stream.finish(&report).expect("finish");
    let text = String::from_utf8(buf.0.lock().expect("lock").clone()).expect("utf-8");
    let kinds: Vec<String> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("line");
            v["type"].as_str().expect("type").to_string()
        })
        .collect();
    assert_eq!(kinds, ["finding", "exposure", "summary"]);
    assert!(!text.contains(&t));
}
