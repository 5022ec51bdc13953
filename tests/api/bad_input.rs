//! Bad input answers 4xx problem+json, never 500, and changes nothing.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::json;
use sesame_tests::{Fixture, Reply};

fn assert_problem(reply: &Reply, status: u16, code: &str) {
    assert_eq!(reply.status, status, "{:?}", reply.body);
    assert_eq!(reply.header("content-type"), Some("application/problem+json"));
    assert_eq!(reply.code(), code);
    assert_eq!(reply.body["status"], status);
    assert!(
        reply.body["title"].is_string() && reply.body["detail"].is_string() && reply.body["type"].is_string()
    );
}

async fn raw_post(f: &Fixture, path: &str, token: &str, body: impl Into<reqwest::Body>) -> Reply {
    let request = f
        .app
        .client
        .post(format!("{}{path}", f.app.base))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body);
    f.app.send(request).await
}

#[tokio::test]
async fn malformed_json_answers_400() {
    let f = Fixture::new().await;
    let reply = raw_post(&f, "/v1/accounts/activate", &f.admin(), "{\"account_ids\": [").await;
    assert_problem(&reply, 400, "malformed_json");
}

#[tokio::test]
async fn an_unknown_field_answers_422_naming_it() {
    let f = Fixture::new().await;
    let reply = f
        .app
        .post(
            "/v1/accounts/activate",
            Some(&f.admin()),
            json!({"account_ids": [f.id("SA1")], "force": true}),
        )
        .await;
    assert_problem(&reply, 422, "validation_failed");
    assert!(
        reply.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("force")
    );
}

#[tokio::test]
async fn a_wrong_type_answers_422_naming_the_field() {
    let f = Fixture::new().await;
    let reply = f
        .app
        .post(
            "/v1/accounts/reset-password",
            Some(&f.admin()),
            json!({"account_ids": "SA1", "method": "temporary"}),
        )
        .await;
    assert_problem(&reply, 422, "validation_failed");
    assert_eq!(reply.body["errors"][0]["field"], "account_ids");
    let method = f
        .app
        .post(
            "/v1/accounts/reset-password",
            Some(&f.admin()),
            json!({"account_ids": [], "method": "magic"}),
        )
        .await;
    assert_eq!(method.body["errors"][0]["field"], "method");
}

#[tokio::test]
async fn more_than_500_ids_answer_422() {
    let f = Fixture::new().await;
    let ids: Vec<String> = (0..501).map(|i| format!("acc_{i}")).collect();
    let reply = f
        .app
        .post(
            "/v1/accounts/deactivate",
            Some(&f.admin()),
            json!({"account_ids": ids}),
        )
        .await;
    assert_problem(&reply, 422, "validation_failed");
    let resets: Vec<String> = (0..101).map(|i| format!("acc_{i}")).collect();
    let reply = f
        .app
        .post(
            "/v1/accounts/reset-password",
            Some(&f.admin()),
            json!({"account_ids": resets, "method": "temporary"}),
        )
        .await;
    assert_problem(&reply, 422, "validation_failed");
}

#[tokio::test]
async fn a_body_over_one_mebibyte_answers_413() {
    let f = Fixture::new().await;
    let big = format!("{{\"account_ids\": [\"{}\"]}}", "a".repeat(1024 * 1024 + 1));
    let reply = raw_post(&f, "/v1/accounts/activate", &f.admin(), big).await;
    assert_problem(&reply, 413, "payload_too_large");
}

#[tokio::test]
async fn a_garbage_cursor_answers_400() {
    let f = Fixture::new().await;
    for cursor in ["garbage", "eyJzIjoibmFtZSJ9", "%00%01"] {
        let reply = f
            .app
            .get(&format!("/v1/accounts?cursor={cursor}"), &f.admin())
            .await;
        assert_problem(&reply, 400, "invalid_cursor");
    }
}

#[tokio::test]
async fn bad_filters_answer_422_and_unknown_parameters_400() {
    let f = Fixture::new().await;
    let reply = f
        .app
        .get(
            "/v1/accounts?profile=wizard&limit=0&created_from=yesterday",
            &f.admin(),
        )
        .await;
    assert_problem(&reply, 422, "validation_failed");
    let fields: Vec<&str> = reply.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["profile", "created_from", "limit"]);
    assert_problem(
        &f.app.get("/v1/accounts?colour=blue", &f.admin()).await,
        400,
        "invalid_query",
    );
}

