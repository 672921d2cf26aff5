//! `process_*` metrics of this process, read from /proc (Linux; elsewhere they are left out).

use std::fmt::Write;

/// Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux).
const TICKS: f64 = 100.0;

fn status_kb(status: &str, field: &str) -> Option<f64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse::<f64>().ok())
}

/// Resident memory in MB and the number of threads (Linux; `None` elsewhere).
pub fn memory() -> Option<(f64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let rss = status_kb(&status, "VmRSS:")?;
    let threads = status_kb(&status, "Threads:").unwrap_or(0.0);
    Some((rss / 1024.0, threads as u64))
}

/// CPU seconds (user + system) from /proc/self/stat.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after ')'.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / TICKS)
}

fn max_fds() -> Option<f64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse().ok())
}

/// Appends the process metrics; `start_time` is seconds since the epoch.
pub fn render(out: &mut String, start_time: i64) {
    let mut gauge = |name: &str, kind: &str, help: &str, value: Option<f64>| {
        if let Some(v) = value {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}"
            );
        }
    };
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    gauge(
        "process_cpu_seconds_total",
        "counter",
        "User and system CPU time spent, in seconds.",
        cpu_seconds(),
    );
    gauge(
        "process_resident_memory_bytes",
        "gauge",
        "Resident memory size in bytes.",
        status_kb(&status, "VmRSS:").map(|k| k * 1024.0),
    );
    gauge(
        "process_virtual_memory_bytes",
        "gauge",
        "Virtual memory size in bytes.",
        status_kb(&status, "VmSize:").map(|k| k * 1024.0),
    );
    gauge(
        "process_threads",
        "gauge",
        "Threads of this process.",
        status_kb(&status, "Threads:"),
    );
    gauge(
        "process_open_fds",
        "gauge",
        "Open file descriptors.",
        std::fs::read_dir("/proc/self/fd")
            .ok()
            .map(|d| d.count() as f64),
    );
    gauge(
        "process_max_fds",
        "gauge",
        "Most file descriptors this process may open.",
        max_fds(),
    );
    gauge(
        "process_start_time_seconds",
        "gauge",
        "Start time of the process since the Unix epoch, in seconds.",
        Some(start_time as f64),
    );
}

#[cfg(test)]
mod tests {
    #[test]
    fn process_metrics_are_read_on_linux() {
        let mut out = String::new();
        super::render(&mut out, 1_700_000_000);
        assert!(out.contains("process_start_time_seconds 1700000000"));
        if cfg!(target_os = "linux") {
            for name in [
                "process_cpu_seconds_total",
                "process_resident_memory_bytes",
                "process_open_fds",
                "process_max_fds",
            ] {
                assert!(out.contains(&format!("\n{name} ")), "{name} in {out}");
            }
        }
    }
}
