//! What the web engine leaves behind once the settings window is gone, given back (Linux).
//!
//! Measured (BENCHMARKS.md, "Tray app idle"): after the window was opened and closed once,
//! WebKit's network process stays for the app's lifetime (61 MiB; Tauri keeps the web
//! context alive on Linux and WebKitGTK has no call to end that process), and the main
//! process keeps the pages of the libraries the page pulled in (WebKit, JavaScriptCore, Mesa
//! and its LLVM: about 65 MiB of clean, file-backed memory). A tray app needs neither until
//! the window opens again, when WebKit starts a new network process and the pages are read
//! back from the files. At a start into the tray the same pages are there too: GTK probes
//! the display for GL, which loads the GPU driver and LLVM (~50 MiB). (`GDK_GL=disable`
//! avoids the probe, but WebKit's snapshots then never finish: WebDriver hangs on them.)

use std::time::Duration;

/// How long after the window went before the memory is given back: its web process has
/// ended by then, and a window reopened at once finds everything still there.
const SETTLE: Duration = Duration::from_secs(3);

/// Gives the web engine's memory back a moment after the window was destroyed, unless a
/// window is open again by then.
pub fn release_after_close(handle: &tauri::AppHandle, window_label: &'static str) {
    let handle = handle.clone();
    std::thread::spawn(move || {
        std::thread::sleep(SETTLE);
        let on_main = handle.clone();
        // Decided on the main thread, where windows are made: no window can appear meanwhile.
        let _ = handle.run_on_main_thread(move || {
            use tauri::Manager;
            if on_main.get_webview_window(window_label).is_none() {
                release();
            }
        });
    });
}

#[cfg(target_os = "linux")]
fn release() {
    let children = children();
    let name = |pid: u32| {
        std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .unwrap_or_default()
            .trim()
            .to_string()
    };
    // (Process names are cut to 15 characters by the kernel.)
    if children
        .iter()
        .any(|&p| name(p).starts_with("WebKitWebProces"))
    {
        tracing::debug!("a page is still alive; the web engine keeps its memory");
        return;
    }
    for pid in children {
        if name(pid).starts_with("WebKitNetworkPr") {
            // SAFETY: a signal to our own child, found by its name a moment ago.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
        }
    }
    // SAFETY: glibc's malloc_trim only returns free heap pages to the system.
    unsafe { libc::malloc_trim(0) };
    let dropped = page_out_mapped_files();
    tracing::info!(
        dropped_mib = dropped / (1 << 20),
        "settings window closed: the web engine's memory is given back"
    );
}

#[cfg(not(target_os = "linux"))]
fn release() {}

#[cfg(target_os = "linux")]
fn children() -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
        .flat_map(|c| {
            c.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

/// Drops the resident pages of the files the process maps (the libraries). Only clean pages
/// go: they are read back from the file when touched again; written (private) pages stay.
/// Returns the bytes of the ranges advised.
#[cfg(target_os = "linux")]
fn page_out_mapped_files() -> usize {
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return 0;
    };
    let mut advised = 0;
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(path)) = (fields.next(), fields.nth(4)) else {
            continue;
        };
        // Real files only: not the heap, stacks, shared memory or the vDSO.
        if !path.starts_with('/') || path.starts_with("/memfd:") || path.starts_with("/SYSV") {
            continue;
        }
        let Some((start, end)) = range.split_once('-') else {
            continue;
        };
        let (Ok(start), Ok(end)) = (
            usize::from_str_radix(start, 16),
            usize::from_str_radix(end, 16),
        ) else {
            continue;
        };
        // SAFETY: advice on a range the kernel just listed as mapped; MADV_PAGEOUT changes
        // no content, only where clean pages live.
        if unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_PAGEOUT) }
            == 0
        {
            advised += end - start;
        }
    }
    advised
}