#[tokio::test]
async fn a_missing_or_malformed_token_answers_401() {
    let f = Fixture::new().await;
    let none = f
        .app
        .send(f.app.client.get(format!("{}/v1/accounts", f.app.base)))
        .await;
    assert_problem(&none, 401, "unauthenticated");
    assert_eq!(none.header("www-authenticate"), Some("Bearer"));
    assert_problem(
        &f.app.get("/v1/accounts", "not.a.token").await,
        401,
        "unauthenticated",
    );
}

#[tokio::test]
async fn a_token_signed_with_another_key_answers_401() {
    let f = Fixture::new().await;
    let foreign = sesame::token::TokenKey::new(b"someone-elses-key").sign(&sesame::token::Claims {
        sub: f.id("ADM").to_owned(),
        school: "riverside".into(),
        role: "admin".into(),
        classes: vec![],
        exp: chrono::Utc::now().timestamp() + 3600,
        iat: 0,
    });
    assert_problem(&f.app.get("/v1/accounts", &foreign).await, 401, "unauthenticated");
}

#[tokio::test]
async fn an_unsigned_alg_none_token_answers_401() {
    let f = Fixture::new().await;
    let header = B64.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let claims = json!({"sub": f.id("ADM"), "school": "riverside", "role": "admin", "exp": chrono::Utc::now().timestamp() + 3600});
    let token = format!("{header}.{}.", B64.encode(claims.to_string()));
    assert_problem(&f.app.get("/v1/accounts", &token).await, 401, "unauthenticated");
}

#[tokio::test]
async fn an_expired_token_answers_401() {
    let f = Fixture::new().await;
    let token = f.admin();
    f.app.clock.advance(chrono::Duration::hours(2));
    assert_problem(&f.app.get("/v1/accounts", &token).await, 401, "unauthenticated");
}

#[tokio::test]
async fn a_body_that_is_not_json_answers_415() {
    let f = Fixture::new().await;
    let request = f
        .app
        .client
        .post(format!("{}/v1/auth/login", f.app.base))
        .body("login=a&password=b")
        .header("content-type", "application/x-www-form-urlencoded");
    assert_problem(&f.app.send(request).await, 415, "unsupported_media_type");
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_problems() {
    let f = Fixture::new().await;
    assert_problem(&f.app.get("/v1/nothing", &f.admin()).await, 404, "not_found");
    let delete = f
        .app
        .send(
            f.app
                .client
                .delete(format!("{}/v1/classes", f.app.base))
                .bearer_auth(f.admin()),
        )
        .await;
    assert_problem(&delete, 405, "method_not_allowed");
}

#[tokio::test]
async fn a_rejected_import_row_is_reported_and_the_others_go_through() {
    let f = Fixture::new().await;
    let csv = "external_id,profile,first_name,last_name,classes,email,birth_date\n\
               N1,student,Anaïs,Nouvelle,5B,,2013-01-01\n\
               N2,wizard,Bad,Row,5B,,\n\
               N3,student,Bad,Date,5B,,31/31/2013\n\
               N4,student,Bad,Mail,5B,not-an-email,\n";
    let reply = f.app.import("riverside", csv).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["created"], 1);
    let rows: Vec<(u64, &str)> = reply.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].as_u64().unwrap(), e["field"].as_str().unwrap()))
        .collect();
    assert_eq!(rows, [(3, "profile"), (4, "birth_date"), (5, "email")]);
}

#[tokio::test]
async fn a_child_left_out_for_a_weak_password_leaves_no_parent_pointing_at_nobody() {
    let f = Fixture::new().await;
    let csv = "external_id,profile,first_name,last_name,classes,password,children\n\
               C1,student,Jade,Faible,5B,abc,\n\
               P1,parent,Marc,Faible,,,C1\n";
    let reply = f.app.import("riverside", csv).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["created"], 1, "{:?}", reply.body);
    let fields: Vec<(u64, &str)> = reply.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].as_u64().unwrap(), e["field"].as_str().unwrap()))
        .collect();
    assert!(fields.contains(&(2, "password")), "{fields:?}");
    assert!(fields.contains(&(3, "children")), "{fields:?}");
    let parents = f.app.get("/v1/accounts?q=faible&limit=10", &f.admin()).await;
    let items = parents.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["children"], json!([]), "{items:?}");
}
