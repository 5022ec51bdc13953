//! Credential exports: queue one, follow its progress, download it, delete it.

use super::accounts::ListParams;
use super::schema;
use super::schema::ListFilter;
use crate::domain::{Error, ExportRequest, ExportStatus, Language, Scope, Sort};
use crate::export::{Content, Format, PerPage};
use crate::http::AppState;
use crate::http::extract::{ApiJson, Authenticated, RequestId};
use crate::http::idempotency;
use crate::http::problem::{ApiResult, Problem};
use crate::ops::commands::Bulk;
use crate::ops::export::ExportView;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_export))
        .routes(routes!(get_export, delete_export))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportBody {
    /// The accounts to export (1 to 10,000); or give `filter`.
    #[schema(schema_with = schema::export_ids)]
    pub account_ids: Option<Vec<String>>,
    /// The accounts the list's filters select; or give `account_ids`.
    #[schema(value_type = Option<ListFilter>)]
    pub filter: Option<ListParams>,
    pub content: Content,
    pub format: Format,
    /// Cards per page of a PDF: 1, 2 or 8 (default 1).
    pub per_page: Option<PerPage>,
    pub sort: Option<Sort>,
    /// Default: the school's language.
    pub language: Option<Language>,
}

schema::ids_or_filter_body!(ExportRequestBody for ExportBody);

#[derive(Serialize, ToSchema)]
pub struct ExportState {
    pub id: String,
    pub status: ExportStatus,
    pub processed: u64,
    pub total: u64,
    pub content: Content,
    pub format: Format,
    pub created_at: DateTime<Utc>,
    /// When done: a link valid 15 minutes (ask again for a fresh one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub download_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// The file is deleted by then at the latest.
    pub delete_after: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl From<ExportView> for ExportState {
    fn from(view: ExportView) -> Self {
        let job = view.job;
        let (download_url, expires_at) = view
            .download
            .map_or((None, None), |(url, at)| (Some(url), Some(at)));
        Self {
            id: job.id,
            status: job.status,
            processed: job.processed,
            total: job.total,
            content: job.request.content,
            format: job.request.format,
            created_at: job.created_at,
            download_url,
            expires_at,
            delete_after: job.delete_after,
            error: job.error,
        }
    }
}

/// Queues an export; answers 202 at once with its id. Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/exports", tag = "exports", security(("bearer" = [])),
    request_body = ExportRequestBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe for 24 h")),
    responses((status = 202, body = ExportState),
        (status = 422, description = "Not exactly one of `account_ids` and `filter`, or a filter's value is not one the list takes (`validation_failed`).", body = Problem)))]
async fn create_export(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    request_id: RequestId,
    headers: HeaderMap,
    body: ApiJson<ExportBody>,
) -> ApiResult<Response> {
    let ExportBody {
        account_ids,
        filter,
        content,
        format,
        per_page,
        sort,
        language,
    } = body.value;
    let scope = match (account_ids, filter) {
        (Some(ids), None) => Scope::Ids(Bulk::Export.ids(&ids)?),
        (None, Some(filter)) => Scope::Filter(filter.into_query()?.0),
        _ => return Err(Error::invalid("account_ids", "give either account_ids or filter").into()),
    };
    let sesame = &state.sesame;
    let request = ExportRequest {
        scope,
        content,
        format,
        per_page: per_page.unwrap_or_default(),
        sort: sort.unwrap_or(Sort::Class),
        language,
    };
    idempotency::once(&state, &caller, &headers, "exports", &body.digest, |_| async {
        let job = sesame
            .create_export(&caller, request_id.as_deref(), request)
            .await?;
        let state = ExportState::from(ExportView { job, download: None });
        Ok((StatusCode::ACCEPTED, state))
    })
    .await
}

/// An export's progress; when done, a download link valid 15 minutes.
#[utoipa::path(get, path = "/v1/exports/{id}", tag = "exports", security(("bearer" = [])),
    params(("id" = String, Path, description = "Export id")),
    responses((status = 200, body = ExportState),
        (status = 404, description = "No such export made by the caller (`not_found`).", body = Problem)))]
async fn get_export(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<ExportState>> {
    Ok(Json(state.sesame.get_export(&caller, &id).await?.into()))
}

/// Deletes the export's file now; its links stop working.
#[utoipa::path(delete, path = "/v1/exports/{id}", tag = "exports", security(("bearer" = [])),
    params(("id" = String, Path, description = "Export id")),
    responses((status = 200, description = "The export, its status `deleted`", body = ExportState),
        (status = 404, description = "No such export made by the caller (`not_found`).", body = Problem)))]
async fn delete_export(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    request_id: RequestId,
    Path(id): Path<String>,
) -> ApiResult<Json<ExportState>> {
    let job = state
        .sesame
        .delete_export(&caller, request_id.as_deref(), &id)
        .await?;
    Ok(Json(ExportView { job, download: None }.into()))
}
