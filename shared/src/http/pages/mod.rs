//! The self-service pages (SPEC §4): `/reset/{token}` and `/activate`, plain HTML
//! forms that work without JavaScript, on a phone, in French and English. They call
//! the same operations as `/v1/auth/reset` and `/v1/auth/activate`.
//!
//! Every response carries `Referrer-Policy: no-referrer`, `Cache-Control: no-store`,
//! a strict Content-Security-Policy and `nosniff`. The token is in the path, which
//! the request span never logs (it logs the route template only).

pub(crate) mod templates;

use crate::domain::Code;
use crate::domain::{Error, Language, SchoolId};
use crate::http::AppState;
use crate::http::extract::{ClientAddress, RequestId};
use crate::http::problem::status_of;
use crate::http::ui::{self, language, page, query_param, read_form};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::middleware;
use axum::response::Response;
use maud::Markup;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use templates::{Ending, Problem};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The one script of the pages: it fills the activation code in from the URL
/// fragment (`#code=…`, which browsers never send to the server) and then takes
/// the fragment out of the address bar and history. Without it, people type it.
const ACTIVATE_SCRIPT: &str = "(function(){var m=/(?:^#|&)code=([^&]*)/.exec(location.hash);\
if(!m)return;var f=document.getElementById('activation_code');\
if(f&&!f.value){try{f.value=decodeURIComponent(m[1].replace(/\\+/g,' '));}catch(e){}}\
history.replaceState(null,'',location.pathname+location.search);})();\n";

async fn activate_script() -> Response {
    ui::asset(ACTIVATE_SCRIPT, "text/javascript; charset=utf-8")
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(reset_page, reset_submit))
        .routes(routes!(activate_page, activate_submit))
        .route("/activate.js", axum::routing::get(activate_script))
        // A layer, so that even an extractor's rejection carries the headers.
        .layer(middleware::map_response(ui::security_headers))
}

/// A field as submitted; an empty one counts as missing.
fn filled(field: Option<SecretString>) -> Option<SecretString> {
    field.filter(|s| !s.expose_secret().is_empty())
}

/// The password a form chose, typed twice alike; else what to say.
fn chosen_password(
    lang: Language,
    password: Option<SecretString>,
    confirmation: Option<SecretString>,
) -> Result<SecretString, &'static str> {
    let (Some(password), Some(confirmation)) = (filled(password), filled(confirmation)) else {
        return Err(templates::missing(lang));
    };
    if password.expose_secret() != confirmation.expose_secret() {
        return Err(templates::mismatch(lang));
    }
    Ok(password)
}

/// How a failure is shown: the form again with what to fix, or a page that ends
/// the flow (the link or code cannot work, the account is locked or disabled).
fn failure(lang: Language, error: Error, form: &dyn Fn(&Problem) -> Markup) -> Response {
    let status = status_of(&error);
    let ending = |ending: Ending<'_>| page(status, lang, templates::ending(lang, ending));
    let mut response = match &error {
        Error::PasswordPolicy(broken) => page(status, lang, form(&Problem::policy(lang, broken))),
        Error::BadRequest {
            code: Code::InvalidActivationCode,
            ..
        } => {
            let wrong = ui::tr(
                lang,
                "Identifiant ou code d’activation incorrect, ou compte déjà activé.",
                "Wrong login or activation code, or the account is already activated.",
            );
            page(status, lang, form(&Problem::sentence(wrong)))
        }
        Error::BadRequest {
            code: Code::InvalidLink,
            ..
        } => ending(Ending::InvalidLink),
        Error::BadRequest {
            code: Code::LinkExpired,
            ..
        } => ending(Ending::LinkExpired),
        Error::BadRequest {
            code: Code::ActivationCodeExpired,
            ..
        } => ending(Ending::CodeExpired),
        Error::Locked { retry_after_secs } => {
            let minutes = retry_after_secs.div_ceil(60).max(1);
            let mut response = ending(Ending::Locked { minutes });
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            response
        }
        Error::AccessDisabled => ending(Ending::Disabled),
        Error::Federated { directory } => ending(Ending::Federated { directory }),
        other => {
            crate::http::problem::log_internal(other);
            ending(Ending::Broken)
        }
    };
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(1));
    }
    response
}

