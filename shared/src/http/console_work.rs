//! The console's other pages (SPEC §11): an export's progress and download,
//! imports previewed before they are applied, each class's follow-up with a
//! picture of its progress and "send to everyone still pending", the
//! distributions with their recall, the audit log, and the settings. Every
//! action calls the API's operations.

use super::AppState;
use super::console::{Posted, Staff, alert, page, refused, scroll_table, tr};
use super::console_accounts::{problem, state_code, state_word};
use crate::domain::{
    Activation, ClassName, DistributionKind, Error, ExportStatus, Language, Profile, RunStatus, Scope,
};
use crate::ops::accounts::Selection;
use crate::ops::distributions::FollowUpCounts;
use crate::ops::import::ImportReport;
use crate::ops::settings::SettingsPatch;
use crate::ports::{AuditQuery, DistributionQuery};
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use maud::{Markup, html};

pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    // A roster travels twice: uploaded, then kept in the preview's form (base64).
    let roster_limit = DefaultBodyLimit::max(super::routes::imports::MAX_IMPORT_BYTES * 2);
    axum::Router::new()
        .route("/console/exports/{id}", get(export))
        .route("/console/imports", get(imports))
        .route("/console/imports/preview", post(preview).layer(roster_limit))
        .route("/console/imports/apply", post(apply).layer(roster_limit))
        .route("/console/follow-up", get(follow_ups))
        .route("/console/follow-up/{class}", get(follow_up))
        .route("/console/follow-up/{class}/send", post(send_to_pending))
        .route("/console/distributions", get(distributions))
        .route("/console/distributions/{id}", get(distribution))
        .route("/console/distributions/{id}/revoke", post(revoke))
        .route("/console/audit", get(audit))
        .route("/console/settings", get(settings).post(save_settings))
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

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn query_pairs(uri: &Uri) -> Vec<(String, String)> {
    uri.query()
        .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, v)| k != "lang" && !v.is_empty())
        .collect()
}

