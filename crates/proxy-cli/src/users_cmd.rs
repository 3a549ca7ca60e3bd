//! `plugboard-proxy users`: a team gateway's users in the usage database that `serve`
//! reads them from (every replica sharing it sees a change within seconds).

use clap::{Args, Subcommand};
use plugboard_usage::{UsageStore, UsersError};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub(crate) struct UsersDb {
    /// The usage database `serve` uses: a SQLite file or a `postgres://` URL (default: the
    /// app's).
    #[arg(long)]
    usage_db: Option<PathBuf>,
    /// A settings file whose `[gateway] usage_db` names the database.
    #[arg(long, env = "PLUGBOARD_CONFIG")]
    config: Option<PathBuf>,
}

#[derive(Subcommand)]
pub(crate) enum UsersAction {
    /// Adds NAME and prints their token, once: it is stored only as a hash.
    Add {
        name: String,
        #[command(flatten)]
        db: UsersDb,
    },
    /// Sets NAME's monthly budget in US dollars (`none` lifts it). Requests over it get a 429.
    Budget {
        name: String,
        usd: String,
        #[command(flatten)]
        db: UsersDb,
    },
    /// Every user with their budget and this month's spend.
    List {
        #[command(flatten)]
        db: UsersDb,
    },
    /// Removes NAME: their token stops working; their usage rows stay.
    Remove {
        name: String,
        #[command(flatten)]
        db: UsersDb,
    },
}

pub(crate) fn users(action: UsersAction) -> ExitCode {
    let db = match &action {
        UsersAction::Add { db, .. }
        | UsersAction::Budget { db, .. }
        | UsersAction::List { db }
        | UsersAction::Remove { db, .. } => db,
    };
    let settings = match db.config.as_deref().map(plugboard_config::load) {
        Some(Err(e)) => {
            eprintln!("plugboard-proxy: {e}");
            return ExitCode::from(2);
        }
        Some(Ok(s)) => Some(s),
        None => None,
    };
    let Some(path) = crate::stores::usage_db_of(db.usage_db.clone(), settings.as_ref()) else {
        eprintln!("plugboard-proxy: no data directory on this system: pass --usage-db FILE");
        return ExitCode::from(2);
    };
    let mut db = match crate::stores::open_usage_store(&path) {
        Ok(db) => db,
        Err(e) => {
            eprintln!("plugboard-proxy: {e}");
            return ExitCode::FAILURE;
        }
    };
    match run(&mut *db, action) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e @ UsersError::Db(_)) => {
            eprintln!("plugboard-proxy: {e}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("plugboard-proxy: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(db: &mut dyn UsageStore, action: UsersAction) -> Result<(), UsersError> {
    match action {
        UsersAction::Add { name, .. } => {
            let token = match plugboard_usage::new_token() {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("plugboard-proxy: no random bytes from the OS for a token: {e}");
                    std::process::exit(1);
                }
            };
            db.add_user(
                &name,
                &plugboard_usage::token_hash(token.as_bytes()),
                now_ms(),
            )?;
            println!("{token}");
            eprintln!(
                "User {name} added. The token above is shown this once; in their Codex setup it goes in the variable `env_key` names (Authorization: Bearer)."
            );
        }
        UsersAction::Budget { name, usd, .. } => {
            let budget = match usd.trim().trim_start_matches('$') {
                "none" | "off" => None,
                v => Some(
                    v.parse::<f64>()
                        .map_err(|_| UsersError::BadBudget(usd.clone()))?,
                ),
            };
            db.set_budget(&name, budget)?;
            match budget {
                Some(b) => println!("{name}: ${b:.2} a month"),
                None => println!("{name}: no budget"),
            }
        }
        UsersAction::List { .. } => {
            println!(
                "{:<24} {:>12} {:>16}",
                "user", "budget $", "spent this month $"
            );
            for u in db.users()? {
                let budget = u
                    .budget_usd
                    .map(|b| format!("{b:.2}"))
                    .unwrap_or_else(|| "-".into());
                println!("{:<24} {:>12} {:>16.4}", u.name, budget, u.spent_month_usd);
            }
        }
        UsersAction::Remove { name, .. } => {
            db.remove_user(&name)?;
            println!("{name} removed");
        }
    }
    Ok(())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