/// The success page, with a button to the school's login page when it has one.
async fn success(
    state: &AppState,
    lang: Language,
    activated: bool,
    login: &str,
    school: &SchoolId,
) -> Response {
    let school = state.sesame.school(school).await.ok();
    let login_url = school
        .map(|s| s.settings.login_url)
        .filter(|url| url.starts_with("https://") || url.starts_with("http://"));
    page(
        StatusCode::OK,
        lang,
        templates::done(lang, activated, login, login_url.as_deref()),
    )
}

/// What the reset form posts.
// Missing fields are `None` (no `serde(default)`: utoipa would serialize the default).
#[derive(Deserialize, ToSchema)]
pub struct ResetForm {
    /// `fr` or `en`.
    pub lang: Option<String>,
    /// Required: a form without it comes back (422) asking for it.
    #[schema(value_type = String, format = Password, required = true, min_length = 1)]
    pub new_password: Option<SecretString>,
    /// The same password again (else the form comes back, 422).
    #[schema(value_type = String, format = Password, required = true, min_length = 1)]
    pub confirmation: Option<SecretString>,
}

/// The page of a reset link: a form to choose a new password, or why the link does
/// not work (unknown, used, replaced, revoked or expired; it counts as a failed
/// attempt, like a wrong token posted).
#[utoipa::path(get, path = "/reset/{token}", tag = "pages",
    params(("token" = String, Path, description = "The token of the reset link"),
        ("lang" = Option<String>, Query, description = "`fr` or `en`; else `Accept-Language`, else French")),
    responses((status = 200, description = "The form", content_type = "text/html", body = String),
        (status = 400, description = "The link does not work", content_type = "text/html", body = String),
        (status = 403, description = "The account's access is disabled", content_type = "text/html", body = String),
        (status = 429, description = "Too many failed attempts", content_type = "text/html", body = String)))]
async fn reset_page(
    State(state): State<AppState>,
    client: ClientAddress,
    token: Result<Path<String>, PathRejection>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let lang = language(&uri, &headers, None);
    // An undecodable token is an invalid one.
    let token = SecretString::from(token.map(|Path(t)| t).unwrap_or_default());
    match state.sesame.check_reset_link(&token, client.0).await {
        Ok(link) => page(
            StatusCode::OK,
            lang,
            templates::reset_form(lang, link.login.as_str(), link.min_length, None),
        ),
        Err(e) => failure(lang, e, &|_| maud::html! {}),
    }
}

/// Uses a reset link from its form: password and confirmation, form-encoded.
#[utoipa::path(post, path = "/reset/{token}", tag = "pages",
    params(("token" = String, Path, description = "The token of the reset link")),
    request_body(content = ResetForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "Saved", content_type = "text/html", body = String),
        (status = 400, description = "The link does not work", content_type = "text/html", body = String),
        (status = 403, description = "The account's access is disabled", content_type = "text/html", body = String),
        (status = 422, description = "The form again, with what to fix (a missing field, two passwords that differ, the school's policy)", content_type = "text/html", body = String),
        (status = 429, description = "Too many failed attempts", content_type = "text/html", body = String)))]
