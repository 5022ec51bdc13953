//! No temporary password ever lands in the database file, the audit log or the logs.

use serde_json::json;
use sesame_tests::{Fixture, logs};

#[tokio::test]
async fn temporary_passwords_appear_in_no_database_file_audit_event_or_log() {
    let f = Fixture::new().await;
    let mut passwords = Vec::new();
    for _ in 0..3 {
        let body = json!({"account_ids": [f.id("SA1"), f.id("SA2"), f.id("SB1")], "method": "temporary"});
        let request = f
            .app
            .client
            .post(format!("{}/v1/accounts/reset-password", f.app.base))
            .bearer_auth(f.admin())
            .header("idempotency-key", format!("k{}", passwords.len()))
            .json(&body);
        let reply = f.app.send(request).await;
        for item in reply.body["results"].as_array().unwrap() {
            passwords.push(item["temporary_password"].as_str().unwrap().to_owned());
        }
    }
    let chosen = "tortue-violette-nuage";
    let body = json!({"login": f.login_of("SA1"), "current_password": passwords[6], "new_password": chosen});
    assert_eq!(
        f.app.post("/v1/auth/change-password", None, body).await.status,
        200
    );
    passwords.push(chosen.to_owned());

    let stored = f.app.stored_bytes().await;
    assert!(stored.len() > 4096, "the store was read");
    let audit = f
        .app
        .get("/v1/audit?limit=500", &f.admin())
        .await
        .body
        .to_string();
    assert!(audit.contains("password.reset"));
    let logs = logs();
    assert!(logs.contains("request"), "the logs were captured");
    for password in &passwords {
        assert!(
            !stored.windows(password.len()).any(|w| w == password.as_bytes()),
            "database holds a password"
        );
        assert!(!audit.contains(password.as_str()), "audit holds a password");
        assert!(!logs.contains(password.as_str()), "logs hold a password");
    }
}
