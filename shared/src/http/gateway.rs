//! Behind API Gateway (HTTP API v2), the JWT authorizer has verified the bearer token
//! and put its claims in the request context; this layer hands them to the
//! authenticator as [`VerifiedClaims`]. Without an authorizer context (`cargo lambda
//! watch`, LocalStack) nothing is added and the token is verified with the key.
//! The client's address (`sourceIp`) is handed on the same way.

use super::auth::VerifiedClaims;
use super::extract::ClientAddress;
use crate::token::Claims;
use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use lambda_http::request::RequestContext;
use std::collections::HashMap;

/// `router`, reading authorizer claims from the Lambda request context.
pub fn with_gateway_claims(router: Router) -> Router {
    router.layer(middleware::from_fn(gateway_claims))
}

async fn gateway_claims(mut request: Request, next: Next) -> Response {
    let (claims, source) = match request.extensions().get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV2(context)) => (
            context
                .authorizer
                .as_ref()
                .and_then(|a| a.jwt.as_ref())
                .and_then(|jwt| claims_of(&jwt.claims)),
            context.http.source_ip.as_deref().and_then(|ip| ip.parse().ok()),
        ),
        _ => (None, None),
    };
    if let Some(claims) = claims {
        request.extensions_mut().insert(VerifiedClaims(claims));
    }
    // The client's address as API Gateway saw it (SPEC §3: `sourceIp`).
    request.extensions_mut().insert(ClientAddress(source));
    next.run(request).await
}

/// The authorizer gives every claim as a string, and flattens a list claim into
/// `[5A 5B]`, which cannot tell `6e A` from `6e` and `A`: `classes` must come as
/// a string claim holding a JSON array (`["6e A","5e B"]`) or a comma-separated
/// list (`6e A,5e B`); anything else is refused (SPEC §2).
fn claims_of(raw: &HashMap<String, String>) -> Option<Claims> {
    let text = |name: &str| {
        raw.get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let classes = match raw.get("classes").map(|c| c.trim()) {
        None | Some("") => Vec::new(),
        Some(list) if list.starts_with('[') => serde_json::from_str(list).ok()?,
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect(),
    };
    Some(Claims {
        sub: text("sub")?,
        school: text("school")?,
        role: text("role")?,
        classes,
        exp: text("exp").and_then(|e| e.parse().ok()).unwrap_or_default(),
        iat: text("iat").and_then(|e| e.parse().ok()).unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(classes: &str) -> HashMap<String, String> {
        [
            ("sub", "t1"),
            ("school", "demo"),
            ("role", "teacher"),
            ("classes", classes),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    #[test]
    fn class_lists_are_read_as_a_json_array_or_comma_separated() {
        for shape in ["[\"6e A\",\"5B\"]", "6e A, 5B"] {
            assert_eq!(claims_of(&raw(shape)).unwrap().classes, ["6e A", "5B"], "{shape}");
        }
    }

    #[test]
    fn a_flattened_class_list_is_refused() {
        assert!(claims_of(&raw("[6e A 5B]")).is_none());
    }

    #[test]
    fn claims_without_a_school_are_ignored() {
        let mut claims = raw("");
        claims.remove("school");
        assert!(claims_of(&claims).is_none());
    }
}
