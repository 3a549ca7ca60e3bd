//! Figures from samples, and the Markdown report with targets and ratios.

use crate::load::RunResult;
use crate::workload::Size;
use std::fmt::Write;
use std::time::Duration;

#[derive(Debug, Clone, Copy, Default)]
pub struct Stats {
    pub n: usize,
    pub ok: usize,
    pub first_event_p50: f64,
    pub first_event_p99: f64,
    pub first_text_p50: f64,
    pub first_text_p99: f64,
    /// First text minus the upstream's own time to it: what the path to and from the
    /// upstream cost, without the mock's timer jitter.
    pub outside_p50: f64,
    pub outside_p99: f64,
    pub total_p50: f64,
    pub rps: f64,
    pub eps: f64,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

pub fn stats(r: &RunResult) -> Stats {
    let sorted = |f: &dyn Fn(&crate::load::Sample) -> Option<f64>| {
        let mut v: Vec<f64> = r.samples.iter().filter(|s| s.ok).filter_map(f).collect();
        v.sort_by(|a, b| a.total_cmp(b));
        v
    };
    let fe = sorted(&|s| Some(ms(s.first_event)));
    let ft = sorted(&|s| s.first_text.map(ms));
    let outside = sorted(&|s| Some(ms(s.first_text?.saturating_sub(s.upstream_think?))));
    let tot = sorted(&|s| Some(ms(s.total)));
    let ok = r.samples.iter().filter(|s| s.ok).count();
    let events: usize = r.samples.iter().map(|s| s.events).sum();
    let secs = r.wall.as_secs_f64().max(1e-9);
    Stats {
        n: r.samples.len(),
        ok,
        first_event_p50: percentile(&fe, 0.5),
        first_event_p99: percentile(&fe, 0.99),
        first_text_p50: percentile(&ft, 0.5),
        first_text_p99: percentile(&ft, 0.99),
        outside_p50: percentile(&outside, 0.5),
        outside_p99: percentile(&outside, 0.99),
        total_p50: percentile(&tot, 0.5),
        rps: ok as f64 / secs,
        eps: events as f64 / secs,
    }
}

#[derive(Debug, Clone)]
pub struct Row {
    pub size: Size,
    pub concurrency: usize,
    pub system: &'static str,
    pub stats: Stats,
    pub cpu_s_per_1000: Option<f64>,
    pub peak_rss_mib: Option<f64>,
}

/// RSS of the proxy over a soak, first to last sample, in MiB.
#[derive(Debug, Clone)]
pub struct Soak {
    pub rss: Vec<f64>,
    pub requests: u64,
}

/// The sequential check: the median of per-round differences from direct, in ms.
#[derive(Debug, Clone)]
pub struct Interleaved {
    pub rounds: usize,
    pub plugboard_ms: Option<f64>,
    /// At the first event of any kind (Plugboard's own `response.created` against the
    /// upstream's first chunk): where the added time starts.
    pub plugboard_first_event_ms: Option<f64>,
    /// A relay that does nothing (same HTTP stack, its own process) against direct: the hop.
    pub relay_ms: Option<f64>,
    /// Plugboard against that relay, round by round: what Plugboard adds beyond the hop.
    pub plugboard_over_relay_ms: Option<f64>,
    pub litellm_ms: Option<f64>,
}

#[derive(Debug, Clone, Default)]
pub struct Extras {
    /// The mock answered at a model's pace (a first-token or chunk delay): the p99 budget
    /// at 64 streams is then 1.5 ms (issue 24), against 3 ms when every system is CPU-bound.
    pub paced: bool,
    pub interleaved: Option<Interleaved>,
    pub cold_start: Option<crate::runner::ColdStart>,
    pub app_idle: Option<(f64, f64)>,
    pub soak: Option<Soak>,
    pub notes: Vec<String>,
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map(|x| format!("{x:.digits$}"))
        .unwrap_or_else(|| "–".into())
}

fn find<'a>(rows: &'a [Row], size: Size, c: usize, system: &str) -> Option<&'a Row> {
    rows.iter()
        .find(|r| r.size == size && r.concurrency == c && r.system == system)
}

