//! `plugboard-proxy serve`: settings from a file or flags, keys, usage history, the
//! listener, and a clean stop on the first signal (at once on the second).

use super::*;
use crate::reload::{Overrides, Reloader, Trigger};

pub(crate) fn serve(args: ServeArgs) -> ExitCode {
    init_tracing(args.log_json);
    fix_mmap_threshold();
    let mut settings = match settings_for(&args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("plugboard-proxy: {e}");
            return ExitCode::from(2);
        }
    };
    let overrides = Overrides::of(&args);
    overrides.apply(&mut settings);
    let runtime = match args.threads {
        Some(1) => tokio::runtime::Builder::new_current_thread(),
        Some(n) => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads(n.max(1));
            b
        }
        None => tokio::runtime::Builder::new_multi_thread(),
    }
    .enable_all()
    .build();
    let rt = match runtime {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("plugboard-proxy: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let shared_state = match args.state.as_ref().or(settings.gateway.state.as_ref()) {
        None => None,
        // The connection is made lazily, by a task on this runtime.
        Some(url) => match rt
            .block_on(async { plugboard_state_redis::RedisState::new(url, Default::default()) })
        {
            Ok(s) => {
                println!(
                    "Conversations shared with the other replicas through {}",
                    plugboard_core::redact_url(url)
                );
                Some(Arc::new(s) as Arc<dyn plugboard_server::SharedState>)
            }
            Err(e) => {
                eprintln!("plugboard-proxy: --state: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let listen = args.listen.or_else(|| settings.listen.parse().ok());
    let exposed = listen.is_some_and(|a: SocketAddr| !a.ip().is_loopback());
    let usage_path = (!args.no_usage)
        .then(|| {
            args.usage_db
                .clone()
                .or_else(|| settings.gateway.usage_db.as_ref().map(PathBuf::from))
                .or_else(plugboard_usage::default_db_path)
        })
        .flatten();
    // A gateway's users live in the usage database; one that cannot be read stops the start
    // (it must not serve open by accident).
    let accounts = match &usage_path {
        Some(path) => match crate::stores::open_usage_store(path)
            .and_then(|store| plugboard_usage::TeamAccounts::with_store(store, ACCOUNTS_REFRESH))
        {
            Ok(a) => Some(a),
            Err(e) => {
                eprintln!("plugboard-proxy: users and budgets cannot be read: {e}");
                return ExitCode::FAILURE;
            }
        },
        None => None,
    };
    let users = accounts.as_ref().is_some_and(|a| {
        use plugboard_server::Accounts;
        a.enabled()
    });
    if users {
        println!("Gateway users are defined: every request needs a user's token (see `plugboard-proxy users list`).");
    }
    let access_token = args.access_token.clone().or_else(|| {
        (exposed && !users).then(|| {
            let token = match access_token_from_os() {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("plugboard-proxy: no random bytes from the OS for an access token: {e}");
                    std::process::exit(1);
                }
            };
            println!("Not a loopback address: every request needs this access token (pass it back with --access-token to keep it):\n  {token}\n");
            token
        })
    });
    let recorder = match usage_path {
        Some(path) => match crate::stores::open_usage_store(&path) {
            Ok(store) => Some(plugboard_usage::UsageRecorder::with_store(
                store,
                plugboard_usage::PriceTable::with_overrides(&settings.prices),
            )),
            Err(e) => {
                eprintln!("plugboard-proxy: usage history is off: {e}");
                None
            }
        },
        _ => None,
    };
    if let (Some(r), Some(a)) = (&recorder, &accounts) {
        let a = a.clone();
        r.after_write(Arc::new(move || a.refresh_now()));
    }
    let kept = recorder.clone();
    let metrics = plugboard_usage::Metrics::new(plugboard_usage::PriceTable::with_overrides(
        &settings.prices,
    ));
    // A settings file is watched and reloaded; flags alone have nothing to reload.
    let watched = settings_path(&args);
    rt.block_on(async move {
        let model_hint = model_hint(&settings);
        let mut hangups = match Hangups::install() {
            Ok(h) => h,
            Err(e) => {
                eprintln!("plugboard-proxy: cannot handle SIGHUP: {e}");
                return ExitCode::FAILURE;
            }
        };
        let use_keyring = !args.no_keyring;
        let keys = Arc::new(plugboard_keys::SwappableKeys::new(Arc::new(
            plugboard_keys::HeadlessKeys::load(&settings, use_keyring).await,
        )));
        let mut reloader = match watched {
            Some(path) => Some(
                Reloader::new(
                    path,
                    overrides,
                    use_keyring,
                    keys.clone(),
                    recorder.clone(),
                    metrics.clone(),
                )
                .await,
            ),
            None => None,
        };
        let handle = match plugboard_server::start(
            settings,
            keys,
            ServeOptions {
                listen: args.listen,
                access_token: access_token.clone(),
                accounts: accounts.map(|a| a as Arc<dyn plugboard_server::Accounts>),
                shared_state,
                usage: Some(Arc::new(plugboard_usage::MeteredSink {
                    metrics: metrics.clone(),
                    inner: recorder.map(|r| r as Arc<dyn plugboard_server::UsageSink>),
                })),
                metrics: Some(metrics.clone() as Arc<dyn plugboard_server::MetricsExport>),
                ..Default::default()
            },
        )
        .await
        {
            Ok(h) => h,
            Err(e) => {
                eprintln!("plugboard-proxy: {e}");
                return ExitCode::FAILURE;
            }
        };
        println!("plugboard-proxy listening on {}", handle.base_url());
        if handle.settings().local_only {
            println!("Local only: providers not on this machine or the local network are refused.");
        }
        println!("Point Codex at it with this in ~/.codex/config.toml:\n");
        print!(
            "{}",
            codex_snippet(handle.addr(), &model_hint, access_token.is_some())
        );
        println!();
        serve_until_stopped(&handle, reloader.as_mut(), &mut hangups).await;
        tracing::info!(
            open_connections = handle.open_connections(),
            "stopping (a second signal exits at once)"
        );
        tokio::spawn(async {
            shutdown_signal().await;
            tracing::warn!("second signal: exiting now");
            std::process::exit(130);
        });
        let report = handle.stop().await;
        tracing::info!(cut = report.cut, "stopped");
        // Every request's row, cut ones included, is on disk before the process ends.
        if let Some(r) = kept {
            let written = tokio::task::spawn_blocking(move || {
                r.flush_within(std::time::Duration::from_secs(3))
            })
            .await
            .unwrap_or(false);
            if !written {
                tracing::warn!("exiting before every usage row was written");
            }
        }
        ExitCode::SUCCESS
    })
}

/// How often users, budgets and the month's spend are read again from the usage database
/// (what another replica spent, a user added): a budget can be overrun by what is spent in
/// this time.
const ACCOUNTS_REFRESH: std::time::Duration = std::time::Duration::from_secs(2);

/// Serves until SIGTERM or Ctrl-C, reloading the settings on SIGHUP and when the file
/// changes. (SIGHUP used to end the process, as it does any program that does not handle it:
/// a closed terminal or a service manager's reload.)
async fn serve_until_stopped(
    handle: &plugboard_server::ProxyHandle,
    mut reloader: Option<&mut Reloader>,
    hangups: &mut Hangups,
) {
    let stop = shutdown_signal();
    tokio::pin!(stop);
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        #[cfg(unix)]
        let hup = hangups.0.recv();
        #[cfg(not(unix))]
        let hup = std::future::pending::<Option<()>>();
        tokio::select! {
            _ = &mut stop => return,
            _ = hup => match reloader.as_deref_mut() {
                Some(r) => r.reload(handle, Trigger::Hangup).await,
                None => tracing::info!("SIGHUP: the settings came from the command line, nothing to reload"),
            },
            _ = tick.tick() => {
                if let Some(r) = reloader.as_deref_mut() {
                    if r.file_changed().await {
                        r.reload(handle, Trigger::FileChanged).await;
                    }
                }
            }
        }
    }
}

/// SIGHUP taken over before the proxy says it listens (a signal sent as soon as it does must
/// not end it).
pub(crate) struct Hangups(#[cfg(unix)] tokio::signal::unix::Signal);

impl Hangups {
    fn install() -> std::io::Result<Self> {
        #[cfg(unix)]
        return Ok(Self(tokio::signal::unix::signal(
            tokio::signal::unix::SignalKind::hangup(),
        )?));
        #[cfg(not(unix))]
        Ok(Self())
    }
}

/// glibc's malloc raises its mmap threshold each time a large buffer is freed, after which the
/// 300 KB bodies of many concurrent Codex requests stay in the heap and keep its peak high:
/// at 64 streams of 300 KB requests, peak RSS was 83–108 MiB (median 85) against 64–81 (median
/// 68) with the threshold held at its default of 128 KiB, for about 15 % more CPU on such large
/// requests only (smaller buffers never reach it; BENCHMARKS.md). Held unless the user set
/// `MALLOC_MMAP_THRESHOLD_` themselves.
fn fix_mmap_threshold() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
        // SAFETY: mallopt only sets a parameter of glibc's allocator; called before any
        // thread of ours starts.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        }
    }
}

/// 24 bytes from the OS's cryptographic generator, as 32 URL-safe characters.
pub(crate) fn access_token_from_os() -> Result<String, getrandom::Error> {
    use base64::Engine;
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

pub(crate) fn settings_for(args: &ServeArgs) -> Result<Settings, String> {
    if let Some(url) = &args.upstream {
        let mut p = match &args.preset {
            Some(id) => Provider::from_preset("upstream", id)
                .ok_or_else(|| format!("unknown preset `{id}` (see `plugboard-proxy presets`)"))?,
            None => Provider::from_preset("upstream", "custom").expect("the custom preset exists"),
        };
        p.base_url = url.clone();
        if let Some(w) = args.wire_api {
            p.wire_api = match w {
                WireApiArg::Chat => WireApi::Chat,
                WireApiArg::Responses => WireApi::Responses,
            };
        }
        p.api_key_env = args.api_key_env.clone().or(p.api_key_env);
        p.model_map.extend(args.model_map.iter().cloned());
        let settings = Settings {
            active_provider: Some("upstream".into()),
            providers: vec![p],
            ..Settings::default()
        };
        let problems = settings.validate();
        return if problems.is_empty() {
            Ok(settings)
        } else {
            Err(problems.join("; "))
        };
    }
    if let Some(id) = &args.preset {
        let p = Provider::from_preset("upstream", id)
            .ok_or_else(|| format!("unknown preset `{id}` (see `plugboard-proxy presets`)"))?;
        return Ok(Settings {
            active_provider: Some("upstream".into()),
            providers: vec![p],
            ..Settings::default()
        });
    }
    let path = settings_path(args)
        .ok_or("no config directory on this system: pass --config FILE or --upstream URL")?;
    if args.config.is_none() && !path.exists() {
        return Err(format!(
            "no settings at {} yet: start with `--upstream URL [--preset NAME] [--api-key-env VAR]`, or pass --config FILE",
            path.display()
        ));
    }
    plugboard_config::load(&path).map_err(|e| e.to_string())
}

/// The settings file `serve` reads, when it reads one (not with `--upstream` or `--preset`).
fn settings_path(args: &ServeArgs) -> Option<PathBuf> {
    if args.upstream.is_some() || args.preset.is_some() {
        return None;
    }
    args.config
        .clone()
        .or_else(plugboard_config::default_settings_path)
}

/// The Codex config lines; with a token, Codex reads it from `PLUGBOARD_ACCESS_TOKEN`.
pub(crate) fn codex_snippet(addr: SocketAddr, model: &str, token: bool) -> String {
    let auth = if token {
        "env_http_headers = { \"x-plugboard-token\" = \"PLUGBOARD_ACCESS_TOKEN\" }\n"
    } else {
        ""
    };
    format!(
        r#"model_provider = "plugboard"
model = "{model}"

[model_providers.plugboard]
name = "Plugboard"
base_url = "http://{addr}/v1"
wire_api = "responses"
{auth}"#
    )
}

pub(crate) async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
