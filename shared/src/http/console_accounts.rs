//! The console's accounts (SPEC §11, seeds 001–004): the class drop-down, the
//! list's filters, sort, count and pages, check boxes and the actions on the
//! checked (each confirmed first), temporary passwords shown once on a printable
//! page never fetched again, the recently disabled, and an account's own page
//! (details, family, set password, ledger, unlock). Every action calls the API's
//! operations, so every rule of §2 holds here too.

use super::AppState;
use super::console::{Posted, Staff, alert, page, scroll_table, tr};
use super::routes::accounts::ListParams;
use crate::domain::{Access, Account, AccountId, Activation, Error, Language, Profile, Source};
use crate::export::{Content, Format, PerPage};
use crate::ops::PerAccount;
use crate::ops::accounts::Selection;
use crate::ops::commands::{Bulk, Sent};
use crate::ops::mail::{MailOutcome, MailReport};
use crate::ops::reset::ResetMethod;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use secrecy::{ExposeSecret, SecretString};

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/console/accounts", axum::routing::get(accounts))
        .route("/console/accounts/act", axum::routing::post(act))
        .route("/console/accounts/reset", axum::routing::post(reset))
        .route("/console/accounts/{id}", axum::routing::get(account))
        .route(
            "/console/accounts/{id}/password",
            axum::routing::post(set_password),
        )
        .route("/console/accounts/{id}/unlock", axum::routing::post(unlock))
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

/// A labelled drop-down of the filter form: `name`'s options (value, label), the one
/// equal to `current` chosen, after an entry for "all" when `all` names it.
fn choice(name: &str, label: &str, all: Option<&str>, options: &[(&str, &str)], current: &str) -> Markup {
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

fn profile_word(lang: Language, profile: Profile) -> &'static str {
    crate::export::labels::Labels::of(lang).profile(profile)
}

fn full_name(a: &Account) -> String {
    format!("{} {}", a.last_name, a.first_name)
}

fn class_list(a: &Account) -> String {
    a.classes
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The query's pairs, empty ones and the page's language left out.
fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    let pairs: Vec<(String, String)> = uri
        .query()
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default();
    pairs
        .into_iter()
        .filter(|(k, v)| k != "lang" && !v.is_empty())
        .collect()
}

fn action_label(lang: Language, action: Bulk) -> &'static str {
    match action {
        Bulk::Reset(ResetMethod::Temporary) => tr(
            lang,
            "Réinitialiser : mot de passe temporaire",
            "Reset: temporary password",
        ),
        Bulk::Reset(ResetMethod::BirthDate) => {
            tr(lang, "Réinitialiser : date de naissance", "Reset: birth date")
        }
        Bulk::Reset(ResetMethod::EmailLink) => {
            tr(lang, "Réinitialiser : lien par courriel", "Reset: link by mail")
        }
        Bulk::SendActivation => tr(
            lang,
            "Envoyer l'activation ou les informations de connexion",
            "Send activation or login information",
        ),
        Bulk::Activate => tr(lang, "Activer l'accès", "Activate access"),
        Bulk::Deactivate => tr(lang, "Désactiver l'accès", "Deactivate access"),
        Bulk::Export => tr(
            lang,
            "Exporter (CSV, XLSX, cartes PDF)",
            "Export (CSV, XLSX, PDF cards)",
        ),
        Bulk::Unlock => tr(lang, "Débloquer", "Unlock"),
    }
}

