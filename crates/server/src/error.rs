//! Every way the proxy answers with an error, one variant each, and the one place each is
//! turned into OpenAI's shape `{"error": {message, type, param, code}}` with its status.
//! Clients act on the `code`, so each variant's code is fixed here.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use plugboard_wire::ApiError;

/// The code of a request local-only mode refused before connecting (the usage row keeps it).
pub const LOCAL_ONLY_REFUSED: &str = "local_only_refused";

#[derive(Debug)]
pub enum ProxyError {
    /// The request is wrong (400), naming the field where one is to blame.
    InvalidRequest {
        param: Option<String>,
        code: &'static str,
        message: String,
    },
    /// The body is larger than the limit (413).
    TooLarge { message: String },
    /// Sent by a web page, which carries an `Origin` (403).
    ForbiddenOrigin { origin: String },
    /// Addressed to a host name other than loopback (403).
    ForbiddenHost { host: String },
    /// The access token is missing or wrong (401).
    AccessToken,
    /// A gateway user's monthly budget is spent (429, OpenAI's `insufficient_quota`, which
    /// clients such as Codex do not retry).
    BudgetSpent { message: String },
    /// A user's budget cannot be checked, the usage store being unreachable (503, retry).
    BudgetsUnavailable { message: String },
    /// No endpoint at this path (404).
    NotFound,
    /// No provider serves the model (503).
    NoProvider,
    /// Local-only mode refused the provider before connecting (403).
    LocalOnlyRefused { message: String },
    /// Plugboard is stopping (503, retry after a second).
    Stopping,
    /// A WebSocket cannot be opened here (426): the client goes on over HTTP.
    UpgradeRequired { message: String },
    /// The provider's key is not available (401).
    MissingKey { message: String },
    /// The provider's settings cannot be used (500).
    BadProviderConfig { message: String },
    /// The provider could not be reached (502), or did not answer in time (504).
    Unreachable { timeout: bool, message: String },
    /// The provider redirected the request elsewhere (502).
    RedirectRefused { message: String },
    /// The provider answered something its API does not allow (502).
    BadUpstream { message: String },
    /// The provider's own error, worded for clients: its status (5xx as 502), type, code
    /// and message, and its `Retry-After` so that clients wait as asked.
    Provider {
        status: StatusCode,
        error: Box<ApiError>,
        retry_after: Option<HeaderValue>,
    },
}

