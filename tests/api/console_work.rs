//! The console's pages beyond the door, over HTTP as a browser without script
//! uses them: actions on the checked accounts after a confirmation, an account's
//! page, exports, imports previewed then applied, the follow-up, a distribution
//! recalled, the audit log and the settings; CSRF on every form; the rules of
//! SPEC §2 on every road.

use super::console_pages::{Browser, csrf, staff};
use super::imports_xlsx::upload;
use base64::Engine;
use serde_json::json;
use sesame_tests::Fixture;

/// The passwords a page shows once.
fn secrets(page: &str) -> Vec<String> {
    page.match_indices("<code class=\"secret\">")
        .map(|(at, _)| page[at + 21..].split('<').next().unwrap().to_owned())
        .collect()
}

/// Every event of riverside's audit log, as many as there are.
async fn audit_len(f: &Fixture) -> usize {
    let audit = f.app.get("/v1/audit?limit=500", &f.admin()).await;
    audit.body["items"].as_array().unwrap().len()
}

async fn token_of(browser: &mut Browser) -> String {
    let (status, page, _) = browser.get("/console/accounts").await;
    assert_eq!(status, 200, "{page}");
    csrf(&page)
}

/// The id of a distribution on the console's list that handed `login` a secret
/// (the test clock stands still, so several may share their date).
async fn distribution_of(browser: &mut Browser, login: &str) -> String {
    let (status, list, _) = browser.get("/console/distributions").await;
    assert_eq!(status, 200, "{list}");
    let prefix = "href=\"/console/distributions/";
    for (at, _) in list.match_indices(prefix) {
        let id = list[at + prefix.len()..].split('"').next().unwrap().to_owned();
        let (_, page, _) = browser.get(&format!("/console/distributions/{id}")).await;
        if page.contains(login) {
            return id;
        }
    }
    panic!("no distribution handed {login} a secret: {list}");
}

#[tokio::test]
async fn every_state_changing_form_refuses_a_missing_or_foreign_token_and_changes_nothing() {
    let f = Fixture::new().await;
    let temporary = f.temporary_password("SA1").await;
    let mut admin = staff(&f, "ADM").await;
    let mut other = staff(&f, "SEC").await;
    let foreign = token_of(&mut other).await;
    let distribution = distribution_of(&mut admin, f.login_of("SA1")).await;
    let (sa1, roster) = (
        f.id("SA1").to_owned(),
        base64::engine::general_purpose::STANDARD
            .encode("external_id,profile,first_name,last_name,classes\nNEW1,student,Nina,Neuve,5A\n"),
    );
    let before = audit_len(&f).await;
    let forms: Vec<(String, Vec<(&str, &str)>)> = vec![
        (
            "/console/accounts/act".into(),
            vec![("action", "deactivate"), ("id", &sa1), ("confirmed", "yes")],
        ),
        ("/console/accounts/reset".into(), vec![("id", &sa1)]),
        (
            format!("/console/accounts/{sa1}/password"),
            vec![
                ("password", "un-autre-mot-de-passe"),
                ("confirmation", "un-autre-mot-de-passe"),
            ],
        ),
        (format!("/console/accounts/{sa1}/unlock"), vec![]),
        ("/console/imports/apply".into(), vec![("roster", &roster)]),
        ("/console/follow-up/5A/send".into(), vec![]),
        (
            format!("/console/distributions/{distribution}/revoke"),
            vec![("confirmed", "yes")],
        ),
        ("/console/settings".into(), vec![("school_name", "Pirates")]),
        ("/sign-out".into(), vec![]),
    ];
    for (path, fields) in &forms {
        let (status, page, _, _) = admin.post(path, fields).await;
        assert_eq!(status, 403, "{path} without a token: {page}");
        let mut foreign_fields = fields.clone();
        foreign_fields.push(("csrf", &foreign));
        let (status, _, _, _) = admin.post(path, &foreign_fields).await;
        assert_eq!(status, 403, "{path} with another session's token");
    }
    let (content_type, body) = upload(
        &foreign,
        "roster.csv",
        "text/csv",
        b"external_id,profile,first_name,last_name\n",
    );
    assert_eq!(
        admin
            .post_raw("/console/imports/preview", &content_type, body)
            .await
            .0,
        403
    );

    assert_eq!(audit_len(&f).await, before, "nothing happened");
    let login = f.app.login(f.login_of("SA1"), &temporary).await;
    assert_eq!(login.status, 200, "SA1 still signs in with its open password");
    let settings = f.app.get("/v1/settings", &f.admin()).await;
    assert_eq!(settings.body["school_name"], "Collège Rive Gauche");
    assert_eq!(admin.get("/console").await.0, 200, "still signed in");
}

