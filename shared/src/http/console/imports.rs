//! Imports from the console: upload, preview (a dry run), apply the same bytes.

use super::kit::*;
use crate::domain::Language;
use crate::http::AppState;
use crate::http::ui::{alert, field, tr};
use crate::ops::import::{ImportMode, ImportOptions, ImportReport};
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
                "Un fichier CSV (séparateur virgule ou point-virgule) ou XLSX (la première feuille) avec les colonnes de l'API, ou un export OneRoster (zip CSV, 1.1 ou 1.2) : un aperçu montre ce qui changera, rien n'est écrit avant votre confirmation.",
                "A CSV file (comma or semicolon) or an XLSX workbook (its first sheet) with the API's columns, or a OneRoster export (CSV zip, 1.1 or 1.2): a preview shows what will change; nothing is written before you confirm.")) }
            form method="post" action="/console/imports/preview" enctype="multipart/form-data" {
                input type="hidden" name="csrf" value=(staff.session.csrf);
                label for="roster" { (tr(lang, "Fichier", "File")) }
                input #roster type="file" name="roster" accept=".csv,text/csv,.xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,.zip,application/zip" required;
                fieldset {
                    legend { (tr(lang, "Ce que le fichier représente", "What the file stands for")) }
                    label.inline { input type="radio" name="mode" value="auto" checked;
                        " " (tr(lang, "Selon le fichier (un export OneRoster complet synchronise, sinon ajout et mise à jour)", "As the file says (a full OneRoster export syncs; anything else adds and updates)")) }
                    label.inline { input type="radio" name="mode" value="merge";
                        " " (tr(lang, "Ajouter et mettre à jour les comptes du fichier seulement", "Add and update the file's accounts only")) }
                    label.inline { input type="radio" name="mode" value="sync";
                        " " (tr(lang, "Synchroniser : le fichier est toute l'école pour ses profils ; les comptes absents seront désactivés (l'aperçu les liste)", "Sync: the file is the whole school for its profiles; accounts missing from it will be deactivated (the preview lists them)")) }
                }
                button #preview type="submit" { (tr(lang, "Voir l'aperçu", "Preview")) }
            }
        }
    }
}

fn report_markup(lang: Language, report: &ImportReport) -> Markup {
    let rows = |errors: &[crate::ops::import::RowError]| {
        scroll_table(
            lang,
            &[
                tr(lang, "Fichier", "File"),
                tr(lang, "Ligne", "Row"),
                tr(lang, "Colonne", "Column"),
                tr(lang, "Problème", "Problem"),
            ],
            html! { @for e in errors { tr { td { (e.file.as_deref().unwrap_or("")) } td { (e.row) } td { code { (e.field) } } td { (e.message) } } } },
        )
    };
    html! {
        dl {
            dt { (tr(lang, "Créés", "Created")) } dd #created { (report.created) }
            dt { (tr(lang, "Modifiés", "Updated")) } dd #updated { (report.updated) }
            dt { (tr(lang, "Inchangés", "Unchanged")) } dd { (report.unchanged) }
            @if let Some(sync) = &report.sync {
                dt { (if report.dry_run { tr(lang, "À désactiver (absents du fichier)", "To deactivate (missing from the file)") } else { tr(lang, "Désactivés (absents du fichier)", "Deactivated (missing from the file)") }) }
                dd #deactivations { (sync.deactivations) }
                dt { (tr(lang, "Absents gardés (annuaire fédéré, administrateurs)", "Missing but kept (federated, administrators)")) } dd { (sync.kept) }
            }
            @if report.sync.is_none() && report.deactivated > 0 {
                dt { (if report.dry_run { tr(lang, "À désactiver (fermés par le fichier)", "To deactivate (closed by the file)") } else { tr(lang, "Désactivés (fermés par le fichier)", "Deactivated (closed by the file)") }) }
                dd #deactivations { (report.deactivated) }
            }
            @if report.reactivated > 0 {
                dt { (if report.dry_run { tr(lang, "À réactiver (fermés par un fichier, ouverts dans celui-ci)", "To reactivate (closed by a roster, open in this one)") } else { tr(lang, "Réactivés (fermés par un fichier, ouverts dans celui-ci)", "Reactivated (closed by a roster, open in this one)") }) }
                dd #reactivations { (report.reactivated) }
            }
            @if let Some(bundle) = &report.oneroster {
                dt { (tr(lang, "Autres établissements (ignorés)", "Other orgs (left out)")) } dd { (bundle.other_orgs) }
                dt { (tr(lang, "Mots de passe du fichier (ignorés)", "Passwords in the file (ignored)")) } dd { (bundle.passwords) }
            }
            dt { (tr(lang, "Erreurs", "Errors")) } dd #errors { (report.errors.len()) }
        }
        @if let Some(sync) = report.sync.as_ref().filter(|s| !s.by_class.is_empty()) {
            h3 { (tr(lang, "Comptes absents du fichier, par classe et profil", "Accounts missing from the file, by class and profile")) }
            (scroll_table(lang, &[tr(lang, "Classe", "Class"), tr(lang, "Profil", "Profile"), tr(lang, "Nombre", "Count"), tr(lang, "Comptes", "Accounts")], html! {
                @for g in &sync.by_class { tr {
                    td { (g.class.as_deref().unwrap_or("—")) }
                    td { (g.profile.as_str()) }
                    td { (g.count) }
                    td { details { summary { (tr(lang, "Voir", "Show")) } ul { @for a in &g.accounts { li { (a.last_name) " " (a.first_name) " (" code { (a.login) } ")" } } } } }
                } }
            }))
        }
        @if !report.errors.is_empty() {
            @if report.sync.is_some() {
                (alert(tr(lang, "Une synchronisation ne s'applique qu'à un fichier sans erreur : corrigez les lignes ci-dessous.", "A sync applies only to a file without errors: correct the rows below.")))
            }
            (rows(&report.errors))
        }
        @if !report.notices.is_empty() {
            h3 { (tr(lang, "Remarques", "Notes")) }
            (rows(&report.notices))
        }
    }
}

