//! Each Lambda function's router answers API Gateway HTTP API v2 events: with the
//! authorizer's claims in the request context, and without them (`cargo lambda
//! watch`) by verifying the bearer token itself.

use axum::body::Body;
use serde_json::{Value, json};
use sesame::http::gateway::with_gateway_claims;
use sesame::http::{Group, router};
use sesame_tests::Fixture;
use tower::ServiceExt;

const EVENT: &str = include_str!("../fixtures/apigw-v2-event.json");

/// An event for `method path` carrying `claims` from the authorizer, or none.
fn event(
    method: &str,
    path: &str,
    claims: Option<Value>,
    bearer: Option<&str>,
    body: Option<Value>,
) -> String {
    let mut event: Value = serde_json::from_str(EVENT).unwrap();
    let (raw_path, query) = path.split_once('?').unwrap_or((path, ""));
    event["rawPath"] = json!(raw_path);
    event["rawQueryString"] = json!(query);
    event["requestContext"]["http"]["method"] = json!(method);
    event["requestContext"]["http"]["path"] = json!(raw_path);
    match claims {
        Some(claims) => event["requestContext"]["authorizer"]["jwt"]["claims"] = claims,
        None => {
            event["requestContext"]
                .as_object_mut()
                .unwrap()
                .remove("authorizer");
        }
    }
    if let Some(token) = bearer {
        event["headers"]["authorization"] = json!(format!("Bearer {token}"));
    }
    if let Some(body) = body {
        event["body"] = json!(body.to_string());
    }
    event.to_string()
}

fn claims(f: &Fixture, role: &str, ext: &str, classes: &str) -> Value {
    json!({"sub": f.id(ext), "school": "riverside", "role": role, "classes": classes, "exp": "1893456000"})
}

/// The status of the answer, or for a bulk answer the first account's error code.
async fn invoke(f: &Fixture, group: Group, event: String) -> (u16, String) {
    let request = lambda_http::request::from_str(&event).expect("a valid API Gateway v2 event");
    let (parts, body) = request.into_parts();
    let request = axum::http::Request::from_parts(parts, Body::from(body.to_vec()));
    let app = with_gateway_claims(router(f.app.state.clone(), &[group]));
    let response = app.oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let item = body["results"][0]["error"]["code"]
        .as_str()
        .unwrap_or("ok")
        .to_owned();
    (status, item)
}

