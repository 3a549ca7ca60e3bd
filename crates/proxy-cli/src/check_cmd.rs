//! `plugboard-proxy check`: the Codex check from a terminal, one line per step, exit status 1
//! when a step fails; `--fix` turns on what the check offers, checks again and saves the
//! repaired provider to the settings file.

use plugboard_check::{CheckOptions, CheckReport, FixChange, Status};
use plugboard_config::Settings;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(clap::Args)]
pub struct CheckArgs {
    /// Settings file (default: the app's).
    #[arg(long, env = "PLUGBOARD_CONFIG")]
    pub config: Option<PathBuf>,
    /// The provider's id (default: the active provider).
    #[arg(long)]
    pub provider: Option<String>,
    /// The upstream model (default: the provider's default model).
    #[arg(long)]
    pub model: Option<String>,
    /// Turn on the fixes the check offers, check again, and save them to the settings file.
    #[arg(long)]
    pub fix: bool,
    /// Refuse a provider off this machine and the local network.
    #[arg(long, env = "PLUGBOARD_LOCAL_ONLY")]
    pub local_only: bool,
    /// Print the reports as JSON.
    #[arg(long)]
    pub json: bool,
    /// Never read keys from the OS keyring (only from each provider's `api_key_env`).
    #[arg(long, env = "PLUGBOARD_NO_KEYRING")]
    pub no_keyring: bool,
}

pub fn run(args: CheckArgs, settings: Settings, path: Option<PathBuf>) -> ExitCode {
    let id = args
        .provider
        .clone()
        .or_else(|| settings.active().map(|p| p.id.clone()));
    let Some(p) = id.as_deref().and_then(|id| settings.provider(id)).cloned() else {
        eprintln!(
            "plugboard-proxy: {}",
            match id {
                Some(id) => format!("no provider `{id}` in the settings"),
                None => "no provider in the settings: add one, or pass --config FILE".into(),
            }
        );
        return ExitCode::from(2);
    };
    let opts = CheckOptions {
        model: args.model.clone(),
        local_only: settings.local_only || args.local_only,
        resolver: None,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime starts");
    let result = rt.block_on(async {
        let keys = Arc::new(plugboard_keys::HeadlessKeys::load(&settings, !args.no_keyring).await);
        if args.fix {
            plugboard_check::check_and_fix(&p, keys, opts).await
        } else {
            plugboard_check::check_provider(&p, keys, opts)
                .await
                .map(|r| (p.clone(), vec![r]))
        }
    });
    let (fixed, reports) = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("plugboard-proxy: {e}");
            return ExitCode::from(2);
        }
    };
    let last = reports.last().expect("at least one round");
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&reports).expect("reports serialize")
        );
    } else {
        for (i, r) in reports.iter().enumerate() {
            if i > 0 {
                println!("\nAgain, with the fixes on:");
            }
            print_report(r, !args.fix);
        }
    }
    if fixed != p {
        match save_fixed(&settings, fixed, path) {
            Ok(saved) => println!("\nSaved the fixes to {saved}."),
            Err(e) => {
                eprintln!("plugboard-proxy: the fixes work but could not be saved: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    if last.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn mark(s: Status) -> &'static str {
    match s {
        Status::Passed => "ok  ",
        Status::Warning => "warn",
        Status::Failed => "FAIL",
        Status::Skipped => "skip",
        Status::Info => "note",
    }
}

fn print_report(r: &CheckReport, offer: bool) {
    println!(
        "Codex check of {} ({}), model {}:",
        r.provider_name, r.provider_id, r.model
    );
    for s in &r.steps {
        println!("  {} {:<38} {}", mark(s.status), s.title, s.detail);
        if let Some(f) = &s.fix {
            let how = match (&f.change, offer) {
                (FixChange::PassThrough, _) => {
                    "set wire_api = \"responses\" on the provider to use it"
                }
                (_, true) => "run again with --fix to turn it on",
                (_, false) => "turned on for the next round",
            };
            if s.status == Status::Failed || f.change == FixChange::PassThrough {
                println!("       fix: {} ({how})", f.label);
            }
        }
    }
    println!("{}.", r.summary());
}

fn save_fixed(
    settings: &Settings,
    fixed: plugboard_config::Provider,
    path: Option<PathBuf>,
) -> Result<String, String> {
    let path = path.ok_or("no settings file to save to")?;
    let mut s = settings.clone();
    if let Some(slot) = s.providers.iter_mut().find(|p| p.id == fixed.id) {
        *slot = fixed;
    }
    plugboard_config::save(&path, &s).map_err(|e| e.to_string())?;
    Ok(path.display().to_string())
}