fn list_table(lang: Language, items: &[Account], checkable: bool) -> Markup {
    let w = words(lang);
    html! {
        div.scroll tabindex="0" role="region" aria-label=(tr(lang, "Tableau", "Table")) { table {
            thead { tr {
                @if checkable {
                    th scope="col" {
                        span.muted { (w.select) }
                        input type="checkbox" data-select-all hidden aria-label=(tr(lang, "Tout cocher", "Check all"));
                    }
                }
                th scope="col" { (w.name) }
                th scope="col" { (w.login) }
                th scope="col" { (w.class) }
                th scope="col" { (w.profile) }
                th scope="col" { (w.activation) }
            } }
            tbody {
                @for a in items {
                    tr {
                        @if checkable {
                            td { input type="checkbox" name="id" value=(a.id) aria-label=(full_name(a)); }
                        }
                        td { a href={ "/console/accounts/" (a.id) } { (full_name(a)) } }
                        td { code { (a.login) } }
                        td { (class_list(a)) }
                        td { (profile_word(lang, a.profile)) }
                        td {
                            @if a.access == Access::Disabled { (tr(lang, "Désactivé", "Disabled")) }
                            @else if a.activation == Activation::Activated { (w.activated) }
                            @else { (w.pending) }
                        }
                    }
                }
            }
        } }
    }
}

