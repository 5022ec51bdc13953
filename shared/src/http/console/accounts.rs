//! The accounts page: filter and list, check accounts and act on them through the
//! same bulk commands as the API (reset, access, activation mail, exports).

use super::kit::*;
use crate::domain::{Access, Account, AccountId, Activation, Language, Profile};
use crate::export::{Content, Format, PerPage};
use crate::http::AppState;
use crate::http::routes::accounts::ListParams;
use crate::http::ui::{alert, field, tr};
use crate::ops::PerAccount;
use crate::ops::accounts::Selection;
use crate::ops::commands::{Bulk, Sent};
use crate::ops::mail::{MailOutcome, MailReport};
use crate::ops::reset::ResetMethod;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use secrecy::ExposeSecret;

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
        Bulk::ClearEmailState => tr(
            lang,
            "Lever l'alerte « courriel non remis »",
            "Clear the \"mail not delivered\" mark",
        ),
    }
}

fn list_table(lang: Language, items: &[Account], checkable: bool) -> Markup {
    html! {
        div.scroll tabindex="0" role="region" aria-label=(tr(lang, "Tableau", "Table")) { table {
            thead { tr {
                @if checkable {
                    th scope="col" {
                        span.muted { (tr(lang, "Choisir", "Select")) }
                        input type="checkbox" data-select-all hidden aria-label=(tr(lang, "Tout cocher", "Check all"));
                    }
                }
                th scope="col" { (tr(lang, "Nom", "Name")) }
                th scope="col" { (tr(lang, "Identifiant", "Login")) }
                th scope="col" { (tr(lang, "Classe", "Class")) }
                th scope="col" { (tr(lang, "Profil", "Profile")) }
                th scope="col" { (tr(lang, "Activation", "Activation")) }
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
                            @else if a.activation == Activation::Activated { (tr(lang, "Activé", "Activated")) }
                            @else { (tr(lang, "En attente", "Pending")) }
                        }
                    }
                }
            }
        } }
    }
}

pub(super) async fn accounts(State(state): State<AppState>, staff: Staff, uri: Uri) -> Response {
    let (lang, caller) = (staff.lang, &staff.caller);
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
        Err(e) => return accounts_refused(&staff, &e),
    };
    let classes = match state.sesame.visible_classes(caller).await {
        Ok(classes) => classes,
        Err(e) => return accounts_refused(&staff, &e),
    };
    let list = match state
        .sesame
        .list_accounts(caller, &selection, sort_by, cursor.as_deref(), limit.min(100))
        .await
    {
        Ok(list) => list,
        Err(e) => return accounts_refused(&staff, &e),
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
    let all = Some(tr(lang, "Toutes", "All"));
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
                (choice("class", tr(lang, "Classe", "Class"), all, &class_options, &class))
                (choice("profile", tr(lang, "Profil", "Profile"), all, &profile_options, &profile))
                (choice("activation", tr(lang, "Activation", "Activation"), all, &[("pending", tr(lang, "En attente", "Pending")), ("activated", tr(lang, "Activé", "Activated"))], &activation))
                (choice("access", tr(lang, "Accès", "Access"), all,
                    &[("enabled", tr(lang, "Activé", "Enabled")), ("disabled", tr(lang, "Désactivé", "Disabled"))], &access))
                (choice("email", tr(lang, "Courriel", "Email"), all,
                    &[("present", tr(lang, "Renseigné", "Present")), ("absent", tr(lang, "Manquant", "Missing"))], &email))
                (choice("sort", tr(lang, "Trier par", "Sort by"), None,
                    &[("name", tr(lang, "Nom", "Name")), ("class", tr(lang, "Classe", "Class")), ("profile", tr(lang, "Profil", "Profile"))], &sort))
                div {
                    label for="q" { (tr(lang, "Nom ou identifiant", "Name or login")) }
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
                div { button #filter type="submit" { (tr(lang, "Filtrer", "Filter")) } }
            }
        }
        div.card {
            p { strong #count { (list.total) } " " (tr(lang, "comptes", "accounts")) }
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
            @if let Some(next) = next { p.pager { a href=(next) { (tr(lang, "Page suivante", "Next page")) } } }
        }
        @if !disabled.is_empty() {
            div.card {
                h2 { (tr(lang, "Désactivés ces 90 derniers jours", "Disabled in the last 90 days")) }
                (list_table(lang, &disabled, false))
            }
        }
    };
    page(
        StatusCode::OK,
        staff.shell("/console/accounts", tr(lang, "Comptes", "Accounts"), body),
    )
}