async fn reset_submit(
    State(state): State<AppState>,
    request_id: RequestId,
    client: ClientAddress,
    token: Result<Path<String>, PathRejection>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let form = read_form::<ResetForm>(&headers, body);
    let lang = language(&uri, &headers, form.as_ref().ok().and_then(|f| f.lang.as_deref()));
    let token = SecretString::from(token.map(|Path(t)| t).unwrap_or_default());
    // The form again, with what to fix: the link is read (and counted) only then,
    // so that a submit counts one attempt, not two.
    let again = |problem: Problem, status: StatusCode| {
        let (state, token) = (&state, &token);
        async move {
            match state.sesame.check_reset_link(token, client.0).await {
                Ok(link) => page(
                    status,
                    lang,
                    templates::reset_form(lang, link.login.as_str(), link.min_length, Some(&problem)),
                ),
                Err(e) => failure(lang, e, &|_| maud::html! {}),
            }
        }
    };
    let password = match form
        .map_err(|status| (status, templates::missing(lang).to_owned()))
        .and_then(|form| {
            chosen_password(lang, form.new_password, form.confirmation)
                .map_err(|sentence| (StatusCode::UNPROCESSABLE_ENTITY, sentence.to_owned()))
        }) {
        Ok(password) => password,
        Err((status, sentence)) => return again(Problem::sentence(&sentence), status).await,
    };
    match state
        .sesame
        .reset_with_token(request_id.as_deref(), client.0, token.clone(), password)
        .await
    {
        Ok(done) => success(&state, lang, false, done.login.as_str(), &done.school).await,
        Err(Error::PasswordPolicy(broken)) => {
            again(Problem::policy(lang, &broken), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => failure(lang, e, &|_| maud::html! {}),
    }
}

/// What the activation form posts.
#[derive(Deserialize, ToSchema)]
pub struct ActivateForm {
    /// `fr` or `en`.
    pub lang: Option<String>,
    /// Read without the spaces around it; required (a form without it comes back, 422).
    #[schema(value_type = String, required = true, pattern = r"\S")]
    pub login: Option<String>,
    #[schema(value_type = String, format = Password, required = true, min_length = 1)]
    pub activation_code: Option<SecretString>,
    #[schema(value_type = String, format = Password, required = true, min_length = 1)]
    pub new_password: Option<SecretString>,
    /// The same password again (else the form comes back, 422).
    #[schema(value_type = String, format = Password, required = true, min_length = 1)]
    pub confirmation: Option<SecretString>,
}

/// The page where a student or parent claims their account with the activation
/// code from the school. `?login=` fills in the login.
#[utoipa::path(get, path = "/activate", tag = "pages",
    params(("lang" = Option<String>, Query, description = "`fr` or `en`; else `Accept-Language`, else French"),
        ("login" = Option<String>, Query, description = "Fills in the login")),
    responses((status = 200, description = "The form", content_type = "text/html", body = String)))]
async fn activate_page(uri: Uri, headers: HeaderMap) -> Response {
    let lang = language(&uri, &headers, None);
    let login = query_param(&uri, "login").unwrap_or_default();
    page(StatusCode::OK, lang, templates::activate_form(lang, &login, None))
}

/// Claims an account from the activation form: login, code, password and
/// confirmation, form-encoded.
#[utoipa::path(post, path = "/activate", tag = "pages",
    request_body(content = ActivateForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "Activated", content_type = "text/html", body = String),
        (status = 400, description = "The form again (wrong code), or the code has expired", content_type = "text/html", body = String),
        (status = 403, description = "Access disabled", content_type = "text/html", body = String),
        (status = 422, description = "The form again, with what to fix (a missing field, two passwords that differ, the school's policy)", content_type = "text/html", body = String),
        (status = 429, description = "Too many failed attempts", content_type = "text/html", body = String)))]
async fn activate_submit(
    State(state): State<AppState>,
    request_id: RequestId,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let form = read_form::<ActivateForm>(&headers, body);
    let lang = language(&uri, &headers, form.as_ref().ok().and_then(|f| f.lang.as_deref()));
    let login = form
        .as_ref()
        .ok()
        .and_then(|f| f.login.clone())
        .unwrap_or_default()
        .trim()
        .to_owned();
    let form_again = |problem: &Problem| templates::activate_form(lang, &login, Some(problem));
    let form = match form {
        Ok(form) => form,
        Err(status) => {
            return page(
                status,
                lang,
                form_again(&Problem::sentence(templates::missing(lang))),
            );
        }
    };
    let code = filled(form.activation_code).filter(|_| !login.is_empty());
    let chosen = code
        .ok_or(templates::missing(lang))
        .and_then(|code| Ok((code, chosen_password(lang, form.new_password, form.confirmation)?)));
    let (code, password) = match chosen {
        Ok(both) => both,
        Err(sentence) => {
            return page(
                StatusCode::UNPROCESSABLE_ENTITY,
                lang,
                form_again(&Problem::sentence(sentence)),
            );
        }
    };
    match state
        .sesame
        .activate(request_id.as_deref(), &login, code, password)
        .await
    {
        Ok(done) => success(&state, lang, true, done.login.as_str(), &done.school).await,
        Err(e) => failure(lang, e, &form_again),
    }
}