async fn accounts(State(state): State<AppState>, staff: Staff, uri: Uri) -> Response {
    let (lang, caller) = (staff.lang, &staff.caller);
    let w = words(lang);
    let kept = query_pairs(&uri);
    let params: ListParams = serde_urlencoded::to_string(&kept)
        .ok()
        .and_then(|q| serde_urlencoded::from_str(&q).ok())
        .unwrap_or_default();
    let chosen = |name: &str| {
        kept.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let (class, profile, activation, access, email, sort, q) = (
        chosen("class"),
        chosen("profile"),
        chosen("activation"),
        chosen("access"),
        chosen("email"),
        chosen("sort"),
        chosen("q"),
    );
    let (selection, sort_by, cursor, limit) = match params.into_query() {
        Ok(query) => query,
        Err(e) => {
            return page(
                StatusCode::UNPROCESSABLE_ENTITY,
                staff.shell("/console/accounts", w.title, problem(lang, &e)),
            );
        }
    };
    let classes = state.sesame.visible_classes(caller).await.unwrap_or_default();
    let list = match state
        .sesame
        .list_accounts(caller, &selection, sort_by, cursor.as_deref(), limit.min(100))
        .await
    {
        Ok(list) => list,
        Err(e) => {
            return page(
                StatusCode::UNPROCESSABLE_ENTITY,
                staff.shell("/console/accounts", w.title, problem(lang, &e)),
            );
        }
    };
    let recently = Selection {
        access: Some(Access::Disabled),
        disabled_within_days: Some(90),
        classes: selection.classes.clone(),
        ..Selection::default()
    };
    let disabled = state
        .sesame
        .list_accounts(caller, &recently, crate::domain::Sort::Name, None, 20)
        .await
        .map(|l| l.items)
        .unwrap_or_default();
    let birth_date_mode = staff.settings.birth_date_mode;
    let next = list.next_cursor.as_ref().map(|c| {
        let mut query = kept.clone();
        query.retain(|(k, _)| k != "cursor");
        query.push(("cursor".into(), c.clone()));
        format!(
            "/console/accounts?{}",
            serde_urlencoded::to_string(&query).unwrap_or_default()
        )
    });
    let all = Some(w.all);
    let class_options: Vec<(&str, &str)> = classes
        .iter()
        .map(|c| (c.name.as_str(), c.name.as_str()))
        .collect();
    let profile_options: Vec<(&str, &str)> = [
        Profile::Student,
        Profile::Parent,
        Profile::Teacher,
        Profile::Staff,
        Profile::Guest,
    ]
    .into_iter()
    .map(|p| (p.as_str(), profile_word(lang, p)))
    .collect();
    let body = html! {
        div.card {
            form.filters method="get" action="/console/accounts" {
                (choice("class", w.class, all, &class_options, &class))
                (choice("profile", w.profile, all, &profile_options, &profile))
                (choice("activation", w.activation, all, &[("pending", w.pending), ("activated", w.activated)], &activation))
                (choice("access", tr(lang, "Accès", "Access"), all,
                    &[("enabled", tr(lang, "Activé", "Enabled")), ("disabled", tr(lang, "Désactivé", "Disabled"))], &access))
                (choice("email", tr(lang, "Courriel", "Email"), all,
                    &[("present", tr(lang, "Renseigné", "Present")), ("absent", tr(lang, "Manquant", "Missing"))], &email))
                (choice("sort", tr(lang, "Trier par", "Sort by"), None,
                    &[("name", w.name), ("class", w.class), ("profile", w.profile)], &sort))
                div {
                    label for="q" { (w.search) }
                    input #q name="q" value=(q);
                }
                div {
                    label for="level" { (tr(lang, "Niveau", "Level")) }
                    input #level name="level" value=(chosen("level"));
                }
                div {
                    label for="group" { (tr(lang, "Groupe", "Group")) }
                    input #group name="group" value=(chosen("group"));
                }
                (choice("local_admin", tr(lang, "Administration", "Administration"), all, &[
                    ("admin", tr(lang, "Administrateur", "Administrator")),
                    ("secondary", tr(lang, "Administrateur secondaire", "Secondary administrator")),
                    ("none", tr(lang, "Aucune", "None")),
                ], &chosen("local_admin")))
                div {
                    label for="created_from" { (tr(lang, "Créé à partir du", "Created from")) }
                    input #created_from name="created_from" type="date" value=(chosen("created_from"));
                }
                div {
                    label for="created_to" { (tr(lang, "Créé jusqu'au", "Created until")) }
                    input #created_to name="created_to" type="date" value=(chosen("created_to"));
                }
                (choice("pre_deletion", tr(lang, "Avant suppression", "Before deletion"), all,
                    &[("true", tr(lang, "Oui", "Yes")), ("false", tr(lang, "Non", "No"))], &chosen("pre_deletion")))
                div { button #filter type="submit" { (w.filter) } }
            }
        }
        div.card {
            p { strong #count { (list.total) } " " (w.count) }
            form method="post" action="/console/accounts/act" {
                input type="hidden" name="csrf" value=(staff.session.csrf);
                div.actions {
                    div {
                        label for="action" { (tr(lang, "Action sur les comptes cochés", "Action on the checked accounts")) }
                        select #action name="action" {
                            @for action in Bulk::ALL {
                                @if action != Bulk::Reset(ResetMethod::BirthDate) || (birth_date_mode && staff.caller.is_admin()) {
                                    option value=(action.as_str()) { (action_label(lang, action)) }
                                }
                            }
                        }
                    }
                    div.inline {
                        label { input type="checkbox" name="copy_to_me" value="true"; " " (tr(lang, "M'envoyer une copie", "Send me a copy")) }
                    }
                    button #act type="submit" { (tr(lang, "Continuer…", "Continue…")) }
                }
                (list_table(lang, &list.items, true))
            }
            @if let Some(next) = next { p.pager { a href=(next) { (w.next) } } }
        }
        @if !disabled.is_empty() {
            div.card {
                h2 { (tr(lang, "Désactivés ces 90 derniers jours", "Disabled in the last 90 days")) }
                (list_table(lang, &disabled, false))
            }
        }
    };
    page(StatusCode::OK, staff.shell("/console/accounts", w.title, body))
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

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// The checked ids as posted (repeats and malformed ones included: the command
/// decides, as it does for the API).
fn checked_ids(pairs: &[(String, String)]) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, _)| k == "id")
        .map(|(_, v)| v.clone())
        .collect()
}

