//! Which usage store `--usage-db` names: a `postgres://` URL (a gateway's replicas sharing
//! one database) or a SQLite file.

use plugboard_usage::{UsageError, UsageStore};
use std::path::Path;

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
