//! `plugboard-tray-memory`: the tray app's resident memory, all its processes, when it was
//! never opened, with its window open, and after the window was closed; against the goal of
//! staying under 100 MiB once the window is gone. Needs a display and a D-Bus session (the
//! second launch that opens the window reaches the first over it): `scripts/bench.sh` runs
//! it under Xvfb and `dbus-run-session`.

use clap::Parser;
use plugboard_bench::tray::{self, Snapshot};
use std::time::Duration;

#[derive(Parser)]
#[command(name = "plugboard-tray-memory")]
struct Args {
    /// The `plugboard` binary (a release build for figures worth writing down).
    #[arg(long)]
    app: std::path::PathBuf,
    /// Seconds to wait at each step.
    #[arg(long, default_value_t = 8)]
    settle_secs: u64,
    /// Write the report into this file between `<!-- bench:tray:begin -->` and `end`.
    #[arg(long)]
    write: Option<std::path::PathBuf>,
}

/// What a tray app may hold, all processes, once its window is gone.
const GOAL_MIB: f64 = 100.0;

fn row(state: &str, s: &Snapshot) -> String {
    format!(
        "| {state} | {:.1} | {:.1} | {} |\n",
        s.rss(),
        s.pss(),
        s.breakdown()
    )
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let home = std::env::temp_dir().join(format!("plugboard-tray-memory-{}", std::process::id()));
    let m = match tray::memory(&args.app, &home, Duration::from_secs(args.settle_secs)).await {
        Ok(m) => m,
        Err(e) => {
            eprintln!("plugboard-tray-memory: {e}");
            std::process::exit(1);
        }
    };
    let _ = std::fs::remove_dir_all(&home);
    let worst = m.never_opened.rss().max(m.after_close.rss());
    let mut out = String::from(
        "| tray app | RSS MiB, all processes | PSS MiB | per process (RSS MiB) |\n|---|---|---|---|\n",
    );
    out += &row("never opened", &m.never_opened);
    out += &row("window open", &m.open);
    out += &row("after open and close", &m.after_close);
    out += &format!(
        "\nGoal: under {GOAL_MIB:.0} MiB (RSS, all processes) whenever the window is closed: {:.1} MiB at worst, {}.\n",
        worst,
        if worst < GOAL_MIB { "met" } else { "missed" }
    );
    print!("{out}");
    if let Some(path) = &args.write {
        plugboard_bench::report::write_section(path, "bench:tray:", &out).unwrap();
    }
}