/// The checked accounts' action: first a confirmation naming the accounts, then,
/// once confirmed, the action through the API's operation.
async fn act(State(state): State<AppState>, Posted { staff, pairs }: Posted) -> Response {
    let lang = staff.lang;
    let w = words(lang);
    let Some(action) = field(&pairs, "action").and_then(Bulk::parse) else {
        return page(
            StatusCode::UNPROCESSABLE_ENTITY,
            staff.shell(
                "/console/accounts",
                w.title,
                alert(tr(lang, "Choisissez une action.", "Choose an action.")),
            ),
        );
    };
    let raw = checked_ids(&pairs);
    if raw.is_empty() {
        return page(
            StatusCode::UNPROCESSABLE_ENTITY,
            staff.shell("/console/accounts", w.title, alert(w.none_checked)),
        );
    }
    let ids = match action.ids(&raw) {
        Ok(ids) => ids,
        Err(e) => return refused(&staff, action_label(lang, action), &e),
    };
    let copy_to_me = field(&pairs, "copy_to_me") == Some("true");
    if field(&pairs, "confirmed") != Some("yes") {
        return confirm(&state, &staff, action, &ids, copy_to_me).await;
    }
    let sesame = &state.sesame;
    let caller = &staff.caller;
    let title = action_label(lang, action);
    let request_id = staff.request_id();
    match action {
        Bulk::Reset(method @ (ResetMethod::Temporary | ResetMethod::BirthDate)) => {
            show_passwords(&state, &staff, &ids, method).await
        }
        Bulk::Reset(ResetMethod::EmailLink) => match sesame
            .send_reset_links(caller, request_id, &ids, copy_to_me)
            .await
        {
            Ok(report) => mail_report(&state, &staff, title, &ids, &report).await,
            Err(e) => refused(&staff, title, &e),
        },
        Bulk::SendActivation => {
            let scope = crate::domain::Scope::Ids(ids.clone());
            match sesame
                .send_activation_to(caller, request_id, scope, copy_to_me)
                .await
            {
                Ok(Sent::Now(report)) => mail_report(&state, &staff, title, &ids, &report).await,
                Ok(Sent::Queued(d)) => {
                    Redirect::to(&format!("/console/distributions/{}", d.id)).into_response()
                }
                Err(e) => refused(&staff, title, &e),
            }
        }
        Bulk::Activate | Bulk::Deactivate => {
            let access = if action == Bulk::Activate {
                Access::Enabled
            } else {
                Access::Disabled
            };
            match sesame.set_access(caller, request_id, &ids, access).await {
                Ok(results) => per_account(&state, &staff, title, &ids, &results, |_| String::new()).await,
                Err(e) => refused(&staff, title, &e),
            }
        }
        Bulk::Unlock => match sesame.unlock(caller, request_id, &ids).await {
            Ok(results) => per_account(&state, &staff, title, &ids, &results, |_| String::new()).await,
            Err(e) => refused(&staff, title, &e),
        },
        Bulk::Export => export(&state, &staff, &pairs, ids).await,
    }
}

fn refused(staff: &Staff, title: &str, e: &Error) -> Response {
    super::console::refused(staff, "/console/accounts", title, e)
}

async fn confirm(
    state: &AppState,
    staff: &Staff,
    action: Bulk,
    ids: &[AccountId],
    copy_to_me: bool,
) -> Response {
    let lang = staff.lang;
    let title = tr(lang, "Confirmer", "Confirm");
    // Only what the caller may see is named; the operation refuses the rest.
    let visible = match state.sesame.visible_accounts(&staff.caller, ids).await {
        Ok(visible) => visible,
        Err(e) => return refused(staff, title, &e),
    };
    let warning = match action {
        Bulk::Deactivate => tr(
            lang,
            "Ces comptes ne pourront plus se connecter, et leurs codes et liens ouverts cessent de fonctionner.",
            "These accounts will no longer sign in, and their open codes and links stop working.",
        ),
        Bulk::Reset(ResetMethod::Temporary | ResetMethod::BirthDate) => tr(
            lang,
            "Leur mot de passe actuel cesse de fonctionner ; les nouveaux s'afficheront une seule fois.",
            "Their current password stops working; the new ones show only once.",
        ),
        _ => "",
    };
    let body = html! {
        div.card {
            p { strong { (action_label(lang, action)) } " — " (visible.len()) " " (words(lang).count) }
            @if !warning.is_empty() { (alert(warning)) }
            ul { @for a in &visible { li { (full_name(a)) " (" code { (a.login) } ")" } } }
            form method="post" action="/console/accounts/act" {
                input type="hidden" name="csrf" value=(staff.session.csrf);
                input type="hidden" name="action" value=(action.as_str());
                input type="hidden" name="confirmed" value="yes";
                @if copy_to_me { input type="hidden" name="copy_to_me" value="true"; }
                @for id in ids { input type="hidden" name="id" value=(id); }
                @if action == Bulk::Export { (export_options(lang, staff)) }
                button.danger[action == Bulk::Deactivate] #confirm type="submit" { (tr(lang, "Confirmer", "Confirm")) }
                a.button.quiet href="/console/accounts" { (tr(lang, "Annuler", "Cancel")) }
            }
        }
    };
    page(StatusCode::OK, staff.shell("/console/accounts", title, body))
}

