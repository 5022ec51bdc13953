//! Temporary passwords, changes, expiry, lockout, idempotency and concurrency.

use chrono::Duration;
use serde_json::json;
use sesame_tests::Fixture;

#[tokio::test]
async fn a_temporary_password_logs_in_and_must_be_changed() {
    let f = Fixture::new().await;
    let temporary = f.temporary_password("SA1").await;
    assert!(temporary.chars().count() >= 15);
    let login = f.app.login(f.login_of("SA1"), &temporary).await;
    assert_eq!(login.status, 200, "{:?}", login.body);
    assert_eq!(
        login.body,
        json!({"account_id": f.id("SA1"), "must_change_password": true})
    );
}

#[tokio::test]
async fn changing_the_password_clears_must_change_and_retires_the_old_one() {
    let f = Fixture::new().await;
    let temporary = f.temporary_password("SA1").await;
    let body = json!({"login": f.login_of("SA1"), "current_password": temporary, "new_password": "tortue-violette-nuage"});
    let change = f.app.post("/v1/auth/change-password", None, body).await;
    assert_eq!(change.status, 200, "{:?}", change.body);

    let new_login = f.app.login(f.login_of("SA1"), "tortue-violette-nuage").await;
    assert_eq!(new_login.body["must_change_password"], false);
    assert_eq!(f.app.login(f.login_of("SA1"), &temporary).await.status, 401);
    let account = f
        .app
        .get(&format!("/v1/accounts/{}", f.id("SA1")), &f.admin())
        .await;
    assert_eq!(account.body["activation"], "activated");
}

#[tokio::test]
async fn a_new_password_must_meet_the_policy_and_says_which_rule_failed() {
    let f = Fixture::new().await;
    let temporary = f.temporary_password("SA1").await;
    let body = json!({"login": f.login_of("SA1"), "current_password": temporary, "new_password": "lefevre1"});
    let change = f.app.post("/v1/auth/change-password", None, body).await;
    assert_eq!((change.status, change.code()), (422, "password_policy"));
    let rules: Vec<&str> = change.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"contains_name"), "{rules:?}");
}

#[tokio::test]
async fn an_expired_temporary_password_is_refused() {
    let f = Fixture::new().await;
    let temporary = f.temporary_password("SA1").await;
    f.app.clock.advance(Duration::days(10) + Duration::minutes(1));
    let login = f.app.login(f.login_of("SA1"), &temporary).await;
    assert_eq!((login.status, login.code()), (401, "invalid_credentials"));
}

#[tokio::test]
async fn unknown_logins_and_wrong_passwords_answer_the_same() {
    let f = Fixture::new().await;
    f.temporary_password("SA1").await;
    let wrong = f.app.login(f.login_of("SA1"), "not-the-password").await;
    let unknown = f.app.login("nobody.here", "not-the-password").await;
    assert_eq!(
        (wrong.status, &wrong.body["code"], &wrong.body["detail"]),
        (401, &unknown.body["code"], &unknown.body["detail"])
    );
}

#[tokio::test]
async fn ten_failures_lock_the_login_for_fifteen_minutes() {
    let f = Fixture::new().await;
    let temporary = f.temporary_password("SA1").await;
    for _ in 0..10 {
        assert_eq!(f.app.login(f.login_of("SA1"), "wrong-password").await.status, 401);
    }
    let locked = f.app.login(f.login_of("SA1"), &temporary).await;
    assert_eq!((locked.status, locked.code()), (429, "too_many_attempts"));
    let retry_after: i64 = locked.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry_after), "{retry_after}");

    f.app.clock.advance(Duration::minutes(15) + Duration::seconds(1));
    assert_eq!(f.app.login(f.login_of("SA1"), &temporary).await.status, 200);
}

#[tokio::test]
async fn a_correct_password_on_a_disabled_account_answers_access_disabled() {
    let f = Fixture::new().await;
    let temporary = f.temporary_password("SA2").await;
    let body = json!({"login": f.login_of("SA2"), "current_password": temporary, "new_password": "tortue-violette-nuage"});
    assert_eq!(
        f.app.post("/v1/auth/change-password", None, body).await.status,
        200
    );
    f.app
        .post(
            "/v1/accounts/deactivate",
            Some(&f.admin()),
            json!({"account_ids": [f.id("SA2")]}),
        )
        .await;
    let login = f.app.login(f.login_of("SA2"), "tortue-violette-nuage").await;
    assert_eq!((login.status, login.code()), (403, "access_disabled"));
    assert_eq!(f.app.login(f.login_of("SA2"), "wrong-password").await.status, 401);
}

#[tokio::test]
async fn deactivation_revokes_an_outstanding_temporary_password() {
    let f = Fixture::new().await;
    let temporary = f.temporary_password("SA2").await;
    f.app
        .post(
            "/v1/accounts/deactivate",
            Some(&f.admin()),
            json!({"account_ids": [f.id("SA2")]}),
        )
        .await;
    f.app
        .post(
            "/v1/accounts/activate",
            Some(&f.admin()),
            json!({"account_ids": [f.id("SA2")]}),
        )
        .await;
    assert_eq!(f.app.login(f.login_of("SA2"), &temporary).await.status, 401);
}

