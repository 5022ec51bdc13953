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
