//! The one place where errors become HTTP responses: `application/problem+json`
//! (RFC 9457) with a stable `code`. Internal causes go to the log, never the client.

use crate::domain::{Code, Error, FieldError};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// An error response body (RFC 9457).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// `urn:sesame:problem:` and the `code`.
    #[serde(rename = "type")]
    #[schema(pattern = "^urn:sesame:problem:[a-z_]+$")]
    pub kind: String,
    /// The status's reason phrase.
    pub title: String,
    /// The response's status.
    #[schema(minimum = 400, maximum = 599)]
    pub status: u16,
    pub detail: String,
    pub code: Code,
    /// On validation failures: each field at fault, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    #[serde(skip)]
    retry_after: Option<u64>,
}

impl Problem {
    pub fn new(status: StatusCode, code: Code, detail: impl Into<String>) -> Self {
        Self {
            kind: format!("urn:sesame:problem:{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            code,
            errors: Vec::new(),
            retry_after: None,
        }
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

/// The status each domain error answers with.
pub fn status_of(error: &Error) -> StatusCode {
    match error {
        Error::Validation(_) | Error::PasswordPolicy(_) => StatusCode::UNPROCESSABLE_ENTITY,
        Error::BadRequest { .. } => StatusCode::BAD_REQUEST,
        Error::Unauthenticated | Error::InvalidCredentials => StatusCode::UNAUTHORIZED,
        Error::AccessDisabled | Error::Forbidden => StatusCode::FORBIDDEN,
        Error::NotFound => StatusCode::NOT_FOUND,
        Error::Federated { .. } | Error::Conflict { .. } => StatusCode::CONFLICT,
        Error::Locked { .. } => StatusCode::TOO_MANY_REQUESTS,
        Error::Busy { .. } | Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The one place where an internal error is logged: its whole cause, in the
/// request's span (which carries the request id); the client learns nothing of it.
pub fn log_internal(error: &Error) {
    match error {
        Error::Internal(source) => tracing::error!(error = format!("{source:#}"), "internal error"),
        Error::Unavailable(source) => tracing::error!(error = format!("{source:#}"), "store unavailable"),
        _ => {}
    }
}

impl From<Error> for Problem {
    fn from(error: Error) -> Self {
        log_internal(&error);
        let mut problem = Problem::new(status_of(&error), error.code(), error.detail());
        match error {
            Error::Validation(errors) | Error::PasswordPolicy(errors) => problem.errors = errors,
            Error::Locked { retry_after_secs } | Error::Busy { retry_after_secs } => {
                problem.retry_after = Some(retry_after_secs)
            }
            Error::Unavailable(_) => problem.retry_after = Some(1),
            _ => {}
        }
        problem
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status();
        let retry_after = self.retry_after;
        let mut response = (status, axum::Json(&self)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if status == StatusCode::UNAUTHORIZED && self.code == Code::Unauthenticated {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        Problem::from(self).into_response()
    }
}

pub type ApiResult<T> = Result<T, Problem>;

#[cfg(test)]
mod tests {
    #[test]
    fn the_code_schema_lists_every_stable_code() {
        let schema = serde_json::to_value(<super::Code as utoipa::PartialSchema>::schema()).unwrap();
        let listed: Vec<&str> = schema["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let codes: Vec<&str> = super::Code::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(listed, codes);
    }
}
