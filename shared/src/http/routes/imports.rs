//! Roster imports (CSV, XLSX or a OneRoster bundle): in the request, or uploaded behind a link and
//! imported in the background (rosters larger than a Lambda request carries).

use crate::domain::Code;
use crate::domain::Profile;
use crate::domain::{ImportJob, RunStatus};
use crate::http::AppState;
use crate::http::extract::{ApiJson, ApiQuery, Authenticated, RequestId, read_body};
use crate::http::problem::{ApiResult, Problem};
use crate::ops::import::{ImportMode, ImportOptions, ImportReport};
use crate::ops::import_runs::Upload;
use crate::ops::roster::{RosterKind, read_file};
use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, header};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// A roster sent as bytes (a workbook, a OneRoster zip), as the description
/// shows it: a binary string, not an array of numbers.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
struct RosterBytes(Vec<u8>);

/// Largest roster accepted.
pub const MAX_IMPORT_BYTES: usize = 10 * 1024 * 1024;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(import))
        .routes(routes!(create_upload))
        .routes(routes!(start_import))
        .routes(routes!(get_import))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartImport {
    /// The id `POST /v1/imports/uploads` answered, once the file is uploaded.
    #[schema(pattern = r"^[0-9]{1,12}-[0-9a-f]{32}$")]
    pub upload_id: String,
    /// Report what would change without changing anything (the upload is kept
    /// for the real run).
    #[serde(default)]
    pub dry_run: bool,
    /// `merge`, or `sync`: the file is the whole roster of its profiles, and local
    /// accounts of those profiles it does not name are deactivated. Default: a
    /// OneRoster bulk bundle syncs, anything else merges.
    #[serde(default)]
    pub mode: Option<ImportMode>,
    /// The profiles a sync stands for (default: those the file carries).
    #[serde(default)]
    pub sync_profiles: Vec<Profile>,
    /// The number of deactivations the sync's dry run announced: the real run
    /// needs it when it closes accounts, and refuses a file that would close more.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub expect_deactivations: Option<u32>,
    /// The `sync.digest` of the dry run: the real run then closes those very
    /// accounts, or refuses.
    #[serde(default)]
    #[schema(pattern = "^[0-9a-f]{16}$")]
    pub expect_digest: Option<String>,
}

impl StartImport {
    fn options(&self) -> Result<ImportOptions, crate::domain::Error> {
        Ok(ImportOptions {
            mode: self.mode,
            sync_profiles: self.sync_profiles.clone(),
            expect_deactivations: expected(self.expect_deactivations)?,
            expect_digest: fingerprint(self.expect_digest.as_deref())?,
        })
    }
}

/// Most deactivations a sync may be asked to confirm.
const MAX_EXPECTED: u32 = 1_000_000;

fn fingerprint(digest: Option<&str>) -> Result<Option<String>, crate::domain::Error> {
    match digest {
        Some(d) if d.len() != 16 || !d.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) => {
            Err(crate::domain::Error::invalid(
                "expect_digest",
                "must be the 16 hexadecimal digits a dry run gave",
            ))
        }
        d => Ok(d.map(str::to_owned)),
    }
}

fn expected(n: Option<u32>) -> Result<Option<usize>, crate::domain::Error> {
    match n {
        Some(n) if n > MAX_EXPECTED => Err(crate::domain::Error::invalid(
            "expect_deactivations",
            format!("must be between 0 and {MAX_EXPECTED}"),
        )),
        n => Ok(n.map(|n| n as usize)),
    }
}

/// An import run in the background.
#[derive(Serialize, ToSchema)]
pub struct ImportState {
    pub id: String,
    pub status: RunStatus,
    pub dry_run: bool,
    /// Accounts written so far; `total` once done.
    pub processed: u64,
    /// The roster's rows, once read.
    pub total: u64,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// When done: what the import created, updated and refused, as `POST /v1/imports` answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<ImportReport>,
    /// When failed: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl From<ImportJob> for ImportState {
    fn from(job: ImportJob) -> Self {
        Self {
            id: job.id,
            status: job.status,
            dry_run: job.dry_run,
            processed: job.processed,
            total: job.total,
            created_at: job.created_at,
            finished_at: job.finished_at,
            report: job.report,
            error: job.error,
        }
    }
}

/// A link to upload a roster too large for `POST /v1/imports` (at most 64 MiB,
/// CSV or XLSX), valid 15 minutes: `PUT` the file there, then start the import
/// with `POST /v1/imports/jobs`.
#[utoipa::path(post, path = "/v1/imports/uploads", tag = "imports", security(("bearer" = [])),
    responses((status = 201, body = Upload),
        (status = 403, description = "Administrators only (`forbidden`)", body = Problem)))]
async fn create_upload(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> ApiResult<(StatusCode, Json<Upload>)> {
    let upload = state.sesame.create_upload(&caller).await?;
    Ok((StatusCode::CREATED, Json(upload)))
}

/// Imports an uploaded roster in the background; answers 202 at once with the
/// job, whose progress and report `GET /v1/imports/jobs/{id}` gives. An upload is
/// imported once (a dry run may come first) and is deleted after its import.
#[utoipa::path(post, path = "/v1/imports/jobs", tag = "imports", security(("bearer" = [])),
    request_body = StartImport,
    responses((status = 202, body = ImportState),
        (status = 403, description = "Administrators only (`forbidden`)", body = Problem),
        (status = 409, description = "Nothing was uploaded with this id (yet), or it is already imported or being imported (`conflict`)", body = Problem),
        (status = 422, description = "The uploaded file is larger than 64 MiB, or the body is not as described (`validation_failed`, naming the field)", body = Problem)))]
