//! Roster imports (CSV).

use crate::domain::Code;
use crate::http::AppState;
use crate::http::extract::{ApiQuery, Authenticated, RequestId, read_body};
use crate::http::problem::{ApiResult, Problem};
use crate::ops::import::ImportReport;
use crate::ops::roster::parse_csv;
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

/// Creates or updates accounts from a CSV roster (columns `external_id`, `profile`,
/// `first_name`, `last_name`, `classes`, `level`, `groups`, `options`, `email`,
/// `birth_date`, `local_admin`, `source`, `children`, `password`, `login`; French
/// headers accepted). Answers counts and per-row errors.
#[utoipa::path(post, path = "/v1/imports", tag = "imports", security(("bearer" = [])), params(ImportParams),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportReport), (status = 413, body = Problem), (status = 415, body = Problem)))]
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
    if !content_type.starts_with("text/csv") {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::UnsupportedMediaType,
            "send the roster as text/csv",
        ));
    }
    crate::ops::Sesame::may_import(&caller)?;
    let bytes = read_body(request, &state).await?;
    let rows = parse_csv(&bytes)?;
    let report = state
        .sesame
        .import_roster(&caller, request_id.as_deref(), &rows, params.dry_run)
        .await?;
    Ok(Json(report))
}
