//! Distributions of secrets: the list, one distribution's accounts, recall.

use super::kit::*;
use crate::domain::{DistributionKind, Language, RunStatus};
use crate::http::AppState;
use crate::http::ui::{alert, field, tr};
use crate::ports::DistributionQuery;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use maud::{Markup, html};

fn kind_word(lang: Language, kind: DistributionKind) -> &'static str {
    match kind {
        DistributionKind::Export => tr(lang, "export", "export"),
        DistributionKind::SendActivation => tr(lang, "envoi d'activation", "activation mail"),
        DistributionKind::TemporaryPassword => tr(lang, "mots de passe temporaires", "temporary passwords"),
        DistributionKind::BirthDatePassword => tr(lang, "date de naissance", "birth date"),
        DistributionKind::ResetLink => tr(lang, "liens de réinitialisation", "reset links"),
    }
}

fn run_word(lang: Language, status: RunStatus) -> &'static str {
    match status {
        RunStatus::Queued => tr(lang, "en file", "queued"),
        RunStatus::Running => tr(lang, "en cours", "running"),
        RunStatus::Done => tr(lang, "terminée", "done"),
        RunStatus::Failed => tr(lang, "échouée", "failed"),
    }
}

fn distributions_title(lang: Language) -> &'static str {
    tr(lang, "Distributions", "Distributions")
}

