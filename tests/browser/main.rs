//! Headless Chromium, driven through chromedriver, uses the self-service pages as a
//! student or parent does on a phone: a reset link from the school, an activation
//! code. The secrets come from `sesame_tests::handouts`, the one place that knows
//! where they come from.

mod console;
mod driver;
mod scan;

use driver::{fits_the_screen, screenshot, submit, type_into, wait_for_heading, with_browser};
use fantoccini::Locator;
use serde_json::json;
use sesame_tests::Fixture;
use sesame_tests::handouts::token_of;

const CHOSEN: &str = "tortue-violette-nuage";

#[tokio::test]
async fn a_parent_chooses_a_password_from_the_link_in_their_mail_which_then_no_longer_works() {
    let f = Fixture::new().await;
    let link = f.mailed_reset_link("PA1").await;
    let again = link.clone();
    with_browser(move |browser| async move {
        browser.goto(&link).await.unwrap();
        wait_for_heading(&browser, "Choisir un nouveau mot de passe").await;
        type_into(&browser, "new_password", CHOSEN).await;
        type_into(&browser, "confirmation", CHOSEN).await;
        submit(&browser).await;
        // The answer first: leaving the page at once could cancel the form's POST.
        wait_for_heading(&browser, "Mot de passe enregistré").await;
        browser.goto(&again).await.unwrap();
        let page = browser.source().await.unwrap();
        assert!(
            !page.contains("name=\"new_password\""),
            "a used link shows no form"
        );
    })
    .await;
    let login = f.app.login(f.login_of("PA1"), CHOSEN).await;
    assert_eq!(login.status, 200, "{:?}", login.body);
}

#[tokio::test]
async fn a_student_chooses_a_password_from_a_reset_link_which_then_no_longer_works() {
    let f = Fixture::new().await;
    let link = f.reset_link("SA1").await;
    with_browser(move |browser| async move {
        browser.goto(&link).await.unwrap();
        wait_for_heading(&browser, "Choisir un nouveau mot de passe").await;
        fits_the_screen(&browser).await;
        screenshot(&browser, "reset-form.png").await;
        // The login is there for password managers, not for the eye.
        let username = browser.find(Locator::Css("input[name=username]")).await.unwrap();
        assert!(!username.is_displayed().await.unwrap());
        type_into(&browser, "new_password", CHOSEN).await;
        type_into(&browser, "confirmation", CHOSEN).await;
        submit(&browser).await;
        wait_for_heading(&browser, "Mot de passe enregistré").await;
        fits_the_screen(&browser).await;
        screenshot(&browser, "reset-done.png").await;

        let login = f.app.login(f.login_of("SA1"), CHOSEN).await;
        assert_eq!(login.status, 200, "{:?}", login.body);

        browser.goto(&link).await.unwrap();
        wait_for_heading(&browser, "Ce lien ne fonctionne plus").await;
        assert!(
            browser.find(Locator::Css("form")).await.is_err(),
            "no form to submit"
        );
    })
    .await;
}

#[tokio::test]
async fn a_form_left_open_is_refused_once_its_link_was_used_elsewhere() {
    let f = Fixture::new().await;
    let link = f.reset_link("SA1").await;
    with_browser(move |browser| async move {
        browser.goto(&link).await.unwrap();
        wait_for_heading(&browser, "Choisir un nouveau mot de passe").await;
        // Meanwhile, the link is used in another tab.
        let body = json!({"token": token_of(&link), "new_password": CHOSEN});
        assert_eq!(f.app.post("/v1/auth/reset", None, body).await.status, 200);

        type_into(&browser, "new_password", "girafe-orange-soleil").await;
        type_into(&browser, "confirmation", "girafe-orange-soleil").await;
        submit(&browser).await;
        wait_for_heading(&browser, "Ce lien ne fonctionne plus").await;
        screenshot(&browser, "reset-refused.png").await;
        assert_eq!(f.app.login(f.login_of("SA1"), CHOSEN).await.status, 200);
    })
    .await;
}

