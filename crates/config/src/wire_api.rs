//! Which API a provider speaks: what presets and settings both name.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WireApi {
    /// Chat Completions: Plugboard translates.
    #[default]
    Chat,
    /// Responses: Plugboard passes requests through with the key.
    Responses,
}