pub fn render(rows: &[Row], extras: &Extras) -> String {
    let mut out = String::new();
    for size in [Size::Small, Size::Large] {
        if !rows.iter().any(|r| r.size == size) {
            continue;
        }
        let _ = writeln!(out, "\n#### Input {}\n", size.label());
        let _ = writeln!(out, "| streams | system | ok | first event p50 / p99 ms | first text p50 / p99 ms | outside the upstream p50 / p99 ms | added vs direct p50 / p99 ms | req/s | events/s | CPU s / 1k req | peak RSS MiB |");
        let _ = writeln!(
            out,
            "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
        for r in rows.iter().filter(|r| r.size == size) {
            let s = r.stats;
            let added = match find(rows, size, r.concurrency, "direct") {
                Some(d) if r.system != "direct" => {
                    let (a50, a99) = added(&s, &d.stats);
                    format!("{a50:+.2} / {a99:+.2}")
                }
                _ => "–".into(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {}/{} | {:.2} / {:.2} | {:.2} / {:.2} | {:.2} / {:.2} | {} | {:.0} | {:.0} | {} | {} |",
                r.concurrency,
                r.system,
                s.ok,
                s.n,
                s.first_event_p50,
                s.first_event_p99,
                s.first_text_p50,
                s.first_text_p99,
                s.outside_p50,
                s.outside_p99,
                added,
                s.rps,
                s.eps,
                opt(r.cpu_s_per_1000, 3),
                opt(r.peak_rss_mib, 1)
            );
        }
    }
    out.push_str(&targets(rows, extras));
    out
}

/// Time a system adds to the first text over a direct connection, p50 and p99: compared
/// outside the upstream's own time, so that the mock's timer jitter (the same for every
/// system) does not swing the difference.
pub fn added(system: &Stats, direct: &Stats) -> (f64, f64) {
    (
        system.outside_p50 - direct.outside_p50,
        system.outside_p99 - direct.outside_p99,
    )
}

fn targets(rows: &[Row], extras: &Extras) -> String {
    let mut out = String::from("\n#### Targets and ratios (64 concurrent streams, small input)\n\n| what | target | measured | |\n|---|---|---|---|\n");
    let mut line = |what: &str, target: &str, measured: String, met: Option<bool>| {
        let mark = match met {
            Some(true) => "met",
            Some(false) => "**missed**",
            None => "",
        };
        let _ = writeln!(out, "| {what} | {target} | {measured} | {mark} |");
    };
    let (d, p, l) = (
        find(rows, Size::Small, 64, "direct"),
        find(rows, Size::Small, 64, "plugboard"),
        find(rows, Size::Small, 64, "litellm"),
    );
    if let (Some(d), Some(p)) = (d, p) {
        // Compared at the first text delta: Plugboard's own first event (response.created)
        // leaves before the upstream's first chunk, which would flatter it.
        let (a50, a99) = added(&p.stats, &d.stats);
        line(
            "added time to first event (first text delta), p50",
            "≤ 1 ms",
            format!("{a50:.2} ms"),
            Some(a50 <= 1.0),
        );
        let p99_budget = if extras.paced { 1.5 } else { 3.0 };
        line(
            "added time to first event (first text delta), p99",
            &format!("≤ {p99_budget} ms"),
            format!("{a99:.2} ms"),
            Some(a99 <= p99_budget),
        );
        let thr = p.stats.rps / d.stats.rps * 100.0;
        line(
            "throughput Plugboard / direct",
            "≥ 90 %",
            format!("{thr:.0} %"),
            Some(thr >= 90.0),
        );
    }
    if let Some(p) = p {
        if let Some(rss) = p.peak_rss_mib {
            line(
                "Plugboard peak RSS",
                "≤ 30 MiB",
                format!("{rss:.1} MiB"),
                Some(rss <= 30.0),
            );
        }
    }
    if let Some(rss) = find(rows, Size::Large, 64, "plugboard").and_then(|r| r.peak_rss_mib) {
        line(
            "Plugboard peak RSS with 64 streams of 300 KB requests",
            "≤ 80 MiB",
            format!("{rss:.1} MiB"),
            Some(rss <= 80.0),
        );
    }
    if let (Some(p), Some(l)) = (p, l) {
        if let (Some(pc), Some(lc)) = (p.cpu_s_per_1000, l.cpu_s_per_1000) {
            line(
                "CPU per request, LiteLLM / Plugboard",
                "≥ 20×",
                format!("{:.1}×", lc / pc),
                Some(lc / pc >= 20.0),
            );
        }
        if let Some(d) = d {
            line(
                "added to first text p50, LiteLLM vs Plugboard",
                "(reported)",
                format!(
                    "{:.1} ms vs {:.2} ms",
                    added(&l.stats, &d.stats).0,
                    added(&p.stats, &d.stats).0
                ),
                None,
            );
        }
        if let (Some(pr), Some(lr)) = (p.peak_rss_mib, l.peak_rss_mib) {
            line(
                "peak RSS, LiteLLM / Plugboard",
                "(reported)",
                format!("{lr:.0} MiB vs {pr:.1} MiB ({:.0}×)", lr / pr),
                None,
            );
        }
    }
    if let Some(i) = &extras.interleaved {
        if let Some(p) = i.plugboard_ms {
            line(
                &format!(
                    "added to first text, one request at a time, interleaved with direct (median of {} rounds)",
                    i.rounds
                ),
                "≤ 0.25 ms",
                format!(
                    "{p:.2} ms (first event of any kind {}{})",
                    i.plugboard_first_event_ms
                        .map_or("–".into(), |f| format!("{f:+.2} ms")),
                    i.litellm_ms
                        .map_or(String::new(), |l| format!("; LiteLLM {l:.1} ms"))
                ),
                Some(p <= 0.25),
            );
        }
        if let (Some(r), Some(o)) = (i.relay_ms, i.plugboard_over_relay_ms) {
            line(
                "of which one more hop: a relay that does nothing (axum + reqwest, own process) against direct",
                "(reported)",
                format!("{r:.2} ms"),
                None,
            );
            line(
                "Plugboard's own share: Plugboard against that relay, round by round",
                "(reported)",
                format!("{o:.2} ms"),
                None,
            );
        }
    }
    if let Some(c) = extras.cold_start {
        line(
            "plugboard-proxy cold start to /health",
            "(reported)",
            format!("{:.1} ms", ms(c.to_health)),
            None,
        );
        line(
            "plugboard-proxy cold start to first served request",
            "(reported)",
            format!("{:.1} ms", ms(c.to_first_response)),
            None,
        );
    }
    if let Some((cpu_pct, rss)) = extras.app_idle {
        line(
            "tray app idle, window closed: CPU",
            "(reported)",
            format!("{cpu_pct:.2} % of one core"),
            None,
        );
        line(
            "tray app idle, window closed: RSS (all its processes)",
            "(reported)",
            format!("{rss:.1} MiB"),
            None,
        );
    }
    if let Some(soak) = &extras.soak {
        let (first, last) = (soak.rss[0], soak.rss[soak.rss.len() - 1]);
        let half = soak.rss[soak.rss.len() / 2];
        let series: Vec<String> = soak.rss.iter().map(|r| format!("{r:.1}")).collect();
        line(
            "soak at 64 streams: RSS start → end",
            "no growth",
            format!(
                "{first:.1} → {last:.1} MiB over {} requests; second half {half:.1} → {last:.1}",
                soak.requests
            ),
            // Growth that has stopped by half-time is the allocator settling, not a leak.
            Some(last <= half * 1.05 + 1.0),
        );
        let _ = writeln!(
            out,
            "\nRSS through the soak, MiB, every tenth of it: {}",
            series.join(" → ")
        );
    }
    for n in &extras.notes {
        let _ = writeln!(out, "\n{n}");
    }
    out
}

/// Puts `text` into the markdown file at `path` between `<!-- {tag}begin -->` and
/// `<!-- {tag}end -->` (appended with the markers when they are not there yet).
pub fn write_section(path: &std::path::Path, tag: &str, text: &str) -> std::io::Result<()> {
    let doc = std::fs::read_to_string(path).unwrap_or_default();
    let (begin, end) = (format!("<!-- {tag}begin -->"), format!("<!-- {tag}end -->"));
    let text = text.trim_end_matches('\n');
    let updated = match (doc.find(&begin), doc.find(&end)) {
        (Some(b), Some(e)) if b < e => format!("{}{begin}\n{text}\n{}", &doc[..b], &doc[e..]),
        _ => format!("{doc}\n{begin}\n{text}\n{end}\n"),
    };
    std::fs::write(path, updated)
}