/// The import's options as the form gives them.
fn options_of(pairs: &[(String, String)]) -> ImportOptions {
    let value = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    ImportOptions {
        mode: match value("mode") {
            Some("sync") => Some(ImportMode::Sync),
            Some("merge") => Some(ImportMode::Merge),
            _ => None,
        },
        sync_profiles: Vec::new(),
        expect_deactivations: value("expect_deactivations").and_then(|n| n.parse().ok()),
        expect_digest: value("expect_digest").map(str::to_owned),
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
    let (mut csrf, mut roster, mut mode) = (String::new(), None, String::new());
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => match field.name() {
                Some("csrf") => csrf = field.text().await.unwrap_or_default(),
                Some("mode") => mode = field.text().await.unwrap_or_default(),
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
    let options = options_of(&[("mode".to_owned(), mode)]);
    run_import(&state, &staff, &roster, true, options).await
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
    let options = options_of(&pairs);
    run_import(&state, &staff, &roster, false, options).await
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

async fn run_import(
    state: &AppState,
    staff: &Staff,
    roster: &[u8],
    dry_run: bool,
    options: ImportOptions,
) -> Response {
    let lang = staff.lang;
    let title = import_title(lang);
    // The kept roster comes back without its type: a workbook or a bundle is known by its bytes.
    let kind = crate::ops::roster::RosterKind::sniff(roster);
    let org = match kind {
        crate::ops::roster::RosterKind::OneRoster => state.sesame.oneroster_org(&staff.caller).await,
        _ => Ok(None),
    };
    let read = match org {
        Ok(org) => crate::ops::roster::read_file(roster.to_vec(), kind, org).await,
        Err(e) => Err(e),
    };
    let report = match read {
        Ok(read) => {
            state
                .sesame
                .import_file(
                    &staff.caller,
                    staff.request_id(),
                    &read,
                    &options,
                    dry_run,
                    &crate::ops::import::Unobserved,
                )
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
                    input type="hidden" name="mode" value=(match report.mode { ImportMode::Sync => "sync", ImportMode::Merge => "merge" });
                    @if let Some(sync) = &report.sync {
                        // Applying confirms the number the preview showed: a file that
                        // would close more is refused.
                        input type="hidden" name="expect_deactivations" value=(sync.deactivations);
                        input type="hidden" name="expect_digest" value=(sync.digest);
                    }
                    button #apply type="submit" disabled[report.sync.is_some() && !report.errors.is_empty()] {
                        @match report.sync.as_ref().map(|s| s.deactivations).filter(|n| *n > 0) {
                            Some(1) => { (tr(lang, "Appliquer et désactiver 1 compte", "Apply and deactivate 1 account")) }
                            Some(n) => { (tr(lang, "Appliquer et désactiver ", "Apply and deactivate ")) (n) (tr(lang, " comptes", " accounts")) }
                            None => { (tr(lang, "Appliquer l'import", "Apply the import")) }
                        }
                    }
                    a.button.quiet href="/console/imports" { (tr(lang, "Annuler", "Cancel")) }
                }
            } @else {
                p { a href="/console/accounts" { (tr(lang, "Voir les comptes", "See the accounts")) } }
            }
        }
    };
    page(StatusCode::OK, staff.shell("/console/imports", title, body))
}
