//! One benchmark run: every system on the same workloads, in the same process tree.

use crate::load::{self, Api, Target};
use crate::mock::{self, MockConfig};
use crate::null_relay;
use crate::procstat;
use crate::report::{stats, Extras, Row};
use crate::runner;
use crate::workload::{self, Size};
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct SuiteConfig {
    /// `None`: Plugboard runs inside this process (smoke test), without CPU/RSS figures.
    pub plugboard_bin: Option<PathBuf>,
    pub litellm: Option<PathBuf>,
    pub concurrency: Vec<usize>,
    pub requests: usize,
    pub warmup: usize,
    pub sizes: Vec<Size>,
    pub mock: MockConfig,
    pub soak: Duration,
    pub app: Option<PathBuf>,
    pub app_idle: Duration,
    /// Rounds of the sequential check (one request to each system in turn; 0: none).
    pub interleaved_rounds: usize,
    /// The binary that runs the check's bare relay with `--null-relay` (`plugboard-bench`
    /// itself); `None`: the check runs without it.
    pub relay_bin: Option<PathBuf>,
    pub workdir: PathBuf,
}

pub async fn run(cfg: &SuiteConfig) -> (Vec<Row>, Extras) {
    let mut extras = Extras {
        paced: !cfg.mock.first_delay.is_zero() || !cfg.mock.chunk_delay.is_zero(),
        ..Extras::default()
    };
    let mock_addr = mock::serve("127.0.0.1:0".parse().unwrap(), cfg.mock.clone())
        .await
        .expect("mock upstream");
    let mock_base = format!("http://{mock_addr}/v1");
    let bodies: Vec<(Size, serde_json::Value)> = cfg
        .sizes
        .iter()
        .map(|s| (*s, workload::responses_body(*s)))
        .collect();
    let probe = bytes::Bytes::from(workload::responses_body(Size::Small).to_string());

    let plugboard = match &cfg.plugboard_bin {
        Some(bin) => match runner::start_plugboard(
            bin,
            &mock_base,
            probe.clone(),
            &cfg.workdir.join("usage.sqlite"),
        )
        .await
        {
            Ok((p, cold)) => {
                // With a paced mock the first request's time is the mock's, not the start-up's.
                if cfg.mock.first_delay.is_zero() && cfg.mock.chunk_delay.is_zero() {
                    extras.cold_start = Some(cold);
                }
                p
            }
            Err(e) => panic!("plugboard-proxy: {e}"),
        },
        None => runner::start_plugboard_in_process(&mock_base).await,
    };
    let litellm = match &cfg.litellm {
        Some(path) => {
            match runner::start_litellm(path, &mock_base, &cfg.workdir.join("litellm")).await {
                Ok(p) => {
                    let probe_run = load::run(
                        &load::client(1),
                        &Target {
                            url: p.responses_url.clone(),
                            body: probe.clone(),
                            api: Api::Responses,
                            auth: p.auth.clone(),
                        },
                        1,
                        1,
                    )
                    .await;
                    if probe_run.samples[0].ok {
                        Some(p)
                    } else {
                        extras.notes.push("LiteLLM started but did not complete a streamed Responses request through the chat bridge; its rows are left out.".into());
                        p.stop().await;
                        None
                    }
                }
                Err(e) => {
                    extras.notes.push(format!("LiteLLM was not measured: {e}"));
                    None
                }
            }
        }
        None => {
            extras
                .notes
                .push("LiteLLM was not measured in this run (no --litellm).".into());
            None
        }
    };

    // The desktop app's own proxy on the same upstream, beside plugboard-proxy: what users
    // of the tray app really get (its keys come from memory, as plugboard-proxy's do).
    let embedded = match &cfg.app {
        Some(app) => match start_app(app, &cfg.workdir.join("app-embedded"), &mock_base).await {
            Ok(a) => Some(a),
            Err(e) => {
                extras
                    .notes
                    .push(format!("The app's embedded proxy was not measured: {e}"));
                None
            }
        },
        None => None,
    };

    let mut rows = Vec::new();
    for (size, body) in &bodies {
        let responses = bytes::Bytes::from(body.to_string());
        let chat = workload::chat_body(body);
        for &c in &cfg.concurrency {
            let count = cfg.requests.max(c * 4);
            let client = load::client(c);
            let mut systems: Vec<(&'static str, Target, Option<u32>)> = vec![(
                "direct",
                Target {
                    url: format!("{mock_base}/chat/completions"),
                    body: chat.clone(),
                    api: Api::Chat,
                    auth: None,
                },
                None,
            )];
            systems.push((
                "plugboard",
                Target {
                    url: plugboard.responses_url.clone(),
                    body: responses.clone(),
                    api: Api::Responses,
                    auth: None,
                },
                plugboard.pid,
            ));
            if let Some(a) = &embedded {
                systems.push((
                    "plugboard app",
                    Target {
                        url: a.responses_url.clone(),
                        body: responses.clone(),
                        api: Api::Responses,
                        auth: None,
                    },
                    Some(a.pid),
                ));
            }
            if let Some(l) = &litellm {
                systems.push((
                    "litellm",
                    Target {
                        url: l.responses_url.clone(),
                        body: responses.clone(),
                        api: Api::Responses,
                        auth: l.auth.clone(),
                    },
                    l.pid,
                ));
            }
            for (name, target, pid) in systems {
                load::run(&client, &target, c, cfg.warmup.min(count)).await;
                let cpu0 = pid.and_then(procstat::tree_cpu_time);
                let r = load::run(&client, &target, c, count).await;
                let cpu1 = pid.and_then(procstat::tree_cpu_time);
                let cpu_s_per_1000 = match (cpu0, cpu1) {
                    (Some(a), Some(b)) => Some((b - a).as_secs_f64() / count as f64 * 1000.0),
                    _ => None,
                };
                let s = stats(&r);
                eprintln!(
                    "{:<16} {:>4} streams  {:<9} ok {}/{}  first event p50 {:.2} ms  {:.0} req/s",
                    size.label(),
                    c,
                    name,
                    s.ok,
                    s.n,
                    s.first_event_p50,
                    s.rps
                );
                rows.push(Row {
                    size: *size,
                    concurrency: c,
                    system: name,
                    stats: s,
                    cpu_s_per_1000,
                    peak_rss_mib: pid.and_then(procstat::tree_peak_rss_mib),
                });
            }
        }
    }

    if cfg.interleaved_rounds > 0 {
        let small = bytes::Bytes::from(workload::responses_body(Size::Small).to_string());
        let direct = Target {
            url: format!("{mock_base}/chat/completions"),
            body: workload::chat_body(&workload::responses_body(Size::Small)),
            api: Api::Chat,
            auth: None,
        };
        let through = |url: &str, auth: Option<String>| Target {
            url: url.to_string(),
            body: small.clone(),
            api: Api::Responses,
            auth,
        };
        let plugboard_t = through(&plugboard.responses_url, None);
        let litellm_t = litellm
            .as_ref()
            .map(|l| through(&l.responses_url, l.auth.clone()));
        // The same chat request as `direct`, through a relay that does nothing.
        let origin = format!("http://{mock_addr}");
        let started = match &cfg.relay_bin {
            Some(bin) => null_relay::start(bin, &origin).await,
            None => Err("no relay binary".into()),
        };
        let relay = match started {
            Ok((child, port)) => Some((
                child,
                Target {
                    url: format!("http://127.0.0.1:{port}/v1/chat/completions"),
                    ..direct.clone()
                },
            )),
            Err(e) => {
                eprintln!("{e}: the sequential check runs without it");
                None
            }
        };
        extras.interleaved = Some(
            interleaved(
                &direct,
                relay.as_ref().map(|(_, t)| t),
                &plugboard_t,
                litellm_t.as_ref(),
                cfg.interleaved_rounds,
            )
            .await,
        );
    }

    if !cfg.soak.is_zero() {
        if let Some(pid) = plugboard.pid {
            let target = Target {
                url: plugboard.responses_url.clone(),
                body: probe.clone(),
                api: Api::Responses,
                auth: None,
            };
            let client = load::client(64);
            let rss = || procstat::rss_mib(pid).unwrap_or(f64::NAN);
            // RSS about every tenth of the soak: a leak climbs all the way, an allocator
            // settling in climbs first and then stays.
            let mut series = vec![rss()];
            let started = Instant::now();
            let step = cfg.soak / 10;
            let mut n = 0u64;
            while started.elapsed() < cfg.soak {
                n += load::run(&client, &target, 64, 640).await.samples.len() as u64;
                if started.elapsed() >= step * series.len() as u32 {
                    series.push(rss());
                }
            }
            if series.len() < 11 {
                series.push(rss());
            }
            extras.soak = Some(crate::report::Soak {
                rss: series,
                requests: n,
            });
        }
    }
    if let Some(mut a) = embedded {
        let _ = a.child.kill().await;
    }
    if let Some(app) = &cfg.app {
        match app_idle(app, cfg.app_idle, &cfg.workdir.join("app-home")).await {
            Ok(v) => extras.app_idle = Some(v),
            Err(e) => extras
                .notes
                .push(format!("The tray app was not measured: {e}")),
        }
    }
    plugboard.stop().await;
    if let Some(l) = litellm {
        l.stop().await;
    }
    let _ = std::fs::remove_dir_all(&cfg.workdir);
    (rows, extras)
}