#[tokio::test]
async fn the_admin_deactivates_checked_accounts_after_a_confirmation_and_sees_them_recently_disabled() {
    let f = Fixture::new().await;
    let mut admin = staff(&f, "ADM").await;
    let token = token_of(&mut admin).await;
    let checked = [
        ("csrf", token.as_str()),
        ("action", "deactivate"),
        ("id", f.id("SA1")),
        ("id", f.id("SA2")),
    ];
    let (status, confirm, _, _) = admin.post("/console/accounts/act", &checked).await;
    assert_eq!(status, 200, "{confirm}");
    assert!(confirm.contains("Zoé") && confirm.contains("Noé"), "{confirm}");
    assert!(confirm.contains("name=\"confirmed\" value=\"yes\""), "{confirm}");
    let listed = f.app.get("/v1/accounts?access=disabled", &f.admin()).await;
    assert_eq!(listed.body["total"], 0, "nothing before the confirmation");

    let mut confirmed = checked.to_vec();
    confirmed.push(("confirmed", "yes"));
    let (status, done, _, _) = admin.post("/console/accounts/act", &confirmed).await;
    assert_eq!(status, 200, "{done}");
    let listed = f.app.get("/v1/accounts?access=disabled", &f.admin()).await;
    assert_eq!(listed.body["total"], 2, "{:?}", listed.body);
    let (_, page, _) = admin.get("/console/accounts?class=5A").await;
    let below = &page[page.find("Désactivés ces 90 derniers jours").expect(&page)..];
    assert!(
        below.contains(f.login_of("SA1")) && below.contains(f.login_of("SA2")),
        "{below}"
    );
}