impl ProxyError {
    pub fn invalid_request(
        param: Option<&str>,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        ProxyError::InvalidRequest {
            param: param.map(str::to_string),
            code,
            message: message.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        use ProxyError::*;
        match self {
            InvalidRequest { .. } => StatusCode::BAD_REQUEST,
            TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ForbiddenOrigin { .. } | ForbiddenHost { .. } | LocalOnlyRefused { .. } => {
                StatusCode::FORBIDDEN
            }
            AccessToken | MissingKey { .. } => StatusCode::UNAUTHORIZED,
            NotFound => StatusCode::NOT_FOUND,
            BudgetSpent { .. } => StatusCode::TOO_MANY_REQUESTS,
            NoProvider | Stopping | BudgetsUnavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            UpgradeRequired { .. } => StatusCode::UPGRADE_REQUIRED,
            BadProviderConfig { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            Unreachable { timeout: true, .. } => StatusCode::GATEWAY_TIMEOUT,
            Unreachable { .. } | RedirectRefused { .. } | BadUpstream { .. } => {
                StatusCode::BAD_GATEWAY
            }
            Provider { status, .. } => *status,
        }
    }

    /// The `code` clients act on.
    pub fn code(&self) -> &str {
        use ProxyError::*;
        match self {
            InvalidRequest { code, .. } => code,
            TooLarge { .. } => "request_too_large",
            ForbiddenOrigin { .. } => "forbidden_origin",
            ForbiddenHost { .. } => "forbidden_host",
            AccessToken => "invalid_access_token",
            NotFound => "not_found",
            BudgetSpent { .. } => "insufficient_quota",
            BudgetsUnavailable { .. } => "budgets_unavailable",
            NoProvider => "no_provider",
            LocalOnlyRefused { .. } => LOCAL_ONLY_REFUSED,
            Stopping => crate::lifecycle::STOPPING_CODE,
            UpgradeRequired { .. } => "websocket_unavailable",
            MissingKey { .. } => "missing_api_key",
            BadProviderConfig { .. } => "bad_provider_config",
            Unreachable { timeout: true, .. } => "upstream_timeout",
            Unreachable { .. } => "upstream_unreachable",
            RedirectRefused { .. } => "upstream_redirect_refused",
            BadUpstream { .. } => "bad_upstream_response",
            Provider { error, .. } => error.code.as_deref().unwrap_or(&error.kind),
        }
    }

    /// OpenAI's error `type`.
    fn kind(&self) -> &str {
        use ProxyError::*;
        match self {
            InvalidRequest { .. }
            | TooLarge { .. }
            | ForbiddenOrigin { .. }
            | ForbiddenHost { .. }
            | NotFound
            | UpgradeRequired { .. }
            | LocalOnlyRefused { .. } => "invalid_request_error",
            AccessToken | MissingKey { .. } => "authentication_error",
            BudgetSpent { .. } => "insufficient_quota",
            BudgetsUnavailable { .. } => "server_error",
            NoProvider | Stopping | BadProviderConfig { .. } => "server_error",
            Unreachable { .. } | RedirectRefused { .. } | BadUpstream { .. } => "upstream_error",
            Provider { error, .. } => &error.kind,
        }
    }

    pub fn message(&self) -> String {
        use ProxyError::*;
        match self {
            InvalidRequest { message, .. }
            | TooLarge { message }
            | LocalOnlyRefused { message }
            | MissingKey { message }
            | BudgetSpent { message }
            | BudgetsUnavailable { message }
            | UpgradeRequired { message }
            | BadProviderConfig { message }
            | Unreachable { message, .. }
            | RedirectRefused { message }
            | BadUpstream { message } => message.clone(),
            ForbiddenOrigin { origin } => format!(
                "Plugboard refuses requests from web pages (Origin: {origin}); local clients such as Codex send no Origin"
            ),
            ForbiddenHost { host } => format!(
                "Plugboard only answers requests addressed to localhost or 127.0.0.1, not `{host}`"
            ),
            AccessToken => "this Plugboard requires an access token or a user's token (Authorization: Bearer <token>, or the x-plugboard-token header)".into(),
            NotFound => "Plugboard serves POST /v1/responses (and a WebSocket on GET /v1/responses), POST /v1/responses/compact, GET /v1/models, GET /health, GET /ready and (headless) GET /metrics".into(),
            NoProvider => "Plugboard has no provider for this model: add a provider or choose an active one".into(),
            Stopping => crate::lifecycle::stopping_message(),
            Provider { error, .. } => error.message.clone(),
        }
    }

    pub fn param(&self) -> Option<&str> {
        match self {
            ProxyError::InvalidRequest { param, .. } => param.as_deref(),
            ProxyError::Provider { error, .. } => error.param.as_deref(),
            _ => None,
        }
    }

    /// How long the client should wait before trying again, when that is known.
    pub fn retry_after(&self) -> Option<HeaderValue> {
        match self {
            ProxyError::Stopping => Some(HeaderValue::from_static("1")),
            ProxyError::BudgetsUnavailable { .. } => Some(HeaderValue::from_static("5")),
            ProxyError::Provider { retry_after, .. } => retry_after.clone(),
            _ => None,
        }
    }

    /// The error as OpenAI's error object.
    pub fn api_error(&self) -> ApiError {
        if let ProxyError::Provider { error, .. } = self {
            return (**error).clone();
        }
        ApiError {
            message: self.message(),
            kind: self.kind().to_string(),
            param: self.param().map(str::to_string),
            code: Some(self.code().to_string()),
        }
    }
}

impl IntoResponse for ProxyError {
    fn into_response(self) -> Response {
        let mut resp = (self.status(), axum::Json(self.api_error().into_body())).into_response();
        if let Some(v) = self.retry_after() {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}
