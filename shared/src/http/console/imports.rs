//! Imports from the console: upload, preview (a dry run), apply the same bytes.

use super::kit::*;
use crate::domain::Language;
use crate::http::AppState;
use crate::http::ui::{alert, field, tr};
use crate::ops::import::ImportReport;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use maud::{Markup, html};

fn import_title(lang: Language) -> &'static str {
    tr(
        lang,
        "Importer un fichier d'élèves et de responsables",
        "Import a roster",
    )
}

/// A roster travels twice: uploaded, then kept (sealed, in base64) in the
/// preview's form.
pub(super) const MAX_FORM_BYTES: usize = crate::http::routes::imports::MAX_IMPORT_BYTES * 2;

pub(super) async fn imports(staff: Staff) -> Response {
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

pub(super) async fn preview(
    State(state): State<AppState>,
    staff: Staff,
    mut multipart: Multipart,
) -> Response {
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

/// Applies the previewed roster: the bytes the dry run checked come back sealed
/// for this session, so the real run imports them or refuses.
pub(super) async fn apply(State(state): State<AppState>, Posted { staff, pairs }: Posted) -> Response {
    let kept = field(&pairs, "roster")
        .and_then(|r| B64.decode(r).ok())
        .and_then(|sealed| state.form_sealer.open(&sealed).ok())
        .and_then(|plain| {
            let bound = staff.session.csrf.as_bytes();
            plain.strip_prefix(bound).map(<[u8]>::to_vec)
        });
    let Some(roster) = kept else {
        let message = alert(tr(
            staff.lang,
            "L'aperçu n'est plus valable : déposez le fichier à nouveau.",
            "The preview no longer holds: upload the file again.",
        ));
        let title = import_title(staff.lang);
        return page(
            StatusCode::UNPROCESSABLE_ENTITY,
            staff.shell("/console/imports", title, upload_form(&staff, Some(message))),
        );
    };
    run_import(&state, &staff, &roster, false).await
}

/// The previewed roster, sealed for this session's later post.
fn keep(state: &AppState, staff: &Staff, roster: &[u8]) -> Option<String> {
    let plain = [staff.session.csrf.as_bytes(), roster].concat();
    state
        .form_sealer
        .seal(&plain)
        .ok()
        .map(|sealed| B64.encode(sealed))
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
            let status = logged_status(&e);
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
            @if let Some(kept) = dry_run.then(|| keep(state, staff, roster)).flatten() {
                form method="post" action="/console/imports/apply" {
                    input type="hidden" name="csrf" value=(staff.session.csrf);
                    input type="hidden" name="roster" value=(kept);
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
