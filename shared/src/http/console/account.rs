//! One account's page: its details, its ledger of secrets and locks, a chosen
//! password, unlock.

use super::kit::*;
use crate::domain::{Access, AccountId, Activation, Error, Profile, Source};
use crate::http::AppState;
use crate::http::ui::{alert, field, tr};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use secrecy::SecretString;

/// One account's page: details, family, set password, ledger and unlock. An
/// account the caller may not see answers 404, like the API.
pub(super) async fn account(State(state): State<AppState>, staff: Staff, Path(id): Path<String>) -> Response {
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
    let found = match AccountId::parse(id) {
        Ok(id) => state.sesame.get_account(&staff.caller, &id).await,
        Err(_) => Err(Error::NotFound),
    };
    let account = match found {
        Ok(account) => account,
        Err(e) => return accounts_refused(staff, &e),
    };
    let family_ids: Vec<AccountId> = account.parents.iter().chain(&account.children).cloned().collect();
    let family = match state.sesame.visible_accounts(&staff.caller, &family_ids).await {
        Ok(family) => family,
        Err(e) => return accounts_refused(staff, &e),
    };
    // The ledger is for those who may reset the account; others see the page without it.
    let ledger = match state.sesame.ledger(&staff.caller, &account.id).await {
        Ok(ledger) => Some(ledger),
        Err(Error::Forbidden | Error::NotFound) => None,
        Err(e) => return accounts_refused(staff, &e),
    };
    let federated = match &account.source {
        Source::Federated(directory) => Some(directory.clone()),
        Source::Local => None,
    };
    let may_change = staff.caller.may(crate::domain::Action::Change, &account).is_ok();
    let may_issue = staff
        .caller
        .may_issue(&account, crate::domain::SecretKind::TemporaryPassword)
        .is_ok();
    let body = html! {
        @if let Some(message) = message { (message) }
        div.card {
            dl {
                dt { (tr(lang, "Identifiant", "Login")) } dd { code { (account.login) } }
                dt { (tr(lang, "Profil", "Profile")) } dd { (profile_word(lang, account.profile)) }
                dt { (tr(lang, "Classe", "Class")) } dd { (class_list(&account)) }
                dt { (tr(lang, "Accès", "Access")) } dd {
                    @if account.access == Access::Enabled { (tr(lang, "Activé", "Enabled")) } @else { (tr(lang, "Désactivé", "Disabled")) }
                }
                dt { (tr(lang, "Activation", "Activation")) } dd {
                    @if account.activation == Activation::Activated { (tr(lang, "Activé", "Activated")) } @else { (tr(lang, "En attente", "Pending")) }
                }
                dt { (tr(lang, "Courriel", "Email")) } dd { @if let Some(e) = &account.email { (e) } @else { "—" } }
                @if account.email.is_some() {
                    dt { (tr(lang, "Remise du courriel", "Mail delivery")) } dd #email-state {
                        span class={ "mail-" (account.email_state.status.as_str()) } { (email_status_word(lang, account.email_state.status)) }
                        @if let Some(at) = account.email_state.at { " · " (staff.when(at)) }
                        @if let Some(said) = &account.email_state.diagnostic { br; small { code { (said) } } }
                    }
                }
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
        @if may_change {
            div.card {
                h2 { (tr(lang, "Adresse de courriel", "Email address")) }
                @if account.mail_blocked() {
                    p { (tr(lang, "Aucun courriel ne part vers cette adresse tant qu'elle n'est pas corrigée ou que l'alerte n'est pas levée.",
                        "No mail goes to this address until it is corrected or the mark is cleared.")) }
                }
                form method="post" action={ "/console/accounts/" (account.id) "/email" } {
                    input type="hidden" name="csrf" value=(staff.session.csrf);
                    label for="email" { (tr(lang, "Adresse (vide pour la retirer)", "Address (empty to remove it)")) }
                    input #email type="email" name="email" autocomplete="off" value=[account.email.as_ref().map(|e| e.as_str())];
                    button #save-email type="submit" { (tr(lang, "Corriger l'adresse", "Correct the address")) }
                }
                @if account.mail_blocked() {
                    form method="post" action="/console/accounts/act" {
                        input type="hidden" name="csrf" value=(staff.session.csrf);
                        input type="hidden" name="action" value="clear_email_state";
                        input type="hidden" name="id" value=(account.id);
                        input type="hidden" name="confirmed" value="yes";
                        button #clear-email-state type="submit" { (tr(lang, "Lever l'alerte « courriel non remis »", "Clear the \"mail not delivered\" mark")) }
                    }
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
        p { a href="/console/accounts" { (tr(lang, "Retour aux comptes", "Back to the accounts")) } }
    };
    page(
        status,
        staff.shell("/console/accounts", &full_name(&account), body),
    )
}

pub(super) async fn set_password(State(state): State<AppState>, posted: PostedTo<AccountId>) -> Response {
    let PostedTo {
        staff,
        pairs,
        raw: id,
        named: account_id,
    } = posted;
    let lang = staff.lang;
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
    let saved = tr(lang, "Mot de passe enregistré.", "Password saved.");
    answered(&state, &staff, &id, result.map(drop), saved).await
}

pub(super) async fn unlock(State(state): State<AppState>, posted: PostedTo<AccountId>) -> Response {
    let PostedTo {
        staff,
        raw: id,
        named: account_id,
        ..
    } = posted;
    let lang = staff.lang;
    match state
        .sesame
        .unlock(&staff.caller, staff.request_id(), &[account_id])
        .await
    {
        Ok(results) => match results.into_iter().next().map(|r| r.result) {
            Some(Err(e)) => accounts_refused(&staff, &e),
            _ => {
                let done = html! { div.alert.ok role="status" { p { (tr(lang, "Compte débloqué.", "Account unlocked.")) } } };
                account_page(&state, &staff, &id, StatusCode::OK, Some(done)).await
            }
        },
        Err(e) => accounts_refused(&staff, &e),
    }
}

/// An address's mail state in words.
fn email_status_word(lang: crate::domain::Language, status: crate::domain::EmailStatus) -> &'static str {
    use crate::domain::EmailStatus as S;
    match status {
        S::Unknown => tr(lang, "pas encore de nouvelles", "nothing heard yet"),
        S::Delivered => tr(lang, "remis", "delivered"),
        S::Bounced => tr(
            lang,
            "non remis : adresse refusée",
            "not delivered: address refused",
        ),
        S::Complained => tr(lang, "signalé comme indésirable", "marked as spam"),
        S::Delayed => tr(lang, "retardé", "delayed"),
    }
}

/// Corrects (or removes) the account's address, as `PATCH /v1/accounts/{id}`.
pub(super) async fn change_email(State(state): State<AppState>, posted: PostedTo<AccountId>) -> Response {
    let PostedTo {
        staff,
        pairs,
        raw: id,
        named: account_id,
    } = posted;
    let lang = staff.lang;
    let typed = field(&pairs, "email").map(str::trim).unwrap_or_default();
    let email = match typed {
        "" => Ok(None),
        typed => crate::domain::Email::parse(typed)
            .map(Some)
            .map_err(|e| Error::invalid("email", e.to_string())),
    };
    let changed = match email {
        Ok(email) => {
            state
                .sesame
                .change_email(&staff.caller, staff.request_id(), &account_id, email)
                .await
        }
        Err(e) => Err(e),
    };
    let saved = tr(lang, "Adresse enregistrée.", "Address saved.");
    answered(&state, &staff, &id, changed.map(drop), saved).await
}

/// The account page after a change made from it: `saved` when it was, else the
/// refusal on the accounts' pages (not found, forbidden) or the page with the
/// problem and the API's status (503 when the store did not answer).
async fn answered(
    state: &AppState,
    staff: &Staff,
    id: &str,
    result: Result<(), Error>,
    saved: &str,
) -> Response {
    match result {
        Ok(()) => {
            let saved = html! { div.alert.ok role="status" { p { (saved) } } };
            account_page(state, staff, id, StatusCode::OK, Some(saved)).await
        }
        Err(e @ (Error::NotFound | Error::Forbidden)) => accounts_refused(staff, &e),
        Err(e) => {
            let status = logged_status(&e);
            account_page(state, staff, id, status, Some(problem(staff.lang, &e))).await
        }
    }
}
