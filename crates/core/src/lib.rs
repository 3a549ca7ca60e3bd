//! The few types the proxy (`plugboard-server`), the usage history (`plugboard-usage`), the
//! headless binary and the app share, without the HTTP stack: a provider's key and where
//! keys come from (from `plugboard-keys`), the record of one request attempt, and how it ended.

pub mod accounts;
pub mod outcome;
pub mod record;
pub mod redact;

pub use accounts::{Accounts, BudgetSpent, Caller, Refusal};
pub use outcome::Outcome;
pub use plugboard_keys::{self as keys, ApiKey, EnvKeys, KeyError, KeySource};
pub use record::{MetricsExport, RequestRecord, UsageSink};
pub use redact::redact_url;
