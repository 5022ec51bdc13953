//! The console's door (SPEC §11): `/` signs a Sésame account in; students and
//! parents get their own page (change the password, forced first when it is
//! temporary; sign out), staff and teachers the console. Plain forms that work
//! without JavaScript, in French and English, each carrying a CSRF token; the
//! session cookie is `HttpOnly`, `SameSite=Strict`, and `Secure` with the
//! `__Host-` prefix over HTTPS and on loopback. Pages from compile-checked `maud`
//! templates.

use super::AppState;
use super::pages::text::negotiate;
use crate::credentials::links::new_session_token;
use crate::domain::{Account, Error, Language, Seat, Session};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{DOCTYPE, Markup, html};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// The console's routes (the edge serves them; the cloud's functions do not).
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", axum::routing::get(home))
        .route("/sign-in", axum::routing::post(sign_in))
        .route("/sign-out", axum::routing::post(sign_out))
        .route("/me", axum::routing::get(me))
        .route("/me/password", axum::routing::post(change_password))
        .route("/console", axum::routing::get(console))
        .route("/console.css", axum::routing::get(stylesheet))
        .route("/console.js", axum::routing::get(script))
        .merge(super::console_accounts::routes())
        .merge(super::console_work::routes())
        .layer(axum::middleware::map_response(super::pages::security_headers))
        .with_state(state)
}

/// The cookies' names and attributes, from where the console is reached.
struct Cookies {
    secure: bool,
}

impl Cookies {
    fn of(state: &AppState) -> Self {
        let url = state.sesame.public_url.as_str();
        let host = url
            .split_once("://")
            .map_or("", |(_, rest)| rest.split(['/', ':']).next().unwrap_or_default());
        let loopback = matches!(host, "127.0.0.1" | "localhost" | "[") || url.contains("://[::1]");
        Self {
            secure: url.starts_with("https://") || loopback,
        }
    }

    fn name(&self, base: &str) -> String {
        if self.secure {
            format!("__Host-{base}")
        } else {
            base.to_owned()
        }
    }

    fn set(&self, base: &str, value: &str, max_age: i64) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        let cookie = format!(
            "{}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}",
            self.name(base)
        );
        HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    fn read(&self, headers: &HeaderMap, base: &str) -> Option<String> {
        let name = self.name(base);
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_owned())
    }
}

const SESSION: &str = "sesame";
/// The sign-in form's token, before any session exists (double submit).
const FORM: &str = "sesame-form";

struct Words {
    sign_in: &'static str,
    login: &'static str,
    password: &'static str,
    submit: &'static str,
    wrong: &'static str,
    locked: &'static str,
    unavailable: &'static str,
    disabled: &'static str,
    expired: &'static str,
    hello: &'static str,
    change: &'static str,
    must_change: &'static str,
    current: &'static str,
    new: &'static str,
    confirmation: &'static str,
    save: &'static str,
    saved: &'static str,
    mismatch: &'static str,
    sign_out: &'static str,
    console: &'static str,
    accounts: &'static str,
    role: &'static str,
    other: (&'static str, &'static str),
}

fn words(lang: Language) -> &'static Words {
    const FR: Words = Words {
        sign_in: "Se connecter",
        login: "Identifiant",
        password: "Mot de passe",
        submit: "Se connecter",
        wrong: "Identifiant ou mot de passe incorrect.",
        locked: "Trop d'essais : réessayez dans quelques minutes.",
        unavailable: "Le service ne répond pas pour le moment : réessayez dans un instant.",
        disabled: "L'accès de ce compte est désactivé.",
        expired: "La page a expiré : recommencez.",
        hello: "Bonjour",
        change: "Changer de mot de passe",
        must_change: "Choisissez maintenant votre propre mot de passe.",
        current: "Mot de passe actuel",
        new: "Nouveau mot de passe",
        confirmation: "Confirmez le nouveau mot de passe",
        save: "Enregistrer",
        saved: "Votre mot de passe est enregistré.",
        mismatch: "Les deux mots de passe ne sont pas identiques.",
        sign_out: "Se déconnecter",
        console: "Console de l'établissement",
        accounts: "Comptes",
        role: "Rôle",
        other: ("en", "English"),
    };
    const EN: Words = Words {
        sign_in: "Sign in",
        login: "Login",
        password: "Password",
        submit: "Sign in",
        wrong: "Wrong login or password.",
        locked: "Too many attempts: try again in a few minutes.",
        unavailable: "The service is not answering right now: try again in a moment.",
        disabled: "This account's access is disabled.",
        expired: "This page expired: please start again.",
        hello: "Hello",
        change: "Change my password",
        must_change: "Choose your own password now.",
        current: "Current password",
        new: "New password",
        confirmation: "Confirm the new password",
        save: "Save",
        saved: "Your password is saved.",
        mismatch: "The two passwords differ.",
        sign_out: "Sign out",
        console: "School console",
        accounts: "Accounts",
        role: "Role",
        other: ("fr", "Français"),
    };
    match lang {
        Language::Fr => &FR,
        Language::En => &EN,
    }
}

