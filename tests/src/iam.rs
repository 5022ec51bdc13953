//! The cloud as deployed, for the black-box suite: each request goes to the
//! function that the template's HTTP API routes it to, and that function reaches
//! DynamoDB with credentials holding exactly its own policy (`SESAME_TEST_IAM`,
//! written by `scripts/iam-policies.py` on an emulator that enforces IAM). Background
//! jobs run with the export worker's credentials, as its function does. A call the
//! template does not allow is refused by the emulator, and the test that made it fails.
//!
//! What the cloud does not deploy (the console, the edge's file links) is served
//! by the test's own app, with the emulator's root credentials.

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request};
use axum::response::IntoResponse;
use serde_json::Value;
use sesame::adapters::dynamodb::DynamoStore;
use sesame::http::Group;
use std::sync::Arc;
use tower::ServiceExt;

/// One function of the template, as `scripts/iam-policies.py` made it.
pub struct Function {
    pub binary: String,
    routes: Vec<(Method, Vec<String>)>,
    credentials: Credentials,
}

/// The groups of endpoints each function binary serves (its `main.rs`).
pub fn groups_of(binary: &str) -> &'static [Group] {
    match binary {
        "sesame-list" => &[Group::List],
        "sesame-reset" => &[Group::Reset],
        "sesame-mail" => &[Group::Mail],
        "sesame-activate" => &[Group::Activate],
        "sesame-deactivate" => &[Group::Deactivate],
        "sesame-settings" => &[Group::Settings],
        "sesame-audit" => &[Group::Audit],
        "sesame-distributions" => &[Group::Distributions],
        "sesame-auth" => &[Group::SelfService, Group::System],
        "sesame-imports" => &[Group::Imports],
        "sesame-exports" => &[Group::Exports],
        _ => &[],
    }
}

/// The functions of `SESAME_TEST_IAM`, when the suite runs with IAM enforced.
pub fn functions() -> Option<Vec<Function>> {
    let path = std::env::var("SESAME_TEST_IAM").ok().filter(|p| !p.is_empty())?;
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("SESAME_TEST_IAM={path}: {e}"));
    let all: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("SESAME_TEST_IAM={path}: {e}"));
    let functions = all
        .as_object()
        .expect("an object of functions")
        .iter()
        .map(|(binary, f)| Function {
            binary: binary.clone(),
            routes: f["routes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    let method = Method::from_bytes(r[0].as_str().unwrap().as_bytes()).unwrap();
                    (method, segments(r[1].as_str().unwrap()))
                })
                .collect(),
            credentials: Credentials::new(
                f["access_key_id"].as_str().expect("an access key"),
                f["secret_access_key"].as_str().expect("a secret key"),
                None,
                None,
                "sesame-test-iam",
            ),
        })
        .collect();
    Some(functions)
}

fn segments(path: &str) -> Vec<String> {
    path.trim_matches('/').split('/').map(str::to_owned).collect()
}

impl Function {
    /// Whether the template routes HTTP requests to this function.
    pub fn serves_http(&self) -> bool {
        !self.routes.is_empty()
    }

    /// How well this function's routes match a request: `None` when none does,
    /// else the number of literal segments (API Gateway prefers the most specific).
    fn matches(&self, method: &Method, path: &[&str]) -> Option<usize> {
        self.routes
            .iter()
            .filter(|(m, route)| m == method && route.len() == path.len())
            .filter_map(|(_, route)| {
                let mut literal = 0;
                for (want, got) in route.iter().zip(path) {
                    if want.starts_with('{') {
                        continue;
                    }
                    if want != got {
                        return None;
                    }
                    literal += 1;
                }
                Some(literal)
            })
            .max()
    }

    /// A DynamoDB store on `table` signed with this function's own key.
    pub async fn store(&self, table: &str) -> DynamoStore {
        let sdk = aws_config::load_defaults(BehaviorVersion::latest()).await;
        let config = DynamoStore::client_config(&sdk)
            .credentials_provider(self.credentials.clone())
            .region(sdk.region().cloned().or(Some(Region::new("eu-west-3"))))
            .build();
        DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(config), table)
    }
}

/// Where the cloud's API lives (what API Gateway serves): a request there that no
/// template route takes must not succeed.
const API_PATHS: [&str; 5] = ["/v1/", "/reset/", "/activate", "/healthz", "/openapi.json"];

/// The served app: each request to the router of the function the template routes
/// it to, or to `rest` (what the cloud does not deploy).
pub fn dispatch(functions: Vec<(Function, Router)>, rest: Router) -> Router {
    let functions = Arc::new(functions);
    Router::new().fallback(move |request: Request<Body>| {
        let functions = functions.clone();
        let rest = rest.clone();
        async move {
            let path: Vec<&str> = request.uri().path().trim_matches('/').split('/').collect();
            let target = functions
                .iter()
                .filter_map(|(f, router)| f.matches(request.method(), &path).map(|score| (score, router)))
                .max_by_key(|(score, _)| *score)
                .map(|(_, router)| router.clone());
            if let Some(function) = target {
                return function.oneshot(request).await;
            }
            // No function: the edge's own pages, or an API request the template
            // routes nowhere. That one may fail (404, 405), never succeed: a route
            // the code serves and the template forgot would answer here with the
            // root identity and hide its function's missing permissions.
            let api = API_PATHS.iter().any(|p| request.uri().path().starts_with(p));
            let what = format!("{} {}", request.method(), request.uri().path());
            let response = rest.oneshot(request).await?;
            if api && response.status().is_success() {
                let message =
                    format!("{what} answered without a function: infra/template.yaml routes it nowhere");
                return Ok((axum::http::StatusCode::INTERNAL_SERVER_ERROR, message).into_response());
            }
            Ok(response)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn function(binary: &str, routes: &[(&str, &str)]) -> Function {
        Function {
            binary: binary.to_owned(),
            routes: routes
                .iter()
                .map(|(m, p)| (Method::from_bytes(m.as_bytes()).unwrap(), segments(p)))
                .collect(),
            credentials: Credentials::new("k", "s", None, None, "test"),
        }
    }

    #[test]
    fn a_request_goes_to_the_most_specific_route_of_its_method() {
        let list = function("list", &[("GET", "/v1/accounts/{id}"), ("GET", "/v1/classes")]);
        let distributions = function(
            "distributions",
            &[
                ("GET", "/v1/accounts/{id}/credentials"),
                ("GET", "/v1/classes/{name}/follow-up"),
            ],
        );
        let reset = function("reset", &[("POST", "/v1/accounts/reset-password")]);
        let path = |p: &'static str| p.trim_matches('/').split('/').collect::<Vec<_>>();
        assert_eq!(list.matches(&Method::GET, &path("/v1/accounts/acc_1")), Some(2));
        assert_eq!(list.matches(&Method::POST, &path("/v1/accounts/acc_1")), None);
        assert_eq!(
            list.matches(&Method::GET, &path("/v1/accounts/acc_1/credentials")),
            None
        );
        assert_eq!(
            distributions.matches(&Method::GET, &path("/v1/classes/5e%20A/follow-up")),
            Some(3)
        );
        assert_eq!(
            reset.matches(&Method::POST, &path("/v1/accounts/reset-password")),
            Some(3)
        );
        assert_eq!(list.matches(&Method::GET, &path("/v1/classes")), Some(2));
    }
}
