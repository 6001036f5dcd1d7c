//! The live host: every `/proc/PID/environ` the caller may read. A
//! process's variables are handed over and dropped; only findings stay.

use std::io::Read;

use super::{environ, hand_over};
use crate::source::{EnvHolder, Origin, Sink, Worker};

/// The `variable` of findings in a process's arguments.
pub const COMMAND_LINE: &str = "(command line)";

/// Longest command line kept in an origin (characters).
const MAX_COMMAND: usize = 200;
/// `environ` is bounded by the kernel's argument limits; stay bounded anyway.
const MAX_ENVIRON: u64 = 4 << 20;

pub fn scan(sink: &dyn Sink, worker: &mut dyn Worker) {
    let me = std::process::id();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        sink.skipped("/proc", "not readable");
        return;
    };
    let mut pids: Vec<u32> = dir
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|&pid| pid != me)
        .collect();
    pids.sort_unstable();
    let mut buf = Vec::new();
    for pid in pids {
        let path = format!("/proc/{pid}/environ");
        buf.clear();
        let read =
            std::fs::File::open(&path).and_then(|f| f.take(MAX_ENVIRON).read_to_end(&mut buf));
        match read {
            Ok(_) => {}
            // Gone between the listing and the read: nothing to count.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                sink.skipped(&path, &format!("not readable: {e}"));
                continue;
            }
        }
        let full = command_line(pid);
        let holder = EnvHolder::Process {
            pid,
            command: shorten(&full, pid),
        };
        hand_over(worker, &holder, &environ(&buf));
        // Arguments leak too (`mysql -p…`); scanning them also lets the
        // driver scrub what it finds out of every origin's `command`.
        let origin = Origin::Env {
            holder,
            variable: COMMAND_LINE.to_string(),
        };
        worker.blob(&origin, full.as_bytes());
    }
}

/// `/proc/PID/cmdline` with NULs as spaces.
fn command_line(pid: u32) -> String {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    String::from_utf8_lossy(&raw)
        .trim_end_matches('\0')
        .chars()
        .map(|c| if c == '\0' || c.is_control() { ' ' } else { c })
        .collect()
}

/// At most `MAX_COMMAND` characters, cut at a space so that no argument
/// (a token the scrubber would not recognise) is kept in part.
fn shorten(command: &str, pid: u32) -> String {
    if command.is_empty() {
        // Kernel threads and zombies have none.
        return format!("[{pid}]");
    }
    match command.char_indices().nth(MAX_COMMAND) {
        None => command.to_string(),
        Some((end, _)) => {
            let cut = command[..end].rfind(' ').unwrap_or(0);
            format!("{}…", &command[..cut])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_command_lines_are_cut_between_arguments() {
        let long = format!("app --token {} --verbose", "x".repeat(250));
        assert_eq!(shorten(&long, 7), "app --token…");
        assert_eq!(shorten("sleep 30", 7), "sleep 30");
        assert_eq!(shorten("", 7), "[7]");
    }
}
