//! The console's door: sign in, sign out, and the own page of every account
//! (change the password, forced first when it is temporary).

use super::kit::*;
use crate::credentials::links::new_session_token;
use crate::domain::{Account, Error, Language, Seat, Session};
use crate::http::AppState;
use crate::http::ui::{alert, language, tr};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

fn sign_in_form(lang: Language, csrf: &str, problem: Option<&str>, login: &str) -> Markup {
    let code = lang.code();
    layout(
        lang,
        tr(lang, "Se connecter", "Sign in"),
        html! {
            @if let Some(problem) = problem { (alert(problem)) }
            form method="post" action="/sign-in" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="lang" value=(code);
                label for="login" { (tr(lang, "Identifiant", "Login")) }
                input #login name="login" value=(login) autocomplete="username" autocapitalize="none" required;
                label for="password" { (tr(lang, "Mot de passe", "Password")) }
                input #password type="password" name="password" autocomplete="current-password" required;
                button type="submit" { (tr(lang, "Se connecter", "Sign in")) }
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

fn landing(account: &Account) -> &'static str {
    match account.seat() {
        Seat::Console(_) if !account.credentials.must_change_password => "/console",
        _ => "/me",
    }
}

pub(super) async fn home(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
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
        language(&uri, &headers, None),
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

pub(super) async fn sign_in(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(form) = crate::http::ui::form::<SignInForm>(&headers, &body) else {
        return fresh_sign_in(
            &state,
            language(&uri, &headers, None),
            StatusCode::BAD_REQUEST,
            None,
        );
    };
    let lang = language(&uri, &headers, form.lang.as_deref());
    let expected = Cookies::of(&state).read(&headers, FORM);
    let presented = form.csrf.unwrap_or_default();
    let same = expected.is_some_and(|e| {
        use subtle::ConstantTimeEq;
        !e.is_empty() && bool::from(e.as_bytes().ct_eq(presented.as_bytes()))
    });
    if !same {
        return fresh_sign_in(
            &state,
            lang,
            StatusCode::FORBIDDEN,
            Some(tr(
                lang,
                "La page a expiré : recommencez.",
                "This page expired: please start again.",
            )),
        );
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
            fresh_sign_in(
                &state,
                lang,
                StatusCode::TOO_MANY_REQUESTS,
                Some(tr(
                    lang,
                    "Trop d'essais : réessayez dans quelques minutes.",
                    "Too many attempts: try again in a few minutes.",
                )),
            ),
            retry_after_secs,
        ),
        Err(Error::AccessDisabled) => fresh_sign_in(
            &state,
            lang,
            StatusCode::FORBIDDEN,
            Some(tr(
                lang,
                "L'accès de ce compte est désactivé.",
                "This account's access is disabled.",
            )),
        ),
        Err(Error::InvalidCredentials) => fresh_sign_in(
            &state,
            lang,
            StatusCode::UNAUTHORIZED,
            Some(tr(
                lang,
                "Identifiant ou mot de passe incorrect.",
                "Wrong login or password.",
            )),
        ),
        // Anything else decided nothing about the password: never "wrong password".
        Err(e) => {
            let status = crate::http::problem::status_of(&e);
            crate::http::problem::log_internal(&e);
            let retry_after = match e {
                Error::Busy { retry_after_secs } => retry_after_secs,
                _ => 1,
            };
            with_retry_after(
                fresh_sign_in(
                    &state,
                    lang,
                    status,
                    Some(tr(
                        lang,
                        "Le service ne répond pas pour le moment : réessayez dans un instant.",
                        "The service is not answering right now: try again in a moment.",
                    )),
                ),
                retry_after,
            )
        }
    }
}

fn own_page(lang: Language, session: &Session, account: &Account, message: Option<Markup>) -> Markup {
    html! {
        p { (tr(lang, "Bonjour", "Hello")) " " (account.first_name) " (" code { (account.login) } ")" }
        @if let Some(message) = message { (message) }
        @if account.credentials.must_change_password { (alert(tr(lang, "Choisissez maintenant votre propre mot de passe.", "Choose your own password now."))) }
        h2 { (tr(lang, "Changer de mot de passe", "Change my password")) }
        form method="post" action="/me/password" {
            input type="hidden" name="csrf" value=(session.csrf);
            label for="current" { (tr(lang, "Mot de passe actuel", "Current password")) }
            input #current type="password" name="current_password" autocomplete="current-password" required;
            label for="new" { (tr(lang, "Nouveau mot de passe", "New password")) }
            input #new type="password" name="new_password" autocomplete="new-password" required;
            label for="confirmation" { (tr(lang, "Confirmez le nouveau mot de passe", "Confirm the new password")) }
            input #confirmation type="password" name="confirmation" autocomplete="new-password" required;
            button type="submit" { (tr(lang, "Enregistrer", "Save")) }
        }
        (sign_out_form(lang, session))
    }
}

pub(super) async fn me(
    SignedIn {
        lang,
        session,
        account,
    }: SignedIn,
) -> Response {
    let title = tr(lang, "Changer de mot de passe", "Change my password");
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

pub(super) async fn change_password(
    State(state): State<AppState>,
    signed: SignedIn,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let SignedIn {
        lang,
        mut session,
        account,
    } = signed;
    let form = crate::http::ui::form::<PasswordForm>(&headers, &body);
    let Some(form) = form.filter(|f| session.csrf_matches(f.csrf.as_deref().unwrap_or_default())) else {
        return expired(lang, tr(lang, "Changer de mot de passe", "Change my password"));
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
            layout(
                lang,
                tr(lang, "Changer de mot de passe", "Change my password"),
                own_page(lang, &session, &account, Some(message)),
            ),
        )
    };
    if new.expose_secret() != confirmation.expose_secret() {
        return again(
            StatusCode::UNPROCESSABLE_ENTITY,
            alert(tr(
                lang,
                "Les deux mots de passe ne sont pas identiques.",
                "The two passwords differ.",
            )),
        );
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
            let saved = html! { div.alert.ok role="status" { p { (tr(lang, "Votre mot de passe est enregistré.", "Your password is saved.")) } } };
            page(
                StatusCode::OK,
                layout(
                    lang,
                    tr(lang, "Changer de mot de passe", "Change my password"),
                    own_page(lang, &session, &fresh, Some(saved)),
                ),
            )
        }
        Err(Error::Locked { .. } | Error::Busy { .. }) => again(
            StatusCode::TOO_MANY_REQUESTS,
            alert(tr(
                lang,
                "Trop d'essais : réessayez dans quelques minutes.",
                "Too many attempts: try again in a few minutes.",
            )),
        ),
        Err(Error::PasswordPolicy(errors) | Error::Validation(errors)) => {
            let list = html! {
                div.alert role="alert" { ul { @for e in &errors { li { (e.message) } } } }
            };
            again(StatusCode::UNPROCESSABLE_ENTITY, list)
        }
        Err(Error::InvalidCredentials | Error::Unauthenticated) => again(
            StatusCode::UNAUTHORIZED,
            alert(tr(
                lang,
                "Identifiant ou mot de passe incorrect.",
                "Wrong login or password.",
            )),
        ),
        Err(e @ Error::AccessDisabled) => again(logged_status(&e), problem(lang, &e)),
        // The store did not answer, or worse: "try again", never "wrong password".
        Err(e) => unavailable(lang, &e),
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: Option<String>,
}

pub(super) async fn sign_out(
    State(state): State<AppState>,
    SignedIn { lang, session, .. }: SignedIn,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let cookies = Cookies::of(&state);
    let presented = crate::http::ui::form::<CsrfForm>(&headers, &body)
        .and_then(|f| f.csrf)
        .unwrap_or_default();
    if !session.csrf_matches(&presented) {
        return expired(lang, tr(lang, "Se déconnecter", "Sign out"));
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

pub(super) async fn console(State(state): State<AppState>, staff: Staff) -> Response {
    let lang = staff.lang;
    let role = match staff.caller.role {
        crate::domain::Role::Admin => tr(lang, "administrateur", "administrator"),
        crate::domain::Role::SecondaryAdmin => {
            tr(lang, "administrateur secondaire", "secondary administrator")
        }
        crate::domain::Role::Teacher => tr(lang, "enseignant", "teacher"),
    };
    let classes = match state.sesame.list_classes(&staff.caller).await {
        Ok(classes) => classes,
        Err(e) => return unavailable(lang, &e),
    };
    let body = html! {
        div.card {
            p { (tr(lang, "Bonjour", "Hello")) " " (staff.account.first_name) " (" code { (staff.account.login) } ")" }
            p { (tr(lang, "Rôle", "Role")) " : " strong #role { (role) } }
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
                        a href={ "/console/accounts?class=" (query_value(c.name.as_str())) } { (c.name) }
                        " · " span.muted { (c.student_count) " " (tr(lang, "élèves", "students")) }
                        " · " a href={ "/console/follow-up/" (path_segment(c.name.as_str())) } { (tr(lang, "suivi", "follow-up")) }
                    }
                }
            }
        }
    };
    page(
        StatusCode::OK,
        staff.shell(
            "/console",
            tr(lang, "Console de l'établissement", "School console"),
            body,
        ),
    )
}
