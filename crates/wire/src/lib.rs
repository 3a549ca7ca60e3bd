//! Wire types of both APIs Plugboard speaks.
//!
//! Inputs are parsed leniently: unknown fields are ignored and unknown item, content or
//! tool types are kept as [`serde_json::Value`] so that the translator can skip them with
//! a trace instead of rejecting the request. Outputs are typed so that every event Plugboard
//! emits has exactly the fields clients (Codex, the OpenAI SDKs) read.

pub mod chat;
pub mod error;

pub mod responses;

pub use error::{ApiError, ErrorBody, ParseError};

/// Parses a request body, reporting the JSON path of the first offending field.
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ParseError> {
    // Tracking the path costs on every field; it is only needed to explain a failure, so a
    // body that parses is read once without it and only a bad one is read again with it.
    if let Ok(v) = serde_json::from_slice(body) {
        return Ok(v);
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        ParseError {
            path: if path == "." || path == "?" {
                String::new()
            } else {
                path
            },
            message: e.into_inner().to_string(),
        }
    })
}