fn export_options(lang: Language, staff: &Staff) -> Markup {
    let admin = staff.caller.is_admin();
    html! {
        label for="content" { (tr(lang, "Contenu", "Content")) }
        select #content name="content" {
            option value="credentials" { (tr(lang, "Identifiants et mots de passe temporaires", "Logins and temporary passwords")) }
            option value="activation" { (tr(lang, "Codes d'activation", "Activation codes")) }
            @if admin { option value="identifiers" { (tr(lang, "Identifiants seuls", "Logins only")) } }
        }
        label for="format" { (tr(lang, "Format", "Format")) }
        select #format name="format" {
            option value="pdf" { "PDF" }
            option value="csv" { "CSV" }
            option value="xlsx" { "XLSX" }
        }
        label for="per_page" { (tr(lang, "Cartes par page (PDF)", "Cards a page (PDF)")) }
        select #per_page name="per_page" {
            option value="1" { "1" }
            option value="2" { "2" }
            option value="8" { "8" }
        }
        label for="language" { (tr(lang, "Langue", "Language")) }
        select #language name="language" {
            option value="fr" selected[lang == Language::Fr] { "Français" }
            option value="en" selected[lang == Language::En] { "English" }
        }
    }
}

async fn export(
    state: &AppState,
    staff: &Staff,
    pairs: &[(String, String)],
    ids: Vec<AccountId>,
) -> Response {
    let lang = staff.lang;
    let title = action_label(lang, Bulk::Export);
    let content = match field(pairs, "content") {
        Some("activation") => Content::Activation,
        Some("identifiers") => Content::Identifiers,
        _ => Content::Credentials,
    };
    let format = match field(pairs, "format") {
        Some("csv") => Format::Csv,
        Some("xlsx") => Format::Xlsx,
        _ => Format::Pdf,
    };
    let per_page = field(pairs, "per_page")
        .and_then(|n| n.parse::<u8>().ok())
        .and_then(|n| PerPage::try_from(n).ok())
        .unwrap_or_default();
    let language = match field(pairs, "language") {
        Some("en") => Some(Language::En),
        Some("fr") => Some(Language::Fr),
        _ => None,
    };
    let request = crate::domain::ExportRequest {
        scope: crate::domain::Scope::Ids(ids),
        content,
        format,
        per_page,
        sort: crate::domain::Sort::Class,
        language,
    };
    match state
        .sesame
        .create_export(&staff.caller, staff.request_id(), request)
        .await
    {
        Ok(job) => Redirect::to(&format!("/console/exports/{}", job.id)).into_response(),
        Err(e) => refused(staff, title, &e),
    }
}

