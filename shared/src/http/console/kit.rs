//! The console's kit: who is signed in (the session cookie, the member of staff
//! and the caller they act as), posted forms and their CSRF token, the shell of
//! every page, and one way to show an operation's refusal (the status and log of
//! the API's problem, rendered as HTML). Every page module uses it; it uses none.

use crate::domain::{Account, Error, Language, Profile, Session};
use crate::http::AppState;
use crate::http::ui::{alert, form_pairs, language, tr};
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

/// The cookies' names and attributes, from where the console is reached.
pub(super) struct Cookies {
    secure: bool,
}

impl Cookies {
    pub(super) fn of(state: &AppState) -> Self {
        let url = state.sesame.public_url.as_str();
        let host = url
            .split_once("://")
            .map_or("", |(_, rest)| rest.split(['/', ':']).next().unwrap_or_default());
        let loopback = matches!(host, "127.0.0.1" | "localhost" | "[") || url.contains("://[::1]");
        Self {
            secure: url.starts_with("https://") || loopback,
        }
    }

    pub(super) fn name(&self, base: &str) -> String {
        if self.secure {
            format!("__Host-{base}")
        } else {
            base.to_owned()
        }
    }

    pub(super) fn set(&self, base: &str, value: &str, max_age: i64) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        let cookie = format!(
            "{}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}",
            self.name(base)
        );
        HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    pub(super) fn read(&self, headers: &HeaderMap, base: &str) -> Option<String> {
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

pub(super) const SESSION: &str = "sesame";

/// The sign-in form's token, before any session exists (double submit).
pub(super) const FORM: &str = "sesame-form";

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

/// Whoever the session names, staff or not (the own page, sign-out): a request
/// without one is sent to the sign-in page, one whose store does not answer gets
/// "try again".
pub(super) struct SignedIn {
    pub lang: Language,
    pub session: Session,
    pub account: Account,
}

impl axum::extract::FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Response> {
        let lang = language(&parts.uri, &parts.headers, None);
        match current(state, &parts.uri, &parts.headers).await? {
            Some((session, account)) => Ok(Self {
                lang,
                session,
                account,
            }),
            None => Err(Redirect::to("/").into_response()),
        }
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

/// What a console path names: an account, or a class.
pub(super) trait Named: Sized {
    /// The page whose navigation a refusal shows, and its title.
    fn page(lang: Language) -> (&'static str, &'static str);
    fn parse(raw: &str) -> Option<Self>;
}

impl Named for crate::domain::AccountId {
    fn page(lang: Language) -> (&'static str, &'static str) {
        ("/console/accounts", tr(lang, "Comptes", "Accounts"))
    }

    fn parse(raw: &str) -> Option<Self> {
        Self::parse(raw).ok()
    }
}

impl Named for crate::domain::ClassName {
    fn page(lang: Language) -> (&'static str, &'static str) {
        (
            "/console/follow-up",
            tr(lang, "Suivi des classes", "Class follow-up"),
        )
    }

    fn parse(raw: &str) -> Option<Self> {
        Self::parse(raw).ok()
    }
}

/// A form posted about what the path names (`/console/accounts/{id}/…`,
/// `/console/follow-up/{class}/…`), its CSRF token checked; a path that names
/// nothing is refused as not found, on its page.
pub(super) struct PostedTo<T> {
    pub staff: Staff,
    pub pairs: Vec<(String, String)>,
    /// The path's value as written (to link back to it).
    pub raw: String,
    pub named: T,
}

impl<T: Named + Send> axum::extract::FromRequest<AppState> for PostedTo<T> {
    type Rejection = Response;

    async fn from_request(request: axum::extract::Request, state: &AppState) -> Result<Self, Response> {
        use axum::extract::FromRequestParts;
        let (mut parts, body) = request.into_parts();
        let raw = axum::extract::Path::<String>::from_request_parts(&mut parts, state)
            .await
            .map(|p| p.0)
            .unwrap_or_default();
        let request = axum::extract::Request::from_parts(parts, body);
        let Posted { staff, pairs } = Posted::from_request(request, state).await?;
        let Some(named) = T::parse(&raw) else {
            let (here, title) = T::page(staff.lang);
            return Err(refused(&staff, here, title, &Error::NotFound));
        };
        Ok(Self {
            staff,
            pairs,
            raw,
            named,
        })
    }
}

impl Staff {
    /// The staff member the request's session names, or where to send the browser.
    pub(super) async fn of(state: &AppState, uri: &Uri, headers: &HeaderMap) -> Result<Self, Response> {
        let lang = language(uri, headers, None);
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
        page(
            StatusCode::FORBIDDEN,
            self.shell(
                "",
                tr(self.lang, "Console de l'établissement", "School console"),
                alert(tr(
                    self.lang,
                    "La page a expiré : recommencez.",
                    "This page expired: please start again.",
                )),
            ),
        )
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
        let caller = &self.caller;
        let mut links = vec![
            ("/console/accounts", tr(lang, "Comptes", "Accounts")),
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
                            li { (crate::http::ui::language_switch(lang)) }
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
        crate::http::ui::document(lang, title, head, body)
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

/// A card page (sign-in, own page) in `lang`, offering the other language.
pub(super) fn layout(lang: Language, title: &str, body: Markup) -> Markup {
    crate::http::ui::card(lang, title, body, true)
}

/// The status of an operation's refusal, as the API's problem would have it; an
/// internal error is logged once (with the request's id).
pub(super) fn logged_status(e: &Error) -> StatusCode {
    crate::http::problem::log_internal(e);
    crate::http::problem::status_of(e)
}

/// An HTML response.
pub(super) fn page(status: StatusCode, markup: Markup) -> Response {
    crate::http::ui::respond(status, markup)
}

/// The session the request's cookie names, and its account, if it still holds; a
/// store that does not answer is a page saying to try again (503), never a
/// signed-out visitor.
pub(super) async fn current(
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
        Err(e) => Err(unavailable(language(uri, headers, None), &e)),
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
    with_retry_after(
        page(
            status,
            layout(
                lang,
                tr(lang, "Se connecter", "Sign in"),
                alert(tr(
                    lang,
                    "Le service ne répond pas pour le moment : réessayez dans un instant.",
                    "The service is not answering right now: try again in a moment.",
                )),
            ),
        ),
        1,
    )
}

/// An operation's refusal as a page of the console: the status and the log line
/// the API's problem would have (one mapping, two renderings).
pub(super) fn refused(staff: &Staff, here: &str, title: &str, e: &Error) -> Response {
    let response = page(logged_status(e), staff.shell(here, title, problem(staff.lang, e)));
    match e {
        Error::Busy { retry_after_secs } | Error::Locked { retry_after_secs } => {
            with_retry_after(response, *retry_after_secs)
        }
        Error::Unavailable(_) => with_retry_after(response, 1),
        _ => response,
    }
}

/// A form posted without this session's token, on a card page (own page, sign-out).
pub(super) fn expired(lang: Language, title: &str) -> Response {
    let message = tr(
        lang,
        "La page a expiré : recommencez.",
        "This page expired: please start again.",
    );
    page(StatusCode::FORBIDDEN, layout(lang, title, alert(message)))
}

/// A refusal on the accounts' pages.
pub(super) fn accounts_refused(staff: &Staff, e: &Error) -> Response {
    let title = tr(staff.lang, "Comptes", "Accounts");
    refused(staff, "/console/accounts", title, e)
}

pub(super) fn with_retry_after(mut response: Response, seconds: u64) -> Response {
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, axum::http::HeaderValue::from(seconds));
    response
}

pub(super) fn sign_out_form(lang: Language, session: &Session) -> Markup {
    html! {
        form method="post" action="/sign-out" {
            input type="hidden" name="csrf" value=(session.csrf);
            button type="submit" { (tr(lang, "Se déconnecter", "Sign out")) }
        }
    }
}

/// An operation's refusal, with each field's message when there are several.
pub(super) fn problem(lang: Language, e: &Error) -> Markup {
    match e {
        Error::NotFound => alert(tr(lang, "Introuvable.", "Not found.")),
        Error::Forbidden => alert(tr(lang, "Vous ne pouvez pas faire cela.", "You may not do this.")),
        Error::Validation(errors) | Error::PasswordPolicy(errors) => html! {
            div.alert role="alert" { ul { @for e in errors { li { (e.message) } } } }
        },
        e => alert(&e.to_string()),
    }
}

pub(super) fn secret_kind(lang: Language, kind: crate::domain::SecretKind) -> &'static str {
    use crate::domain::SecretKind as K;
    match kind {
        K::TemporaryPassword => tr(lang, "mot de passe temporaire", "temporary password"),
        K::BirthDatePassword => tr(lang, "date de naissance", "birth date"),
        K::ActivationCode => tr(lang, "code d'activation", "activation code"),
        K::ResetLink => tr(lang, "lien de réinitialisation", "reset link"),
    }
}

pub(super) fn state_code(state: crate::domain::SecretState) -> &'static str {
    use crate::domain::SecretState as S;
    match state {
        S::Open => "open",
        S::Used => "used",
        S::Expired => "expired",
        S::Replaced => "replaced",
        S::Revoked => "revoked",
    }
}

pub(super) fn state_word(lang: Language, state: crate::domain::SecretState) -> &'static str {
    use crate::domain::SecretState as S;
    match state {
        S::Open => tr(lang, "ouvert", "open"),
        S::Used => tr(lang, "utilisé", "used"),
        S::Expired => tr(lang, "expiré", "expired"),
        S::Replaced => tr(lang, "remplacé", "replaced"),
        S::Revoked => tr(lang, "révoqué", "revoked"),
    }
}

/// The query's pairs, empty ones and the page's language left out.
pub(super) fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    let pairs: Vec<(String, String)> = uri
        .query()
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default();
    pairs
        .into_iter()
        .filter(|(k, v)| k != "lang" && !v.is_empty())
        .collect()
}

/// The checked ids as posted (repeats and malformed ones included: the command
/// decides, as it does for the API).
pub(super) fn checked_ids(pairs: &[(String, String)]) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, _)| k == "id")
        .map(|(_, v)| v.clone())
        .collect()
}