/// A form-encoded body (`None`: not one, or not of this shape).
fn form<T: serde::de::DeserializeOwned>(headers: &HeaderMap, body: &Bytes) -> Option<T> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"));
    is_form.then(|| serde_urlencoded::from_bytes(body).ok()).flatten()
}

/// A form's fields in order, repeated names kept (check boxes).
pub(super) fn form_pairs(headers: &HeaderMap, body: &Bytes) -> Option<Vec<(String, String)>> {
    form::<Vec<(String, String)>>(headers, body)
}

/// A signed-in member of staff on a console page: the language, the session,
/// the account and the caller it acts as (role and classes read from the account).
pub(super) struct Staff {
    pub lang: Language,
    pub session: Session,
    pub account: Account,
    pub caller: crate::domain::Caller,
    /// The school's settings, read once a request (its time zone shows every date).
    pub settings: crate::domain::Settings,
    /// The request's id (the router's, or a fit one the client sent), for the audit.
    pub request_id: Option<String>,
}

impl Staff {
    pub(super) fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
}

/// A console page's member of staff: a request without a session is sent to the
/// sign-in page, one whose store does not answer gets "try again".
impl axum::extract::FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Response> {
        Self::of(state, &parts.uri, &parts.headers).await
    }
}

/// A form a member of staff posted, its CSRF token checked.
pub(super) struct Posted {
    pub staff: Staff,
    pub pairs: Vec<(String, String)>,
}

impl axum::extract::FromRequest<AppState> for Posted {
    type Rejection = Response;

    async fn from_request(request: axum::extract::Request, state: &AppState) -> Result<Self, Response> {
        use axum::extract::FromRequestParts;
        let (mut parts, body) = request.into_parts();
        let staff = Staff::from_request_parts(&mut parts, state).await?;
        let headers = parts.headers.clone();
        let request = axum::extract::Request::from_parts(parts, body);
        let body = <Bytes as axum::extract::FromRequest<AppState>>::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let pairs = staff.posted(&headers, &body)?;
        Ok(Self { staff, pairs })
    }
}

impl Staff {
    /// The staff member the request's session names, or where to send the browser.
    pub(super) async fn of(state: &AppState, uri: &Uri, headers: &HeaderMap) -> Result<Self, Response> {
        let lang = lang_of(uri, headers, None);
        let (session, account) = match current(state, uri, headers).await? {
            Some(signed) => signed,
            None => return Err(Redirect::to("/").into_response()),
        };
        match (account.as_caller(), account.credentials.must_change_password) {
            (Some(caller), false) => {
                let settings = state
                    .sesame
                    .school(&caller.school)
                    .await
                    .map_err(|e| unavailable(lang, &e))?
                    .settings;
                let request_id = crate::http::extract::RequestId::of(headers).0;
                Ok(Self {
                    lang,
                    session,
                    account,
                    caller,
                    settings,
                    request_id,
                })
            }
            _ => Err(Redirect::to("/me").into_response()),
        }
    }

    /// `at` on the school's clocks, with the zone's abbreviation.
    pub(super) fn when(&self, at: chrono::DateTime<chrono::Utc>) -> String {
        let local = self.settings.time_zone.local(at);
        match self.lang {
            Language::Fr => local.format("%d/%m/%Y %H:%M %Z").to_string(),
            Language::En => local.format("%Y-%m-%d %H:%M %Z").to_string(),
        }
    }

    /// Whether a posted form carries this session's token.
    pub(super) fn csrf_ok(&self, pairs: &[(String, String)]) -> bool {
        pairs
            .iter()
            .find(|(k, _)| k == "csrf")
            .is_some_and(|(_, v)| self.session.csrf_matches(v))
    }

    pub(super) fn forbidden(&self) -> Response {
        let w = words(self.lang);
        page(StatusCode::FORBIDDEN, self.shell("", w.console, alert(w.expired)))
    }

