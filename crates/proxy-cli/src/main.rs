//! `plugboard-proxy`: the proxy without a GUI, for servers, WSL, CI and benchmarks.

mod check_cmd;
mod keys;

use clap::{Parser, Subcommand, ValueEnum};
use plugboard_config::{Provider, Settings, WireApi};
use plugboard_server::ServeOptions;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "plugboard-proxy",
    version,
    about = "Run Codex and other Responses API clients on any Chat Completions model"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the proxy until Ctrl-C.
    Serve(Box<ServeArgs>),
    /// Print the ~/.codex/config.toml snippet that points Codex at the proxy.
    CodexConfig {
        #[arg(long, default_value = plugboard_config::DEFAULT_LISTEN)]
        listen: SocketAddr,
        /// The model name Codex should ask for.
        #[arg(long, default_value = "gpt-5.5")]
        model: String,
    },
    /// Point Codex at the proxy (`apply`) or undo that exactly (`detach`), as the desktop
    /// app's "Apply to Codex" and "Detach" do. Honours `CODEX_HOME`.
    Codex {
        #[command(subcommand)]
        action: CodexAction,
    },
    /// Check a provider with Codex's own tools before a Codex session: streamed text, a
    /// shell call, a tool result sent back, apply_patch, usage, the context window. Exits 1
    /// when a step fails. Spends a few thousand of the provider's tokens.
    Check {
        /// Settings file (default: the app's).
        #[arg(long, env = "PLUGBOARD_CONFIG")]
        config: Option<PathBuf>,
        /// The provider's id (default: the active provider).
        #[arg(long)]
        provider: Option<String>,
        /// The upstream model (default: the provider's default model).
        #[arg(long)]
        model: Option<String>,
        /// Turn on the fixes the check offers, check again, and save them to the settings file.
        #[arg(long)]
        fix: bool,
        /// Refuse a provider off this machine and the local network.
        #[arg(long, env = "PLUGBOARD_LOCAL_ONLY")]
        local_only: bool,
        /// Print the reports as JSON.
        #[arg(long)]
        json: bool,
        /// Never read keys from the OS keyring (only from each provider's `api_key_env`).
        #[arg(long, env = "PLUGBOARD_NO_KEYRING")]
        no_keyring: bool,
    },
    /// List the provider presets.
    Presets,
    /// Usage and cost history: totals, per day and provider, latency.
    Usage {
        /// How many days back.
        #[arg(long, default_value_t = 7)]
        since_days: u32,
        /// The usage database (default: the one the app and `serve` write).
        #[arg(long)]
        db: Option<PathBuf>,
        /// Settings file with price overrides and the model to compare against.
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum CodexAction {
    /// Add Plugboard's provider to Codex's config.toml (the file backed up first, every
    /// other line and comment kept), make it Codex's default, write a model catalog naming
    /// every model Plugboard serves (so `codex -m NAME` gets Codex's full tool set), and
    /// one `codex -p` profile per exact route.
    Apply {
        /// Settings file (default: the desktop app's).
        #[arg(long, env = "PLUGBOARD_CONFIG")]
        config: Option<PathBuf>,
        /// The address the proxy listens on (default: the settings file's).
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// The model Codex asks for by default (default: the active provider's first exact
        /// model map name, else gpt-5.5).
        #[arg(long)]
        model: Option<String>,
        /// Add the provider without making it Codex's default.
        #[arg(long)]
        not_default: bool,
        /// The Codex CLI whose model catalog the catalog starts from (default: `codex` on
        /// PATH).
        #[arg(long, env = plugboard_codex::CODEX_BIN_ENV)]
        codex: Option<PathBuf>,
    },
    /// Remove Plugboard's provider and give back Codex's own provider and model.
    Detach,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on (default: the settings file's, else 127.0.0.1:15731).
    #[arg(long, env = "PLUGBOARD_LISTEN")]
    listen: Option<SocketAddr>,
    /// Settings file (default: the desktop app's, in the OS config dir).
    #[arg(long, env = "PLUGBOARD_CONFIG", conflicts_with = "upstream")]
    config: Option<PathBuf>,
    /// One provider without a settings file: its base URL, e.g. https://api.deepseek.com/v1.
    #[arg(long)]
    upstream: Option<String>,
    /// The provider's API: `chat` (translated) or `responses` (passed through).
    #[arg(long, value_enum, requires = "upstream")]
    wire_api: Option<WireApiArg>,
    /// A preset for the provider's dialect and defaults (see `plugboard-proxy presets`).
    #[arg(long)]
    preset: Option<String>,
    /// Environment variable holding the provider's API key.
    #[arg(long, requires = "upstream")]
    api_key_env: Option<String>,
    /// Model renaming, FROM=TO; FROM may be a glob like `gpt-*`. Repeatable.
    #[arg(long = "model-map", value_parser = parse_map, requires = "upstream")]
    model_map: Vec<(String, String)>,
    /// Required on every request; needed to listen on anything but loopback (one is
    /// generated and printed when such an address is chosen without it).
    #[arg(long, env = "PLUGBOARD_ACCESS_TOKEN", hide_env_values = true)]
    access_token: Option<String>,
    /// Where usage history goes (default: the app's usage database).
    #[arg(long)]
    usage_db: Option<PathBuf>,
    /// Never read keys from the OS keyring (only from each provider's `api_key_env`).
    #[arg(long, env = "PLUGBOARD_NO_KEYRING")]
    no_keyring: bool,
    /// Refuse, before connecting, every provider not on this machine or the local network
    /// (after resolving its name), routes and fallbacks included.
    #[arg(long, env = "PLUGBOARD_LOCAL_ONLY")]
    local_only: bool,
    /// Record no usage history.
    #[arg(long)]
    no_usage: bool,
    /// Log as JSON lines instead of text.
    #[arg(long)]
    log_json: bool,
    /// Threads serving requests (default: one per core; `1`: everything on this thread).
    #[arg(long, env = "PLUGBOARD_THREADS")]
    threads: Option<usize>,
    /// Seconds a connection may take to send a request head, idle time included (default:
    /// the settings file's `server.header_timeout_secs`, else 5).
    #[arg(long)]
    header_timeout_secs: Option<u64>,
    /// Connections open at once (default: the settings file's, else from the open-files
    /// limit).
    #[arg(long)]
    max_connections: Option<usize>,
    /// Connections the kernel queues before they are accepted (default 2048).
    #[arg(long)]
    backlog: Option<u32>,
    /// Seconds streams under way get to finish on SIGTERM or Ctrl-C before they are ended
    /// with `response.failed` (default 3). A second signal exits at once.
    #[arg(long)]
    shutdown_grace_secs: Option<u64>,
}

#[derive(Clone, Copy, ValueEnum)]
enum WireApiArg {
    Chat,
    Responses,
}

fn parse_map(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((from, to)) if !from.is_empty() && !to.is_empty() => {
            Ok((from.to_string(), to.to_string()))
        }
        _ => Err(format!("`{s}` is not FROM=TO")),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Presets => {
            for p in plugboard_config::PRESETS {
                let api = match p.wire_api {
                    WireApi::Chat => "chat",
                    WireApi::Responses => "responses",
                };
                println!("{:<12} {:<26} {:<9} {}", p.id, p.name, api, p.base_url);
            }
            ExitCode::SUCCESS
        }
        Command::CodexConfig { listen, model } => {
            print!("{}", codex_snippet(listen, &model, false));
            ExitCode::SUCCESS
        }
        Command::Serve(args) => serve(*args),
        Command::Check {
            config,
            provider,
            model,
            fix,
            local_only,
            json,
            no_keyring,
        } => {
            let path = config
                .clone()
                .or_else(plugboard_config::default_settings_path);
            let settings = match settings_file(config) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("plugboard-proxy: {e}");
                    return ExitCode::from(2);
                }
            };
            check_cmd::run(
                check_cmd::CheckArgs {
                    provider,
                    model,
                    fix,
                    local_only,
                    json,
                    no_keyring,
                },
                settings,
                path,
            )
        }
        Command::Codex { action } => codex(action),
        Command::Usage {
            since_days,
            db,
            config,
        } => usage_report(since_days, db, config),
    }
}