fn status_of(e: &Error) -> StatusCode {
    match e {
        Error::NotFound => StatusCode::NOT_FOUND,
        Error::Forbidden => StatusCode::FORBIDDEN,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// A page that reloads itself every two seconds (a job's progress), no script.
fn refreshing(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert("refresh", HeaderValue::from_static("2"));
    response
}

// ---- Exports ----

async fn export(State(state): State<AppState>, staff: Staff, Path(id): Path<String>) -> Response {
    let lang = staff.lang;
    let title = tr(lang, "Export", "Export");
    let view = match state.sesame.get_export(&staff.caller, &id).await {
        Ok(view) => view,
        Err(e) => return refused(&staff, "/console/accounts", title, &e),
    };
    let job = &view.job;
    let running = matches!(job.status, ExportStatus::Queued | ExportStatus::Running);
    let body = html! {
        div.card {
            @match job.status {
                ExportStatus::Queued | ExportStatus::Running => {
                    p role="status" { (tr(lang, "Préparation du fichier…", "Preparing the file…")) " " (job.processed) " / " (job.total) }
                    progress max=(job.total.max(1)) value=(job.processed) aria-label=(tr(lang, "Avancement", "Progress")) {}
                }
                ExportStatus::Done => {
                    @if let Some((url, until)) = &view.download {
                        p { a.button #download href=(url) download { (tr(lang, "Télécharger le fichier", "Download the file")) } }
                        p.muted { (tr(lang, "Lien valable jusqu'à", "Link valid until")) " " (staff.when(*until)) "; "
                            (tr(lang, "le fichier est supprimé au plus tard le", "the file is deleted at the latest on")) " " (staff.when(job.delete_after)) }
                    }
                }
                ExportStatus::Failed => {
                    (alert(tr(lang, "L'export a échoué ; ses secrets ont été révoqués.", "The export failed; its secrets were revoked.")))
                }
                ExportStatus::Deleted => {
                    p { (tr(lang, "Le fichier a été supprimé.", "The file was deleted.")) }
                }
            }
            p { a href="/console/accounts" { (tr(lang, "Retour aux comptes", "Back to the accounts")) } }
        }
    };
    let response = page(StatusCode::OK, staff.shell("/console/accounts", title, body));
    if running { refreshing(response) } else { response }
}

// ---- Imports ----

fn import_title(lang: Language) -> &'static str {
    tr(
        lang,
        "Importer un fichier d'élèves et de responsables",
        "Import a roster",
    )
}

async fn imports(staff: Staff) -> Response {
    let lang = staff.lang;
    if let Err(e) = crate::ops::Sesame::may_import(&staff.caller) {
        return refused(&staff, "/console/imports", import_title(lang), &e);
    }
    page(
        StatusCode::OK,
        staff.shell("/console/imports", import_title(lang), upload_form(&staff, None)),
    )
}

fn upload_form(staff: &Staff, message: Option<Markup>) -> Markup {
    let lang = staff.lang;
    html! {
        @if let Some(message) = message { (message) }
        div.card {
            p { (tr(lang,
                "Un fichier CSV (séparateur virgule ou point-virgule) ou XLSX (la première feuille) avec les colonnes de l'API : un aperçu montre ce qui changera, rien n'est écrit avant votre confirmation.",
                "A CSV file (comma or semicolon) or an XLSX workbook (its first sheet) with the API's columns: a preview shows what will change; nothing is written before you confirm.")) }
            form method="post" action="/console/imports/preview" enctype="multipart/form-data" {
                input type="hidden" name="csrf" value=(staff.session.csrf);
                label for="roster" { (tr(lang, "Fichier", "File")) }
                input #roster type="file" name="roster" accept=".csv,text/csv,.xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" required;
                button #preview type="submit" { (tr(lang, "Voir l'aperçu", "Preview")) }
            }
        }
    }
}

fn report_markup(lang: Language, report: &ImportReport) -> Markup {
    html! {
        dl {
            dt { (tr(lang, "Créés", "Created")) } dd #created { (report.created) }
            dt { (tr(lang, "Modifiés", "Updated")) } dd #updated { (report.updated) }
            dt { (tr(lang, "Inchangés", "Unchanged")) } dd { (report.unchanged) }
            dt { (tr(lang, "Erreurs", "Errors")) } dd #errors { (report.errors.len()) }
        }
        @if !report.errors.is_empty() {
            (scroll_table(lang, &[tr(lang, "Ligne", "Row"), tr(lang, "Colonne", "Column"), tr(lang, "Problème", "Problem")], html! { @for e in &report.errors { tr { td { (e.row) } td { code { (e.field) } } td { (e.message) } } } }))
        }
    }
}

async fn preview(State(state): State<AppState>, staff: Staff, mut multipart: Multipart) -> Response {
    let lang = staff.lang;
    let title = import_title(lang);
    // Who may import is asked before a byte of the file is read.
    if let Err(e) = crate::ops::Sesame::may_import(&staff.caller) {
        return refused(&staff, "/console/imports", title, &e);
    }
    let (mut csrf, mut roster) = (String::new(), None);
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => match field.name() {
                Some("csrf") => csrf = field.text().await.unwrap_or_default(),
                Some("roster") => roster = field.bytes().await.ok(),
                _ => {}
            },
            Ok(None) => break,
            Err(_) => {
                let message = alert(tr(
                    lang,
                    "Le fichier n'a pas pu être lu (trop gros ?).",
                    "The file could not be read (too large?).",
                ));
                return page(
                    StatusCode::BAD_REQUEST,
                    staff.shell("/console/imports", title, upload_form(&staff, Some(message))),
                );
            }
        }
    }
    if !staff.session.csrf_matches(&csrf) {
        return staff.forbidden();
    }
    let Some(roster) = roster.filter(|r| !r.is_empty()) else {
        let message = alert(tr(lang, "Choisissez un fichier.", "Choose a file."));
        return page(
            StatusCode::UNPROCESSABLE_ENTITY,
            staff.shell("/console/imports", title, upload_form(&staff, Some(message))),
        );
    };
    run_import(&state, &staff, &roster, true).await
}

async fn apply(State(state): State<AppState>, Posted { staff, pairs }: Posted) -> Response {
    let Some(roster) = field(&pairs, "roster").and_then(|r| B64.decode(r).ok()) else {
        let message = alert(tr(staff.lang, "Choisissez un fichier.", "Choose a file."));
        let title = import_title(staff.lang);
        return page(
            StatusCode::UNPROCESSABLE_ENTITY,
            staff.shell("/console/imports", title, upload_form(&staff, Some(message))),
        );
    };
    run_import(&state, &staff, &roster, false).await
}

