//! Export jobs: one row per job, its state as JSON, guarded by a version.

use super::nanos;
use super::other::written;
use super::{from_json, to_json, version};
use crate::domain::{ExportJob, ImportJob, SchoolId};
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
    let key = (&job.school, job.id.as_str(), job.version);
    put_row(connection, Row::at("exports", key, to_json(&stored)?))
}

/// A job's row as written: its body at the version after `read_version`.
struct Row<'a> {
    table: &'static str,
    school: &'a SchoolId,
    id: &'a str,
    read_version: u64,
    body: String,
    /// When the sweep deletes it, for tables that have the column.
    expires_at: Option<i64>,
}

impl<'a> Row<'a> {
    /// The row of `(school, id)` in `table`, read at `read_version`, as `body`.
    fn at(
        table: &'static str,
        (school, id, read_version): (&'a SchoolId, &'a str, u64),
        body: String,
    ) -> Self {
        Self {
            table,
            school,
            id,
            read_version,
            body,
            expires_at: None,
        }
    }

    fn expiring(self, at: i64) -> Self {
        Self {
            expires_at: Some(at),
            ..self
        }
    }
}

/// Inserts the row when `read_version` is 0, else replaces it at that version.
fn put_row(connection: &Connection, row: Row<'_>) -> StoreResult<()> {
    let Row {
        table,
        school,
        id,
        read_version,
        body,
        expires_at,
    } = row;
    let new_version = version(read_version.saturating_add(1))?;
    let changed = if read_version == 0 {
        let (column, value) = match expires_at {
            Some(_) => (", expires_at", ", ?5"),
            None => ("", ""),
        };
        connection
            .prepare_cached(&format!(
                "INSERT INTO {table} (school, id, version, body{column}) VALUES (?1, ?2, ?3, ?4{value}) \
                 ON CONFLICT (school, id) DO NOTHING"
            ))
            .and_then(|mut insert| match expires_at {
                Some(at) => insert.execute(params![school.as_str(), id, new_version, body, at]),
                None => insert.execute(params![school.as_str(), id, new_version, body]),
            })
    } else {
        let read_version = version(read_version)?;
        connection
            .prepare_cached(&format!(
                "UPDATE {table} SET version = ?3, body = ?4 WHERE school = ?1 AND id = ?2 AND version = ?5"
            ))
            .and_then(|mut update| {
                update.execute(params![school.as_str(), id, new_version, body, read_version])
            })
    };
    written(changed)
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
    let key = (&job.school, job.id.as_str(), job.version);
    let row = Row::at("imports", key, to_json(&stored)?);
    put_row(connection, row.expiring(nanos(stored.created_at + KEEP_IMPORTS)))
}
