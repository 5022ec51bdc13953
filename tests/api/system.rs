//! Liveness, the OpenAPI description, request ids.

use sesame_tests::TestApp;

#[tokio::test]
async fn healthz_answers_ok_with_a_request_id() {
    let app = TestApp::spawn().await;
    let reply = app.send(app.client.get(format!("{}/healthz", app.base))).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["status"], "ok");
    assert!(reply.header("x-request-id").is_some_and(|id| id.len() >= 32));
}

#[tokio::test]
async fn the_openapi_description_covers_every_endpoint() {
    let app = TestApp::spawn().await;
    let doc = app
        .send(app.client.get(format!("{}/openapi.json", app.base)))
        .await
        .body;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/v1/classes",
        "/v1/accounts",
        "/v1/accounts/{id}",
        "/v1/accounts/reset-password",
        "/v1/accounts/{id}/password",
        "/v1/accounts/activate",
        "/v1/accounts/deactivate",
        "/v1/settings",
        "/v1/audit",
        "/v1/imports",
        "/v1/auth/login",
        "/v1/auth/change-password",
        "/healthz",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is described");
    }
    assert!(doc["components"]["schemas"]["Problem"].is_object());
}

/// The `(method, path)` routes of `infra/template.yaml`, and which function each
/// goes to (read line by line: the template's shape is fixed by its lint).
fn template_routes() -> Vec<(String, String, String)> {
    let template =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/template.yaml")).unwrap();
    let (mut function, mut method) = (String::new(), String::new());
    let mut routes = Vec::new();
    for line in template.lines() {
        let trimmed = line.trim();
        if line.starts_with("  ") && !line.starts_with("   ") && trimmed.ends_with("Function:") {
            function = trimmed.trim_end_matches(':').to_owned();
        } else if let Some(m) = trimmed.strip_prefix("Method: ") {
            method = m.to_uppercase();
        } else if let Some(p) = trimmed.strip_prefix("Path: ") {
            routes.push((method.clone(), p.to_owned(), function.clone()));
        }
    }
    routes
}

#[tokio::test]
async fn the_cloud_routes_every_operation_the_description_lists_to_a_function() {
    let app = TestApp::spawn().await;
    let doc = app
        .send(app.client.get(format!("{}/openapi.json", app.base)))
        .await
        .body;
    let mut described: Vec<(String, String)> = vec![
        ("GET".into(), "/openapi.json".into()),
        ("GET".into(), "/activate.js".into()),
    ];
    for (path, operations) in doc["paths"].as_object().unwrap() {
        for method in operations.as_object().unwrap().keys() {
            if ["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                described.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    let routed = template_routes();
    for (method, path) in &described {
        assert!(
            routed.iter().any(|(m, p, _)| m == method && p == path),
            "{method} {path} is described but infra/template.yaml routes it to no function"
        );
    }
    for (method, path, function) in &routed {
        assert!(
            described.iter().any(|(m, p)| m == method && p == path),
            "{function} serves {method} {path}, which the description does not list"
        );
    }
    let mut seen = std::collections::HashSet::new();
    for (method, path, _) in &routed {
        assert!(seen.insert((method, path)), "{method} {path} is routed twice");
    }
}