pub(super) async fn distributions(State(state): State<AppState>, staff: Staff, uri: Uri) -> Response {
    let lang = staff.lang;
    let title = distributions_title(lang);
    let kept = query_pairs(&uri);
    let cursor = field(&kept, "cursor");
    let query = DistributionQuery {
        limit: 50,
        ..DistributionQuery::default()
    };
    let (items, next) = match state
        .sesame
        .list_distributions(&staff.caller, query, cursor)
        .await
    {
        Ok(page) => page,
        Err(e) => return refused(&staff, "/console/distributions", title, &e),
    };
    let body = html! {
        div.card {
            @if items.is_empty() { p.muted { (tr(lang, "Aucune distribution.", "No distribution.")) } }
            @else {
                (scroll_table(lang, &[tr(lang, "Date", "Date"), tr(lang, "Genre", "Kind"), tr(lang, "Classes", "Classes"), tr(lang, "Comptes", "Accounts"), tr(lang, "État", "Status")], html! {
                        @for d in &items {
                            tr {
                                td { a href={ "/console/distributions/" (d.id) } { (staff.when(d.created_at)) } }
                                td { (kind_word(lang, d.kind)) }
                                td { (d.classes.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")) }
                                td { (d.accounts.len().max(d.total as usize)) }
                                td { (run_word(lang, d.status)) }
                            }
                        }
                    }))
            }
            @if let Some(next) = next {
                p.pager { a href={ "/console/distributions?cursor=" (query_value(&next)) } { (tr(lang, "Page suivante", "Next page")) } }
            }
        }
    };
    page(StatusCode::OK, staff.shell("/console/distributions", title, body))
}

pub(super) async fn distribution(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Response {
    distribution_page(&state, &staff, &id, None).await
}

async fn distribution_page(state: &AppState, staff: &Staff, id: &str, message: Option<Markup>) -> Response {
    let lang = staff.lang;
    let title = distributions_title(lang);
    let view = match state.sesame.view_distribution(&staff.caller, id).await {
        Ok(view) => view,
        Err(e) => return refused(staff, "/console/distributions", title, &e),
    };
    let d = &view.distribution;
    let running = matches!(d.status, RunStatus::Queued | RunStatus::Running);
    let open = view
        .accounts
        .iter()
        .filter(|a| a.state == crate::domain::SecretState::Open)
        .count();
    let body = html! {
        @if let Some(message) = message { (message) }
        div.card {
            dl {
                dt { (tr(lang, "Genre", "Kind")) } dd { (kind_word(lang, d.kind)) }
                dt { (tr(lang, "Date", "Date")) } dd { (staff.when(d.created_at)) }
                dt { (tr(lang, "État", "Status")) } dd #status { (run_word(lang, d.status)) }
                @if d.total > 0 { dt { (tr(lang, "Avancement", "Progress")) } dd { (d.processed) " / " (d.total) } }
                dt { (tr(lang, "Secrets encore ouverts", "Secrets still open")) } dd #open { (open) }
            }
            @if running {
                progress max=(d.total.max(1)) value=(d.processed) aria-label=(tr(lang, "Avancement", "Progress")) {}
            }
            @if open > 0 {
                form method="post" action={ "/console/distributions/" (d.id) "/revoke" } {
                    input type="hidden" name="csrf" value=(staff.session.csrf);
                    button.danger #recall type="submit" { (tr(lang, "Rappeler : révoquer les secrets encore ouverts…", "Recall: revoke the secrets still open…")) }
                }
            }
        }
        div.card {
            (scroll_table(lang, &[tr(lang, "Nom", "Name"), tr(lang, "Identifiant", "Login"), tr(lang, "État du secret", "Secret's state"), tr(lang, "Jusqu'au", "Until"), tr(lang, "Courriel", "Mail")], html! {
                    @for a in &view.accounts {
                        tr {
                            td { a href={ "/console/accounts/" (a.account_id) } { (a.last_name) " " (a.first_name) } }
                            td { code { (a.login) } }
                            td { span class={ "state-" (state_code(a.state)) } { (state_word(lang, a.state)) } }
                            td { @if let Some(at) = a.expires_at { (staff.when(at)) } }
                            td { @match a.email_state {
                                Some(s) if s.blocks_mail() => { span.state-undelivered { (tr(lang, "non remis", "not delivered")) } }
                                Some(crate::domain::EmailStatus::Delivered) => { (tr(lang, "remis", "delivered")) }
                                _ => {}
                            } }
                        }
                    }
                }))
            @if !d.results.is_empty() {
                h2 { (tr(lang, "Résultats de l'envoi", "Sending results")) }
                ul { @for r in &d.results { li { code { (r.account_id) } " : " (r.status) @if let Some(m) = &r.mail { " (" (m) ")" } } } }
            }
        }
    };
    let response = page(StatusCode::OK, staff.shell("/console/distributions", title, body));
    if running { refreshing(response) } else { response }
}

pub(super) async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Posted { staff, pairs }: Posted,
) -> Response {
    let lang = staff.lang;
    let title = distributions_title(lang);
    if field(&pairs, "confirmed") != Some("yes") {
        // The same 404 as the API before anything is offered.
        if let Err(e) = state.sesame.distribution(&staff.caller, &id).await {
            return refused(&staff, "/console/distributions", title, &e);
        }
        let body = html! {
            div.card {
                (alert(tr(lang,
                    "Les secrets encore ouverts de cette distribution cesseront de fonctionner. Ceux qui ont déjà choisi leur mot de passe le gardent.",
                    "This distribution's secrets still open will stop working. Those who already chose their password keep it.")))
                form method="post" action={ "/console/distributions/" (id) "/revoke" } {
                    input type="hidden" name="csrf" value=(staff.session.csrf);
                    input type="hidden" name="confirmed" value="yes";
                    button.danger #confirm type="submit" { (tr(lang, "Confirmer le rappel", "Confirm the recall")) }
                    a.button.quiet href={ "/console/distributions/" (id) } { (tr(lang, "Annuler", "Cancel")) }
                }
            }
        };
        return page(StatusCode::OK, staff.shell("/console/distributions", title, body));
    }
    match state
        .sesame
        .revoke_distribution(&staff.caller, staff.request_id(), &id)
        .await
    {
        Ok(results) => {
            let revoked = results.iter().filter(|r| r.result.is_ok()).count();
            let done = html! { div.alert.ok role="status" { p {
                (tr(lang, "Distribution rappelée ; secrets révoqués :", "Distribution recalled; secrets revoked:")) " " (revoked)
            } } };
            distribution_page(&state, &staff, &id, Some(done)).await
        }
        Err(e) => refused(&staff, "/console/distributions", title, &e),
    }
}
