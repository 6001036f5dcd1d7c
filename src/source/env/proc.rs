//! The live host: every `/proc/PID/environ` the caller may read. A
//! process's variables are handed over and dropped; only findings stay.

use std::io::Read;

use super::{environ, hand_over};
use crate::source::{EnvHolder, Sink, Worker};

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
                sink.skipped(&path, &format!("not readable ({})", e.kind()));
                continue;
            }
        }
        let holder = EnvHolder::Process {
            pid,
            command: command_line(pid),
        };
        hand_over(worker, &holder, &environ(&buf));
    }
}

/// `/proc/PID/cmdline` with NULs as spaces, truncated.
fn command_line(pid: u32) -> String {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let text = String::from_utf8_lossy(&raw);
    let joined: String = text
        .trim_end_matches('\0')
        .chars()
        .map(|c| if c == '\0' || c.is_control() { ' ' } else { c })
        .take(MAX_COMMAND)
        .collect();
    if joined.is_empty() {
        // Kernel threads and zombies have none.
        format!("[{pid}]")
    } else {
        joined
    }
}