    /// The posted form's fields when it carries this session's token.
    pub(super) fn posted(
        &self,
        headers: &HeaderMap,
        body: &Bytes,
    ) -> Result<Vec<(String, String)>, Response> {
        form_pairs(headers, body)
            .filter(|p| self.csrf_ok(p))
            .ok_or_else(|| self.forbidden())
    }

    /// A console page: the navigation of what this member of staff may open,
    /// `here` marked as the current one, then `title` and `body`.
    pub(super) fn shell(&self, here: &str, title: &str, body: Markup) -> Markup {
        let lang = self.lang;
        let w = words(lang);
        let caller = &self.caller;
        let mut links = vec![
            ("/console/accounts", w.accounts),
            (
                "/console/follow-up",
                tr(lang, "Suivi des classes", "Class follow-up"),
            ),
            (
                "/console/distributions",
                tr(lang, "Distributions", "Distributions"),
            ),
        ];
        use crate::domain::Task;
        if caller.may_do(Task::Import) {
            links.push(("/console/imports", tr(lang, "Imports", "Imports")));
        }
        if caller.may_do(Task::ReadAudit) {
            links.push(("/console/audit", tr(lang, "Journal", "Audit log")));
        }
        if caller.may_do(Task::ChangeSettings) {
            links.push(("/console/settings", tr(lang, "Réglages", "Settings")));
        }
        let head = html! {
            link rel="stylesheet" href="/console.css";
            script src="/console.js" defer {}
        };
        let body = html! {
            a.skip href="#main" { (tr(lang, "Aller au contenu", "Skip to content")) }
            header {
                div.bar {
                    a.brand href="/console" { "Sésame" }
                    nav aria-label=(tr(lang, "Console", "Console")) {
                        ul {
                            @for (href, label) in &links {
                                li { a href=(href) aria-current=[(here == *href).then_some("page")] { (label) } }
                            }
                            li { a href="/me" { (self.account.first_name) " " (self.account.last_name) } }
                            li { a href={ "?lang=" (w.other.0) } hreflang=(w.other.0) lang=(w.other.0) { (w.other.1) } }
                        }
                    }
                    (sign_out_form(lang, &self.session))
                }
            }
            main #main {
                h1 { (title) }
                (body)
            }
        };
        document(lang, title, head, body)
    }
}

/// A page of the console's: private (no referrer, not indexed), in `lang`.
fn document(lang: Language, title: &str, head: Markup, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                meta name="robots" content="noindex, nofollow";
                title { (title) " · Sésame" }
                (head)
            }
            body { (body) }
        }
    }
}

/// A table that scrolls sideways on a phone (by keyboard too), under its header row.
pub(super) fn scroll_table(lang: Language, headers: &[&str], rows: Markup) -> Markup {
    html! {
        div.scroll tabindex="0" role="region" aria-label=(tr(lang, "Tableau", "Table")) {
            table {
                thead { tr { @for header in headers { th scope="col" { (header) } } } }
                tbody { (rows) }
            }
        }
    }
}

/// The text of `lang` among two.
pub(super) fn tr(lang: Language, fr: &'static str, en: &'static str) -> &'static str {
    match lang {
        Language::Fr => fr,
        Language::En => en,
    }
}

/// The console's one stylesheet and one small script, served by `sesame` itself.
const STYLESHEET: &str = include_str!("console_assets/console.css");
const SCRIPT: &str = include_str!("console_assets/console.js");

async fn stylesheet() -> Response {
    asset(STYLESHEET, "text/css; charset=utf-8")
}