async fn run_import(state: &AppState, staff: &Staff, roster: &[u8], dry_run: bool) -> Response {
    let lang = staff.lang;
    let title = import_title(lang);
    // The kept roster comes back without its type: an XLSX workbook is known by its bytes.
    let kind = crate::ops::roster::RosterKind::sniff(roster);
    let report = match crate::ops::roster::read_roster(roster.to_vec(), kind).await {
        Ok(rows) => {
            state
                .sesame
                .import_roster(&staff.caller, staff.request_id(), &rows, dry_run)
                .await
        }
        Err(e) => Err(e),
    };
    let report = match report {
        Ok(report) => report,
        Err(e) => {
            let status = status_of(&e);
            return page(
                status,
                staff.shell(
                    "/console/imports",
                    title,
                    upload_form(staff, Some(problem(staff.lang, &e))),
                ),
            );
        }
    };
    let body = html! {
        div.card {
            @if dry_run {
                h2 { (tr(lang, "Aperçu : rien n'est encore écrit", "Preview: nothing is written yet")) }
            } @else {
                div.alert.ok role="status" { p { (tr(lang, "Import appliqué.", "Import applied.")) } }
            }
            (report_markup(lang, &report))
            @if dry_run {
                form method="post" action="/console/imports/apply" {
                    input type="hidden" name="csrf" value=(staff.session.csrf);
                    input type="hidden" name="roster" value=(B64.encode(roster));
                    button #apply type="submit" { (tr(lang, "Appliquer l'import", "Apply the import")) }
                    a.button.quiet href="/console/imports" { (tr(lang, "Annuler", "Cancel")) }
                }
            } @else {
                p { a href="/console/accounts" { (tr(lang, "Voir les comptes", "See the accounts")) } }
            }
        }
    };
    page(StatusCode::OK, staff.shell("/console/imports", title, body))
}

// ---- Follow-up ----

fn follow_up_title(lang: Language) -> &'static str {
    tr(lang, "Suivi des classes", "Class follow-up")
}

/// A bar of `counts`: activated in green, open secrets in blue, the rest grey,
/// drawn server-side (SVG), with the same numbers in words beside it.
fn bar(lang: Language, label: &str, counts: &FollowUpCounts) -> Markup {
    let total = counts.total.max(1) as f64;
    let width = |n: u64| format!("{:.1}", 300.0 * n as f64 / total);
    let activated = width(counts.activated);
    let open_x = activated.clone();
    let open = width(counts.open);
    let words = format!(
        "{label} : {} / {} {}",
        counts.activated,
        counts.total,
        tr(lang, "activés", "activated")
    );
    html! {
        div.bars {
            svg width="300" height="16" viewBox="0 0 300 16" role="img" aria-label=(words) {
                rect x="0" y="0" width="300" height="16" fill="#d1d5db" {}
                rect x="0" y="0" width=(activated) height="16" fill="#15803d" {}
                rect x=(open_x) y="0" width=(open) height="16" fill="#1e40af" {}
            }
            span { (words) }
        }
    }
}

async fn follow_ups(State(state): State<AppState>, staff: Staff) -> Response {
    let lang = staff.lang;
    let classes = state
        .sesame
        .visible_classes(&staff.caller)
        .await
        .unwrap_or_default();
    let mut rows = Vec::new();
    for class in &classes {
        if let Ok(f) = state.sesame.follow_up(&staff.caller, &class.name).await {
            rows.push(f);
        }
    }
    let body = html! {
        div.card {
            p.muted { (tr(lang, "Vert : activés ; bleu : un secret remis attend ; gris : le reste.", "Green: activated; blue: a secret handed out is waiting; grey: the rest.")) }
            (scroll_table(lang, &[tr(lang, "Classe", "Class"), tr(lang, "Élèves", "Students"), tr(lang, "Responsables", "Parents")], html! {
                    @for f in &rows {
                        tr {
                            th scope="row" { a href={ "/console/follow-up/" (path_segment(&f.class)) } { (f.class) } }
                            td { (bar(lang, tr(lang, "Élèves", "Students"), &f.students)) }
                            td { (bar(lang, tr(lang, "Responsables", "Parents"), &f.parents)) }
                        }
                    }
                }))
        }
    };
    page(
        StatusCode::OK,
        staff.shell("/console/follow-up", follow_up_title(lang), body),
    )
}

