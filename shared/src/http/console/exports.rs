//! A credentials file being made, then its download link.

use super::kit::*;
use crate::domain::ExportStatus;
use crate::http::AppState;
use crate::http::ui::{alert, tr};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;

pub(super) async fn export(State(state): State<AppState>, staff: Staff, Path(id): Path<String>) -> Response {
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
