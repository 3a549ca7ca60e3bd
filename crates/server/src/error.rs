//! Errors sent to clients, always in OpenAI's shape `{"error": {message, type, param, code}}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use plugboard_wire::ApiError;

#[derive(Debug)]
pub struct ProxyError {
    pub status: StatusCode,
    /// Boxed: errors travel through many `Result`s on the request path.
    pub error: Box<ApiError>,
    /// Kept from a provider's 429 or 503 so that clients wait as asked.
    pub retry_after: Option<HeaderValue>,
}

impl ProxyError {
    pub fn new(status: StatusCode, kind: &str, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            error: Box::new(ApiError::new(kind, Some(code), message)),
            retry_after: None,
        }
    }

    pub fn invalid_request(param: Option<&str>, code: &str, message: impl Into<String>) -> Self {
        let mut error = ApiError::invalid_request(param, message);
        error.code = Some(code.to_string());
        Self {
            status: StatusCode::BAD_REQUEST,
            error: Box::new(error),
            retry_after: None,
        }
    }

    pub fn code(&self) -> &str {
        self.error.code.as_deref().unwrap_or(&self.error.kind)
    }
}

impl IntoResponse for ProxyError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, axum::Json((*self.error).into_body())).into_response();
        if let Some(v) = self.retry_after {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}
