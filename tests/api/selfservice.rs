//! Reset links and activation codes, over the JSON API and the HTML pages: single
//! use, expiry, revocation, brute-force locks, the pages' headers and languages,
//! and no secret in the logs.

use chrono::Duration;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use sesame::domain::{AccountId, SchoolId};
use sesame_tests::handouts::token_of;
use sesame_tests::{Fixture, logs};

const CHOSEN: &str = "tortue-violette-nuage";

/// A page's status, headers and HTML.
struct Page {
    status: u16,
    headers: HeaderMap,
    html: String,
}

impl Page {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

async fn fetch(request: reqwest::RequestBuilder) -> Page {
    let response = request.send().await.unwrap();
    Page {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        html: response.text().await.unwrap(),
    }
}

async fn get_page(f: &Fixture, path_or_url: &str) -> Page {
    let url = if path_or_url.starts_with("http") {
        path_or_url.to_owned()
    } else {
        format!("{}{path_or_url}", f.app.base)
    };
    fetch(f.app.client.get(url)).await
}

/// Posts `fields` form-encoded, as a browser without JavaScript does.
async fn post_form(f: &Fixture, url: &str, fields: &[(&str, &str)]) -> Page {
    fetch(f.app.client.post(url).form(fields)).await
}

async fn reset(f: &Fixture, token: &str, password: &str) -> sesame_tests::Reply {
    let body = json!({"token": token, "new_password": password});
    f.app.post("/v1/auth/reset", None, body).await
}

async fn activate(f: &Fixture, ext: &str, code: &str, password: &str) -> sesame_tests::Reply {
    let body = json!({"login": f.login_of(ext), "activation_code": code, "new_password": password});
    f.app.post("/v1/auth/activate", None, body).await
}

async fn account(f: &Fixture, ext: &str) -> Value {
    f.app
        .get(&format!("/v1/accounts/{}", f.id(ext)), &f.admin())
        .await
        .body
}

async fn set_access(f: &Fixture, ext: &str, action: &str) {
    let body = json!({"account_ids": [f.id(ext)]});
    let reply = f
        .app
        .post(&format!("/v1/accounts/{action}"), Some(&f.admin()), body)
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
}

/// A token that names `ext`'s account but carries a secret nobody was given.
fn forged_token(f: &Fixture, ext: &str) -> String {
    format!("riverside.{}.{}", f.id(ext), "A".repeat(43))
}

fn ids(f: &Fixture, ext: &str) -> (SchoolId, AccountId) {
    (
        SchoolId::parse("riverside").unwrap(),
        AccountId::parse(f.id(ext)).unwrap(),
    )
}

// ---- reset links over the JSON API ----

#[tokio::test]
async fn a_reset_link_sets_the_chosen_password_and_claims_the_account() {
    let f = Fixture::new().await;
    let link = f.reset_link("SA1").await;
    assert!(link.starts_with(&format!("{}/reset/", f.app.base)), "{link}");

    let reply = reset(&f, token_of(&link), CHOSEN).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(
        reply.body,
        json!({"account_id": f.id("SA1"), "must_change_password": false})
    );
    let login = f.app.login(f.login_of("SA1"), CHOSEN).await;
    assert_eq!(login.status, 200, "{:?}", login.body);
    assert_eq!(account(&f, "SA1").await["activation"], "activated");
}

#[tokio::test]
async fn a_reset_link_works_only_once() {
    let f = Fixture::new().await;
    let link = f.reset_link("SA1").await;
    assert_eq!(reset(&f, token_of(&link), CHOSEN).await.status, 200);
    let again = reset(&f, token_of(&link), "girafe-orange-soleil").await;
    assert_eq!((again.status, again.code()), (400, "invalid_link"));
    assert_eq!(f.app.login(f.login_of("SA1"), CHOSEN).await.status, 200);
}

#[tokio::test]
async fn a_reset_link_expires_after_24_hours() {
    let f = Fixture::new().await;
    let link = f.reset_link("SA1").await;
    f.app.clock.advance(Duration::hours(24) + Duration::seconds(1));
    let reply = reset(&f, token_of(&link), CHOSEN).await;
    assert_eq!((reply.status, reply.code()), (400, "link_expired"));
}

#[tokio::test]
async fn a_newer_reset_link_revokes_the_older_one() {
    let f = Fixture::new().await;
    let older = f.reset_link("SA1").await;
    let newer = f.reset_link("SA1").await;
    let reply = reset(&f, token_of(&older), CHOSEN).await;
    assert_eq!((reply.status, reply.code()), (400, "invalid_link"));
    assert_eq!(reset(&f, token_of(&newer), CHOSEN).await.status, 200);
}

#[tokio::test]
async fn deactivation_revokes_an_open_reset_link() {
    let f = Fixture::new().await;
    let link = f.reset_link("SA1").await;
    set_access(&f, "SA1", "deactivate").await;
    set_access(&f, "SA1", "activate").await;
    let reply = reset(&f, token_of(&link), CHOSEN).await;
    assert_eq!((reply.status, reply.code()), (400, "invalid_link"));
}

#[tokio::test]
async fn a_link_issued_while_access_is_disabled_answers_access_disabled() {
    let f = Fixture::new().await;
    set_access(&f, "SA1", "deactivate").await;
    let link = f.reset_link("SA1").await;
    let reply = reset(&f, token_of(&link), CHOSEN).await;
    assert_eq!((reply.status, reply.code()), (403, "access_disabled"));
}

#[tokio::test]
async fn ten_wrong_links_lock_that_client_address_for_fifteen_minutes_and_no_account() {
    let f = Fixture::new().await;
    let link = f.reset_link("SA1").await;
    let guesser = "203.0.113.9";
    for _ in 0..10 {
        let reply = f.app.reset_from(guesser, &forged_token(&f, "SA1"), CHOSEN).await;
        assert_eq!((reply.status, reply.code()), (400, "invalid_link"));
    }
    let locked = f.app.reset_from(guesser, token_of(&link), CHOSEN).await;
    assert_eq!((locked.status, locked.code()), (429, "too_many_attempts"));
    let retry_after: i64 = locked.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    // The family, from its own address, is not locked out of its link.
    let other = f.reset_link("SA2").await;
    assert_eq!(
        f.app
            .reset_from("198.51.100.4", token_of(&other), CHOSEN)
            .await
            .status,
        200
    );
    assert_eq!(
        f.app
            .reset_from("198.51.100.5", token_of(&link), CHOSEN)
            .await
            .status,
        200
    );

    // The guesser's address is free again after fifteen minutes.
    let again = f.reset_link("SA1").await;
    assert_eq!(
        f.app.reset_from(guesser, token_of(&again), CHOSEN).await.status,
        429
    );
    f.app.clock.advance(Duration::minutes(15) + Duration::seconds(1));
    let reply = f
        .app
        .reset_from(guesser, token_of(&again), "un-autre-mot-de-passe-9")
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
}

#[tokio::test]
async fn a_genuine_link_does_not_use_up_its_clients_allowance() {
    let f = Fixture::new().await;
    // A school's computer room: one address, many pupils, no wrong link.
    for ext in ["SA1", "SA2", "SB1"] {
        let link = f.reset_link(ext).await;
        for _ in 0..4 {
            let page = f
                .app
                .client
                .get(format!("{}/reset/{}", f.app.base, token_of(&link)))
                .header("x-forwarded-for", "192.0.2.10")
                .send()
                .await
                .unwrap();
            assert_eq!(page.status().as_u16(), 200);
        }
        let used = f.app.reset_from("192.0.2.10", token_of(&link), CHOSEN).await;
        assert_eq!(used.status, 200, "{ext}: {:?}", used.body);
    }
}

#[tokio::test]
async fn a_password_the_policy_refuses_leaves_the_link_usable() {
    let f = Fixture::new().await;
    let link = f.reset_link("SA1").await;
    let weak = reset(&f, token_of(&link), "zoe-lefevre").await;
    assert_eq!((weak.status, weak.code()), (422, "password_policy"));
    assert_eq!(weak.body["errors"][0]["field"], "new_password");
    assert_eq!(reset(&f, token_of(&link), CHOSEN).await.status, 200);
}

#[tokio::test]
async fn a_malformed_token_is_an_invalid_link() {
    let f = Fixture::new().await;
    for token in [
        "",
        "riverside",
        "riverside.acc_x.short",
        "NOT A SCHOOL.acc.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let reply = reset(&f, token, CHOSEN).await;
        assert_eq!((reply.status, reply.code()), (400, "invalid_link"), "{token}");
    }
}

#[tokio::test]
async fn federated_accounts_get_no_link_and_no_code() {
    let f = Fixture::new().await;
    let link = f.issue_reset_link("SAF").await;
    assert_eq!(link.unwrap_err().code().as_str(), "federated_account");
    let code = f.issue_activation_code("SAF").await;
    assert_eq!(code.unwrap_err().code().as_str(), "federated_account");
}

// ---- activation codes over the JSON API ----

#[tokio::test]
async fn an_activation_code_claims_a_pending_account() {
    let f = Fixture::new().await;
    assert_eq!(account(&f, "SA2").await["activation"], "pending");
    let code = f.activation_code("SA2").await;
    assert_eq!(code.len(), 8);

    // Typed in lower case with a dash, as people do.
    let typed = format!("{}-{}", &code[..4], &code[4..]).to_lowercase();
    let reply = activate(&f, "SA2", &typed, CHOSEN).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["must_change_password"], false);
    let claimed = account(&f, "SA2").await;
    assert_eq!(claimed["activation"], "activated");
    assert!(claimed["activated_at"].is_string());
    assert_eq!(f.app.login(f.login_of("SA2"), CHOSEN).await.status, 200);
}

