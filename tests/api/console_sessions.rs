//! Console sessions (SPEC §11), through the operations the console's pages call:
//! the sign-in shares the guard of `/v1/auth/login`, and a session ends with the
//! idle and absolute limits, sign-out, a password change, a demotion or a
//! deactivation.

use chrono::Duration;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use sesame::domain::{Error, Role, Seat};
use sesame_tests::Fixture;

const MINE: &str = "un-mot-de-passe-bien-a-moi";

/// The admin `ADM` with a password of their own.
async fn admin_with_password(f: &Fixture) {
    let temporary = f.temporary_password("ADM").await;
    let body = json!({"login": f.login_of("ADM"), "current_password": temporary, "new_password": MINE});
    let changed = f.app.post("/v1/auth/change-password", None, body).await;
    assert_eq!(changed.status, 200, "{:?}", changed.body);
}

fn unauthenticated<T>(result: Result<T, Error>) -> bool {
    matches!(result, Err(Error::Unauthenticated))
}

#[tokio::test]
async fn a_session_carries_the_role_the_account_gives_and_ends_with_it() {
    let f = Fixture::new().await;
    admin_with_password(&f).await;
    let sesame = &f.app.state.sesame;
    let signed = sesame
        .sign_in(f.login_of("ADM"), SecretString::from(MINE))
        .await
        .unwrap();
    assert_eq!(signed.session.seat, Seat::Console(Role::Admin));
    assert!(signed.session.csrf_matches(&signed.session.csrf.clone()));
    assert!(!signed.session.csrf_matches("another-sessions-token"));
    let token = signed.token.expose_secret().to_owned();
    let (_, account) = sesame.open_session(&token).await.unwrap();
    assert_eq!(account.as_caller().unwrap().role, Role::Admin);
    // The store keeps the token's hash, never the token.
    assert!(!String::from_utf8_lossy(&f.app.stored_bytes().await).contains(&token));

    // A demotion by import ends it.
    let csv = "external_id,profile,first_name,last_name,local_admin\nADM,staff,Hélène,Garnier,secondary\n";
    assert_eq!(f.app.import("riverside", csv).await.status, 200);
    assert!(unauthenticated(sesame.open_session(&token).await));

    // A new session as a secondary admin ends with a deactivation by the admin role.
    let signed = sesame
        .sign_in(f.login_of("ADM"), SecretString::from(MINE))
        .await
        .unwrap();
    assert_eq!(signed.session.seat, Seat::Console(Role::SecondaryAdmin));
    let token = signed.token.expose_secret().to_owned();
    let admin = f.app.token("riverside", "admin", "root", &[]);
    let off = f
        .app
        .post(
            "/v1/accounts/deactivate",
            Some(&admin),
            json!({"account_ids": [f.id("ADM")]}),
        )
        .await;
    assert_eq!(off.status, 200, "{:?}", off.body);
    assert!(unauthenticated(sesame.open_session(&token).await));
}

#[tokio::test]
async fn a_password_change_elsewhere_and_sign_out_end_a_session() {
    let f = Fixture::new().await;
    admin_with_password(&f).await;
    let sesame = &f.app.state.sesame;
    let signed = sesame
        .sign_in(f.login_of("ADM"), SecretString::from(MINE))
        .await
        .unwrap();
    let token = signed.token.expose_secret().to_owned();
    let body = json!({"login": f.login_of("ADM"), "current_password": MINE, "new_password": "encore-un-autre-secret"});
    assert_eq!(
        f.app.post("/v1/auth/change-password", None, body).await.status,
        200
    );
    assert!(unauthenticated(sesame.open_session(&token).await));

    let signed = sesame
        .sign_in(f.login_of("ADM"), SecretString::from("encore-un-autre-secret"))
        .await
        .unwrap();
    let token = signed.token.expose_secret().to_owned();
    assert!(sesame.open_session(&token).await.is_ok());
    sesame.sign_out(&token).await.unwrap();
    assert!(unauthenticated(sesame.open_session(&token).await));
    assert!(unauthenticated(sesame.open_session("not-a-token").await));
}

#[tokio::test]
async fn a_session_ends_after_30_idle_minutes_and_after_8_hours_whatever_its_use() {
    let f = Fixture::new().await;
    admin_with_password(&f).await;
    let sesame = &f.app.state.sesame;
    let sign_in = || async {
        let signed = sesame
            .sign_in(f.login_of("ADM"), SecretString::from(MINE))
            .await
            .unwrap();
        signed.token.expose_secret().to_owned()
    };
    let idle = sign_in().await;
    f.app.clock.advance(Duration::minutes(31));
    assert!(unauthenticated(sesame.open_session(&idle).await));

    let busy = sign_in().await;
    for _ in 0..23 {
        f.app.clock.advance(Duration::minutes(20));
        assert!(sesame.open_session(&busy).await.is_ok());
    }
    f.app.clock.advance(Duration::minutes(21));
    assert!(
        unauthenticated(sesame.open_session(&busy).await),
        "8 h 01 after the sign-in"
    );
}

#[tokio::test]
async fn the_sign_in_shares_the_lock_of_the_api_login() {
    let f = Fixture::new().await;
    admin_with_password(&f).await;
    let sesame = &f.app.state.sesame;
    for _ in 0..10 {
        let wrong = sesame
            .sign_in(f.login_of("ADM"), SecretString::from("pas-le-bon-mot-de-passe"))
            .await;
        assert!(matches!(wrong, Err(Error::InvalidCredentials)));
    }
    assert_eq!(f.app.login(f.login_of("ADM"), MINE).await.status, 429);
    let locked = sesame.sign_in(f.login_of("ADM"), SecretString::from(MINE)).await;
    assert!(matches!(locked, Err(Error::Locked { .. })));
}
