//! Who is calling the admin API. The edge verifies HS256 bearer tokens itself. In
//! the cloud, API Gateway's JWT authorizer has verified the token and the claims are
//! in the request context (added by the Lambda adapter); without that context the
//! token is verified here, and without a key nothing is trusted.

use crate::domain::Caller;
use crate::token::{Claims, TokenKey};
use axum::http::header;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};

/// Claims an authorizer in front of Sésame has already verified, placed in the
/// request's extensions by the runtime adapter (never read from a header).
#[derive(Debug, Clone)]
pub struct VerifiedClaims(pub Claims);

#[derive(Clone)]
pub struct Authenticator {
    key: Option<TokenKey>,
}

impl Authenticator {
    pub fn new(key: Option<TokenKey>) -> Self {
        Self { key }
    }

    pub fn caller(&self, parts: &Parts, now: DateTime<Utc>) -> Option<Caller> {
        if let Some(VerifiedClaims(claims)) = parts.extensions.get::<VerifiedClaims>() {
            return claims.clone().into_caller();
        }
        let token = parts
            .headers
            .get(header::AUTHORIZATION)?
            .to_str()
            .ok()?
            .strip_prefix("Bearer ")
            .map(str::trim)?;
        let claims = self.key.as_ref()?.verify(token, now).ok()?;
        claims.into_caller()
    }
}