#[tokio::test]
async fn an_activated_account_cannot_be_claimed_again_with_an_old_code() {
    let f = Fixture::new().await;
    let code = f.activation_code("SA2").await;
    assert_eq!(activate(&f, "SA2", &code, CHOSEN).await.status, 200);
    let again = activate(&f, "SA2", &code, "girafe-orange-soleil").await;
    assert_eq!((again.status, again.code()), (400, "invalid_activation_code"));
    assert_eq!(f.app.login(f.login_of("SA2"), CHOSEN).await.status, 200);

    let reissue = f.issue_activation_code("SA2").await;
    assert_eq!(reissue.unwrap_err().code().as_str(), "already_activated");
}

#[tokio::test]
async fn a_code_outstanding_when_the_user_claims_by_changing_a_password_no_longer_works() {
    let f = Fixture::new().await;
    let code = f.activation_code("SA2").await;
    let temporary = f.temporary_password("SA2").await;
    let body = json!({"login": f.login_of("SA2"), "current_password": temporary, "new_password": CHOSEN});
    assert_eq!(
        f.app.post("/v1/auth/change-password", None, body).await.status,
        200
    );
    let reply = activate(&f, "SA2", &code, "girafe-orange-soleil").await;
    assert_eq!((reply.status, reply.code()), (400, "invalid_activation_code"));
}

