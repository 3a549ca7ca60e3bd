//! Provider API keys, in one place: the OS keyring calls ([`os_keyring`]), where keys are
//! stored ([`vault`]), the copy in memory that requests read ([`cache`]), and where each
//! binary takes its keys from ([`sources`]). Keys never reach the settings file, a log line
//! or the UI (which only sees [`mask`]).

pub mod api_key;
pub mod cache;
pub mod os_keyring;
pub mod sources;
pub mod vault;

pub use api_key::{mask, ApiKey};
pub use cache::{CachedKey, KeyCache, KeyWriteError, Unreadable, KEYRING_WAIT};
pub use os_keyring::{delete_key, get_key, set_key, KeyStoreError, SERVICE};
pub use sources::{CachedKeys, EnvKeys, HeadlessKeys, KeyError, KeySource, SwappableKeys};
pub use vault::{KeyVault, MemoryVault, OsKeyring};
