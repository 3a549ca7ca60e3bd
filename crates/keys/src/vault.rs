//! Where keys are stored: the OS keyring, or memory in tests of the logic around it.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::os_keyring::KeyStoreError;

pub trait KeyVault: Send + Sync + 'static {
    fn set(&self, provider_id: &str, key: &str) -> Result<(), KeyStoreError>;
    fn get(&self, provider_id: &str) -> Result<Option<String>, KeyStoreError>;
    fn delete(&self, provider_id: &str) -> Result<(), KeyStoreError>;
}

/// The OS keyring (Secret Service, Keychain, Credential Manager).
pub struct OsKeyring;

impl KeyVault for OsKeyring {
    fn set(&self, id: &str, key: &str) -> Result<(), KeyStoreError> {
        crate::os_keyring::set_key(id, key)
    }
    fn get(&self, id: &str) -> Result<Option<String>, KeyStoreError> {
        crate::os_keyring::get_key(id)
    }
    fn delete(&self, id: &str) -> Result<(), KeyStoreError> {
        crate::os_keyring::delete_key(id)
    }
}

/// Keys in memory, for tests of the logic around the keyring.
#[derive(Default)]
pub struct MemoryVault(pub Mutex<HashMap<String, String>>);

impl KeyVault for MemoryVault {
    fn set(&self, id: &str, key: &str) -> Result<(), KeyStoreError> {
        self.0.lock().unwrap().insert(id.into(), key.into());
        Ok(())
    }
    fn get(&self, id: &str) -> Result<Option<String>, KeyStoreError> {
        Ok(self.0.lock().unwrap().get(id).cloned())
    }
    fn delete(&self, id: &str) -> Result<(), KeyStoreError> {
        self.0.lock().unwrap().remove(id);
        Ok(())
    }
}
