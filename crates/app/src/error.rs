//! Errors shown to the user: each says what is wrong and, where it can, what to do.

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Settings that do not validate, each problem a sentence naming its field.
    #[error("{}", .0.join("\n"))]
    InvalidSettings(Vec<String>),
    #[error("unknown preset `{0}`")]
    UnknownPreset(String),
    #[error("a provider with the id `{0}` already exists: choose another id")]
    IdTaken(String),
    #[error("the base URL `{0}` must start with http:// or https://")]
    BaseUrl(String),
    #[error("the key of {provider} cannot be read: {reason}")]
    KeyUnreadable { provider: String, reason: String },
    /// What the provider answered (or why it did not), in words.
    #[error("{0}")]
    Connection(String),
    #[error("this Plugboard link cannot be used: {0}")]
    Link(String),
    #[error("this is not a Plugboard providers file: {0}")]
    NotAProvidersFile(String),
    #[error(
        "this providers file is of a newer Plugboard (format {0}); update Plugboard to import it"
    )]
    NewerProvidersFile(u32),
    #[error("port {port} cannot be used: {reason}")]
    Port { port: u16, reason: String },
    #[error("usage history is off")]
    UsageOff,
    #[error(transparent)]
    Usage(#[from] plugboard_usage::UsageError),
    #[error("the check's fix could not be applied: {0}")]
    Fix(#[from] plugboard_check::FixError),
    #[error("this plan-and-execute set-up cannot be made: {0}")]
    Hybrid(#[from] plugboard_config::HybridError),
    #[error("cannot write {path}: {reason}")]
    Write { path: String, reason: String },
    /// A background task ended without an answer (it panicked or was cancelled).
    #[error("the {0} task failed")]
    Task(&'static str),
    #[error(transparent)]
    Keys(#[from] plugboard_keys::KeyStoreError),
    #[error(transparent)]
    KeyWrite(#[from] plugboard_keys::KeyWriteError),
    #[error(transparent)]
    Settings(#[from] plugboard_config::StoreError),
    #[error(transparent)]
    Codex(#[from] plugboard_codex::CodexConfigError),
    #[error("the proxy could not start: {0}")]
    Proxy(String),
    #[error("the proxy cannot use these settings: {0}")]
    ProxySettings(#[from] plugboard_server::SettingsError),
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
