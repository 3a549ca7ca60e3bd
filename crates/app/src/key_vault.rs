//! Where the app stores keys: the OS keyring, or memory in unit tests.

use std::collections::HashMap;
use std::sync::Mutex;

pub trait KeyVault: Send + Sync + 'static {
    fn set(&self, provider_id: &str, key: &str) -> Result<(), plugboard_keys::KeyStoreError>;
    fn get(&self, provider_id: &str) -> Result<Option<String>, plugboard_keys::KeyStoreError>;
    fn delete(&self, provider_id: &str) -> Result<(), plugboard_keys::KeyStoreError>;
}

/// The OS keyring (Secret Service, Keychain, Credential Manager).
pub struct OsKeyring;

impl KeyVault for OsKeyring {
    fn set(&self, id: &str, key: &str) -> Result<(), plugboard_keys::KeyStoreError> {
        plugboard_keys::set_key(id, key)
    }
    fn get(&self, id: &str) -> Result<Option<String>, plugboard_keys::KeyStoreError> {
        plugboard_keys::get_key(id)
    }
    fn delete(&self, id: &str) -> Result<(), plugboard_keys::KeyStoreError> {
        plugboard_keys::delete_key(id)
    }
}

/// Keys in memory, for tests of the logic around the keyring.
#[derive(Default)]
pub struct MemoryVault(pub Mutex<HashMap<String, String>>);

impl KeyVault for MemoryVault {
    fn set(&self, id: &str, key: &str) -> Result<(), plugboard_keys::KeyStoreError> {
        self.0.lock().unwrap().insert(id.into(), key.into());
        Ok(())
    }
    fn get(&self, id: &str) -> Result<Option<String>, plugboard_keys::KeyStoreError> {
        Ok(self.0.lock().unwrap().get(id).cloned())
    }
    fn delete(&self, id: &str) -> Result<(), plugboard_keys::KeyStoreError> {
        self.0.lock().unwrap().remove(id);
        Ok(())
    }
}
