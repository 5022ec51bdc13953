//! Export jobs: one row per job, its state as JSON, guarded by a version.

use super::nanos;
use super::other::written;
use super::{from_json, to_json, version};
use crate::domain::{ExportJob, ImportJob, RunStatus, SchoolId};
use crate::ports::{StoreError, StoreResult};
use rusqlite::{Connection, OptionalExtension, params};

pub(super) fn get_export(
    connection: &Connection,
    school: &SchoolId,
    id: &str,
) -> StoreResult<Option<ExportJob>> {
    body_by_id(connection, "exports", school, id)
}

/// The JSON body of the row `id` of `school` in `table` (exports, distributions).
pub(super) fn body_by_id<T: serde::de::DeserializeOwned>(
    connection: &Connection,
    table: &'static str,
    school: &SchoolId,
    id: &str,
) -> StoreResult<Option<T>> {
    let body: Option<String> = connection
        .prepare_cached(&format!("SELECT body FROM {table} WHERE school = ?1 AND id = ?2"))
        .and_then(|mut select| {
            select
                .query_row(params![school.as_str(), id], |row| row.get(0))
                .optional()
        })
        .map_err(StoreError::backend)?;
    body.as_deref().map(from_json).transpose()
}

/// Inserts when `job.version` is 0, else replaces the row at that version.
pub(super) fn put_export(connection: &Connection, job: &ExportJob) -> StoreResult<()> {
    let stored = ExportJob {
        version: job.version.saturating_add(1),
        ..job.clone()
    };
    let (school, id, new_version, body) = (
        stored.school.as_str(),
        stored.id.as_str(),
        version(stored.version)?,
        to_json(&stored)?,
    );
    let changed = if job.version == 0 {
        connection
            .prepare_cached(
                "INSERT INTO exports (school, id, version, body) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (school, id) DO NOTHING",
            )
            .and_then(|mut insert| insert.execute(params![school, id, new_version, body]))
    } else {
        let read_version = version(job.version)?;
        connection
            .prepare_cached(
                "UPDATE exports SET version = ?3, body = ?4 WHERE school = ?1 AND id = ?2 AND version = ?5",
            )
            .and_then(|mut update| update.execute(params![school, id, new_version, body, read_version]))
    };
    written(changed)
}

/// Jobs still queued or running: after a restart, the edge resumes or fails them.
pub(super) fn unfinished(connection: &Connection) -> StoreResult<Vec<ExportJob>> {
    let mut select = connection
        .prepare_cached("SELECT body FROM exports")
        .map_err(StoreError::backend)?;
    let bodies = select
        .query_map([], |row| row.get::<_, String>(0))
        .map_err(StoreError::backend)?;
    let mut jobs = Vec::new();
    for body in bodies {
        let job: ExportJob = from_json(&body.map_err(StoreError::backend)?)?;
        if matches!(
            job.status,
            crate::domain::ExportStatus::Queued | crate::domain::ExportStatus::Running
        ) {
            jobs.push(job);
        }
    }
    Ok(jobs)
}

/// How long an import job is remembered after it was created.
pub(super) const KEEP_IMPORTS: chrono::Duration = chrono::Duration::days(30);

pub(super) fn get_import(
    connection: &Connection,
    school: &SchoolId,
    id: &str,
) -> StoreResult<Option<ImportJob>> {
    body_by_id(connection, "imports", school, id)
}

/// Inserts when `job.version` is 0, else replaces the row at that version.
pub(super) fn put_import(connection: &Connection, job: &ImportJob) -> StoreResult<()> {
    let stored = ImportJob {
        version: job.version.saturating_add(1),
        ..job.clone()
    };
    let (school, id, new_version, body) = (
        stored.school.as_str(),
        stored.id.as_str(),
        version(stored.version)?,
        to_json(&stored)?,
    );
    let changed = if job.version == 0 {
        let expires_at = nanos(stored.created_at + KEEP_IMPORTS);
        connection
            .prepare_cached(
                "INSERT INTO imports (school, id, expires_at, version, body) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (school, id) DO NOTHING",
            )
            .and_then(|mut insert| insert.execute(params![school, id, expires_at, new_version, body]))
    } else {
        let read_version = version(job.version)?;
        connection
            .prepare_cached(
                "UPDATE imports SET version = ?3, body = ?4 WHERE school = ?1 AND id = ?2 AND version = ?5",
            )
            .and_then(|mut update| update.execute(params![school, id, new_version, body, read_version]))
    };
    written(changed)
}

/// Imports still queued or running: after a restart, the edge resumes or ends them.
pub(super) fn unfinished_imports(connection: &Connection) -> StoreResult<Vec<ImportJob>> {
    let mut select = connection
        .prepare_cached(
            "SELECT body FROM imports WHERE json_extract(body, '$.status') IN ('queued', 'running')",
        )
        .map_err(StoreError::backend)?;
    let bodies = select
        .query_map([], |row| row.get::<_, String>(0))
        .map_err(StoreError::backend)?;
    let mut jobs = Vec::new();
    for body in bodies {
        let job: ImportJob = from_json(&body.map_err(StoreError::backend)?)?;
        if matches!(job.status, RunStatus::Queued | RunStatus::Running) {
            jobs.push(job);
        }
    }
    Ok(jobs)
}
