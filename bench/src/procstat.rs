//! CPU time and memory of a process, read from /proc (Linux).

use std::time::Duration;

/// User + system CPU time of `pid` (its threads included).
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces), from field 3 on.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    Some(Duration::from_secs_f64(
        (utime + stime) as f64 / clock_ticks() as f64,
    ))
}

fn clock_ticks() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}

fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Peak resident memory in MiB.
pub fn peak_rss_mib(pid: u32) -> Option<f64> {
    status_kb(pid, "VmHWM:").map(|kb| kb as f64 / 1024.0)
}

/// Current resident memory in MiB.
pub fn rss_mib(pid: u32) -> Option<f64> {
    status_kb(pid, "VmRSS:").map(|kb| kb as f64 / 1024.0)
}

/// CPU time of a whole process tree (LiteLLM runs workers as children).
pub fn tree_cpu_time(pid: u32) -> Option<Duration> {
    let mut total = cpu_time(pid)?;
    for child in children(pid) {
        total += tree_cpu_time(child).unwrap_or_default();
    }
    Some(total)
}

/// Peak RSS summed over a process tree, in MiB.
pub fn tree_peak_rss_mib(pid: u32) -> Option<f64> {
    let mut total = peak_rss_mib(pid)?;
    for child in children(pid) {
        total += tree_peak_rss_mib(child).unwrap_or_default();
    }
    Some(total)
}

/// Current RSS summed over a process tree, in MiB.
pub fn tree_rss_mib(pid: u32) -> Option<f64> {
    let mut total = rss_mib(pid)?;
    for child in children(pid) {
        total += tree_rss_mib(child).unwrap_or_default();
    }
    Some(total)
}

/// Proportional set size in MiB (shared pages divided among the processes mapping them).
pub fn pss_mib(pid: u32) -> Option<f64> {
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let kb: u64 = rollup
        .lines()
        .find(|l| l.starts_with("Pss:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb as f64 / 1024.0)
}

/// `pid` and every process under it, each with its name (`/proc/PID/comm`).
pub fn tree(pid: u32) -> Vec<(u32, String)> {
    let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    let mut out = vec![(pid, name.trim().to_string())];
    for child in children(pid) {
        out.extend(tree(child));
    }
    out
}

fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for t in tasks.flatten() {
            if let Ok(c) = std::fs::read_to_string(t.path().join("children")) {
                out.extend(c.split_whitespace().filter_map(|p| p.parse::<u32>().ok()));
            }
        }
    }
    out
}