#[tokio::test]
async fn a_newer_code_replaces_the_older_and_codes_expire() {
    let f = Fixture::new().await;
    let older = f.activation_code("SA2").await;
    let newer = f.activation_code("SA2").await;
    let reply = activate(&f, "SA2", &older, CHOSEN).await;
    assert_eq!((reply.status, reply.code()), (400, "invalid_activation_code"));
    f.app.clock.advance(Duration::days(90) + Duration::seconds(1));
    let reply = activate(&f, "SA2", &newer, CHOSEN).await;
    assert_eq!((reply.status, reply.code()), (400, "activation_code_expired"));
}

#[tokio::test]
async fn ten_wrong_codes_lock_activation_with_retry_after() {
    let f = Fixture::new().await;
    let code = f.activation_code("SA2").await;
    for _ in 0..10 {
        let reply = activate(&f, "SA2", "ZZZZZZZZ", CHOSEN).await;
        assert_eq!((reply.status, reply.code()), (400, "invalid_activation_code"));
    }
    let locked = activate(&f, "SA2", &code, CHOSEN).await;
    assert_eq!((locked.status, locked.code()), (429, "too_many_attempts"));
    let retry_after: i64 = locked.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    assert_eq!(account(&f, "SA2").await["activation"], "pending");

    f.app.clock.advance(Duration::minutes(15) + Duration::seconds(1));
    assert_eq!(activate(&f, "SA2", &code, CHOSEN).await.status, 200);
}

#[tokio::test]
async fn unknown_logins_and_wrong_codes_answer_the_same() {
    let f = Fixture::new().await;
    f.activation_code("SA2").await;
    let wrong = activate(&f, "SA2", "ZZZZZZZZ", CHOSEN).await;
    let body = json!({"login": "nobody.here", "activation_code": "ZZZZZZZZ", "new_password": CHOSEN});
    let unknown = f.app.post("/v1/auth/activate", None, body).await;
    assert_eq!(wrong.status, unknown.status);
    assert_eq!(wrong.body["detail"], unknown.body["detail"]);
}

