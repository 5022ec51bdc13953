//! The console's door over HTTP: the sign-in form and its token, the session
//! cookie's flags, a student made to change a temporary password, CSRF refusals
//! that change nothing, and a deactivated account's session refused.

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::json;
use sesame_tests::Fixture;

pub(crate) struct Browser {
    client: reqwest::Client,
    base: String,
    cookies: Vec<(String, String)>,
}

impl Browser {
    pub(crate) fn new(f: &Fixture) -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            client,
            base: f.app.base.clone(),
            cookies: Vec::new(),
        }
    }

    fn keep(&mut self, response: &reqwest::Response) -> Vec<String> {
        let set: Vec<String> = response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        for cookie in &set {
            let pair = cookie.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            self.cookies.retain(|(n, _)| n != name);
            if !value.is_empty() {
                self.cookies.push((name.to_owned(), value.to_owned()));
            }
        }
        set
    }

    pub(crate) fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub(crate) async fn get(&mut self, path: &str) -> (u16, String, Option<String>) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep(&response);
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get(LOCATION)
            .map(|v| v.to_str().unwrap().to_owned());
        (status, response.text().await.unwrap(), location)
    }

    pub(crate) async fn post(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
    ) -> (u16, String, Option<String>, Vec<String>) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .form(form)
            .send()
            .await
            .unwrap();
        let set = self.keep(&response);
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get(LOCATION)
            .map(|v| v.to_str().unwrap().to_owned());
        (status, response.text().await.unwrap(), location, set)
    }
}

impl Browser {
    /// Posts a body of `content_type` as is (a multipart upload).
    pub(crate) async fn post_raw(&mut self, path: &str, content_type: &str, body: Vec<u8>) -> (u16, String) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        self.keep(&response);
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }
}

pub(crate) fn csrf(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    html[at..].split('"').next().unwrap().to_owned()
}

pub(crate) async fn signed_in(f: &Fixture, login: &str, password: &str) -> (Browser, String) {
    let mut browser = Browser::new(f);
    let (status, form, _) = browser.get("/").await;
    assert_eq!(status, 200);
    let token = csrf(&form);
    let (status, _, location, _) = browser
        .post(
            "/sign-in",
            &[("csrf", &token), ("login", login), ("password", password)],
        )
        .await;
    assert_eq!(status, 303, "signed in");
    (browser, location.unwrap())
}

#[tokio::test]
async fn a_student_signs_in_and_is_made_to_change_a_temporary_password() {
    let f = Fixture::new().await;
    let temporary = f.temporary_password("SA1").await;
    let login = f.login_of("SA1");

    let mut browser = Browser::new(&f);
    let (status, form, _) = browser.get("/").await;
    assert_eq!(status, 200);
    assert!(
        form.contains("<form method=\"post\" action=\"/sign-in\""),
        "{form}"
    );
    // Without the form's token nothing happens.
    let (status, _, _, set) = browser
        .post(
            "/sign-in",
            &[("csrf", "forged"), ("login", login), ("password", &temporary)],
        )
        .await;
    assert_eq!(status, 403);
    assert!(!set.iter().any(|c| c.starts_with("__Host-sesame=")), "{set:?}");
    let (_, form, _) = browser.get("/").await;
    let token = csrf(&form);
    let (status, _, location, set) = browser
        .post(
            "/sign-in",
            &[("csrf", &token), ("login", login), ("password", &temporary)],
        )
        .await;
    assert_eq!((status, location.as_deref()), (303, Some("/me")));
    let session = set
        .iter()
        .find(|c| c.starts_with("__Host-sesame="))
        .expect("a session cookie");
    for flag in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(session.contains(flag), "{session}");
    }

    let (status, me, _) = browser.get("/me").await;
    assert_eq!(status, 200);
    assert!(
        me.contains("Choisissez maintenant votre propre mot de passe"),
        "{me}"
    );
    let token = csrf(&me);
    let mine = "un-mot-de-passe-bien-a-moi";
    let change = [
        ("current_password", temporary.as_str()),
        ("new_password", mine),
        ("confirmation", mine),
    ];
    // Another session's token, or none, changes nothing.
    let (mut other, _) = signed_in(&f, login, &temporary).await;
    let (_, other_me, _) = other.get("/me").await;
    let foreign = csrf(&other_me);
    let mut with_foreign = change.to_vec();
    with_foreign.push(("csrf", &foreign));
    assert_eq!(browser.post("/me/password", &with_foreign).await.0, 403);
    assert_eq!(browser.post("/me/password", &change).await.0, 403);
    assert_eq!(f.app.login(login, &temporary).await.status, 200, "unchanged");

    let mut with_token = change.to_vec();
    with_token.push(("csrf", &token));
    let (status, saved, _, _) = browser.post("/me/password", &with_token).await;
    assert_eq!(status, 200, "{saved}");
    assert!(saved.contains("Votre mot de passe est enregistré"), "{saved}");
    assert_eq!(f.app.login(login, mine).await.status, 200);
    // This session carries on; a new sign-in works with the new password.
    assert_eq!(browser.get("/me").await.0, 200);
    let (_, landing) = signed_in(&f, login, mine).await;
    assert_eq!(landing, "/me");

    // Deactivated: the open session is refused on its next request.
    let off = f
        .app
        .post(
            "/v1/accounts/deactivate",
            Some(&f.admin()),
            json!({"account_ids": [f.id("SA1")]}),
        )
        .await;
    assert_eq!(off.status, 200);
    let (status, _, location) = browser.get("/me").await;
    assert_eq!((status, location.as_deref()), (303, Some("/")));
}

