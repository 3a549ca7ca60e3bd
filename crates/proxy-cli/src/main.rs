//! `plugboard-proxy`: the proxy without a GUI, for servers, WSL, CI and benchmarks.

mod check_cmd;
mod codex_cmd;
mod reload;
mod serve_cmd;
mod stores;
mod usage_cmd;
mod users_cmd;

use codex_cmd::codex;
use serve_cmd::{codex_snippet, serve};
use usage_cmd::usage_report;

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
    Check(check_cmd::CheckArgs),
    /// Make PROVIDER the active provider in the settings file (comments and every other line
    /// kept). A `serve` running on that file switches within a second, streams under way
    /// finishing on the provider they began with.
    Use {
        /// A provider id defined in the settings file.
        provider: String,
        /// Settings file (default: the desktop app's).
        #[arg(long, env = "PLUGBOARD_CONFIG")]
        config: Option<PathBuf>,
    },
    /// A team gateway's users: each gets a token of their own (shown once, stored hashed in
    /// the usage database), requests are attributed to them, and a monthly budget can cap
    /// them. With users defined, `serve` on that database refuses requests without a token.
    Users {
        #[command(subcommand)]
        action: users_cmd::UsersAction,
    },
    /// List the provider presets.
    Presets,
    /// Usage and cost history: totals, per day and provider, latency.
    Usage {
        /// How many days back.
        #[arg(long, default_value_t = 7)]
        since_days: u32,
        /// The usage database: a SQLite file or a `postgres://` URL (default: the settings
        /// file's `[gateway] usage_db`, else the one the app and `serve` write).
        #[arg(long, alias = "usage-db")]
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
    /// every model Plugboard serves (so `codex -m NAME` gets Codex's full tool set; a glob
    /// route names what its provider's model list offers), and one `codex -p` profile per
    /// exact route.
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
        /// Never ask the OS keyring for the keys used to read glob routes' model lists.
        #[arg(long, env = "PLUGBOARD_NO_KEYRING")]
        no_keyring: bool,
        /// Plan with one model, execute with another: PLANNER becomes Codex's model, its
        /// subagents default to EXECUTOR, and every request Codex marks as a subagent's is
        /// routed to what serves EXECUTOR (a route saved in the settings file).
        #[arg(long, num_args = 2, value_names = ["PLANNER", "EXECUTOR"])]
        hybrid: Option<Vec<String>>,
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
    /// Where usage history goes (default: the settings file's `[gateway] usage_db`, else the
    /// app's usage database). A gateway's replicas share one, with its users.
    #[arg(long)]
    usage_db: Option<PathBuf>,
    /// Conversations shared by a gateway's replicas: `redis://HOST:PORT[/DB]` (default: the
    /// settings file's `[gateway] state`, else each replica's memory).
    #[arg(long, env = "PLUGBOARD_STATE")]
    state: Option<String>,
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
        Command::Check(args) => {
            let path = args
                .config
                .clone()
                .or_else(plugboard_config::default_settings_path);
            let settings = match settings_file(args.config.clone()) {
                Ok(s) => s,
                Err(code) => return code,
            };
            check_cmd::run(args, settings, path)
        }
        Command::Codex { action } => codex(action),
        Command::Use { provider, config } => use_provider(&provider, config),
        Command::Users { action } => users_cmd::users(action),
        Command::Usage {
            since_days,
            db,
            config,
        } => usage_report(since_days, db, config),
    }
}

fn use_provider(provider: &str, config: Option<PathBuf>) -> ExitCode {
    let Some(path) = config.or_else(plugboard_config::default_settings_path) else {
        eprintln!("plugboard-proxy: no config directory on this system: pass --config FILE");
        return ExitCode::from(2);
    };
    match plugboard_config::switch_active(&path, provider) {
        Ok(_) => {
            println!(
                "Active provider: {provider} (in {}). A proxy serving this file switches within a second.",
                path.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("plugboard-proxy: {e}");
            ExitCode::from(2)
        }
    }
}

/// The settings file given, else the app's; none yet is an empty one. An error is said
/// and becomes the exit status of a usage error.
fn settings_file(config: Option<PathBuf>) -> Result<Settings, ExitCode> {
    let loaded = match config.or_else(plugboard_config::default_settings_path) {
        Some(p) if p.exists() => plugboard_config::load(&p).map_err(|e| e.to_string()),
        Some(p) if config_given(&p) => Err(format!("no settings file at {}", p.display())),
        _ => Ok(Settings::default()),
    };
    loaded.map_err(|e| {
        eprintln!("plugboard-proxy: {e}");
        ExitCode::from(2)
    })
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
