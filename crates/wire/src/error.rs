//! OpenAI's error shape, `{"error": {"message", "type", "param", "code"}}`, used by both APIs.

use serde::{Deserialize, Serialize};

/// The body of an error response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ApiError,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiError {
    pub message: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub param: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
}

impl ApiError {
    pub fn new(kind: &str, code: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            kind: kind.to_string(),
            param: None,
            code: code.map(str::to_string),
        }
    }

    pub fn invalid_request(param: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            param: param.map(str::to_string),
            ..Self::new("invalid_request_error", None, message)
        }
    }

    pub fn into_body(self) -> ErrorBody {
        ErrorBody { error: self }
    }
}

/// A body that is not valid JSON for the expected type.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", self.describe())]
pub struct ParseError {
    /// JSON path of the offending value (`input[3].call_id`), empty at the top level.
    pub path: String,
    pub message: String,
}

impl ParseError {
    fn describe(&self) -> String {
        if self.path.is_empty() {
            format!("invalid request body: {}", self.message)
        } else {
            format!("invalid value at `{}`: {}", self.path, self.message)
        }
    }
}