fn counts_table(lang: Language, students: &FollowUpCounts, parents: &FollowUpCounts) -> Markup {
    type Count = fn(&FollowUpCounts) -> u64;
    let rows: [(&str, Count); 6] = [
        (tr(lang, "Activés", "Activated"), |c| c.activated),
        (tr(lang, "En attente", "Pending"), |c| c.pending),
        (
            tr(lang, "… avec un secret ouvert", "… with an open secret"),
            |c| c.open,
        ),
        (
            tr(lang, "… dont le secret a expiré", "… whose secret expired"),
            |c| c.expired,
        ),
        (
            tr(lang, "… dont le secret est révoqué", "… whose secret was revoked"),
            |c| c.revoked,
        ),
        (tr(lang, "… jamais remis", "… never handed out"), |c| {
            c.never_handed_out
        }),
    ];
    html! {
        div.scroll tabindex="0" role="region" aria-label=(tr(lang, "Tableau", "Table")) { table {
            thead { tr {
                th scope="col" {}
                th scope="col" { (tr(lang, "Élèves", "Students")) }
                th scope="col" { (tr(lang, "Responsables", "Parents")) }
            } }
            tbody {
                @for (label, count) in rows {
                    tr { th scope="row" { (label) } td { (count(students)) } td { (count(parents)) } }
                }
            }
        } }
    }
}

async fn follow_up(State(state): State<AppState>, staff: Staff, Path(class): Path<String>) -> Response {
    let lang = staff.lang;
    let title = follow_up_title(lang);
    let found = match ClassName::parse(&class) {
        Ok(name) => state.sesame.follow_up(&staff.caller, &name).await,
        Err(_) => Err(Error::NotFound),
    };
    let f = match found {
        Ok(f) => f,
        Err(e) => return refused(&staff, "/console/follow-up", title, &e),
    };
    let body = html! {
        div.card {
            h2 { (f.class) }
            (bar(lang, tr(lang, "Élèves", "Students"), &f.students))
            (bar(lang, tr(lang, "Responsables", "Parents"), &f.parents))
            (counts_table(lang, &f.students, &f.parents))
        }
        div.card {
            h2 { (tr(lang, "À relancer", "To chase")) " (" (f.to_chase.len()) ")" }
            @if !f.to_chase.is_empty() {
                form method="post" action={ "/console/follow-up/" (path_segment(&f.class)) "/send" } {
                    input type="hidden" name="csrf" value=(staff.session.csrf);
                    button #send-pending type="submit" { (tr(lang, "Envoyer l'activation à tous ceux qui attendent", "Send the activation to everyone still pending")) }
                }
                (scroll_table(lang, &[tr(lang, "Nom", "Name"), tr(lang, "Profil", "Profile"), tr(lang, "Courriel", "Email"), tr(lang, "Dernier secret", "Last secret")], html! {
                        @for c in &f.to_chase {
                            tr {
                                td { a href={ "/console/accounts/" (c.account_id) } { (c.last_name) " " (c.first_name) } }
                                td { (crate::export::labels::Labels::of(lang).profile(c.profile)) }
                                td { @if c.has_email { "✓" } @else { (tr(lang, "aucun", "none")) } }
                                td { @match c.secret {
                                    Some(s) => { span class={ "state-" (state_code(s)) } { (state_word(lang, s)) } }
                                    None => { (tr(lang, "jamais remis", "never handed out")) }
                                } }
                            }
                        }
                    }))
            }
        }
    };
    page(StatusCode::OK, staff.shell("/console/follow-up", title, body))
}

async fn send_to_pending(
    State(state): State<AppState>,
    Path(class): Path<String>,
    Posted { staff, .. }: Posted,
) -> Response {
    let title = follow_up_title(staff.lang);
    let Ok(name) = ClassName::parse(&class) else {
        return refused(&staff, "/console/follow-up", title, &Error::NotFound);
    };
    if !staff.caller.may_follow(&name) {
        return refused(&staff, "/console/follow-up", title, &Error::NotFound);
    }
    // Teachers send to their students; administrators to students and parents.
    let profiles = if staff.caller.is_admin() {
        vec![Profile::Student, Profile::Parent]
    } else {
        vec![Profile::Student]
    };
    let selection = Selection {
        classes: vec![name],
        profiles,
        activation: Some(Activation::Pending),
        access: Some(crate::domain::Access::Enabled),
        ..Selection::default()
    };
    match state
        .sesame
        .queue_send_activation(&staff.caller, staff.request_id(), Scope::Filter(selection), false)
        .await
    {
        Ok(d) => Redirect::to(&format!("/console/distributions/{}", d.id)).into_response(),
        Err(e) => refused(&staff, "/console/follow-up", title, &e),
    }
}

