//! The console's accounts page (SPEC §11, seeds 001–004): the class drop-down,
//! the list's filters, the count and pages, check boxes, and a reset of the
//! checked accounts whose temporary passwords are shown once, on a printable
//! page that is never fetched again. Every action calls the API's operations.

use super::AppState;
use super::console::{Staff, alert, form_pairs, layout, page};
use super::routes::accounts::ListParams;
use crate::domain::{AccountId, Activation, Language, Profile};
use crate::ops::reset::ResetMethod;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use maud::html;
use secrecy::ExposeSecret;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/console/accounts", axum::routing::get(accounts))
        .route("/console/accounts/reset", axum::routing::post(reset))
}

struct Words {
    title: &'static str,
    class: &'static str,
    all: &'static str,
    profile: &'static str,
    activation: &'static str,
    pending: &'static str,
    activated: &'static str,
    search: &'static str,
    filter: &'static str,
    count: &'static str,
    name: &'static str,
    login: &'static str,
    select: &'static str,
    next: &'static str,
    reset: &'static str,
    none_checked: &'static str,
    passwords: &'static str,
    once: &'static str,
    password: &'static str,
    until: &'static str,
    refused: &'static str,
    back: &'static str,
}

fn words(lang: Language) -> &'static Words {
    const FR: Words = Words {
        title: "Comptes",
        class: "Classe",
        all: "Toutes",
        profile: "Profil",
        activation: "Activation",
        pending: "En attente",
        activated: "Activé",
        search: "Nom ou identifiant",
        filter: "Filtrer",
        count: "comptes",
        name: "Nom",
        login: "Identifiant",
        select: "Choisir",
        next: "Page suivante",
        reset: "Réinitialiser les comptes cochés (mot de passe temporaire)",
        none_checked: "Cochez au moins un compte.",
        passwords: "Mots de passe temporaires",
        once: "Ces mots de passe ne seront plus jamais affichés : imprimez ou notez-les maintenant.",
        password: "Mot de passe temporaire",
        until: "Valable jusqu'au",
        refused: "Refusé",
        back: "Retour aux comptes",
    };
    const EN: Words = Words {
        title: "Accounts",
        class: "Class",
        all: "All",
        profile: "Profile",
        activation: "Activation",
        pending: "Pending",
        activated: "Activated",
        search: "Name or login",
        filter: "Filter",
        count: "accounts",
        name: "Name",
        login: "Login",
        select: "Select",
        next: "Next page",
        reset: "Reset the checked accounts (temporary password)",
        none_checked: "Check at least one account.",
        passwords: "Temporary passwords",
        once: "These passwords will never be shown again: print or write them down now.",
        password: "Temporary password",
        until: "Valid until",
        refused: "Refused",
        back: "Back to the accounts",
    };
    match lang {
        Language::Fr => &FR,
        Language::En => &EN,
    }
}

fn profile_word(lang: Language, profile: Profile) -> &'static str {
    crate::export::labels::Labels::of(lang).profile(profile)
}

