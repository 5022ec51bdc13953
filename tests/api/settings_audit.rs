//! Settings and the audit log.

use serde_json::json;
use sesame_tests::Fixture;

#[tokio::test]
async fn settings_start_with_the_documented_defaults() {
    let f = Fixture::new().await;
    let settings = f.app.get("/v1/settings", &f.admin()).await;
    assert_eq!(settings.body["temporary_password_days"], 10);
    assert_eq!(settings.body["birth_date_mode"], false);
    assert_eq!(settings.body["password_min_length"], 8);
    assert_eq!(settings.body["retention_days"], 90);
    assert_eq!(settings.body["school_name"], "Collège Rive Gauche");
}

#[tokio::test]
async fn only_the_admin_changes_settings_and_bad_values_are_named() {
    let f = Fixture::new().await;
    assert_eq!(
        f.app
            .put("/v1/settings", &f.secondary(), json!({"retention_days": 30}))
            .await
            .status,
        403
    );
    let bad = f
        .app
        .put(
            "/v1/settings",
            &f.admin(),
            json!({"retention_days": 0, "password_min_length": 200}),
        )
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.body["errors"].as_array().unwrap().len(), 2);
    let ok = f
        .app
        .put("/v1/settings", &f.admin(), json!({"temporary_password_days": 3}))
        .await;
    assert_eq!(ok.body["temporary_password_days"], 3);
    assert_eq!(ok.body["retention_days"], 90);
}

#[tokio::test]
async fn the_temporary_password_validity_follows_the_school_setting() {
    let f = Fixture::new().await;
    f.app
        .put("/v1/settings", &f.admin(), json!({"temporary_password_days": 3}))
        .await;
    let temporary = f.temporary_password("SA1").await;
    f.app
        .clock
        .advance(chrono::Duration::days(3) + chrono::Duration::seconds(1));
    assert_eq!(f.app.login(f.login_of("SA1"), &temporary).await.status, 401);
}

#[tokio::test]
async fn every_change_is_an_audit_event_with_actor_targets_outcome_and_request_id() {
    let f = Fixture::new().await;
    f.reset(&f.admin(), "SA1").await;
    f.app
        .post(
            "/v1/accounts/deactivate",
            Some(&f.secondary()),
            json!({"account_ids": [f.id("SB1")]}),
        )
        .await;
    let audit = f
        .app
        .get(&format!("/v1/audit?account_id={}", f.id("SA1")), &f.admin())
        .await;
    let reset = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "password.reset")
        .unwrap();
    assert_eq!(reset["actor"], f.id("ADM"));
    assert_eq!(reset["targets"], json!([f.id("SA1")]));
    assert_eq!(reset["outcome"], "ok");
    assert!(reset["request_id"].as_str().is_some_and(|r| !r.is_empty()));
    let by_secondary = f
        .app
        .get(
            &format!("/v1/audit?actor={}&action=account.deactivate", f.id("SEC")),
            &f.admin(),
        )
        .await;
    assert_eq!(by_secondary.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn pre_deletion_accounts_are_those_disabled_longer_than_the_retention() {
    let f = Fixture::new().await;
    f.app
        .post(
            "/v1/accounts/deactivate",
            Some(&f.admin()),
            json!({"account_ids": [f.id("SB1")]}),
        )
        .await;
    let before = f.app.get("/v1/accounts?pre_deletion=true", &f.admin()).await;
    assert_eq!(before.body["total"], 0);
    f.app.clock.advance(chrono::Duration::days(91));
    let after = f.app.get("/v1/accounts?pre_deletion=true", &f.admin()).await;
    assert_eq!(after.body["items"][0]["id"], f.id("SB1"));
    assert_eq!(after.body["items"][0]["pre_deletion"], true);
    let recent = f
        .app
        .get("/v1/accounts?disabled_within_days=90", &f.admin())
        .await;
    assert_eq!(recent.body["total"], 0);
}

#[tokio::test]
async fn the_time_zone_is_an_iana_name_paris_by_default() {
    let f = Fixture::new().await;
    let settings = f.app.get("/v1/settings", &f.admin()).await;
    assert_eq!(settings.body["time_zone"], "Europe/Paris");
    let bad = f
        .app
        .put("/v1/settings", &f.admin(), json!({"time_zone": "Mars/Olympus"}))
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.body["errors"][0]["field"], "time_zone", "{:?}", bad.body);
    let good = f
        .app
        .put(
            "/v1/settings",
            &f.admin(),
            json!({"time_zone": "America/Cayenne"}),
        )
        .await;
    assert_eq!(good.status, 200, "{:?}", good.body);
    assert_eq!(
        f.app.get("/v1/settings", &f.admin()).await.body["time_zone"],
        "America/Cayenne"
    );
}