async fn start_import(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    request_id: RequestId,
    body: ApiJson<StartImport>,
) -> ApiResult<(StatusCode, Json<ImportState>)> {
    let options = body.value.options()?;
    let StartImport {
        upload_id, dry_run, ..
    } = body.value;
    let job = state
        .sesame
        .start_import(&caller, request_id.as_deref(), &upload_id, dry_run, options)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(job.into())))
}

/// An import's progress; when done, its report.
#[utoipa::path(get, path = "/v1/imports/jobs/{id}", tag = "imports", security(("bearer" = [])),
    params(("id" = String, Path, description = "Import id")),
    responses((status = 200, body = ImportState),
        (status = 403, description = "Administrators only (`forbidden`)", body = Problem),
        (status = 404, description = "No such import in the caller's school (`not_found`)", body = Problem)))]
async fn get_import(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<ImportState>> {
    Ok(Json(state.sesame.get_import(&caller, &id).await?.into()))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// Report what would change without changing anything (a sync: who it would close).
    #[serde(default)]
    pub dry_run: bool,
    /// `merge`, or `sync`: the file is the whole roster of its profiles, and local
    /// accounts of those profiles it does not name are deactivated. Default: a
    /// OneRoster bulk bundle syncs, anything else merges.
    pub mode: Option<ImportMode>,
    /// The profiles a sync stands for, comma-separated (default: those the file carries).
    #[param(value_type = Option<Vec<Profile>>, style = Form, explode = false, min_items = 1)]
    pub sync_profiles: Option<String>,
    /// The number of deactivations the sync's dry run announced: the real run
    /// needs it when it closes accounts, and refuses a file that would close more.
    #[param(minimum = 0, maximum = 1_000_000)]
    pub expect_deactivations: Option<u32>,
    /// The `sync.digest` of the dry run: the real run then closes those very
    /// accounts, or refuses.
    #[param(pattern = "^[0-9a-f]{16}$")]
    pub expect_digest: Option<String>,
}

impl ImportParams {
    fn options(&self) -> Result<ImportOptions, crate::domain::Error> {
        let mut profiles = Vec::new();
        for name in self.sync_profiles.iter().flat_map(|p| p.split(',')) {
            match Profile::parse(name) {
                Some(p) => profiles.push(p),
                None => {
                    return Err(crate::domain::Error::invalid(
                        "sync_profiles",
                        format!("{name:?} is not a profile (student, parent, teacher, staff, guest)"),
                    ));
                }
            }
        }
        Ok(ImportOptions {
            mode: self.mode,
            sync_profiles: profiles,
            expect_deactivations: expected(self.expect_deactivations)?,
            expect_digest: fingerprint(self.expect_digest.as_deref())?,
        })
    }
}

/// Creates or updates accounts from a roster in CSV or XLSX (the first sheet), as
/// `Content-Type` says (columns `external_id`, `profile`, `first_name`, `last_name`,
/// `classes`, `level`, `groups`, `options`, `email`, `birth_date`, `local_admin`,
/// `source`, `children`, `password`, `login`; French headers accepted), or from a
/// OneRoster 1.1 or 1.2 CSV bundle (`application/zip`; bulk or delta). Answers counts
/// and per-row errors, rows numbered as in the file (the header is row 1; a bundle's
/// errors name their file). A sync (`mode=sync`, or a OneRoster bulk bundle) also
/// deactivates the local accounts of the file's profiles that it does not name;
/// its dry run lists them, its real run needs `expect_deactivations`.
#[utoipa::path(post, path = "/v1/imports", tag = "imports", security(("bearer" = [])), params(ImportParams),
    request_body(description = "The roster: CSV, an XLSX workbook whose first sheet is read, or a OneRoster 1.1 or 1.2 CSV bundle (a zip)",
        content((String = "text/csv"), (RosterBytes = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (RosterBytes = "application/zip"), (RosterBytes = "application/x-zip-compressed"))),
    responses((status = 200, body = ImportReport),
        (status = 403, description = "Administrators only (`forbidden`)", body = Problem),
        (status = 413, description = "The body is larger than 10 MiB", body = Problem),
        (status = 415, description = "Neither CSV, XLSX nor a zip", body = Problem),
        (status = 422, description = "The file cannot be read as a roster (field `file`, or a bundle's `file row N column C`), would inflate beyond the bounds, or a sync is refused (`expect_deactivations`, or row errors)", body = Problem)))]
async fn import(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    request_id: RequestId,
    ApiQuery(params): ApiQuery<ImportParams>,
    request: Request,
) -> ApiResult<Json<ImportReport>> {
    // Who may import is asked first: a teacher learns nothing of what a file needs.
    crate::ops::Sesame::may_import(&caller)?;
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
                "send the roster as {}, {} or (a OneRoster bundle) {}",
                RosterKind::CSV_TYPE,
                RosterKind::XLSX_TYPE,
                RosterKind::ZIP_TYPE
            ),
        ));
    };
    let options = params.options()?;
    let bytes = read_body(request, &state).await?;
    let org = match kind {
        RosterKind::OneRoster => state.sesame.oneroster_org(&caller).await?,
        _ => None,
    };
    let roster = read_file(bytes, kind, org).await?;
    let report = state
        .sesame
        .import_file(
            &caller,
            request_id.as_deref(),
            &roster,
            &options,
            params.dry_run,
            &crate::ops::import::Unobserved,
        )
        .await?;
    Ok(Json(report))
}
