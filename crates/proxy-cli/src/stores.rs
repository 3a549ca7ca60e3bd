//! Which usage store `--usage-db` names: a `postgres://` URL (a gateway's replicas sharing
//! one database) or a SQLite file.

use plugboard_usage::{UsageError, UsageStore};
use std::path::{Path, PathBuf};

/// The usage database a command works on: the one given, else the settings file's
/// `[gateway] usage_db`, else the app's.
pub(crate) fn usage_db_of(
    given: Option<PathBuf>,
    settings: Option<&plugboard_config::Settings>,
) -> Option<PathBuf> {
    given
        .or_else(|| settings?.gateway.usage_db.as_ref().map(PathBuf::from))
        .or_else(plugboard_usage::default_db_path)
}

pub(crate) fn is_postgres(spec: &Path) -> bool {
    spec.to_str()
        .is_some_and(|s| s.starts_with("postgres://") || s.starts_with("postgresql://"))
}

/// Opens (and creates or migrates) the store. Blocks: call it off the async runtime.
pub(crate) fn open_usage_store(spec: &Path) -> Result<Box<dyn UsageStore>, UsageError> {
    match spec.to_str() {
        Some(url) if is_postgres(spec) => {
            Ok(Box::new(plugboard_usage_postgres::PgUsage::connect(url)?))
        }
        _ => Ok(Box::new(plugboard_usage::UsageDb::open(spec)?)),
    }
}