/// `value` encoded for a query string.
pub(super) fn query_value(value: &str) -> String {
    serde_urlencoded::to_string([("", value)])
        .map(|s| s.trim_start_matches('=').to_owned())
        .unwrap_or_default()
}

/// `value` encoded as one path segment.
pub(super) fn path_segment(value: &str) -> String {
    query_value(value).replace('+', "%20")
}

/// A labelled drop-down of the filter form: `name`'s options (value, label), the one
/// equal to `current` chosen, after an entry for "all" when `all` names it.
pub(super) fn choice(
    name: &str,
    label: &str,
    all: Option<&str>,
    options: &[(&str, &str)],
    current: &str,
) -> Markup {
    html! {
        div {
            label for=(name) { (label) }
            select id=(name) name=(name) {
                @if let Some(all) = all { option value="" { (all) } }
                @for (value, text) in options {
                    option value=(value) selected[*value == current] { (text) }
                }
            }
        }
    }
}

pub(super) fn profile_word(lang: Language, profile: Profile) -> &'static str {
    crate::export::labels::Labels::of(lang).profile(profile)
}

pub(super) fn full_name(a: &Account) -> String {
    format!("{} {}", a.last_name, a.first_name)
}

pub(super) fn class_list(a: &Account) -> String {
    a.classes
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A page that reloads itself every two seconds (a job's progress), no script.
pub(super) fn refreshing(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert("refresh", HeaderValue::from_static("2"));
    response
}