/// Each account's outcome of an action, named.
async fn per_account<T>(
    state: &AppState,
    staff: &Staff,
    title: &str,
    ids: &[AccountId],
    results: &[PerAccount<T>],
    ok: impl Fn(&T) -> String,
) -> Response {
    let lang = staff.lang;
    let accounts = match state.sesame.visible_accounts(&staff.caller, ids).await {
        Ok(accounts) => accounts,
        Err(e) => return refused(staff, title, &e),
    };
    let body = html! {
        div.card {
            (scroll_table(lang, &[words(lang).name, words(lang).login, tr(lang, "Résultat", "Result")], html! {
                    @for r in results {
                        @let account = accounts.iter().find(|a| a.id == r.account_id);
                        tr {
                            td { @if let Some(a) = account { (full_name(a)) } @else { code { (r.account_id) } } }
                            td { @if let Some(a) = account { code { (a.login) } } }
                            td {
                                @match &r.result {
                                    Ok(value) => { "✓ " (tr(lang, "Fait", "Done")) " " (ok(value)) }
                                    Err(e) => { (words(lang).refused) " : " (e.to_string()) }
                                }
                            }
                        }
                    }
                }))
            p { a href="/console/accounts" { (words(lang).back) } }
        }
    };
    page(StatusCode::OK, staff.shell("/console/accounts", title, body))
}

async fn mail_report(
    state: &AppState,
    staff: &Staff,
    title: &str,
    ids: &[AccountId],
    report: &MailReport,
) -> Response {
    let lang = staff.lang;
    let outcome = move |o: &MailOutcome| -> String {
        match o {
            MailOutcome::Sent => tr(lang, "courriel envoyé", "mail sent").to_owned(),
            MailOutcome::NoEmail => {
                tr(lang, "pas d'adresse : rien envoyé", "no address: nothing sent").to_owned()
            }
            MailOutcome::Failed(_) => tr(lang, "échec de l'envoi", "sending failed").to_owned(),
        }
    };
    per_account(state, staff, title, ids, &report.results, outcome).await
}

async fn reset(State(state): State<AppState>, Posted { staff, pairs }: Posted) -> Response {
    let action = Bulk::Reset(ResetMethod::Temporary);
    let ids = match action.ids(&checked_ids(&pairs)) {
        Ok(ids) => ids,
        Err(e) => return refused(&staff, words(staff.lang).passwords, &e),
    };
    show_passwords(&state, &staff, &ids, ResetMethod::Temporary).await
}

/// Resets the accounts and shows their new passwords, once: this response is
/// the only place they appear (`no-store`), printable.
async fn show_passwords(state: &AppState, staff: &Staff, ids: &[AccountId], method: ResetMethod) -> Response {
    let lang = staff.lang;
    let w = words(lang);
    let results = match state
        .sesame
        .reset_passwords(&staff.caller, staff.request_id(), ids, method, None)
        .await
    {
        Ok(results) => results,
        Err(e) => return refused(staff, w.passwords, &e),
    };
    let accounts = match state.sesame.visible_accounts(&staff.caller, ids).await {
        Ok(accounts) => accounts,
        Err(e) => return refused(staff, w.passwords, &e),
    };
    let body = html! {
        (alert(w.once))
        div.card {
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
                            td { @if let Some(a) = account { (full_name(a)) } }
                            td { @if let Some(a) = account { code { (a.login) } } }
                            @match &r.result {
                                Ok(issued) => {
                                    td { code.secret { (issued.password.expose_secret()) } }
                                    td { @if let Some(at) = issued.expires_at { (staff.when(at)) } }
                                }
                                Err(e) => { td colspan="2" { (w.refused) " : " (e.to_string()) } }
                            }
                        }
                    }
                }
            }
            p.noprint { a href="/console/accounts" { (w.back) } }
        }
    };
    page(
        StatusCode::OK,
        staff.shell("/console/accounts", w.passwords, body),
    )
}

/// One account's page: details, family, set password, ledger and unlock. An
/// account the caller may not see answers 404, like the API.
async fn account(State(state): State<AppState>, staff: Staff, Path(id): Path<String>) -> Response {
    account_page(&state, &staff, &id, StatusCode::OK, None).await
}