#[tokio::test]
async fn staff_land_on_the_console_with_the_role_their_account_gives() {
    let f = Fixture::new().await;
    let temporary = f.temporary_password("SEC").await;
    let mine = "un-mot-de-passe-bien-a-moi";
    let body = json!({"login": f.login_of("SEC"), "current_password": temporary, "new_password": mine});
    assert_eq!(
        f.app.post("/v1/auth/change-password", None, body).await.status,
        200
    );
    let (mut browser, landing) = signed_in(&f, f.login_of("SEC"), mine).await;
    assert_eq!(landing, "/console");
    let (status, console, _) = browser.get("/console").await;
    assert_eq!(status, 200);
    assert!(console.contains("administrateur secondaire"), "{console}");
    // Sign-out needs its token too, then ends the session.
    assert_eq!(browser.post("/sign-out", &[]).await.0, 403);
    let token = csrf(&console);
    let (status, _, location, _) = browser.post("/sign-out", &[("csrf", &token)]).await;
    assert_eq!((status, location.as_deref()), (303, Some("/")));
    assert_eq!(browser.get("/console").await.2.as_deref(), Some("/"));
    // A wrong password answers the same for every login, and counts.
    let mut stranger = Browser::new(&f);
    let (_, form, _) = stranger.get("/?lang=en").await;
    let token = csrf(&form);
    let (status, page, _, _) = stranger
        .post(
            "/sign-in",
            &[
                ("csrf", &token),
                ("lang", "en"),
                ("login", "nobody.here"),
                ("password", "x"),
            ],
        )
        .await;
    assert_eq!(status, 401);
    assert!(page.contains("Wrong login or password"), "{page}");
}

/// Signs `ext` in with a password of their own; answers the browser.
pub(crate) async fn staff(f: &Fixture, ext: &str) -> Browser {
    let temporary = f.temporary_password(ext).await;
    let mine = "un-mot-de-passe-bien-a-moi";
    let body = json!({"login": f.login_of(ext), "current_password": temporary, "new_password": mine});
    assert_eq!(
        f.app.post("/v1/auth/change-password", None, body).await.status,
        200
    );
    signed_in(f, f.login_of(ext), mine).await.0
}

#[tokio::test]
async fn the_admin_picks_a_class_checks_accounts_and_sees_their_passwords_once() {
    let f = Fixture::new().await;
    let mut admin = staff(&f, "ADM").await;
    let (status, list, _) = admin
        .get("/console/accounts?class=5A&profile=student&activation=pending")
        .await;
    assert_eq!(status, 200, "{list}");
    assert!(list.contains("<option value=\"5A\" selected>"), "{list}");
    assert!(list.contains("<strong id=\"count\">3</strong>"), "{list}");
    let token = csrf(&list);
    let ids = [f.id("SA1"), f.id("SA2"), f.id("SAF")];
    // Without the token, nothing is reset.
    let form: Vec<(&str, &str)> = ids.iter().map(|id| ("id", *id)).collect();
    assert_eq!(admin.post("/console/accounts/reset", &form).await.0, 403);
    let audit = f.app.get("/v1/audit?action=password.reset", &f.admin()).await;
    let before = audit.body["items"].as_array().unwrap().len();

    let mut with_token = form.clone();
    with_token.push(("csrf", &token));
    let (status, shown, _, _) = admin.post("/console/accounts/reset", &with_token).await;
    assert_eq!(status, 200, "{shown}");
    let passwords: Vec<String> = shown
        .match_indices("<code class=\"secret\">")
        .map(|(at, _)| shown[at + 21..].split('<').next().unwrap().to_owned())
        .collect();
    assert_eq!(passwords.len(), 2, "Zoé and Noé; Inès is federated: {shown}");
    for (ext, password) in ["SA1", "SA2"].iter().zip(&passwords) {
        let login = f.app.login(f.login_of(ext), password).await;
        assert_eq!(login.status, 200, "{ext}");
    }
    let audit = f.app.get("/v1/audit?action=password.reset", &f.admin()).await;
    assert_eq!(audit.body["items"].as_array().unwrap().len(), before + 1);
}

#[tokio::test]
async fn a_teacher_sees_the_accounts_of_their_classes_only() {
    let f = Fixture::new().await;
    let mut teacher = staff(&f, "TA").await;
    let (status, list, _) = teacher.get("/console/accounts").await;
    assert_eq!(status, 200);
    assert!(list.contains(f.login_of("SA1")), "{list}");
    assert!(!list.contains(f.login_of("SB1")), "{list}");
    assert!(!list.contains("<option value=\"5B\""), "{list}");
    let (_, other, _) = teacher.get("/console/accounts?class=5B").await;
    assert!(other.contains("<strong id=\"count\">0</strong>"), "{other}");
    // A reset of another class's pupil by a forged form is refused per account.
    let token = csrf(&list);
    let (status, shown, _, _) = teacher
        .post(
            "/console/accounts/reset",
            &[("csrf", &token), ("id", f.id("SB1"))],
        )
        .await;
    assert_eq!(status, 200);
    assert!(!shown.contains("class=\"secret\""), "{shown}");
}
