//! Headless Chromium runs the console on a fresh demo school as its staff do:
//! the admin picks a class, filters the pending, checks three, resets them and
//! sees their passwords once; a student signs in and is made to change one; the
//! admin recalls the distribution; an export is made and downloaded, an import
//! previewed then applied; a teacher and a secondary admin meet the rules of
//! SPEC §2. Every main page is shot at 390 and 1280 px, and loads without a
//! console error or a failed request.

use crate::driver::{DESKTOP, PHONE, fits, loads_cleanly, screenshot, wait_for_heading, with_browser_on};
use fantoccini::{Client, Locator};
use sesame::demo::{DEMO_STAFF_PASSWORD, DemoInfo, ensure_demo_school};
use sesame_tests::TestApp;
use std::time::{Duration, Instant};

async fn demo() -> (TestApp, DemoInfo) {
    let app = TestApp::spawn().await;
    let info = ensure_demo_school(&app.state.sesame).await.unwrap();
    (app, info)
}

async fn click(browser: &Client, css: &str) {
    let element = browser.find(Locator::Css(css)).await.expect(css);
    element.click().await.expect(css);
}

async fn fill(browser: &Client, id: &str, text: &str) {
    let field = browser.find(Locator::Id(id)).await.expect(id);
    field.clear().await.expect(id);
    field.send_keys(text).await.expect(id);
}

async fn choose(browser: &Client, id: &str, value: &str) {
    let select = browser.find(Locator::Id(id)).await.expect(id);
    select.select_by_value(value).await.expect(value);
}

async fn texts(browser: &Client, css: &str) -> Vec<String> {
    let mut out = Vec::new();
    for element in browser.find_all(Locator::Css(css)).await.unwrap() {
        out.push(element.text().await.unwrap());
    }
    out
}

