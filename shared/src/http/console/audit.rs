//! The audit log, filtered.

use super::kit::*;
use crate::http::AppState;
use crate::http::ui::{field, tr};
use crate::ports::AuditQuery;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use maud::html;

pub(super) async fn audit(State(state): State<AppState>, staff: Staff, uri: Uri) -> Response {
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