struct Case {
    group: Group,
    method: &'static str,
    path: String,
    body: Option<Value>,
    allowed: (&'static str, &'static str),
    refused: (&'static str, &'static str),
    /// The status and, for bulk answers, the account's error code.
    refused_status: (u16, &'static str),
}

fn cases(f: &Fixture) -> Vec<Case> {
    let one = |ext: &str| json!({"account_ids": [f.id(ext)]});
    vec![
        Case {
            group: Group::List,
            method: "GET",
            path: format!("/v1/accounts/{}", f.id("SA1")),
            body: None,
            allowed: ("teacher", "TA"),
            refused: ("teacher", "TB"),
            refused_status: (404, "ok"),
        },
        Case {
            group: Group::Reset,
            method: "PUT",
            path: format!("/v1/accounts/{}/password", f.id("TA")),
            body: Some(json!({"password": "tortue-violette-nuage", "confirmation": "tortue-violette-nuage"})),
            allowed: ("admin", "ADM"),
            refused: ("teacher", "TA"),
            refused_status: (404, "ok"),
        },
        Case {
            group: Group::Activate,
            method: "POST",
            path: "/v1/accounts/activate".into(),
            body: Some(one("SA2")),
            allowed: ("secondary_admin", "SEC"),
            refused: ("teacher", "TA"),
            refused_status: (200, "forbidden"),
        },
        Case {
            group: Group::Deactivate,
            method: "POST",
            path: "/v1/accounts/deactivate".into(),
            body: Some(one("SA2")),
            allowed: ("admin", "ADM"),
            refused: ("teacher", "TA"),
            refused_status: (200, "forbidden"),
        },
        Case {
            group: Group::Settings,
            method: "GET",
            path: "/v1/settings".into(),
            body: None,
            allowed: ("admin", "ADM"),
            refused: ("teacher", "TA"),
            refused_status: (403, "ok"),
        },
        Case {
            group: Group::Audit,
            method: "GET",
            path: "/v1/audit".into(),
            body: None,
            allowed: ("secondary_admin", "SEC"),
            refused: ("teacher", "TA"),
            refused_status: (403, "ok"),
        },
        Case {
            group: Group::Mail,
            method: "POST",
            path: "/v1/accounts/send-activation".into(),
            body: Some(one("PA1")),
            allowed: ("admin", "ADM"),
            refused: ("teacher", "TA"),
            refused_status: (200, "forbidden"),
        },
    ]
}

#[tokio::test]
async fn each_function_answers_events_carrying_authorizer_claims() {
    let f = Fixture::new().await;
    for case in cases(&f) {
        let class = |ext: &str| {
            // A string claim holding a JSON array (SPEC §2: the flattened `[5A]`
            // of a list claim is refused).
            if ext == "TA" {
                "[\"5A\"]"
            } else if ext == "TB" {
                "[\"5B\"]"
            } else {
                ""
            }
        };
        let (role, ext) = case.allowed;
        let allowed = event(
            case.method,
            &case.path,
            Some(claims(&f, role, ext, class(ext))),
            None,
            case.body.clone(),
        );
        assert_eq!(
            invoke(&f, case.group, allowed).await,
            (200, "ok".into()),
            "{} {} as {role}",
            case.method,
            case.path
        );
        let (role, ext) = case.refused;
        let refused = event(
            case.method,
            &case.path,
            Some(claims(&f, role, ext, class(ext))),
            None,
            case.body.clone(),
        );
        let (status, code) = case.refused_status;
        assert_eq!(
            invoke(&f, case.group, refused).await,
            (status, code.into()),
            "{} {} as {role}",
            case.method,
            case.path
        );
    }
}

#[tokio::test]
async fn without_an_authorizer_each_function_verifies_the_bearer_token_itself() {
    let f = Fixture::new().await;
    for case in cases(&f) {
        let token = f.admin();
        let with_token = event(case.method, &case.path, None, Some(&token), case.body.clone());
        assert_eq!(
            invoke(&f, case.group, with_token).await,
            (200, "ok".into()),
            "{} {}",
            case.method,
            case.path
        );
        let forged = sesame::token::TokenKey::new(b"not-the-deployment-key").sign(&sesame::token::Claims {
            sub: f.id("ADM").into(),
            school: "riverside".into(),
            role: "admin".into(),
            classes: vec![],
            exp: 1_893_456_000,
            iat: 0,
        });
        let bad = event(case.method, &case.path, None, Some(&forged), case.body.clone());
        assert_eq!(
            invoke(&f, case.group, bad).await.0,
            401,
            "{} {}",
            case.method,
            case.path
        );
        let none = event(case.method, &case.path, None, None, case.body.clone());
        assert_eq!(
            invoke(&f, case.group, none).await.0,
            401,
            "{} {}",
            case.method,
            case.path
        );
    }
}

#[tokio::test]
async fn the_self_service_function_needs_no_token() {
    let f = Fixture::new().await;
    let password = f.temporary_password("SA1").await;
    let body = json!({"login": f.login_of("SA1"), "password": password});
    let login = event("POST", "/v1/auth/login", None, None, Some(body));
    assert_eq!(invoke(&f, Group::SelfService, login).await.0, 200);
    let wrong = event(
        "POST",
        "/v1/auth/login",
        None,
        None,
        Some(json!({"login": f.login_of("SA1"), "password": "nope-nope-nope"})),
    );
    assert_eq!(invoke(&f, Group::SelfService, wrong).await.0, 401);
}

#[tokio::test]
async fn a_function_does_not_serve_another_functions_routes() {
    let f = Fixture::new().await;
    let audit = event(
        "GET",
        "/v1/audit",
        Some(claims(&f, "admin", "ADM", "")),
        None,
        None,
    );
    assert_eq!(invoke(&f, Group::List, audit).await.0, 404);
}