struct EmbeddedApp {
    child: tokio::process::Child,
    pid: u32,
    responses_url: String,
}

/// The tray app (hidden) with one keyless provider at `upstream`, once its proxy answers.
async fn start_app(
    app: &std::path::Path,
    home: &std::path::Path,
    upstream: &str,
) -> Result<EmbeddedApp, String> {
    let port = runner::free_port();
    let (child, pid) = crate::tray::spawn(
        app,
        home,
        &format!(
            "listen = \"127.0.0.1:{port}\"\nactive_provider = \"mock\"\n\n[[provider]]\nid = \"mock\"\npreset = \"custom\"\nbase_url = \"{upstream}\"\ndefault_model = \"mock-model\"\nmodel_map = {{ \"gpt-*\" = \"mock-model\" }}\n"
        ),
    )?;
    let health = format!("http://127.0.0.1:{port}/health");
    let http = load::client(1);
    let started = Instant::now();
    while !http
        .get(&health)
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        if started.elapsed() > Duration::from_secs(60) {
            return Err("its proxy did not answer within 60 s".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(EmbeddedApp {
        child,
        pid,
        responses_url: format!("http://127.0.0.1:{port}/v1/responses"),
    })
}

/// The tray app started hidden (`--minimized`), left alone: CPU share and the resident
/// memory of all its processes (a web engine would show up here).
async fn app_idle(
    app: &std::path::Path,
    secs: Duration,
    home: &std::path::Path,
) -> Result<(f64, f64), String> {
    let (mut child, pid) = crate::tray::spawn(
        app,
        home,
        &format!("listen = \"127.0.0.1:{}\"\n", runner::free_port()),
    )?;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let c0 = procstat::tree_cpu_time(pid).ok_or("the app exited during warm-up")?;
    tokio::time::sleep(secs).await;
    let c1 = procstat::tree_cpu_time(pid).ok_or("the app exited while measured")?;
    let rss = procstat::tree_rss_mib(pid).unwrap_or(f64::NAN);
    let _ = child.kill().await;
    Ok(((c1 - c0).as_secs_f64() / secs.as_secs_f64() * 100.0, rss))
}

/// One request to each system in turn, `rounds` times, one at a time: the machine's drift
/// (another process, the CPU's clock) reaches all of them alike, so the median of the
/// per-round differences shows what Plugboard adds where block-by-block runs swing by more.
/// Compared at the first text delta, as the table above is.
async fn interleaved(
    direct: &Target,
    relay: Option<&Target>,
    plugboard: &Target,
    litellm: Option<&Target>,
    rounds: usize,
) -> crate::report::Interleaved {
    let client = load::client(1);
    let at = |s: &load::Sample| s.first_text.unwrap_or(s.first_event).as_secs_f64() * 1000.0;
    let one = |t: &Target| {
        let client = client.clone();
        let t = t.clone();
        async move { load::run(&client, &t, 1, 1).await.samples[0] }
    };
    for _ in 0..5 {
        one(direct).await;
        if let Some(r) = relay {
            one(r).await;
        }
        one(plugboard).await;
        if let Some(l) = litellm {
            one(l).await;
        }
    }
    let (mut p_added, mut l_added, mut p_first) = (Vec::new(), Vec::new(), Vec::new());
    let (mut r_added, mut p_over_r) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let d = one(direct).await;
        let r = match relay {
            Some(t) => Some(one(t).await),
            None => None,
        };
        let p = one(plugboard).await;
        if d.ok && p.ok {
            p_added.push(at(&p) - at(&d));
            p_first.push((p.first_event.as_secs_f64() - d.first_event.as_secs_f64()) * 1000.0);
        }
        if let Some(r) = r.filter(|r| r.ok && d.ok) {
            r_added.push(at(&r) - at(&d));
            if p.ok {
                p_over_r.push(at(&p) - at(&r));
            }
        }
        if let Some(l) = litellm {
            let l = one(l).await;
            if d.ok && l.ok {
                l_added.push(at(&l) - at(&d));
            }
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        (!v.is_empty()).then(|| v[v.len() / 2])
    };
    crate::report::Interleaved {
        rounds,
        plugboard_ms: median(&mut p_added),
        plugboard_first_event_ms: median(&mut p_first),
        relay_ms: median(&mut r_added),
        plugboard_over_relay_ms: median(&mut p_over_r),
        litellm_ms: median(&mut l_added),
    }
}