#[tokio::test]
async fn a_refused_password_is_explained_and_the_form_stays() {
    let f = Fixture::new().await;
    let link = f.reset_link("SA1").await;
    with_browser(move |browser| async move {
        browser.goto(&link).await.unwrap();
        wait_for_heading(&browser, "Choisir un nouveau mot de passe").await;
        type_into(&browser, "new_password", "zoe").await;
        type_into(&browser, "confirmation", "zoe").await;
        // The browser's own check (minlength) would stop a person here; the
        // server's answer is what is tested, so that check is lifted.
        browser
            .execute(
                "document.getElementById('new_password').removeAttribute('minlength');",
                vec![],
            )
            .await
            .unwrap();
        submit(&browser).await;
        let alert = browser
            .wait()
            .for_element(Locator::Css("[role=alert] li"))
            .await
            .unwrap();
        assert!(alert.text().await.unwrap().contains("au moins 8 caractères"));
        fits_the_screen(&browser).await;
        screenshot(&browser, "reset-refused-password.png").await;

        type_into(&browser, "new_password", CHOSEN).await;
        type_into(&browser, "confirmation", CHOSEN).await;
        submit(&browser).await;
        wait_for_heading(&browser, "Mot de passe enregistré").await;
    })
    .await;
}

#[tokio::test]
async fn a_student_claims_a_pending_account_with_an_activation_code() {
    let f = Fixture::new().await;
    let code = f.activation_code("SA2").await;
    let page = format!("{}/activate", f.app.base);
    with_browser(move |browser| async move {
        browser.goto(&page).await.unwrap();
        wait_for_heading(&browser, "Activer mon compte").await;
        fits_the_screen(&browser).await;
        screenshot(&browser, "activate-form.png").await;
        type_into(&browser, "login", f.login_of("SA2")).await;
        type_into(&browser, "activation_code", &code.to_lowercase()).await;
        type_into(&browser, "new_password", CHOSEN).await;
        type_into(&browser, "confirmation", CHOSEN).await;
        submit(&browser).await;
        wait_for_heading(&browser, "Compte activé").await;

        let account = f
            .app
            .get(&format!("/v1/accounts/{}", f.id("SA2")), &f.admin())
            .await;
        assert_eq!(account.body["activation"], "activated");
        assert_eq!(f.app.login(f.login_of("SA2"), CHOSEN).await.status, 200);
    })
    .await;
}

#[tokio::test]
async fn the_link_of_an_activation_mail_fills_the_code_in_from_its_fragment() {
    let f = Fixture::new().await;
    let body = serde_json::json!({"account_ids": [f.id("PA1")]});
    let sent = f
        .app
        .post("/v1/accounts/send-activation", Some(&f.admin()), body)
        .await;
    assert_eq!(sent.status, 200, "{:?}", sent.body);
    let mail = std::fs::read_dir(f.app.outbox())
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .next()
        .expect("the activation mail");
    let prefix = format!("{}/activate?", f.app.base);
    let at = mail.find(&prefix).expect("a link to the activation page");
    let link = mail[at..]
        .split(|c: char| c.is_whitespace())
        .next()
        .unwrap()
        .to_owned();
    let logs_before = sesame_tests::logs().len();
    with_browser(move |browser| async move {
        browser.goto(&link).await.unwrap();
        wait_for_heading(&browser, "Activer mon compte").await;
        let filled = browser
            .execute(
                "return [document.getElementById('login').value, \
                 document.getElementById('activation_code').value, location.hash];",
                vec![],
            )
            .await
            .unwrap();
        let code = link.rsplit("#code=").next().unwrap().to_owned();
        assert_eq!(
            filled,
            serde_json::json!([f.login_of("PA1"), code, ""]),
            "login and code filled in, the fragment gone from the address bar"
        );
        type_into(&browser, "new_password", CHOSEN).await;
        type_into(&browser, "confirmation", CHOSEN).await;
        submit(&browser).await;
        wait_for_heading(&browser, "Compte activé").await;
        assert_eq!(f.app.login(f.login_of("PA1"), CHOSEN).await.status, 200);
        assert!(
            !sesame_tests::logs()[logs_before..].contains(&code),
            "the code never reaches the server's log"
        );
    })
    .await;
}
