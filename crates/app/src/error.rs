//! Errors shown to the user: each says what is wrong and, where it can, what to do.

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Keys(#[from] plugboard_keys::KeyStoreError),
    #[error(transparent)]
    KeyWrite(#[from] crate::key_cache::KeyWriteError),
    #[error(transparent)]
    Settings(#[from] plugboard_config::StoreError),
    #[error(transparent)]
    Codex(#[from] plugboard_codex::CodexConfigError),
    #[error("the proxy could not start: {0}")]
    Proxy(String),
    #[error("provider `{0}` does not exist")]
    NoSuchProvider(String),
    #[error("could not change start at login: {0}")]
    Autostart(String),
    #[error(transparent)]
    Check(#[from] plugboard_check::CheckError),
}

impl serde::Serialize for AppError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}