async fn account_page(
    state: &AppState,
    staff: &Staff,
    id: &str,
    status: StatusCode,
    message: Option<Markup>,
) -> Response {
    let lang = staff.lang;
    let w = words(lang);
    let found = match AccountId::parse(id) {
        Ok(id) => state.sesame.get_account(&staff.caller, &id).await,
        Err(_) => Err(Error::NotFound),
    };
    let account = match found {
        Ok(account) => account,
        Err(e) => return refused(staff, w.title, &e),
    };
    let family_ids: Vec<AccountId> = account.parents.iter().chain(&account.children).cloned().collect();
    let family = match state.sesame.visible_accounts(&staff.caller, &family_ids).await {
        Ok(family) => family,
        Err(e) => return refused(staff, w.title, &e),
    };
    let ledger = state.sesame.ledger(&staff.caller, &account.id).await.ok();
    let federated = match &account.source {
        Source::Federated(directory) => Some(directory.clone()),
        Source::Local => None,
    };
    let may_issue = staff
        .caller
        .may_issue(&account, crate::domain::SecretKind::TemporaryPassword)
        .is_ok();
    let body = html! {
        @if let Some(message) = message { (message) }
        div.card {
            dl {
                dt { (w.login) } dd { code { (account.login) } }
                dt { (w.profile) } dd { (profile_word(lang, account.profile)) }
                dt { (w.class) } dd { (class_list(&account)) }
                dt { (tr(lang, "Accès", "Access")) } dd {
                    @if account.access == Access::Enabled { (tr(lang, "Activé", "Enabled")) } @else { (tr(lang, "Désactivé", "Disabled")) }
                }
                dt { (w.activation) } dd {
                    @if account.activation == Activation::Activated { (w.activated) } @else { (w.pending) }
                }
                dt { (tr(lang, "Courriel", "Email")) } dd { @if let Some(e) = &account.email { (e) } @else { "—" } }
                @if staff.caller.may(crate::domain::Action::SeeBirthDate, &account).is_ok() {
                    dt { (tr(lang, "Date de naissance", "Birth date")) } dd {
                        @if let Some(d) = account.birth_date { (d.format("%d/%m/%Y")) } @else { "—" }
                    }
                }
                @if let Some(directory) = &federated {
                    dt { (tr(lang, "Annuaire", "Directory")) } dd { (directory) }
                }
            }
            @if !family.is_empty() {
                h2 { @if account.profile == Profile::Parent { (tr(lang, "Enfants", "Children")) } @else { (tr(lang, "Responsables", "Parents")) } }
                ul { @for a in &family { li { a href={ "/console/accounts/" (a.id) } { (full_name(a)) } " · " (class_list(a)) } } }
            }
        }
        @if let Some(directory) = &federated {
            div.card { p { (tr(lang, "Ce compte se connecte par son annuaire", "This account signs in through its directory")) " (" (directory) ") : "
                (tr(lang, "aucune action sur son mot de passe ici.", "no password action here.")) } }
        } @else if may_issue {
            div.card {
                h2 { (tr(lang, "Définir le mot de passe", "Set the password")) }
                form method="post" action={ "/console/accounts/" (account.id) "/password" } {
                    input type="hidden" name="csrf" value=(staff.session.csrf);
                    label for="password" { (tr(lang, "Nouveau mot de passe", "New password")) }
                    input #password type="password" name="password" autocomplete="new-password" required;
                    label for="confirmation" { (tr(lang, "Confirmez le mot de passe", "Confirm the password")) }
                    input #confirmation type="password" name="confirmation" autocomplete="new-password" required;
                    div.inline { label { input type="checkbox" name="must_change" value="true" checked; " " (tr(lang, "À changer à la prochaine connexion", "Must change at next sign-in")) } }
                    button #save-password type="submit" { (tr(lang, "Enregistrer", "Save")) }
                }
            }
        }
        @if let Some(ledger) = &ledger {
            div.card {
                h2 { (tr(lang, "Secrets remis", "Secrets handed out")) }
                @if ledger.outstanding.is_none() { p.muted { (tr(lang, "Aucun secret en cours.", "No outstanding secret.")) } }
                @if !ledger.history.is_empty() {
                    (scroll_table(lang, &[tr(lang, "Genre", "Kind"), tr(lang, "Remis le", "Issued"), tr(lang, "Jusqu'au", "Until"), tr(lang, "État", "State"), tr(lang, "Distribution", "Distribution")], html! {
                            @for entry in &ledger.history {
                                tr {
                                    td { (secret_kind(lang, entry.note.kind)) }
                                    td { (staff.when(entry.note.issued_at)) }
                                    td { (staff.when(entry.note.expires_at)) }
                                    td { span class={ "state-" (state_code(entry.state)) } { (state_word(lang, entry.state)) } }
                                    td { @if let Some(d) = &entry.note.distribution { a href={ "/console/distributions/" (d) } { code { (d) } } } }
                                }
                            }
                        }))
                }
                @if ledger.locks.is_empty() {
                    p.muted { (tr(lang, "Aucun blocage.", "Not locked.")) }
                } @else {
                    (alert(tr(lang, "Bloqué après trop d'essais.", "Locked after too many attempts.")))
                    ul { @for lock in &ledger.locks { li { code { (lock.path) } " → " (staff.when(lock.until)) } } }
                    form method="post" action={ "/console/accounts/" (account.id) "/unlock" } {
                        input type="hidden" name="csrf" value=(staff.session.csrf);
                        button type="submit" { (tr(lang, "Débloquer", "Unlock")) }
                    }
                }
            }
        }
        p { a href="/console/accounts" { (w.back) } }
    };
    page(
        status,
        staff.shell("/console/accounts", &full_name(&account), body),
    )
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

async fn set_password(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted { staff, pairs }: Posted,
) -> Response {
    let lang = staff.lang;
    let Ok(account_id) = AccountId::parse(&id) else {
        return refused(&staff, words(lang).title, &Error::NotFound);
    };
    let secret = |name: &str| SecretString::from(field(&pairs, name).unwrap_or_default().to_owned());
    let must_change = field(&pairs, "must_change") == Some("true");
    let result = state
        .sesame
        .set_password(
            &staff.caller,
            staff.request_id(),
            &account_id,
            secret("password"),
            secret("confirmation"),
            must_change,
        )
        .await;
    match result {
        Ok(_) => {
            let saved = html! { div.alert.ok role="status" { p { (tr(lang, "Mot de passe enregistré.", "Password saved.")) } } };
            account_page(&state, &staff, &id, StatusCode::OK, Some(saved)).await
        }
        Err(e @ (Error::NotFound | Error::Forbidden)) => refused(&staff, words(lang).title, &e),
        Err(e) => {
            account_page(
                &state,
                &staff,
                &id,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(problem(lang, &e)),
            )
            .await
        }
    }
}

async fn unlock(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted { staff, .. }: Posted,
) -> Response {
    let lang = staff.lang;
    let Ok(account_id) = AccountId::parse(&id) else {
        return refused(&staff, words(lang).title, &Error::NotFound);
    };
    match state
        .sesame
        .unlock(&staff.caller, staff.request_id(), &[account_id])
        .await
    {
        Ok(results) => match results.into_iter().next().map(|r| r.result) {
            Some(Err(e)) => refused(&staff, words(lang).title, &e),
            _ => {
                let done = html! { div.alert.ok role="status" { p { (tr(lang, "Compte débloqué.", "Account unlocked.")) } } };
                account_page(&state, &staff, &id, StatusCode::OK, Some(done)).await
            }
        },
        Err(e) => refused(&staff, words(lang).title, &e),
    }
}