/// Waits until the page shows `css` (a page that reloads itself, a submit).
async fn wait_for(browser: &Client, css: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while browser.find(Locator::Css(css)).await.is_err() {
        assert!(
            Instant::now() < deadline,
            "{css} never showed: {}",
            browser.source().await.unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn sign_in(browser: &Client, base: &str, login: &str, password: &str) {
    browser.delete_all_cookies().await.unwrap();
    browser.goto(&format!("{base}/")).await.unwrap();
    wait_for_heading(browser, "Se connecter").await;
    fill(browser, "login", login).await;
    fill(browser, "password", password).await;
    click(browser, "form[action='/sign-in'] button").await;
}

/// The account id behind a login, as the API lists it.
async fn id_of(app: &TestApp, info: &DemoInfo, query: &str) -> Vec<(String, String)> {
    let token = app.token(info.school.as_str(), "admin", &info.admin_id, &[]);
    let list = app.get(&format!("/v1/accounts?{query}"), &token).await;
    list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["id"].as_str().unwrap().to_owned(),
                a["login"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_school_runs_its_accounts_from_the_console_end_to_end() {
    let (app, info) = demo().await;
    let base = app.base.clone();
    let admin_login = info.admin_login.clone();
    let checks = with_browser_on(DESKTOP, {
        let (base, admin_login) = (base.clone(), admin_login.clone());
        move |browser| async move {
            // The admin picks a class, keeps the pending, checks three and resets them.
            sign_in(&browser, &base, &admin_login, DEMO_STAFF_PASSWORD).await;
            wait_for_heading(&browser, "Console de l'établissement").await;
            browser.goto(&format!("{base}/console/accounts")).await.unwrap();
            choose(&browser, "class", "CM1-A").await;
            choose(&browser, "profile", "student").await;
            choose(&browser, "activation", "pending").await;
            click(&browser, "#filter").await;
            wait_for(&browser, "select#class option[value='CM1-A'][selected]").await;
            let boxes = browser.find_all(Locator::Css("input[name=id]")).await.unwrap();
            assert!(boxes.len() >= 3, "three pending pupils at least");
            for checkbox in &boxes[..3] {
                checkbox.click().await.unwrap();
            }
            choose(&browser, "action", "reset_temporary").await;
            click(&browser, "#act").await;
            wait_for_heading(&browser, "Confirmer").await;
            click(&browser, "#confirm").await;
            wait_for_heading(&browser, "Mots de passe temporaires").await;
            let passwords = texts(&browser, "code.secret").await;
            let logins = texts(&browser, "table.print td:nth-child(2) code").await;
            assert_eq!(passwords.len(), 3, "three passwords, once");
            screenshot(&browser, "console-passwords-1280.png").await;
            (passwords, logins)
        }
    })
    .await;
    let (passwords, logins) = checks;

    // Those passwords are never fetched again: the page is not stored.
    let student_login = logins[0].clone();
    let chosen = "girafe-bleue-du-matin";
    with_browser_on(PHONE, {
        let (base, student_login, first) = (base.clone(), student_login.clone(), passwords[0].clone());
        move |browser| async move {
            sign_in(&browser, &base, &student_login, &first).await;
            wait_for_heading(&browser, "Changer de mot de passe").await;
            assert!(
                browser
                    .source()
                    .await
                    .unwrap()
                    .contains("Choisissez maintenant votre propre mot de passe")
            );
            fits(&browser, PHONE.0).await;
            screenshot(&browser, "console-me-390.png").await;
            fill(&browser, "current", &first).await;
            fill(&browser, "new", chosen).await;
            fill(&browser, "confirmation", chosen).await;
            click(&browser, "form[action='/me/password'] button").await;
            wait_for(&browser, ".alert.ok").await;
            sign_in(&browser, &base, &student_login, chosen).await;
            wait_for_heading(&browser, "Changer de mot de passe").await;
            assert!(!browser.source().await.unwrap().contains("Choisissez maintenant"));
        }
    })
    .await;

    // The admin recalls the distribution: the two passwords still open stop working.
    with_browser_on(DESKTOP, {
        let (base, admin_login) = (base.clone(), admin_login.clone());
        move |browser| async move {
            sign_in(&browser, &base, &admin_login, DEMO_STAFF_PASSWORD).await;
            wait_for_heading(&browser, "Console de l'établissement").await;
            browser
                .goto(&format!("{base}/console/distributions"))
                .await
                .unwrap();
            click(&browser, "main table a").await;
            wait_for(&browser, "#recall").await;
            assert_eq!(texts(&browser, "#open").await, ["2"]);
            click(&browser, "#recall").await;
            wait_for(&browser, "#confirm").await;
            click(&browser, "#confirm").await;
            wait_for(&browser, ".alert.ok").await;
            assert_eq!(texts(&browser, "#open").await, ["0"]);
        }
    })
    .await;
    for (login, password) in logins.iter().zip(&passwords).skip(1) {
        assert_eq!(
            app.login(login, password).await.status,
            401,
            "{login}'s recalled password"
        );
    }
    assert_eq!(
        app.login(&student_login, chosen).await.status,
        200,
        "a chosen password stays"
    );

    // An export made and downloaded, an import previewed then applied.
    let roster = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
    std::fs::write(
        roster.path(),
        "external_id,profile,first_name,last_name,classes\nNEW-1,student,Yasmine,Nouvelle,CM1-A\n",
    )
    .unwrap();
    let roster_path = roster.path().to_str().unwrap().to_owned();
    let link = with_browser_on(DESKTOP, {
        let (base, admin_login) = (base.clone(), admin_login.clone());
        move |browser| async move {
            sign_in(&browser, &base, &admin_login, DEMO_STAFF_PASSWORD).await;
            wait_for_heading(&browser, "Console de l'établissement").await;
            browser
                .goto(&format!("{base}/console/accounts?class=CM2-B&profile=student"))
                .await
                .unwrap();
            for checkbox in &browser.find_all(Locator::Css("input[name=id]")).await.unwrap()[..2] {
                checkbox.click().await.unwrap();
            }
            choose(&browser, "action", "export").await;
            click(&browser, "#act").await;
            wait_for(&browser, "#format").await;
            choose(&browser, "format", "csv").await;
            click(&browser, "#confirm").await;
            wait_for(&browser, "#download").await;
            loads_cleanly(&browser).await;
            let link = browser
                .find(Locator::Id("download"))
                .await
                .unwrap()
                .attr("href")
                .await
                .unwrap()
                .unwrap();

            browser.goto(&format!("{base}/console/imports")).await.unwrap();
            let file = browser.find(Locator::Id("roster")).await.unwrap();
            file.send_keys(&roster_path).await.unwrap();
            click(&browser, "#preview").await;
            wait_for(&browser, "#apply").await;
            assert_eq!(texts(&browser, "#created").await, ["1"]);
            screenshot(&browser, "console-import-preview-1280.png").await;
            click(&browser, "#apply").await;
            wait_for(&browser, ".alert.ok").await;
            link
        }
    })
    .await;
    let link = if link.starts_with('/') {
        format!("{base}{link}")
    } else {
        link
    };
    let file = reqwest::get(&link).await.unwrap();
    assert_eq!(file.status(), 200);
    assert!(
        file.text().await.unwrap().lines().count() >= 3,
        "a header and two pupils"
    );
    assert_eq!(
        id_of(&app, &info, "q=Nouvelle").await.len(),
        1,
        "the import applied"
    );

    // A teacher sees their classes only, and another class's pupil is not found.
    let other_class = id_of(&app, &info, "class=CM2-B&profile=student").await;
    let (other_id, other_login) = other_class[0].clone();
    with_browser_on(DESKTOP, {
        let (base, teacher_login) = (base.clone(), info.teacher_login.clone());
        move |browser| async move {
            sign_in(&browser, &base, &teacher_login, DEMO_STAFF_PASSWORD).await;
            wait_for_heading(&browser, "Console de l'établissement").await;
            browser.goto(&format!("{base}/console/accounts")).await.unwrap();
            let classes = texts(&browser, "select#class option").await;
            assert_eq!(classes, ["Toutes", "CM1-A"], "the teacher's class only");
            browser
                .goto(&format!("{base}/console/accounts/{other_id}"))
                .await
                .unwrap();
            let page = browser.source().await.unwrap();
            assert!(
                page.contains("Introuvable") && !page.contains(&other_login),
                "{page}"
            );
        }
    })
    .await;

    // A secondary admin finds no road to an admin's secret.
    let secondary = id_of(&app, &info, "local_admin=secondary").await;
    let (secondary_id, secondary_login) = secondary[0].clone();
    let secondary_password = "trousseau-de-cles-42";
    let token = app.token(info.school.as_str(), "admin", &info.admin_id, &[]);
    let set = app
        .put(
            &format!("/v1/accounts/{secondary_id}/password"),
            &token,
            serde_json::json!({"password": secondary_password, "confirmation": secondary_password, "must_change": false}),
        )
        .await;
    assert_eq!(set.status, 200, "{:?}", set.body);
    let admin_id = info.admin_id.clone();
    with_browser_on(DESKTOP, {
        let base = base.clone();
        move |browser| async move {
            sign_in(&browser, &base, &secondary_login, secondary_password).await;
            wait_for_heading(&browser, "Console de l'établissement").await;
            browser
                .goto(&format!("{base}/console/accounts/{admin_id}"))
                .await
                .unwrap();
            assert!(
                browser
                    .find(Locator::Css("form[action$='/password']"))
                    .await
                    .is_err(),
                "no set-password form"
            );
            browser
                .goto(&format!("{base}/console/accounts?local_admin=admin"))
                .await
                .unwrap();
            click(&browser, &format!("input[value='{admin_id}']")).await;
            choose(&browser, "action", "reset_temporary").await;
            click(&browser, "#act").await;
            wait_for(&browser, "#confirm").await;
            click(&browser, "#confirm").await;
            wait_for_heading(&browser, "Mots de passe temporaires").await;
            assert!(texts(&browser, "code.secret").await.is_empty(), "no secret shown");
        }
    })
    .await;
    assert_eq!(
        app.login(&admin_login, DEMO_STAFF_PASSWORD).await.status,
        200,
        "the admin's password stands"
    );
}

/// The console's main pages, shot at a phone's width and a desktop's, each
/// within its width and loaded without a console error or a failed request.
async fn tour(screen: (u32, u32)) {
    let (app, info) = demo().await;
    let base = app.base.clone();
    let student = id_of(&app, &info, "class=CM1-A&profile=student").await[0]
        .0
        .clone();
    with_browser_on(screen, move |browser| async move {
        let width = screen.0;
        browser.goto(&format!("{base}/")).await.unwrap();
        wait_for_heading(&browser, "Se connecter").await;
        loads_cleanly(&browser).await;
        fits(&browser, width).await;
        screenshot(&browser, &format!("console-sign-in-{width}.png")).await;
        sign_in(&browser, &base, &info.admin_login, DEMO_STAFF_PASSWORD).await;
        wait_for_heading(&browser, "Console de l'établissement").await;
        let pages = [
            ("console", "/console".to_owned()),
            ("accounts", "/console/accounts?class=CM1-A".to_owned()),
            ("account", format!("/console/accounts/{student}")),
            ("follow-up", "/console/follow-up".to_owned()),
            ("follow-up-class", "/console/follow-up/CM1-A".to_owned()),
            ("distributions", "/console/distributions".to_owned()),
            ("imports", "/console/imports".to_owned()),
            ("audit", "/console/audit".to_owned()),
            ("settings", "/console/settings".to_owned()),
            ("accounts-en", "/console/accounts?lang=en".to_owned()),
        ];
        for (name, path) in pages {
            browser.goto(&format!("{base}{path}")).await.unwrap();
            wait_for(&browser, "main h1").await;
            loads_cleanly(&browser).await;
            fits(&browser, width).await;
            screenshot(&browser, &format!("console-{name}-{width}.png")).await;
        }
    })
    .await;
}

#[tokio::test]
async fn the_console_pages_fit_a_phone_and_load_cleanly() {
    tour(PHONE).await;
}

#[tokio::test]
async fn the_console_pages_fit_a_desktop_and_load_cleanly() {
    tour(DESKTOP).await;
}

/// Issue 21's "first Monday of September": two parents of a class whose mail
/// bounced show in the class's follow-up as "mail did not arrive", and the cards
/// printed for them are exactly theirs.
#[tokio::test]
async fn the_follow_up_shows_two_bounced_parents_and_prints_exactly_their_cards() {
    use sesame::domain::{AccountId, DeliveryEvent, DeliveryKind, Email, SchoolId};
    let (app, info) = demo().await;
    let base = app.base.clone();
    let admin = app.token(info.school.as_str(), "admin", &info.admin_id, &[]);
    let class = "CM2-B";
    let follow = app.get(&format!("/v1/classes/{class}/follow-up"), &admin).await;
    let pending_parents: Vec<(String, String, String)> = follow.body["to_chase"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["profile"] == "parent" && c["has_email"] == true)
        .map(|c| {
            (
                c["account_id"].as_str().unwrap().to_owned(),
                c["login"].as_str().unwrap().to_owned(),
                c["last_name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(pending_parents.len() > 2, "{:?}", follow.body);
    let school = SchoolId::parse(info.school.as_str()).unwrap();
    let bounced = &pending_parents[..2];
    for (i, (id, _, _)) in bounced.iter().enumerate() {
        let account = app.get(&format!("/v1/accounts/{id}"), &admin).await;
        let event = DeliveryEvent {
            kind: DeliveryKind::Bounce { permanent: true },
            recipient: Email::parse(account.body["email"].as_str().unwrap()).unwrap(),
            at: chrono::Utc::now(),
            message_id: format!("ses-{i}"),
            diagnostic: Some("smtp; 550 5.1.1 user unknown".into()),
        };
        let id = AccountId::parse(id).unwrap();
        assert!(
            app.state
                .sesame
                .record_delivery(&school, &id, &event)
                .await
                .unwrap()
        );
    }
    let follow = app.get(&format!("/v1/classes/{class}/follow-up"), &admin).await;
    assert_eq!(
        follow.body["parents"]["mail_not_delivered"], 2,
        "{:?}",
        follow.body
    );

    let link = with_browser_on(DESKTOP, {
        let (base, admin_login) = (base.clone(), info.admin_login.clone());
        move |browser| async move {
            sign_in(&browser, &base, &admin_login, DEMO_STAFF_PASSWORD).await;
            wait_for_heading(&browser, "Console de l'établissement").await;
            browser
                .goto(&format!("{base}/console/follow-up/{class}"))
                .await
                .unwrap();
            wait_for(&browser, "#print-cards").await;
            assert_eq!(texts(&browser, ".state-undelivered").await.len(), 2);
            loads_cleanly(&browser).await;
            screenshot(&browser, "console-follow-up-undelivered-1280.png").await;
            click(&browser, "#print-cards").await;
            wait_for(&browser, "#download").await;
            browser
                .find(Locator::Id("download"))
                .await
                .unwrap()
                .attr("href")
                .await
                .unwrap()
                .unwrap()
        }
    })
    .await;
    let link = if link.starts_with('/') {
        format!("{base}{link}")
    } else {
        link
    };
    let file = reqwest::get(&link).await.unwrap();
    assert_eq!(file.status(), 200);
    let text = sesame_tests::pdf_text(&file.bytes().await.unwrap());
    for (_, login, _) in bounced {
        assert!(text.contains(login.as_str()), "{login} has a card: {text}");
    }
    for (_, login, _) in &pending_parents[2..] {
        assert!(!text.contains(login.as_str()), "{login} has no card: {text}");
    }
}