#[tokio::test]
async fn whatever_is_typed_as_a_login_answers_as_a_wrong_code() {
    let f = Fixture::new().await;
    for login in ["x".repeat(5000), "not a login!".to_owned(), String::new()] {
        let body = json!({"login": login, "activation_code": "ZZZZZZZZ", "new_password": CHOSEN});
        let reply = f.app.post("/v1/auth/activate", None, body).await;
        assert_eq!((reply.status, reply.code()), (400, "invalid_activation_code"));
    }
}

#[tokio::test]
async fn a_login_that_cannot_be_one_answers_401_on_every_store() {
    // The lock counters are keyed by login; DynamoDB refuses keys this long.
    let f = Fixture::new().await;
    let reply = f.app.login(&"x".repeat(5000), "whatever").await;
    assert_eq!((reply.status, reply.code()), (401, "invalid_credentials"));
}

#[tokio::test]
async fn bulk_codes_answer_per_account() {
    let f = Fixture::new().await;
    let (school, _) = ids(&f, "SA2");
    let wanted: Vec<AccountId> = ["SA2", "SAF", "SB1"]
        .iter()
        .map(|ext| AccountId::parse(f.id(ext)).unwrap())
        .chain([AccountId::parse("acc_missing").unwrap()])
        .collect();
    let caller = f.admin_caller(&school);
    let by = sesame::ops::secrets::Issuer {
        caller: &caller,
        distribution: None,
    };
    let results = f
        .app
        .state
        .sesame
        .issue_activation_codes(by, &wanted)
        .await
        .unwrap();
    let codes: Vec<&str> = results
        .iter()
        .map(|r| r.result.as_ref().map_or_else(|e| e.code().as_str(), |_| "ok"))
        .collect();
    assert_eq!(codes, ["ok", "federated_account", "ok", "not_found"]);
    assert_eq!(
        results.iter().map(|r| &r.account_id).collect::<Vec<_>>(),
        wanted.iter().collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn links_and_codes_are_used_in_the_users_own_name_in_the_audit_log() {
    let f = Fixture::new().await;
    let link = f.reset_link("SA1").await;
    assert_eq!(reset(&f, token_of(&link), CHOSEN).await.status, 200);
    let code = f.activation_code("SA2").await;
    assert_eq!(activate(&f, "SA2", &code, CHOSEN).await.status, 200);

    let audit = f.app.get("/v1/audit?limit=500", &f.admin()).await.body;
    let events = audit["items"].as_array().unwrap();
    for (action, ext) in [("password.reset_by_link", "SA1"), ("account.claim", "SA2")] {
        let event = events.iter().find(|e| e["action"] == action).expect(action);
        assert_eq!(event["actor"], format!("self:{}", f.id(ext)));
        assert_eq!(event["targets"], json!([f.id(ext)]));
    }
}

// ---- the HTML pages ----

fn assert_secure_headers(page: &Page) {
    assert_eq!(page.header("referrer-policy"), "no-referrer");
    assert_eq!(page.header("cache-control"), "no-store");
    assert_eq!(
        page.header("content-security-policy"),
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    );
    assert_eq!(page.header("x-content-type-options"), "nosniff");
}

#[tokio::test]
async fn every_page_answers_with_the_security_headers() {
    let f = Fixture::new().await;
    let link = f.reset_link("SA1").await;
    let base = &f.app.base;
    let pages = [
        get_page(&f, &link).await,
        get_page(&f, "/reset/not-a-token").await,
        get_page(&f, "/activate").await,
        post_form(&f, &link, &[("new_password", "a"), ("confirmation", "b")]).await,
        post_form(&f, &format!("{base}/activate"), &[("login", "x")]).await,
        fetch(f.app.client.post(format!("{base}/activate")).body("not a form")).await,
    ];
    for page in &pages {
        assert_secure_headers(page);
        assert!(
            page.header("content-type").starts_with("text/html"),
            "{}",
            page.status
        );
        assert!(
            page.html
                .contains("<meta name=\"viewport\" content=\"width=device-width")
        );
    }
    assert_eq!(
        pages.iter().map(|p| p.status).collect::<Vec<_>>(),
        [200, 400, 200, 422, 422, 415]
    );
}

#[tokio::test]
async fn the_pages_speak_french_unless_english_is_asked_for() {
    let f = Fixture::new().await;
    let url = format!("{}/activate", f.app.base);
    let french = get_page(&f, "/activate").await;
    assert!(french.html.contains("<html lang=\"fr\">"));
    assert!(french.html.contains("Activer mon compte"));
    assert_eq!(french.header("content-language"), "fr");

    let english = get_page(&f, "/activate?lang=en").await;
    assert!(english.html.contains("<html lang=\"en\">"));
    assert!(english.html.contains("Activate my account"));
    let preferred = fetch(
        f.app
            .client
            .get(&url)
            .header("accept-language", "en-GB,en;q=0.9,fr;q=0.5"),
    )
    .await;
    assert!(preferred.html.contains("Activate my account"));
    let german = fetch(f.app.client.get(&url).header("accept-language", "de-DE,de")).await;
    assert!(german.html.contains("Activer mon compte"));
    let forced = fetch(
        f.app
            .client
            .get(format!("{url}?lang=fr"))
            .header("accept-language", "en"),
    )
    .await;
    assert!(forced.html.contains("Activer mon compte"));

    let link = f.reset_link("SA1").await;
    let reset_fr = get_page(&f, &link).await;
    assert!(reset_fr.html.contains("Choisir un nouveau mot de passe"));
    assert!(reset_fr.html.contains(f.login_of("SA1")));
    let reset_en = get_page(&f, &format!("{link}?lang=en")).await;
    assert!(reset_en.html.contains("Choose a new password"));
}

#[tokio::test]
async fn the_reset_form_works_without_javascript_and_only_once() {
    let f = Fixture::new().await;
    let link = f.reset_link("SA1").await;
    let form = get_page(&f, &link).await;
    assert_eq!(form.status, 200);
    for needle in [
        "<form method=\"post\">",
        "autocomplete=\"new-password\"",
        "autocomplete=\"username\"",
        "<label for=\"new_password\">",
        "<label for=\"confirmation\">",
    ] {
        assert!(form.html.contains(needle), "{needle}");
    }
    assert!(!form.html.contains("<script"));

    let done = post_form(
        &f,
        &link,
        &[("lang", "fr"), ("new_password", CHOSEN), ("confirmation", CHOSEN)],
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.html);
    assert!(done.html.contains("Mot de passe enregistré"));
    assert_eq!(f.app.login(f.login_of("SA1"), CHOSEN).await.status, 200);

    let again = post_form(&f, &link, &[("new_password", CHOSEN), ("confirmation", CHOSEN)]).await;
    assert_eq!(again.status, 400);
    assert!(again.html.contains("Ce lien ne fonctionne plus"));
    assert!(!again.html.contains("<form"));
    let reopened = get_page(&f, &link).await;
    assert_eq!(reopened.status, 400);
    assert!(reopened.html.contains("Ce lien ne fonctionne plus"));
}

#[tokio::test]
async fn the_reset_form_says_what_to_fix_and_keeps_the_link() {
    let f = Fixture::new().await;
    let link = f.reset_link("SA1").await;
    let mismatch = post_form(
        &f,
        &format!("{link}?lang=en"),
        &[("new_password", CHOSEN), ("confirmation", "tortue-violette")],
    )
    .await;
    assert_eq!(mismatch.status, 422);
    assert!(mismatch.html.contains("The two passwords are not the same."));
    assert!(!mismatch.html.contains(CHOSEN), "a password is echoed");

    let weak = post_form(
        &f,
        &link,
        &[("new_password", "lefevre"), ("confirmation", "lefevre")],
    )
    .await;
    assert_eq!(weak.status, 422);
    assert!(weak.html.contains("Ce mot de passe ne convient pas"));
    assert!(weak.html.contains("au moins 8 caractères"), "{}", weak.html);
    assert!(weak.html.contains("votre nom ni votre prénom"));
    assert!(weak.html.contains("<form"));

    let done = post_form(&f, &link, &[("new_password", CHOSEN), ("confirmation", CHOSEN)]).await;
    assert_eq!(done.status, 200);
}

#[tokio::test]
async fn an_expired_link_page_says_so() {
    let f = Fixture::new().await;
    let link = f.reset_link("SA1").await;
    f.app.clock.advance(Duration::hours(25));
    let page = get_page(&f, &format!("{link}?lang=en")).await;
    assert_eq!(page.status, 400);
    assert!(page.html.contains("It has expired"));
}

#[tokio::test]
async fn the_activation_form_works_without_javascript() {
    let f = Fixture::new().await;
    let code = f.activation_code("SA2").await;
    let form = get_page(&f, &format!("/activate?login={}", f.login_of("SA2"))).await;
    assert!(form.html.contains(&format!("value=\"{}\"", f.login_of("SA2"))));
    assert!(form.html.contains("autocomplete=\"username\""));

    let url = format!("{}/activate", f.app.base);
    let fields = [
        ("login", f.login_of("SA2")),
        ("activation_code", code.as_str()),
        ("new_password", CHOSEN),
        ("confirmation", CHOSEN),
    ];
    let done = post_form(&f, &url, &fields).await;
    assert_eq!(done.status, 200, "{}", done.html);
    assert!(done.html.contains("Compte activé"));
    assert_eq!(account(&f, "SA2").await["activation"], "activated");
}

#[tokio::test]
async fn a_locked_activation_page_says_how_long_to_wait() {
    let f = Fixture::new().await;
    let url = format!("{}/activate?lang=en", f.app.base);
    let login = f.login_of("SA2");
    let mut fields = vec![
        ("login", login),
        ("activation_code", "ZZZZZZZZ"),
        ("new_password", CHOSEN),
        ("confirmation", CHOSEN),
    ];
    for _ in 0..10 {
        let wrong = post_form(&f, &url, &fields).await;
        assert_eq!(wrong.status, 400);
        assert!(wrong.html.contains("Wrong login or activation code"));
    }
    let code = f.activation_code("SA2").await;
    fields[1].1 = &code;
    let locked = post_form(&f, &url, &fields).await;
    assert_eq!(locked.status, 429);
    assert_eq!(locked.header("retry-after"), "900");
    assert!(
        locked.html.contains("Try again in 15 minute(s)."),
        "{}",
        locked.html
    );
}

#[tokio::test]
async fn what_a_page_echoes_is_escaped() {
    let f = Fixture::new().await;
    let url = format!("{}/activate", f.app.base);
    let hostile = "\"><script>alert(1)</script>";
    let fields = [
        ("login", hostile),
        ("activation_code", "ZZZZZZZZ"),
        ("new_password", CHOSEN),
        ("confirmation", CHOSEN),
    ];
    let page = post_form(&f, &url, &fields).await;
    assert!(!page.html.contains("<script>"), "{}", page.html);
    assert!(page.html.contains("&quot;&gt;&lt;script&gt;"));
    let prefilled = get_page(&f, "/activate?login=%3Cscript%3E").await;
    assert!(!prefilled.html.contains("<script>"));
}

#[tokio::test]
async fn no_token_or_code_reaches_the_logs_or_the_database() {
    let f = Fixture::new().await;
    let mut secrets = Vec::new();
    // A link used through its page, one through the API, one left open.
    let by_page = f.reset_link("SA1").await;
    get_page(&f, &by_page).await;
    post_form(
        &f,
        &by_page,
        &[("new_password", CHOSEN), ("confirmation", CHOSEN)],
    )
    .await;
    get_page(&f, &by_page).await;
    let by_api = f.reset_link("SB1").await;
    assert_eq!(reset(&f, token_of(&by_api), CHOSEN).await.status, 200);
    let open = f.reset_link("PA1").await;
    get_page(&f, &format!("{open}?lang=en")).await;
    for link in [&by_page, &by_api, &open] {
        let token = token_of(link).to_owned();
        // The secret part alone, too: the account id is no secret.
        secrets.push(token.rsplit('.').next().unwrap().to_owned());
        secrets.push(token);
    }
    let code = f.activation_code("SA2").await;
    let url = format!("{}/activate", f.app.base);
    let fields = [
        ("login", f.login_of("SA2")),
        ("activation_code", code.as_str()),
        ("new_password", CHOSEN),
        ("confirmation", CHOSEN),
    ];
    assert_eq!(post_form(&f, &url, &fields).await.status, 200);
    secrets.push(code);

    let logs = logs();
    assert!(
        logs.contains("/reset/{token}"),
        "the page requests were logged by route"
    );
    let stored = f.app.stored_bytes().await;
    for secret in &secrets {
        assert!(!logs.contains(secret.as_str()), "the logs hold a secret");
        assert!(
            !stored.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "the database holds a secret"
        );
    }
}

#[tokio::test]
async fn the_openapi_description_covers_activation_reset_and_the_pages() {
    let f = Fixture::new().await;
    let doc = f
        .app
        .send(f.app.client.get(format!("{}/openapi.json", f.app.base)))
        .await
        .body;
    for (path, method) in [
        ("/v1/auth/activate", "post"),
        ("/v1/auth/reset", "post"),
        ("/reset/{token}", "get"),
        ("/reset/{token}", "post"),
        ("/activate", "get"),
        ("/activate", "post"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path}");
    }
}