// ---- Distributions ----

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

async fn distributions(State(state): State<AppState>, staff: Staff, uri: Uri) -> Response {
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

async fn distribution(State(state): State<AppState>, staff: Staff, Path(id): Path<String>) -> Response {
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
            (scroll_table(lang, &[tr(lang, "Nom", "Name"), tr(lang, "Identifiant", "Login"), tr(lang, "État du secret", "Secret's state"), tr(lang, "Jusqu'au", "Until")], html! {
                    @for a in &view.accounts {
                        tr {
                            td { a href={ "/console/accounts/" (a.account_id) } { (a.last_name) " " (a.first_name) } }
                            td { code { (a.login) } }
                            td { span class={ "state-" (state_code(a.state)) } { (state_word(lang, a.state)) } }
                            td { @if let Some(at) = a.expires_at { (staff.when(at)) } }
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

async fn revoke(
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

// ---- Audit ----

async fn audit(State(state): State<AppState>, staff: Staff, uri: Uri) -> Response {
    let lang = staff.lang;
    let title = tr(lang, "Journal", "Audit log");
    let kept = query_pairs(&uri);
    let action = field(&kept, "action").map(str::to_owned);
    let query = AuditQuery {
        action: action.clone(),
        limit: 50,
        ..AuditQuery::default()
    };
    let list = match state
        .sesame
        .list_audit(&staff.caller, query, field(&kept, "cursor"))
        .await
    {
        Ok(list) => list,
        Err(e) => return refused(&staff, "/console/audit", title, &e),
    };
    let next = list.next_cursor.as_ref().map(|c| {
        let mut query: Vec<(&str, &str)> = vec![("cursor", c)];
        if let Some(a) = &action {
            query.push(("action", a));
        }
        format!(
            "/console/audit?{}",
            serde_urlencoded::to_string(query).unwrap_or_default()
        )
    });
    let body = html! {
        div.card {
            form.filters method="get" action="/console/audit" {
                div {
                    label for="action" { (tr(lang, "Action (ex. password.reset)", "Action (e.g. password.reset)")) }
                    input #action name="action" value=(action.clone().unwrap_or_default());
                }
                div { button type="submit" { (tr(lang, "Filtrer", "Filter")) } }
            }
            (scroll_table(lang, &[tr(lang, "Date", "Date"), tr(lang, "Auteur", "Actor"), tr(lang, "Action", "Action"), tr(lang, "Comptes", "Accounts"), tr(lang, "Résultat", "Outcome"), tr(lang, "Détail", "Detail")], html! {
                    @for e in &list.items {
                        tr {
                            td { (staff.when(e.at)) }
                            td { code { (e.actor) } }
                            td { code { (e.action) } }
                            td { (e.targets.len()) }
                            td { (format!("{:?}", e.outcome).to_lowercase()) }
                            td { @if let Some(d) = &e.detail { (d) } }
                        }
                    }
                }))
            @if let Some(next) = next { p.pager { a href=(next) { (tr(lang, "Page suivante", "Next page")) } } }
        }
    };
    page(StatusCode::OK, staff.shell("/console/audit", title, body))
}

// ---- Settings ----

fn settings_title(lang: Language) -> &'static str {
    tr(lang, "Réglages de l'établissement", "School settings")
}

async fn settings(State(state): State<AppState>, staff: Staff) -> Response {
    settings_page(&state, &staff, StatusCode::OK, None).await
}

async fn settings_page(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    message: Option<Markup>,
) -> Response {
    let lang = staff.lang;
    let title = settings_title(lang);
    if !staff.caller.may_do(crate::domain::Task::ChangeSettings) {
        return refused(staff, "/console/settings", title, &Error::Forbidden);
    }
    let school = match state.sesame.get_settings(&staff.caller).await {
        Ok(school) => school,
        Err(e) => return refused(staff, "/console/settings", title, &e),
    };
    let s = &school.settings;
    let number = |id: &'static str, label: &'static str, value: u32| {
        html! {
            label for=(id) { (label) }
            input id=(id) name=(id) type="number" inputmode="numeric" value=(value) required;
        }
    };
    let body = html! {
        @if let Some(message) = message { (message) }
        div.card {
            form method="post" action="/console/settings" {
                input type="hidden" name="csrf" value=(staff.session.csrf);
                label for="school_name" { (tr(lang, "Nom de l'établissement", "School name")) }
                input #school_name name="school_name" value=(school.name) required;
                (number("temporary_password_days", tr(lang, "Validité des mots de passe temporaires (jours)", "Temporary passwords' validity (days)"), s.temporary_password_days))
                (number("password_min_length", tr(lang, "Longueur minimale des mots de passe", "Passwords' minimum length"), s.password_min_length))
                (number("retention_days", tr(lang, "Conservation des comptes désactivés (jours)", "Disabled accounts kept for (days)"), s.retention_days))
                (number("audit_days", tr(lang, "Conservation du journal et des distributions (jours)", "Audit and distributions kept for (days)"), s.audit_days))
                label for="login_url" { (tr(lang, "Adresse de connexion imprimée sur les cartes", "Sign-in address printed on the cards")) }
                input #login_url name="login_url" type="url" value=(s.login_url) required;
                label for="sender" { (tr(lang, "Expéditeur des courriels", "Mail sender")) }
                input #sender name="sender" type="email" value=(s.sender.as_ref().map(ToString::to_string).unwrap_or_default());
                label for="language" { (tr(lang, "Langue", "Language")) }
                select #language name="language" {
                    option value="fr" selected[s.language == Language::Fr] { "Français" }
                    option value="en" selected[s.language == Language::En] { "English" }
                }
                label for="time_zone" { (tr(lang, "Fuseau horaire (ex. Europe/Paris, America/Cayenne, Indian/Reunion)", "Time zone (e.g. Europe/Paris, America/Cayenne, Indian/Reunion)")) }
                input #time_zone name="time_zone" value=(s.time_zone.name()) required;
                div.inline {
                    label { input type="checkbox" name="birth_date_mode" value="true" checked[s.birth_date_mode];
                        " " (tr(lang, "Permettre la date de naissance comme mot de passe (déconseillé)", "Allow the birth date as a password (not advised)")) }
                }
                button #save type="submit" { (tr(lang, "Enregistrer", "Save")) }
            }
        }
    };
    page(status, staff.shell("/console/settings", title, body))
}

async fn save_settings(State(state): State<AppState>, Posted { staff, pairs }: Posted) -> Response {
    let lang = staff.lang;
    let mut errors = Vec::new();
    let mut number = |name: &str| -> Option<u32> {
        let raw = field(&pairs, name)?.trim();
        let parsed = raw.parse().ok();
        if parsed.is_none() {
            errors.push(crate::domain::FieldError::new(name, "must be a whole number"));
        }
        parsed
    };
    let patch = SettingsPatch {
        temporary_password_days: number("temporary_password_days"),
        password_min_length: number("password_min_length"),
        retention_days: number("retention_days"),
        audit_days: number("audit_days"),
        school_name: field(&pairs, "school_name").map(str::to_owned),
        time_zone: field(&pairs, "time_zone").map(str::to_owned),
        login_url: field(&pairs, "login_url").map(str::to_owned),
        sender: Some(
            field(&pairs, "sender")
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        ),
        language: match field(&pairs, "language") {
            Some("en") => Some(Language::En),
            Some("fr") => Some(Language::Fr),
            _ => None,
        },
        birth_date_mode: Some(field(&pairs, "birth_date_mode") == Some("true")),
    };
    if !errors.is_empty() {
        let e = Error::Validation(errors);
        return settings_page(
            &state,
            &staff,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(problem(staff.lang, &e)),
        )
        .await;
    }
    match state
        .sesame
        .update_settings(&staff.caller, staff.request_id(), patch)
        .await
    {
        Ok(_) => {
            let saved = html! { div.alert.ok role="status" { p { (tr(lang, "Réglages enregistrés.", "Settings saved.")) } } };
            settings_page(&state, &staff, StatusCode::OK, Some(saved)).await
        }
        Err(e) => {
            let status = status_of(&e);
            settings_page(&state, &staff, status, Some(problem(staff.lang, &e))).await
        }
    }
}