/// The checked accounts' action: first a confirmation naming the accounts, then,
/// once confirmed, the action through the API's operation.
pub(super) async fn act(State(state): State<AppState>, Posted { staff, pairs }: Posted) -> Response {
    let lang = staff.lang;
    let Some(action) = field(&pairs, "action").and_then(Bulk::parse) else {
        return page(
            StatusCode::UNPROCESSABLE_ENTITY,
            staff.shell(
                "/console/accounts",
                tr(lang, "Comptes", "Accounts"),
                alert(tr(lang, "Choisissez une action.", "Choose an action.")),
            ),
        );
    };
    let raw = checked_ids(&pairs);
    if raw.is_empty() {
        return page(
            StatusCode::UNPROCESSABLE_ENTITY,
            staff.shell(
                "/console/accounts",
                tr(lang, "Comptes", "Accounts"),
                alert(tr(
                    lang,
                    "Cochez au moins un compte.",
                    "Check at least one account.",
                )),
            ),
        );
    }
    let ids = match action.ids(&raw) {
        Ok(ids) => ids,
        Err(e) => return refused(&staff, "/console/accounts", action_label(lang, action), &e),
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
            .send_mail(
                caller,
                request_id,
                &ids,
                copy_to_me,
                crate::ops::mail::Purpose::Reset,
                &crate::ops::secrets::new_distribution_id(),
            )
            .await
        {
            Ok(report) => mail_report(&state, &staff, title, &ids, &report).await,
            Err(e) => refused(&staff, "/console/accounts", title, &e),
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
                Err(e) => refused(&staff, "/console/accounts", title, &e),
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
                Err(e) => refused(&staff, "/console/accounts", title, &e),
            }
        }
        Bulk::Unlock => match sesame.unlock(caller, request_id, &ids).await {
            Ok(results) => per_account(&state, &staff, title, &ids, &results, |_| String::new()).await,
            Err(e) => refused(&staff, "/console/accounts", title, &e),
        },
        Bulk::ClearEmailState => match sesame.clear_email_state(caller, request_id, &ids).await {
            Ok(results) => per_account(&state, &staff, title, &ids, &results, |_| String::new()).await,
            Err(e) => refused(&staff, "/console/accounts", title, &e),
        },
        Bulk::Export => export(&state, &staff, &pairs, ids).await,
    }
}

pub(super) async fn confirm(
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
        Err(e) => return refused(staff, "/console/accounts", title, &e),
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
            p { strong { (action_label(lang, action)) } " — " (visible.len()) " " (tr(lang, "comptes", "accounts")) }
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

pub(super) async fn export(
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
        Err(e) => refused(staff, "/console/accounts", title, &e),
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
        Err(e) => return refused(staff, "/console/accounts", title, &e),
    };
    let body = html! {
        div.card {
            (scroll_table(lang, &[tr(lang, "Nom", "Name"), tr(lang, "Identifiant", "Login"), tr(lang, "Résultat", "Result")], html! {
                    @for r in results {
                        @let account = accounts.iter().find(|a| a.id == r.account_id);
                        tr {
                            td { @if let Some(a) = account { (full_name(a)) } @else { code { (r.account_id) } } }
                            td { @if let Some(a) = account { code { (a.login) } } }
                            td {
                                @match &r.result {
                                    Ok(value) => { "✓ " (tr(lang, "Fait", "Done")) " " (ok(value)) }
                                    Err(e) => { (tr(lang, "Refusé", "Refused")) " : " (e.to_string()) }
                                }
                            }
                        }
                    }
                }))
            p { a href="/console/accounts" { (tr(lang, "Retour aux comptes", "Back to the accounts")) } }
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
            MailOutcome::Undeliverable => tr(
                lang,
                "adresse en échec (rejetée ou signalée) : rien n'est envoyé",
                "address failing (bounced or complained): nothing sent",
            )
            .to_owned(),
            MailOutcome::Failed(_) => tr(lang, "échec de l'envoi", "sending failed").to_owned(),
        }
    };
    per_account(state, staff, title, ids, &report.results, outcome).await
}

pub(super) async fn reset(State(state): State<AppState>, Posted { staff, pairs }: Posted) -> Response {
    let action = Bulk::Reset(ResetMethod::Temporary);
    let ids = match action.ids(&checked_ids(&pairs)) {
        Ok(ids) => ids,
        Err(e) => {
            return refused(
                &staff,
                "/console/accounts",
                tr(staff.lang, "Mots de passe temporaires", "Temporary passwords"),
                &e,
            );
        }
    };
    show_passwords(&state, &staff, &ids, ResetMethod::Temporary).await
}

/// Resets the accounts and shows their new passwords, once: this response is
/// the only place they appear (`no-store`), printable.
async fn show_passwords(state: &AppState, staff: &Staff, ids: &[AccountId], method: ResetMethod) -> Response {
    let lang = staff.lang;
    let shown = async {
        let sesame = &state.sesame;
        let results = sesame
            .reset_passwords(&staff.caller, staff.request_id(), ids, method, None)
            .await?;
        Ok::<_, crate::domain::Error>((results, sesame.visible_accounts(&staff.caller, ids).await?))
    };
    let (results, accounts) = match shown.await {
        Ok(shown) => shown,
        Err(e) => {
            let title = tr(lang, "Mots de passe temporaires", "Temporary passwords");
            return refused(staff, "/console/accounts", title, &e);
        }
    };
    let body = html! {
        (alert(tr(lang, "Ces mots de passe ne seront plus jamais affichés : imprimez ou notez-les maintenant.", "These passwords will never be shown again: print or write them down now.")))
        div.card {
            table.print {
                thead { tr {
                    th scope="col" { (tr(lang, "Nom", "Name")) }
                    th scope="col" { (tr(lang, "Identifiant", "Login")) }
                    th scope="col" { (tr(lang, "Mot de passe temporaire", "Temporary password")) }
                    th scope="col" { (tr(lang, "Valable jusqu'au", "Valid until")) }
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
                                Err(e) => { td colspan="2" { (tr(lang, "Refusé", "Refused")) " : " (e.to_string()) } }
                            }
                        }
                    }
                }
            }
            p.noprint { a href="/console/accounts" { (tr(lang, "Retour aux comptes", "Back to the accounts")) } }
        }
    };
    page(
        StatusCode::OK,
        staff.shell(
            "/console/accounts",
            tr(lang, "Mots de passe temporaires", "Temporary passwords"),
            body,
        ),
    )
}