#[tokio::test]
async fn disabled_accounts_can_still_have_their_password_reset() {
    let f = Fixture::new().await;
    f.app
        .post(
            "/v1/accounts/deactivate",
            Some(&f.admin()),
            json!({"account_ids": [f.id("SA2")]}),
        )
        .await;
    let reply = f.reset(&f.admin(), "SA2").await;
    assert_eq!(reply.body["results"][0]["status"], "ok");
}

#[tokio::test]
async fn a_retried_reset_with_the_same_idempotency_key_returns_the_same_passwords() {
    let f = Fixture::new().await;
    let body = json!({"account_ids": [f.id("SA1"), f.id("SA2")], "method": "temporary"});
    let send = || {
        let request = f
            .app
            .client
            .post(format!("{}/v1/accounts/reset-password", f.app.base))
            .bearer_auth(f.admin())
            .header("idempotency-key", "batch-42")
            .json(&body);
        f.app.send(request)
    };
    let first = send().await;
    let retry = send().await;
    assert_eq!(first.status, 200);
    assert_eq!(retry.body, first.body);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    let password = first.body["results"][0]["temporary_password"].as_str().unwrap();
    assert_eq!(f.app.login(f.login_of("SA1"), password).await.status, 200);
}

#[tokio::test]
async fn an_idempotency_key_reused_for_another_request_is_refused() {
    let f = Fixture::new().await;
    let send = |ext: &str| {
        let body = json!({"account_ids": [f.id(ext)], "method": "temporary"});
        let request = f
            .app
            .client
            .post(format!("{}/v1/accounts/reset-password", f.app.base))
            .bearer_auth(f.admin())
            .header("idempotency-key", "k1")
            .json(&body);
        f.app.send(request)
    };
    assert_eq!(send("SA1").await.status, 200);
    let other = send("SA2").await;
    assert_eq!((other.status, other.code()), (422, "idempotency_key_reused"));
}

#[tokio::test]
async fn eight_concurrent_resets_of_one_account_leave_exactly_one_working_password() {
    let f = Fixture::new().await;
    let admin = f.admin();
    let resets = (0..8).map(|_| f.reset(&admin, "SB1"));
    let replies = futures::future::join_all(resets).await;
    let passwords: Vec<String> = replies
        .iter()
        .map(|r| {
            r.body["results"][0]["temporary_password"]
                .as_str()
                .expect("each reset succeeds")
                .to_owned()
        })
        .collect();
    let mut working = 0;
    for password in &passwords {
        if f.app.login(f.login_of("SB1"), password).await.status == 200 {
            working += 1;
        }
    }
    assert_eq!(working, 1);
}

#[tokio::test]
async fn birth_date_resets_are_refused_until_the_school_turns_them_on() {
    let f = Fixture::new().await;
    let body = json!({"account_ids": [f.id("SA1")], "method": "birth_date"});
    let refused = f
        .app
        .post("/v1/accounts/reset-password", Some(&f.admin()), body.clone())
        .await;
    assert_eq!(
        (refused.status, refused.code()),
        (409, "birth_date_mode_disabled")
    );

    f.app
        .put("/v1/settings", &f.admin(), json!({"birth_date_mode": true}))
        .await;
    let reply = f
        .app
        .post("/v1/accounts/reset-password", Some(&f.admin()), body)
        .await;
    assert_eq!(reply.body["results"][0]["temporary_password"], "09032013");
    let login = f.app.login(f.login_of("SA1"), "09032013").await;
    assert_eq!(login.body["must_change_password"], true);
}

#[tokio::test]
async fn an_admin_sets_a_password_that_meets_the_policy() {
    let f = Fixture::new().await;
    let path = format!("/v1/accounts/{}/password", f.id("SA1"));
    let mismatch = f
        .app
        .put(
            &path,
            &f.admin(),
            json!({"password": "tortue-violette-nuage", "confirmation": "x"}),
        )
        .await;
    assert_eq!(
        (mismatch.status, mismatch.body["errors"][0]["field"].as_str()),
        (422, Some("confirmation"))
    );
    let short = f
        .app
        .put(
            &path,
            &f.admin(),
            json!({"password": "abc", "confirmation": "abc"}),
        )
        .await;
    assert_eq!(short.body["errors"][0]["code"], "too_short");
    let ok = f.app.put(&path, &f.admin(), json!({"password": "tortue-violette-nuage", "confirmation": "tortue-violette-nuage", "must_change": false})).await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert_eq!(
        f.app.login(f.login_of("SA1"), "tortue-violette-nuage").await.body["must_change_password"],
        false
    );
}

#[tokio::test]
async fn a_reset_answers_per_account_and_one_bad_account_never_fails_the_others() {
    let f = Fixture::new().await;
    let body = json!({"account_ids": [f.id("SA1"), "acc_missing", f.id("SAF")], "method": "temporary"});
    let reply = f
        .app
        .post("/v1/accounts/reset-password", Some(&f.admin()), body)
        .await;
    let statuses: Vec<&str> = reply.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["ok", "error", "error"]);
    assert!(reply.body["results"][0]["expires_at"].is_string());
}
