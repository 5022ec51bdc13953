//! Request extractors that answer bad input with problem responses: JSON bodies
//! (unknown fields, wrong types), query strings, the bearer token, the request id.

use super::AppState;
use super::problem::Problem;
use crate::domain::Code;
use crate::domain::{Caller, FieldError};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

/// A JSON body, with a digest of its bytes (for idempotency fingerprints).
pub struct ApiJson<T> {
    pub value: T,
    pub digest: String,
}

/// Decodes JSON the way every endpoint does: malformed → 400, wrong shape → 422
/// naming the field.
pub fn decode_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let field = if path == "." { "body".to_owned() } else { path };
                Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Code::ValidationFailed,
                    "the request is invalid",
                )
                .with_errors(vec![FieldError::new(field, strip_position(&inner.to_string()))])
            }
            _ => Problem::new(
                StatusCode::BAD_REQUEST,
                Code::MalformedJson,
                "the body is not valid JSON",
            ),
        }
    })?;
    deserializer.end().map_err(|_| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            Code::MalformedJson,
            "the body is not valid JSON",
        )
    })?;
    Ok(value)
}

fn strip_position(message: &str) -> String {
    message.split(" at line ").next().unwrap_or(message).to_owned()
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim();
                mime == "application/json" || mime.ends_with("+json")
            });
        if !is_json {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Code::UnsupportedMediaType,
                "send the body as application/json",
            ));
        }
        let bytes = read_body(req, state).await?;
        Ok(Self {
            value: decode_json(&bytes)?,
            digest: crate::credentials::hex(&Sha256::digest(&bytes)),
        })
    }
}

/// The raw body, within the route's size limit (413 beyond it).
pub async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, Problem> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                Code::PayloadTooLarge,
                "the body is too large",
            )
        } else {
            Problem::new(
                StatusCode::BAD_REQUEST,
                Code::UnreadableBody,
                "the body could not be read",
            )
        }
    })
}

/// A query string; unknown parameters and wrong types answer 400 problem+json.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        let query = parts.uri.query().unwrap_or_default();
        serde_urlencoded::from_str(query).map(ApiQuery).map_err(|e| {
            Problem::new(
                StatusCode::BAD_REQUEST,
                Code::InvalidQuery,
                "the query string is invalid",
            )
            .with_errors(vec![FieldError::new("query", e.to_string())])
        })
    }
}

/// The request id given by the request-id layer.
pub struct RequestId(pub Option<String>);

impl RequestId {
    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let id = parts
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .filter(|id| is_request_id(id))
            .map(str::to_owned);
        Ok(Self(id))
    }
}

/// Whether a request id (ours, or one a client or proxy sent) is fit for the log
/// and the audit: short, and only letters, digits and `-_.:`.
pub fn is_request_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// The authenticated caller of an admin endpoint.
pub struct Authenticated(pub Caller);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let unauthenticated = || {
            Problem::new(
                StatusCode::UNAUTHORIZED,
                Code::Unauthenticated,
                "a valid bearer token is required",
            )
        };
        let caller = state
            .auth
            .caller(parts, state.sesame.now())
            .ok_or_else(unauthenticated)?;
        // A token whose `sub` names a disabled account of the school is refused
        // (SPEC §2): deactivation ends an admin's or teacher's access at once.
        if state.sesame.caller_is_disabled(&caller).await? {
            return Err(unauthenticated());
        }
        Ok(Authenticated(caller))
    }
}
