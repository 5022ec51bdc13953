//! Bearer tokens of the admin API: compact JWS with HS256 only. Any other `alg`
//! (`none` included), a bad signature, a missing or past `exp`, or claims that do not
//! parse are refused.

use crate::domain::{Caller, ClassName, Role, SchoolId};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The claims Sésame reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub school: String,
    pub role: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<String>,
    pub exp: i64,
    #[serde(default)]
    pub iat: i64,
}

impl Claims {
    /// Claims issued at `now` for `ttl`; `school` and `role` are taken as given, so
    /// that a test may also sign claims Sésame refuses.
    pub fn issued(
        sub: impl Into<String>,
        school: impl Into<String>,
        role: impl Into<String>,
        classes: Vec<String>,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
    ) -> Self {
        Self {
            sub: sub.into(),
            school: school.into(),
            role: role.into(),
            classes,
            exp: (now + ttl).timestamp(),
            iat: now.timestamp(),
        }
    }

    /// The caller these claims describe, if they name a valid school and role.
    pub fn into_caller(self) -> Option<Caller> {
        Some(Caller {
            school: SchoolId::parse(&self.school).ok()?,
            role: Role::parse(&self.role)?,
            classes: self
                .classes
                .iter()
                .map(|c| ClassName::parse(c))
                .collect::<Result<_, _>>()
                .ok()?,
            sub: (!self.sub.is_empty()).then_some(self.sub)?,
        })
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("malformed token")]
    Malformed,
    #[error("unsupported algorithm")]
    Algorithm,
    #[error("bad signature")]
    Signature,
    #[error("token expired")]
    Expired,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
}

/// An HS256 key.
#[derive(Clone)]
pub struct TokenKey(Vec<u8>);

impl TokenKey {
    pub fn new(secret: &[u8]) -> Self {
        Self(secret.to_vec())
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC takes keys of any length.
        HmacSha256::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
    }

    pub fn sign(&self, claims: &Claims) -> String {
        let header = B64.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload = B64.encode(serde_json::to_vec(claims).unwrap_or_default());
        let signing_input = format!("{header}.{payload}");
        let mut mac = self.mac();
        mac.update(signing_input.as_bytes());
        let signature = B64.encode(mac.finalize().into_bytes());
        format!("{signing_input}.{signature}")
    }

    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Claims, TokenError> {
        let mut parts = token.split('.');
        let (Some(raw_header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        let header: Header = B64
            .decode(raw_header)
            .ok()
            .and_then(|h| serde_json::from_slice(&h).ok())
            .ok_or(TokenError::Malformed)?;
        if header.alg != "HS256" {
            return Err(TokenError::Algorithm);
        }
        let signature = B64.decode(signature).map_err(|_| TokenError::Malformed)?;
        let mut mac = self.mac();
        mac.update(&token.as_bytes()[..raw_header.len() + 1 + payload.len()]);
        mac.verify_slice(&signature).map_err(|_| TokenError::Signature)?;
        let claims: Claims = B64
            .decode(payload)
            .ok()
            .and_then(|p| serde_json::from_slice(&p).ok())
            .ok_or(TokenError::Malformed)?;
        if claims.exp <= now.timestamp() {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> Claims {
        Claims {
            sub: "a".into(),
            school: "demo".into(),
            role: "admin".into(),
            classes: vec![],
            exp,
            iat: 0,
        }
    }

    #[test]
    fn a_signed_token_verifies_until_it_expires() {
        let key = TokenKey::new(b"k");
        let now = Utc::now();
        let token = key.sign(&claims(now.timestamp() + 60));
        assert_eq!(key.verify(&token, now).unwrap().sub, "a");
        assert_eq!(
            key.verify(&token, now + chrono::Duration::seconds(61)),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn another_key_or_alg_none_is_refused() {
        let now = Utc::now();
        let token = TokenKey::new(b"other").sign(&claims(now.timestamp() + 60));
        assert_eq!(
            TokenKey::new(b"k").verify(&token, now),
            Err(TokenError::Signature)
        );
        let payload = token.split('.').nth(1).unwrap();
        let none = format!("{}.{payload}.", B64.encode(br#"{"alg":"none"}"#));
        assert_eq!(TokenKey::new(b"k").verify(&none, now), Err(TokenError::Algorithm));
    }
}