async fn script() -> Response {
    asset(SCRIPT, "text/javascript; charset=utf-8")
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn lang_of(uri: &Uri, headers: &HeaderMap, form: Option<&str>) -> Language {
    let query: Vec<(String, String)> = uri
        .query()
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default();
    let query = query.iter().find(|(k, _)| k == "lang").map(|(_, v)| v.as_str());
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    negotiate(&[form, query], accept)
}

pub(super) fn layout(lang: Language, title: &str, body: Markup) -> Markup {
    let w = words(lang);
    let head = html! { style { (maud::PreEscaped(super::pages::html::STYLE)) } };
    let body = html! {
        main {
            div.brand {
                strong { "Sésame" }
                a href={ "?lang=" (w.other.0) } hreflang=(w.other.0) lang=(w.other.0) { (w.other.1) }
            }
            div.card { h1 { (title) } (body) }
        }
    };
    document(lang, title, head, body)
}

pub(super) fn page(status: StatusCode, markup: Markup) -> Response {
    let mut response = (status, markup.into_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

pub(super) fn alert(message: &str) -> Markup {
    html! { div.alert role="alert" { p { (message) } } }
}

fn sign_in_form(lang: Language, csrf: &str, problem: Option<&str>, login: &str) -> Markup {
    let w = words(lang);
    let code = lang.code();
    layout(
        lang,
        w.sign_in,
        html! {
            @if let Some(problem) = problem { (alert(problem)) }
            form method="post" action="/sign-in" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="lang" value=(code);
                label for="login" { (w.login) }
                input #login name="login" value=(login) autocomplete="username" autocapitalize="none" required;
                label for="password" { (w.password) }
                input #password type="password" name="password" autocomplete="current-password" required;
                button type="submit" { (w.submit) }
            }
        },
    )
}

/// The sign-in form with a fresh form token (set as a cookie beside it).
fn fresh_sign_in(state: &AppState, lang: Language, status: StatusCode, problem: Option<&str>) -> Response {
    fresh_sign_in_as(state, lang, status, problem, "")
}

/// The sign-in form with `login` filled in (a card's QR code names it).
fn fresh_sign_in_as(
    state: &AppState,
    lang: Language,
    status: StatusCode,
    problem: Option<&str>,
    login: &str,
) -> Response {
    let (token, _) = new_session_token();
    let token = token.expose_secret().to_owned();
    let mut response = page(status, sign_in_form(lang, &token, problem, login));
    let cookie = Cookies::of(state).set(FORM, &token, 3600);
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response
}

/// The session the request's cookie names, and its account, if it still holds; a
/// store that does not answer is a page saying to try again (503), never a
/// signed-out visitor.
async fn current(
    state: &AppState,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Option<(Session, Account)>, Response> {
    let Some(token) = Cookies::of(state).read(headers, SESSION) else {
        return Ok(None);
    };
    match state.sesame.open_session(&token).await {
        Ok(signed) => Ok(Some(signed)),
        Err(Error::Unauthenticated) => Ok(None),
        Err(e) => Err(unavailable(lang_of(uri, headers, None), &e)),
    }
}

/// The page of a request that failed for a reason of ours (the store did not
/// answer, an internal error): logged once, with the request's id, and "try again".
pub(super) fn unavailable(lang: Language, error: &Error) -> Response {
    crate::http::problem::log_internal(error);
    let status = match crate::http::problem::status_of(error) {
        s if s.is_server_error() => s,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    };
    let w = words(lang);
    with_retry_after(page(status, layout(lang, w.sign_in, alert(w.unavailable))), 1)
}

fn landing(account: &Account) -> &'static str {
    match account.seat() {
        Seat::Console(_) if !account.credentials.must_change_password => "/console",
        _ => "/me",
    }
}

async fn home(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    match current(&state, &uri, &headers).await {
        Ok(Some((_, account))) => return Redirect::to(landing(&account)).into_response(),
        Ok(None) => {}
        Err(response) => return response,
    }
    let query: Vec<(String, String)> = uri
        .query()
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default();
    let login = query
        .iter()
        .find(|(k, _)| k == "login")
        .map(|(_, v)| v.chars().take(100).collect::<String>())
        .unwrap_or_default();
    fresh_sign_in_as(
        &state,
        lang_of(&uri, &headers, None),
        StatusCode::OK,
        None,
        &login,
    )
}

#[derive(Deserialize)]
struct SignInForm {
    csrf: Option<String>,
    lang: Option<String>,
    login: Option<String>,
    password: Option<SecretString>,
}

async fn sign_in(State(state): State<AppState>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let Some(form) = form::<SignInForm>(&headers, &body) else {
        return fresh_sign_in(
            &state,
            lang_of(&uri, &headers, None),
            StatusCode::BAD_REQUEST,
            None,
        );
    };
    let lang = lang_of(&uri, &headers, form.lang.as_deref());
    let w = words(lang);
    let expected = Cookies::of(&state).read(&headers, FORM);
    let presented = form.csrf.unwrap_or_default();
    let same = expected.is_some_and(|e| {
        use subtle::ConstantTimeEq;
        !e.is_empty() && bool::from(e.as_bytes().ct_eq(presented.as_bytes()))
    });
    if !same {
        return fresh_sign_in(&state, lang, StatusCode::FORBIDDEN, Some(w.expired));
    }
    let login = form.login.unwrap_or_default();
    let password = form.password.unwrap_or_else(|| SecretString::from(String::new()));
    match state.sesame.sign_in(login.trim(), password).await {
        Ok(signed) => {
            let mut response = Redirect::to(landing(&signed.account)).into_response();
            let cookies = Cookies::of(&state);
            let max_age = crate::domain::session::ABSOLUTE.num_seconds();
            let headers = response.headers_mut();
            headers.append(
                header::SET_COOKIE,
                cookies.set(SESSION, signed.token.expose_secret(), max_age),
            );
            headers.append(header::SET_COOKIE, cookies.set(FORM, "", 0));
            response
        }
        Err(Error::Locked { retry_after_secs }) => with_retry_after(
            fresh_sign_in(&state, lang, StatusCode::TOO_MANY_REQUESTS, Some(w.locked)),
            retry_after_secs,
        ),
        Err(Error::AccessDisabled) => fresh_sign_in(&state, lang, StatusCode::FORBIDDEN, Some(w.disabled)),
        Err(Error::InvalidCredentials) => {
            fresh_sign_in(&state, lang, StatusCode::UNAUTHORIZED, Some(w.wrong))
        }
        // Anything else decided nothing about the password: never "wrong password".
        Err(e) => {
            let status = crate::http::problem::status_of(&e);
            crate::http::problem::log_internal(&e);
            let retry_after = match e {
                Error::Busy { retry_after_secs } => retry_after_secs,
                _ => 1,
            };
            with_retry_after(
                fresh_sign_in(&state, lang, status, Some(w.unavailable)),
                retry_after,
            )
        }
    }
}

/// An operation's refusal as a page of the console: the status and the log line
/// the API's problem would have (one mapping, two renderings).
pub(super) fn refused(staff: &Staff, here: &str, title: &str, e: &Error) -> Response {
    crate::http::problem::log_internal(e);
    let response = page(
        crate::http::problem::status_of(e),
        staff.shell(here, title, super::console_accounts::problem(staff.lang, e)),
    );
    match e {
        Error::Busy { retry_after_secs } | Error::Locked { retry_after_secs } => {
            with_retry_after(response, *retry_after_secs)
        }
        Error::Unavailable(_) => with_retry_after(response, 1),
        _ => response,
    }
}

fn with_retry_after(mut response: Response, seconds: u64) -> Response {
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, axum::http::HeaderValue::from(seconds));
    response
}

fn own_page(lang: Language, session: &Session, account: &Account, message: Option<Markup>) -> Markup {
    let w = words(lang);
    html! {
        p { (w.hello) " " (account.first_name) " (" code { (account.login) } ")" }
        @if let Some(message) = message { (message) }
        @if account.credentials.must_change_password { (alert(w.must_change)) }
        h2 { (w.change) }
        form method="post" action="/me/password" {
            input type="hidden" name="csrf" value=(session.csrf);
            label for="current" { (w.current) }
            input #current type="password" name="current_password" autocomplete="current-password" required;
            label for="new" { (w.new) }
            input #new type="password" name="new_password" autocomplete="new-password" required;
            label for="confirmation" { (w.confirmation) }
            input #confirmation type="password" name="confirmation" autocomplete="new-password" required;
            button type="submit" { (w.save) }
        }
        (sign_out_form(lang, session))
    }
}

fn sign_out_form(lang: Language, session: &Session) -> Markup {
    html! {
        form method="post" action="/sign-out" {
            input type="hidden" name="csrf" value=(session.csrf);
            button type="submit" { (words(lang).sign_out) }
        }
    }
}

async fn me(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let lang = lang_of(&uri, &headers, None);
    let (session, account) = match current(&state, &uri, &headers).await {
        Ok(Some(signed)) => signed,
        Ok(None) => return Redirect::to("/").into_response(),
        Err(response) => return response,
    };
    let title = words(lang).change;
    page(
        StatusCode::OK,
        layout(lang, title, own_page(lang, &session, &account, None)),
    )
}

#[derive(Deserialize)]
struct PasswordForm {
    csrf: Option<String>,
    current_password: Option<SecretString>,
    new_password: Option<SecretString>,
    confirmation: Option<SecretString>,
}

async fn change_password(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = lang_of(&uri, &headers, None);
    let w = words(lang);
    let (mut session, account) = match current(&state, &uri, &headers).await {
        Ok(Some(signed)) => signed,
        Ok(None) => return Redirect::to("/").into_response(),
        Err(response) => return response,
    };
    let form = form::<PasswordForm>(&headers, &body);
    let Some(form) = form.filter(|f| session.csrf_matches(f.csrf.as_deref().unwrap_or_default())) else {
        return page(StatusCode::FORBIDDEN, layout(lang, w.change, alert(w.expired)));
    };
    let empty = || SecretString::from(String::new());
    let (current, new, confirmation) = (
        form.current_password.unwrap_or_else(empty),
        form.new_password.unwrap_or_else(empty),
        form.confirmation.unwrap_or_else(empty),
    );
    let again = |status, message: Markup| {
        page(
            status,
            layout(lang, w.change, own_page(lang, &session, &account, Some(message))),
        )
    };
    if new.expose_secret() != confirmation.expose_secret() {
        return again(StatusCode::UNPROCESSABLE_ENTITY, alert(w.mismatch));
    }
    let changed = state
        .sesame
        .change_password(
            crate::http::extract::RequestId::of(&headers).as_deref(),
            account.login.as_str(),
            current,
            new,
        )
        .await;
    match changed {
        Ok(_) => {
            // This session carries on with the new password; every other ends.
            let Ok(Some(fresh)) = state
                .sesame
                .accounts
                .get_account(&account.school, &account.id)
                .await
            else {
                return Redirect::to("/").into_response();
            };
            session.after_own_change(&fresh);
            if state.sesame.sessions.put_session(&session).await.is_err() {
                return Redirect::to("/").into_response();
            }
            let saved = html! { div.alert.ok role="status" { p { (w.saved) } } };
            page(
                StatusCode::OK,
                layout(lang, w.change, own_page(lang, &session, &fresh, Some(saved))),
            )
        }
        Err(Error::Locked { .. } | Error::Busy { .. }) => {
            again(StatusCode::TOO_MANY_REQUESTS, alert(w.locked))
        }
        Err(Error::PasswordPolicy(errors) | Error::Validation(errors)) => {
            let list = html! {
                div.alert role="alert" { ul { @for e in &errors { li { (e.message) } } } }
            };
            again(StatusCode::UNPROCESSABLE_ENTITY, list)
        }
        Err(_) => again(StatusCode::UNAUTHORIZED, alert(w.wrong)),
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: Option<String>,
}

async fn sign_out(State(state): State<AppState>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let lang = lang_of(&uri, &headers, None);
    let cookies = Cookies::of(&state);
    let (session, _) = match current(&state, &uri, &headers).await {
        Ok(Some(signed)) => signed,
        Ok(None) => return Redirect::to("/").into_response(),
        Err(response) => return response,
    };
    let presented = form::<CsrfForm>(&headers, &body)
        .and_then(|f| f.csrf)
        .unwrap_or_default();
    if !session.csrf_matches(&presented) {
        let w = words(lang);
        return page(StatusCode::FORBIDDEN, layout(lang, w.sign_out, alert(w.expired)));
    }
    if let Some(token) = cookies.read(&headers, SESSION) {
        let _ = state.sesame.sign_out(&token).await;
    }
    let mut response = Redirect::to("/").into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, cookies.set(SESSION, "", 0));
    response
}

async fn console(State(state): State<AppState>, staff: Staff) -> Response {
    let lang = staff.lang;
    let w = words(lang);
    let role = match staff.caller.role {
        crate::domain::Role::Admin => tr(lang, "administrateur", "administrator"),
        crate::domain::Role::SecondaryAdmin => {
            tr(lang, "administrateur secondaire", "secondary administrator")
        }
        crate::domain::Role::Teacher => tr(lang, "enseignant", "teacher"),
    };
    let classes = state.sesame.list_classes(&staff.caller).await.unwrap_or_default();
    let body = html! {
        div.card {
            p { (w.hello) " " (staff.account.first_name) " (" code { (staff.account.login) } ")" }
            p { (w.role) " : " strong #role { (role) } }
            @if !staff.caller.classes.is_empty() {
                p { (tr(lang, "Vos classes", "Your classes")) " : "
                    (staff.caller.classes.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")) }
            }
        }
        div.card {
            h2 { (tr(lang, "Classes", "Classes")) }
            ul {
                @for c in &classes {
                    li {
                        a href={ "/console/accounts?class=" (super::console_work::query_value(c.name.as_str())) } { (c.name) }
                        " · " span.muted { (c.student_count) " " (tr(lang, "élèves", "students")) }
                        " · " a href={ "/console/follow-up/" (super::console_work::path_segment(c.name.as_str())) } { (tr(lang, "suivi", "follow-up")) }
                    }
                }
            }
        }
    };
    page(StatusCode::OK, staff.shell("/console", w.console, body))
}
