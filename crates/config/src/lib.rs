//! Plugboard's settings: providers (from presets), routes by model name, the listen address,
//! and the settings file they live in. Keys are never part of it: a provider only names
//! where its key comes from.

pub mod address;
pub mod atomic_file;
pub mod hybrid;
pub mod limits;
pub mod migrate;
pub mod model_cards;
pub mod model_facts;
pub mod presets;
pub mod settings;
pub mod store;
pub mod switch;
mod wire_api;

pub use address::{is_glob, is_local_ip};
pub use hybrid::HybridError;
pub use limits::ServerLimits;
pub use model_cards::{ListedModels, ModelCard, WindowSource};
pub use presets::{preset, Preset, CHATGPT_PRESET, PRESETS};
pub use settings::{
    Gateway, ModelMap, ModelMapper, OverrideError, Price, Provider, Route, Settings, Timeouts,
    WireApi, DEFAULT_LISTEN,
};
pub use store::{default_settings_path, load, save, StoreError};
pub use switch::{switch_active, SwitchError};