#[tokio::test]
async fn an_account_page_shows_family_ledger_and_lock_and_sets_a_password_with_the_policys_messages() {
    let f = Fixture::new().await;
    let mut admin = staff(&f, "ADM").await;
    f.temporary_password("SA1").await;
    let (status, page, _) = admin.get(&format!("/console/accounts/{}", f.id("PA1"))).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Enfants") && page.contains("Lefèvre Zoé"), "{page}");

    let sa1 = format!("/console/accounts/{}", f.id("SA1"));
    let (_, page, _) = admin.get(&sa1).await;
    assert!(
        page.contains("mot de passe temporaire") && page.contains("ouvert"),
        "the ledger: {page}"
    );
    assert!(page.contains("Aucun blocage"), "{page}");
    let token = csrf(&page);
    let password = format!("{sa1}/password");
    let (status, page, _, _) = admin
        .post(
            &password,
            &[("csrf", &token), ("password", "abc"), ("confirmation", "abd")],
        )
        .await;
    assert_eq!(status, 422);
    assert!(page.contains("role=\"alert\""), "{page}");
    let (status, page, _, _) = admin
        .post(
            &password,
            &[("csrf", &token), ("password", "abc"), ("confirmation", "abc")],
        )
        .await;
    assert_eq!(status, 422, "too short");
    assert!(page.contains("<li>"), "the policy's messages: {page}");
    let chosen = "une-phrase-de-passe-solide";
    let (status, page, _, _) = admin
        .post(
            &password,
            &[("csrf", &token), ("password", chosen), ("confirmation", chosen)],
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(f.app.login(f.login_of("SA1"), chosen).await.status, 200);

    for _ in 0..10 {
        f.app.login(f.login_of("SA1"), "pas-le-bon").await;
    }
    assert_eq!(f.app.login(f.login_of("SA1"), chosen).await.status, 429);
    let (_, page, _) = admin.get(&sa1).await;
    assert!(page.contains("Bloqué après trop d'essais"), "{page}");
    let (status, page, _, _) = admin.post(&format!("{sa1}/unlock"), &[("csrf", &token)]).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(f.app.login(f.login_of("SA1"), chosen).await.status, 200);

    // A federated account names its directory and offers no password action.
    let (_, page, _) = admin.get(&format!("/console/accounts/{}", f.id("SAF"))).await;
    assert!(page.contains("ENT Académie"), "{page}");
    assert!(!page.contains("/password\""), "{page}");
}

#[tokio::test]
async fn a_teacher_opens_no_other_class_and_a_secondary_admin_reaches_no_admin_secret() {
    let f = Fixture::new().await;
    let mut teacher = staff(&f, "TA").await;
    assert_eq!(
        teacher.get(&format!("/console/accounts/{}", f.id("SB1"))).await.0,
        404
    );
    assert_eq!(
        teacher.get(&format!("/console/accounts/{}", f.id("SA1"))).await.0,
        200
    );
    assert_eq!(teacher.get("/console/follow-up/5B").await.0, 404);
    assert_eq!(teacher.get("/console/settings").await.0, 403);
    assert_eq!(teacher.get("/console/audit").await.0, 403);

    let mut secondary = staff(&f, "SEC").await;
    let admin_page = format!("/console/accounts/{}", f.id("ADM"));
    let (status, page, _) = secondary.get(&admin_page).await;
    assert_eq!(status, 200);
    assert!(!page.contains("/password\""), "no set-password form: {page}");
    let token = csrf(&page);
    let admin_id = f.id("ADM");
    for action in ["reset_temporary", "reset_link", "send_activation", "export"] {
        let (_, page, location, _) = secondary
            .post(
                "/console/accounts/act",
                &[
                    ("csrf", &token),
                    ("action", action),
                    ("id", admin_id),
                    ("confirmed", "yes"),
                ],
            )
            .await;
        assert!(secrets(&page).is_empty(), "{action}: {page}");
        assert!(location.is_none(), "{action} started nothing: {location:?}");
    }
    let (status, _, _, _) = secondary
        .post(
            &format!("{admin_page}/password"),
            &[
                ("csrf", &token),
                ("password", "prise-de-controle-1"),
                ("confirmation", "prise-de-controle-1"),
            ],
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(
        f.app.login(f.login_of("ADM"), "prise-de-controle-1").await.status,
        401
    );
}

#[tokio::test]
async fn an_export_made_in_the_console_shows_its_progress_then_a_download() {
    let f = Fixture::new().await;
    let mut admin = staff(&f, "ADM").await;
    let token = token_of(&mut admin).await;
    let (status, _, location, _) = admin
        .post(
            "/console/accounts/act",
            &[
                ("csrf", &token),
                ("action", "export"),
                ("id", f.id("SA1")),
                ("id", f.id("SA2")),
                ("confirmed", "yes"),
                ("content", "credentials"),
                ("format", "csv"),
                ("language", "en"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let page_path = location.unwrap();
    assert!(page_path.starts_with("/console/exports/exp_"), "{page_path}");
    let mut page = String::new();
    for _ in 0..100 {
        page = admin.get(&page_path).await.1;
        if page.contains("id=\"download\"") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let prefix = "id=\"download\" href=\"";
    let at = page.find(prefix).expect(&page) + prefix.len();
    let link = page[at..].split('"').next().unwrap().replace("&amp;", "&");
    let link = if link.starts_with('/') {
        format!("{}{link}", f.app.base)
    } else {
        link
    };
    let file = reqwest::get(&link).await.unwrap();
    assert_eq!(file.status(), 200);
    let text = file.text().await.unwrap();
    assert!(
        text.contains(f.login_of("SA1")) && text.contains(f.login_of("SA2")),
        "{text}"
    );
}

#[tokio::test]
async fn an_import_is_previewed_then_applied() {
    let f = Fixture::new().await;
    let mut admin = staff(&f, "ADM").await;
    let (status, page, _) = admin.get("/console/imports").await;
    assert_eq!(status, 200);
    let roster = "external_id,profile,first_name,last_name,classes\nNEW1,student,Nina,Neuve,5A\nBAD,student,,Sansprénom,5A\n";
    let (content_type, body) = upload(&csrf(&page), "roster.csv", "text/csv", roster.as_bytes());
    let (status, preview) = admin
        .post_raw("/console/imports/preview", &content_type, body)
        .await;
    assert_eq!(status, 200, "{preview}");
    assert!(preview.contains("<dd id=\"created\">1</dd>"), "{preview}");
    assert!(preview.contains("<dd id=\"errors\">1</dd>"), "{preview}");
    let listed = f.app.get("/v1/accounts?q=Neuve", &f.admin()).await;
    assert_eq!(listed.body["total"], 0, "a preview writes nothing");

    let prefix = "name=\"roster\" value=\"";
    let at = preview.find(prefix).unwrap() + prefix.len();
    let kept = preview[at..].split('"').next().unwrap().to_owned();
    // The real run imports the bytes the preview checked, or refuses: another
    // roster put in the form, or the kept one brought by another session, is not it.
    let other = base64::engine::general_purpose::STANDARD
        .encode("external_id,profile,first_name,last_name,classes\nNEW2,student,Otto,Autre,5A\n");
    let mut other_admin = staff(&f, "SEC").await;
    let (_, other_page, _) = other_admin.get("/console/imports").await;
    for (who, token, roster) in [
        (&mut admin, csrf(&preview), other.as_str()),
        (&mut other_admin, csrf(&other_page), kept.as_str()),
    ] {
        let (status, refused, _, _) = who
            .post("/console/imports/apply", &[("csrf", &token), ("roster", roster)])
            .await;
        assert_eq!(status, 422, "{refused}");
        assert!(refused.contains("déposez le fichier à nouveau"), "{refused}");
    }
    let listed = f.app.get("/v1/accounts?q=Autre", &f.admin()).await;
    assert_eq!(listed.body["total"], 0, "{:?}", listed.body);
    let listed = f.app.get("/v1/accounts?q=Neuve", &f.admin()).await;
    assert_eq!(listed.body["total"], 0, "{:?}", listed.body);

    let (status, applied, _, _) = admin
        .post(
            "/console/imports/apply",
            &[("csrf", &csrf(&preview)), ("roster", &kept)],
        )
        .await;
    assert_eq!(status, 200, "{applied}");
    assert!(applied.contains("Import appliqué"), "{applied}");
    let listed = f.app.get("/v1/accounts?q=Neuve", &f.admin()).await;
    assert_eq!(listed.body["total"], 1, "{:?}", listed.body);

    let mut teacher = staff(&f, "TA").await;
    assert_eq!(teacher.get("/console/imports").await.0, 403);
}

#[tokio::test]
async fn the_follow_up_draws_each_class_and_sends_to_everyone_still_pending() {
    let f = Fixture::new().await;
    let mut admin = staff(&f, "ADM").await;
    let (status, page, _) = admin.get("/console/follow-up").await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("<svg") && page.contains("href=\"/console/follow-up/5A\""),
        "{page}"
    );
    let (status, class, _) = admin.get("/console/follow-up/5A").await;
    assert_eq!(status, 200, "{class}");
    assert!(
        class.contains(f.login_of("SA1")) || class.contains("Lefèvre"),
        "{class}"
    );
    let (status, _, location, _) = admin
        .post("/console/follow-up/5A/send", &[("csrf", &csrf(&class))])
        .await;
    assert_eq!(status, 303);
    let location = location.unwrap();
    assert!(location.starts_with("/console/distributions/dst_"), "{location}");
    let id = location.trim_start_matches("/console/distributions/");
    let view = f.app.get(&format!("/v1/distributions/{id}"), &f.admin()).await;
    assert_eq!(view.status, 200, "{:?}", view.body);
    assert_eq!(view.body["kind"], "send_activation", "{:?}", view.body);
}

#[tokio::test]
async fn a_distribution_recalled_from_its_page_stops_its_open_passwords() {
    let f = Fixture::new().await;
    let mut admin = staff(&f, "ADM").await;
    let token = token_of(&mut admin).await;
    let (status, shown, _, _) = admin
        .post(
            "/console/accounts/act",
            &[
                ("csrf", &token),
                ("action", "reset_temporary"),
                ("id", f.id("SA1")),
                ("id", f.id("SA2")),
                ("confirmed", "yes"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{shown}");
    let passwords = secrets(&shown);
    assert_eq!(passwords.len(), 2, "{shown}");
    let id = distribution_of(&mut admin, f.login_of("SA2")).await;
    let page_path = format!("/console/distributions/{id}");
    let (_, page, _) = admin.get(&page_path).await;
    assert!(page.contains("<dd id=\"open\">2</dd>"), "{page}");
    let (status, confirm, _, _) = admin
        .post(&format!("{page_path}/revoke"), &[("csrf", &token)])
        .await;
    assert_eq!(status, 200);
    assert!(confirm.contains("Confirmer le rappel"), "{confirm}");
    assert_eq!(
        f.app.login(f.login_of("SA1"), &passwords[0]).await.status,
        200,
        "not before the confirmation"
    );
    let (status, done, _, _) = admin
        .post(
            &format!("{page_path}/revoke"),
            &[("csrf", &token), ("confirmed", "yes")],
        )
        .await;
    assert_eq!(status, 200, "{done}");
    assert!(done.contains("<dd id=\"open\">0</dd>"), "{done}");
    for (ext, password) in ["SA1", "SA2"].iter().zip(&passwords) {
        assert_eq!(f.app.login(f.login_of(ext), password).await.status, 401, "{ext}");
    }
}

#[tokio::test]
async fn the_audit_log_and_the_settings_are_the_administrators_and_bad_values_are_named() {
    let f = Fixture::new().await;
    f.temporary_password("SA1").await;
    let mut admin = staff(&f, "ADM").await;
    let (status, audit, _) = admin.get("/console/audit?action=password.reset").await;
    assert_eq!(status, 200);
    assert!(audit.contains("password.reset"), "{audit}");
    let (status, settings, _) = admin.get("/console/settings").await;
    assert_eq!(status, 200, "{settings}");
    let token = csrf(&settings);
    let form = |days: &'static str| {
        vec![
            ("school_name", "Collège Rive Droite"),
            ("temporary_password_days", days),
            ("password_min_length", "10"),
            ("retention_days", "90"),
            ("audit_days", "365"),
            ("login_url", "https://sesame.example.org/"),
            ("sender", ""),
            ("language", "fr"),
        ]
    };
    let mut bad = form("trois");
    bad.push(("csrf", &token));
    let (status, page, _, _) = admin.post("/console/settings", &bad).await;
    assert_eq!(status, 422);
    assert!(
        page.contains("temporary_password_days") || page.contains("whole number"),
        "{page}"
    );
    let mut good = form("3");
    good.push(("csrf", &token));
    let (status, page, _, _) = admin.post("/console/settings", &good).await;
    assert_eq!(status, 200, "{page}");
    let settings = f.app.get("/v1/settings", &f.admin()).await;
    assert_eq!(settings.body["school_name"], "Collège Rive Droite");
    assert_eq!(settings.body["temporary_password_days"], 3);

    let mut secondary = staff(&f, "SEC").await;
    assert_eq!(secondary.get("/console/settings").await.0, 403);
    let unchanged = json!("Collège Rive Droite");
    assert_eq!(
        f.app.get("/v1/settings", &f.admin()).await.body["school_name"],
        unchanged
    );
}

#[tokio::test]
async fn the_account_page_shows_a_bounced_address_and_corrects_it_or_clears_the_mark() {
    use sesame::domain::{AccountId, DeliveryEvent, DeliveryKind, Email, SchoolId};
    let f = Fixture::new().await;
    let pa1 = f.id("PA1").to_owned();
    let bounce = |minute: u32| DeliveryEvent {
        kind: DeliveryKind::Bounce { permanent: true },
        recipient: Email::parse("seb@example.org").unwrap(),
        at: chrono::DateTime::parse_from_rfc3339(&format!("2026-09-01T08:{minute:02}:00Z"))
            .unwrap()
            .into(),
        message_id: format!("m{minute}"),
        diagnostic: Some("smtp; 550 5.1.1 user unknown".into()),
    };
    let school = SchoolId::parse("riverside").unwrap();
    let id = AccountId::parse(&pa1).unwrap();
    let sesame = &f.app.state.sesame;
    assert!(sesame.record_delivery(&school, &id, &bounce(1)).await.unwrap());

    let mut admin = staff(&f, "ADM").await;
    let (status, page, _) = admin.get(&format!("/console/accounts/{pa1}")).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("non remis : adresse refusée") && page.contains("550 5.1.1"),
        "{page}"
    );
    assert!(page.contains("id=\"clear-email-state\""), "{page}");

    let token = csrf(&page);
    let (status, refused, _, _) = admin
        .post(
            &format!("/console/accounts/{pa1}/email"),
            &[("csrf", &token), ("email", "pas une adresse")],
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    let (status, saved, _, _) = admin
        .post(
            &format!("/console/accounts/{pa1}/email"),
            &[("csrf", &token), ("email", " seb.l@example.org ")],
        )
        .await;
    assert_eq!(status, 200, "{saved}");
    assert!(saved.contains("Adresse enregistrée"), "{saved}");
    let account = f.app.get(&format!("/v1/accounts/{pa1}"), &f.admin()).await;
    assert_eq!(account.body["email"], "seb.l@example.org");
    assert_eq!(account.body["email_state"]["status"], "unknown");

    // Bounced at the new address, then the mark cleared from the page.
    let mut again = bounce(2);
    again.recipient = Email::parse("seb.l@example.org").unwrap();
    assert!(sesame.record_delivery(&school, &id, &again).await.unwrap());
    let (status, cleared, _, _) = admin
        .post(
            "/console/accounts/act",
            &[
                ("csrf", &token),
                ("action", "clear_email_state"),
                ("id", &pa1),
                ("confirmed", "yes"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{cleared}");
    let account = f.app.get(&format!("/v1/accounts/{pa1}"), &f.admin()).await;
    assert_eq!(
        account.body["email_state"]["status"], "unknown",
        "{:?}",
        account.body
    );

    // A teacher sees no such form and may not post it.
    let mut teacher = staff(&f, "TA").await;
    let (_, page, _) = teacher.get(&format!("/console/accounts/{}", f.id("SA1"))).await;
    assert!(!page.contains("id=\"save-email\""), "{page}");
    let token = csrf(&page);
    let (status, _, _, _) = teacher
        .post(
            &format!("/console/accounts/{}/email", f.id("SA1")),
            &[("csrf", &token), ("email", "x@example.org")],
        )
        .await;
    assert!(matches!(status, 403 | 404), "{status}");
}
