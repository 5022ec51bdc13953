//! Roster imports (CSV or XLSX).

use crate::domain::Code;
use crate::http::AppState;
use crate::http::extract::{ApiQuery, Authenticated, RequestId, read_body};
use crate::http::problem::{ApiResult, Problem};
use crate::ops::import::ImportReport;
use crate::ops::roster::{RosterKind, read_roster};
use axum::Json;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Largest roster accepted.
pub const MAX_IMPORT_BYTES: usize = 10 * 1024 * 1024;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(import))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// Report what would change without changing anything.
    #[serde(default)]
    pub dry_run: bool,
}

/// Creates or updates accounts from a roster in CSV or XLSX (the first sheet), as
/// `Content-Type` says (columns `external_id`, `profile`, `first_name`, `last_name`,
/// `classes`, `level`, `groups`, `options`, `email`, `birth_date`, `local_admin`,
/// `source`, `children`, `password`, `login`; French headers accepted). Answers counts
/// and per-row errors, rows numbered as in the file (the header is row 1).
#[utoipa::path(post, path = "/v1/imports", tag = "imports", security(("bearer" = [])), params(ImportParams),
    request_body(description = "The roster: CSV, or an XLSX workbook whose first sheet is read",
        content((String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
    responses((status = 200, body = ImportReport),
        (status = 403, description = "Administrators only (`forbidden`)", body = Problem),
        (status = 413, description = "The body is larger than 10 MiB", body = Problem),
        (status = 415, description = "Neither CSV nor XLSX", body = Problem),
        (status = 422, description = "The file cannot be read as a roster (field `file`), or would inflate beyond the bounds", body = Problem)))]
async fn import(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    request_id: RequestId,
    ApiQuery(params): ApiQuery<ImportParams>,
    request: Request,
) -> ApiResult<Json<ImportReport>> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some(kind) = RosterKind::from_content_type(content_type) else {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::UnsupportedMediaType,
            format!(
                "send the roster as {} or {}",
                RosterKind::CSV_TYPE,
                RosterKind::XLSX_TYPE
            ),
        ));
    };
    crate::ops::Sesame::may_import(&caller)?;
    let bytes = read_body(request, &state).await?;
    let rows = read_roster(bytes, kind).await?;
    let report = state
        .sesame
        .import_roster(&caller, request_id.as_deref(), &rows, params.dry_run)
        .await?;
    Ok(Json(report))
}