async fn accounts(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let staff = match Staff::of(&state, &uri, &headers).await {
        Ok(staff) => staff,
        Err(response) => return response,
    };
    let (lang, caller) = (staff.lang, &staff.caller);
    let w = words(lang);
    // The list's own parameters; the page's language is not one of them.
    let pairs: Vec<(String, String)> = uri
        .query()
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default();
    let kept: Vec<(String, String)> = pairs
        .into_iter()
        .filter(|(k, v)| k != "lang" && !v.is_empty())
        .collect();
    let params: ListParams = serde_urlencoded::to_string(&kept)
        .ok()
        .and_then(|q| serde_urlencoded::from_str(&q).ok())
        .unwrap_or_default();
    let chosen = |name: &str| kept.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let (class, profile, activation, q) = (
        chosen("class").unwrap_or_default(),
        chosen("profile").unwrap_or_default(),
        chosen("activation").unwrap_or_default(),
        chosen("q").unwrap_or_default(),
    );
    let body = match params.into_query() {
        Err(e) => alert(&e.to_string()),
        Ok((selection, sort, cursor, limit)) => {
            let classes = state.sesame.list_classes(caller).await.unwrap_or_default();
            let list = state
                .sesame
                .list_accounts(caller, &selection, sort, cursor.as_deref(), limit.min(100))
                .await;
            let list = match list {
                Ok(list) => list,
                Err(e) => {
                    return page(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        layout(lang, w.title, alert(&e.to_string())),
                    );
                }
            };
            let next = list.next_cursor.as_ref().map(|c| {
                let mut query = kept.clone();
                query.retain(|(k, _)| k != "cursor");
                query.push(("cursor".into(), c.clone()));
                format!(
                    "/console/accounts?{}",
                    serde_urlencoded::to_string(&query).unwrap_or_default()
                )
            });
            html! {
                form.filters method="get" action="/console/accounts" {
                    label for="class" { (w.class) }
                    select #class name="class" {
                        option value="" { (w.all) }
                        @for c in &classes {
                            option value=(c.name) selected[c.name.as_str() == class] { (c.name) }
                        }
                    }
                    label for="profile" { (w.profile) }
                    select #profile name="profile" {
                        option value="" { (w.all) }
                        @for p in [Profile::Student, Profile::Parent, Profile::Teacher, Profile::Staff, Profile::Guest] {
                            option value=(p.as_str()) selected[p.as_str() == profile] { (profile_word(lang, p)) }
                        }
                    }
                    label for="activation" { (w.activation) }
                    select #activation name="activation" {
                        option value="" { (w.all) }
                        option value="pending" selected[activation == "pending"] { (w.pending) }
                        option value="activated" selected[activation == "activated"] { (w.activated) }
                    }
                    label for="q" { (w.search) }
                    input #q name="q" value=(q);
                    button type="submit" { (w.filter) }
                }
                p { strong #count { (list.total) } " " (w.count) }
                form method="post" action="/console/accounts/reset" {
                    input type="hidden" name="csrf" value=(staff.session.csrf);
                    table {
                        thead { tr {
                            th scope="col" { (w.select) }
                            th scope="col" { (w.name) }
                            th scope="col" { (w.login) }
                            th scope="col" { (w.class) }
                            th scope="col" { (w.profile) }
                            th scope="col" { (w.activation) }
                        } }
                        tbody {
                            @for a in &list.items {
                                tr {
                                    td { input type="checkbox" name="id" value=(a.id) aria-label={ (a.first_name) " " (a.last_name) }; }
                                    td { (a.last_name) " " (a.first_name) }
                                    td { code { (a.login) } }
                                    td { (a.classes.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")) }
                                    td { (profile_word(lang, a.profile)) }
                                    td { @if a.activation == Activation::Activated { (w.activated) } @else { (w.pending) } }
                                }
                            }
                        }
                    }
                    button type="submit" { (w.reset) }
                }
                @if let Some(next) = next { p { a href=(next) { (w.next) } } }
            }
        }
    };
    page(StatusCode::OK, layout(lang, w.title, body))
}

async fn reset(State(state): State<AppState>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let staff = match Staff::of(&state, &uri, &headers).await {
        Ok(staff) => staff,
        Err(response) => return response,
    };
    let lang = staff.lang;
    let w = words(lang);
    let Some(pairs) = form_pairs(&headers, &body).filter(|p| staff.csrf_ok(p)) else {
        return staff.forbidden();
    };
    let ids: Vec<AccountId> = pairs
        .iter()
        .filter(|(k, _)| k == "id")
        .filter_map(|(_, v)| AccountId::parse(v).ok())
        .collect();
    if ids.is_empty() || ids.len() > 100 {
        return page(
            StatusCode::UNPROCESSABLE_ENTITY,
            layout(lang, w.passwords, alert(w.none_checked)),
        );
    }
    let results = match state
        .sesame
        .reset_passwords(&staff.caller, None, &ids, ResetMethod::Temporary, None)
        .await
    {
        Ok(results) => results,
        Err(e) => {
            return page(
                StatusCode::UNPROCESSABLE_ENTITY,
                layout(lang, w.passwords, alert(&e.to_string())),
            );
        }
    };
    let accounts = state
        .sesame
        .accounts
        .get_accounts(&staff.caller.school, &ids)
        .await
        .unwrap_or_default();
    let body = html! {
        (alert(w.once))
        table.print {
            thead { tr {
                th scope="col" { (w.name) }
                th scope="col" { (w.login) }
                th scope="col" { (w.password) }
                th scope="col" { (w.until) }
            } }
            tbody {
                @for r in &results {
                    @let account = accounts.iter().find(|a| a.id == r.account_id);
                    tr {
                        td { @if let Some(a) = account { (a.last_name) " " (a.first_name) } }
                        td { @if let Some(a) = account { code { (a.login) } } }
                        @match &r.result {
                            Ok(issued) => {
                                td { code.secret { (issued.password.expose_secret()) } }
                                td { @if let Some(at) = issued.expires_at { (at.format("%Y-%m-%d %H:%M UTC")) } }
                            }
                            Err(e) => { td colspan="2" { (w.refused) " : " (e.to_string()) } }
                        }
                    }
                }
            }
        }
        p { a href="/console/accounts" { (w.back) } }
    };
    page(StatusCode::OK, layout(lang, w.passwords, body))
}