fn serve(args: ServeArgs) -> ExitCode {
    init_tracing(args.log_json);
    let mut settings = match settings_for(&args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("plugboard-proxy: {e}");
            return ExitCode::from(2);
        }
    };
    settings.local_only |= args.local_only;
    let limits = &mut settings.server;
    if let Some(v) = args.header_timeout_secs {
        limits.header_timeout_secs = v;
    }
    if let Some(v) = args.max_connections {
        limits.max_connections = v;
    }
    if let Some(v) = args.backlog {
        limits.backlog = v;
    }
    if let Some(v) = args.shutdown_grace_secs {
        limits.shutdown_grace_secs = v;
    }
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
    let listen = args.listen.or_else(|| settings.listen.parse().ok());
    let exposed = listen.is_some_and(|a: SocketAddr| !a.ip().is_loopback());
    let access_token = args.access_token.clone().or_else(|| {
        exposed.then(|| {
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
    let recorder = match (
        args.no_usage,
        args.usage_db
            .clone()
            .or_else(plugboard_usage::default_db_path),
    ) {
        (false, Some(path)) => match plugboard_usage::UsageRecorder::open(
            &path,
            plugboard_usage::PriceTable::with_overrides(&settings.prices),
        ) {
            Ok(r) => Some(r),
            Err(e) => {
                eprintln!("plugboard-proxy: usage history is off: {e}");
                None
            }
        },
        _ => None,
    };
    rt.block_on(async move {
        let model_hint = model_hint(&settings);
        let keys = keys::load(&settings, !args.no_keyring).await;
        let handle = match plugboard_server::start(
            settings,
            Arc::new(keys),
            ServeOptions {
                listen: args.listen,
                access_token: access_token.clone(),
                usage: recorder.map(|r| r as Arc<dyn plugboard_server::UsageSink>),
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
        shutdown_signal().await;
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
        ExitCode::SUCCESS
    })
}

fn codex(action: CodexAction) -> ExitCode {
    let Some(home) = plugboard_codex::codex_home() else {
        eprintln!("plugboard-proxy: no home directory: set CODEX_HOME");
        return ExitCode::from(2);
    };
    let result = match action {
        CodexAction::Detach => plugboard_codex::detach(&home).map(|()| {
            format!(
                "Detached: {} is back to your own provider.",
                home.join("config.toml").display()
            )
        }),
        CodexAction::Apply {
            config,
            listen,
            model,
            not_default,
            codex,
        } => {
            let settings = match settings_file(config) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("plugboard-proxy: {e}");
                    return ExitCode::from(2);
                }
            };
            let Some(addr) = listen.or_else(|| settings.listen.parse().ok()) else {
                eprintln!(
                    "plugboard-proxy: listen `{}` is not an address",
                    settings.listen
                );
                return ExitCode::from(2);
            };
            let opts = plugboard_codex::AttachOptions {
                base_url: format!("http://{addr}/v1"),
                make_default: !not_default,
                model: Some(model.unwrap_or_else(|| model_hint(&settings))),
                model_catalog: None,
            };
            let codex = codex.or_else(plugboard_codex::find_codex);
            plugboard_codex::apply(&home, &opts, &settings, codex.as_deref()).map(|a| {
                let p = &a.preview;
                let config = if p.diff.is_empty() {
                    format!("{} already points at Plugboard.", p.path.display())
                } else {
                    format!("Applied to {}:\n{}", p.path.display(), p.diff)
                };
                let found = match (&a.codex_version, &a.version_note) {
                    (Some(v), None) => format!("\nCodex {v} found."),
                    (Some(_), Some(note)) => format!("\nNote: {note}"),
                    (None, _) => String::new(),
                };
                format!("{config}\n{}{found}", catalog_line(&a.catalog))
            })
        }
    };
    match result {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("plugboard-proxy: {e}");
            ExitCode::FAILURE
        }
    }
}

fn catalog_line(c: &plugboard_codex::CatalogOutcome) -> String {
    match c {
        plugboard_codex::CatalogOutcome::Written {
            path,
            models,
            codex_version,
        } => format!(
            "Model catalog {} ({}): {}",
            path.display(),
            match codex_version {
                Some(v) => format!("from Codex {v}"),
                None => "from your own catalog".to_string(),
            },
            if models.is_empty() {
                "no names beyond Codex's own".to_string()
            } else {
                format!("Codex now knows {}", models.join(", "))
            }
        ),
        plugboard_codex::CatalogOutcome::Skipped { reason } => format!("Note: {reason}"),
    }
}

/// 24 bytes from the OS's cryptographic generator, as 32 URL-safe characters.
fn access_token_from_os() -> Result<String, getrandom::Error> {
    use base64::Engine;
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// The settings file given, else the app's; none yet is an empty one.
fn settings_file(config: Option<PathBuf>) -> Result<Settings, String> {
    match config.or_else(plugboard_config::default_settings_path) {
        Some(p) if p.exists() => plugboard_config::load(&p).map_err(|e| e.to_string()),
        Some(p) if config_given(&p) => Err(format!("no settings file at {}", p.display())),
        _ => Ok(Settings::default()),
    }
}

fn config_given(p: &std::path::Path) -> bool {
    Some(p.to_path_buf()) != plugboard_config::default_settings_path()
}

/// The model name Codex should ask for: an exact name the active provider maps, else a
/// slug Codex knows (which the presets' `gpt-*` mapping catches).
fn model_hint(settings: &Settings) -> String {
    settings
        .active()
        .and_then(|p| p.model_map.keys().find(|k| !k.contains('*')).cloned())
        .unwrap_or_else(|| "gpt-5.5".into())
}

fn usage_report(since_days: u32, db: Option<PathBuf>, config: Option<PathBuf>) -> ExitCode {
    let Some(path) = db.or_else(plugboard_usage::default_db_path) else {
        eprintln!("plugboard-proxy: no data directory on this system: pass --db FILE");
        return ExitCode::from(2);
    };
    if !path.exists() {
        eprintln!(
            "plugboard-proxy: no usage history at {} yet",
            path.display()
        );
        return ExitCode::from(2);
    }
    let settings = match config
        .or_else(plugboard_config::default_settings_path)
        .filter(|p| p.exists())
    {
        Some(p) => match plugboard_config::load(&p) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("plugboard-proxy: {e}");
                return ExitCode::from(2);
            }
        },
        None => Settings::default(),
    };
    let prices = plugboard_usage::PriceTable::with_overrides(&settings.prices);
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
        - since_days as i64 * 86_400_000;
    let report = (|| -> Result<String, plugboard_usage::UsageError> {
        let db = plugboard_usage::UsageDb::open(&path)?;
        let s = db.summary(since, &prices, &settings.compare_model)?;
        let mut out = format!(
            "Usage of the last {since_days} days ({})\n\n  requests        {} ({} failed)\n  input tokens    {} ({} cached)\n  output tokens   {} ({} reasoning)\n  cost            ${:.4}\n  on {:<12}  ${:.4}  (saved ${:.4})\n\n",
            path.display(), s.requests, s.failed, s.input_tokens, s.cached_tokens, s.output_tokens, s.reasoning_tokens, s.cost_usd, s.compare_model, s.cost_if_compare_usd, s.saved_usd
        );
        out.push_str(&format!(
            "{:<10} {:<16} {:>8} {:>12} {:>12} {:>10}\n",
            "day", "provider", "requests", "input", "output", "cost $"
        ));
        for d in db.daily(since)? {
            out.push_str(&format!(
                "{:<10} {:<16} {:>8} {:>12} {:>12} {:>10.4}\n",
                d.day, d.provider, d.requests, d.input_tokens, d.output_tokens, d.cost_usd
            ));
        }
        out.push_str(&format!(
            "\n{:<16} {:>8} {:>14} {:>14} {:>14}\n",
            "provider", "requests", "first ev p50", "first ev p99", "total p50"
        ));
        for l in db.latency(since)? {
            out.push_str(&format!(
                "{:<16} {:>8} {:>12.1}ms {:>12.1}ms {:>12.1}ms\n",
                l.provider, l.requests, l.first_event_p50_ms, l.first_event_p99_ms, l.total_p50_ms
            ));
        }
        Ok(out)
    })();
    match report {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("plugboard-proxy: {e}");
            ExitCode::FAILURE
        }
    }
}

fn settings_for(args: &ServeArgs) -> Result<Settings, String> {
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
    let path = match &args.config {
        Some(p) => p.clone(),
        None => plugboard_config::default_settings_path()
            .ok_or("no config directory on this system: pass --config FILE or --upstream URL")?,
    };
    if args.config.is_none() && !path.exists() {
        return Err(format!(
            "no settings at {} yet: start with `--upstream URL [--preset NAME] [--api-key-env VAR]`, or pass --config FILE",
            path.display()
        ));
    }
    plugboard_config::load(&path).map_err(|e| e.to_string())
}

/// The Codex config lines; with a token, Codex reads it from `PLUGBOARD_ACCESS_TOKEN`.
fn codex_snippet(addr: SocketAddr, model: &str, token: bool) -> String {
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

fn init_tracing(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("PLUGBOARD_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only for a terminal: log files and pipes get plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn shutdown_signal() {
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
