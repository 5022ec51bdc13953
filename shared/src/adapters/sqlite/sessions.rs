//! Console sessions: one row each, its state as JSON, guarded by a version, with
//! the instant it ends for the sweep.

use super::other::written;
use super::{from_json, nanos, to_json, version};
use crate::domain::Session;
use crate::ports::{StoreError, StoreResult};
use rusqlite::{Connection, OptionalExtension, params};

pub(super) fn get(connection: &Connection, key: &str) -> StoreResult<Option<Session>> {
    let body: Option<String> = connection
        .prepare_cached("SELECT body FROM sessions WHERE key = ?1")
        .and_then(|mut select| select.query_row([key], |row| row.get(0)).optional())
        .map_err(StoreError::backend)?;
    body.as_deref().map(from_json).transpose()
}

/// Inserts when `version` is 0, else replaces the row at that version.
pub(super) fn put(connection: &Connection, session: &Session) -> StoreResult<()> {
    let stored = Session {
        version: session.version.saturating_add(1),
        ..session.clone()
    };
    let (body, ends, new_version) = (
        to_json(&stored)?,
        nanos(stored.ends_at()),
        version(stored.version)?,
    );
    let changed = if session.version == 0 {
        connection
            .prepare_cached(
                "INSERT INTO sessions (key, expires_at, version, body) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (key) DO NOTHING",
            )
            .and_then(|mut insert| insert.execute(params![stored.key, ends, new_version, body]))
    } else {
        let read_version = version(session.version)?;
        connection
            .prepare_cached(
                "UPDATE sessions SET expires_at = ?2, version = ?3, body = ?4 WHERE key = ?1 AND version = ?5",
            )
            .and_then(|mut update| update.execute(params![stored.key, ends, new_version, body, read_version]))
    };
    written(changed)
}

pub(super) fn delete(connection: &Connection, key: &str) -> StoreResult<()> {
    connection
        .prepare_cached("DELETE FROM sessions WHERE key = ?1")
        .and_then(|mut delete| delete.execute([key]))
        .map(drop)
        .map_err(StoreError::backend)
}
