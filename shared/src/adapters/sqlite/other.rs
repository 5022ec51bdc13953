//! Schools, classes, brute-force counters and idempotency records.

use super::{bodies, from_json, nanos, to_json, version};
use crate::domain::{Class, School, SchoolId};
use crate::ports::{Attempt, IdempotencyRecord, StoreError, StoreResult, StoredResponse, Throttle, throttle};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

pub(super) fn get_school(connection: &Connection, id: &SchoolId) -> StoreResult<Option<School>> {
    body(connection, "SELECT body FROM schools WHERE id = ?1", id.as_str())?
        .as_deref()
        .map(from_json)
        .transpose()
}

/// Inserts when `school.version` is 0, else replaces the row at that version.
pub(super) fn put_school(connection: &Connection, school: &School) -> StoreResult<()> {
    let stored = School {
        version: school.version.saturating_add(1),
        ..school.clone()
    };
    let (id, new_version, body) = (stored.id.as_str(), version(stored.version)?, to_json(&stored)?);
    let changed = if school.version == 0 {
        connection
            .prepare_cached(
                "INSERT INTO schools (id, version, body) VALUES (?1, ?2, ?3) ON CONFLICT (id) DO NOTHING",
            )
            .and_then(|mut insert| insert.execute(params![id, new_version, body]))
    } else {
        let Ok(read_version) = i64::try_from(school.version) else {
            return Err(StoreError::Conflict);
        };
        connection
            .prepare_cached("UPDATE schools SET version = ?2, body = ?3 WHERE id = ?1 AND version = ?4")
            .and_then(|mut update| update.execute(params![id, new_version, body, read_version]))
    };
    written(changed)
}

pub(super) fn put_classes(
    connection: &mut Connection,
    school: &SchoolId,
    classes: &[Class],
) -> StoreResult<()> {
    let tx = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(StoreError::backend)?;
    {
        let mut upsert = tx
            .prepare_cached(
                "INSERT INTO classes (school, name, body) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (school, name) DO UPDATE SET body = excluded.body",
            )
            .map_err(StoreError::backend)?;
        for class in classes {
            upsert
                .execute(params![school.as_str(), class.name.as_str(), to_json(class)?])
                .map_err(StoreError::backend)?;
        }
    }
    tx.commit().map_err(StoreError::backend)
}

pub(super) fn list_classes(connection: &Connection, school: &SchoolId) -> StoreResult<Vec<Class>> {
    bodies(
        connection,
        "SELECT body FROM classes WHERE school = ?1 ORDER BY name",
        [school.as_str()],
    )
}

/// Each class with its students: one query, counted from the class index.
pub(super) fn list_classes_with_students(
    connection: &Connection,
    school: &SchoolId,
) -> StoreResult<Vec<(Class, u64)>> {
    let mut statement = connection
        .prepare_cached(
            "SELECT c.body, (SELECT COUNT(*) FROM account_classes k JOIN accounts a ON a.id = k.account_id \
             WHERE k.school = c.school AND k.class = c.name AND a.profile = ?2) \
             FROM classes c WHERE c.school = ?1 ORDER BY c.name",
        )
        .map_err(StoreError::backend)?;
    let rows = statement
        .query_map(
            params![school.as_str(), crate::domain::Profile::Student.as_str()],
            |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)),
        )
        .map_err(StoreError::backend)?;
    rows.map(|row| {
        let (body, students) = row.map_err(StoreError::backend)?;
        Ok((
            from_json(&body)?,
            u64::try_from(students).map_err(StoreError::backend)?,
        ))
    })
    .collect()
}

pub(super) fn get_throttle(connection: &Connection, key: &str) -> StoreResult<Option<Throttle>> {
    body(connection, "SELECT body FROM throttles WHERE key = ?1", key)?
        .as_deref()
        .map(from_json)
        .transpose()
}

/// Atomic: the writer connection is exclusive, and the record is read and written
/// in one immediate transaction.
pub(super) fn count_attempt(
    connection: &mut Connection,
    key: &str,
    now: DateTime<Utc>,
) -> StoreResult<Attempt> {
    let tx = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(StoreError::backend)?;
    let previous = get_throttle(&tx, key)?;
    let (next, verdict) = throttle::admit(previous.as_ref(), key, now);
    if let Some(next) = next {
        let body = to_json(&next)?;
        tx.prepare_cached(
            "INSERT INTO throttles (key, version, expires_at, body) VALUES (?1, 0, ?2, ?3) \
             ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at, body = excluded.body",
        )
        .and_then(|mut upsert| upsert.execute(params![key, nanos(next.expires_at()), body]))
        .map_err(StoreError::backend)?;
    }
    tx.commit().map_err(StoreError::backend)?;
    Ok(verdict)
}

pub(super) fn refund_attempt(connection: &mut Connection, key: &str, now: DateTime<Utc>) -> StoreResult<()> {
    let tx = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(StoreError::backend)?;
    if let Some(next) = get_throttle(&tx, key)?.and_then(|t| throttle::refund(&t, now)) {
        let body = to_json(&next)?;
        tx.prepare_cached("UPDATE throttles SET body = ?2 WHERE key = ?1")
            .and_then(|mut update| update.execute(params![key, body]))
            .map_err(StoreError::backend)?;
    }
    tx.commit().map_err(StoreError::backend)
}

pub(super) fn clear_throttle(connection: &Connection, key: &str) -> StoreResult<()> {
    connection
        .prepare_cached("DELETE FROM throttles WHERE key = ?1")
        .and_then(|mut delete| delete.execute([key]))
        .map(drop)
        .map_err(StoreError::backend)
}

/// Counters, idempotency records and handed-out secrets past their expiry.
pub(super) fn sweep_expired(connection: &mut Connection, now: DateTime<Utc>) -> StoreResult<u64> {
    let tx = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(StoreError::backend)?;
    let mut deleted = 0;
    for table in [
        "throttles",
        "idempotency",
        "secrets",
        "distributions",
        "sessions",
        "imports",
    ] {
        deleted += tx
            .execute(
                &format!("DELETE FROM {table} WHERE expires_at < ?1"),
                [nanos(now)],
            )
            .map_err(StoreError::backend)?;
    }
    tx.commit().map_err(StoreError::backend)?;
    Ok(deleted as u64)
}

/// Atomic: the existing record is read and the new one written in one write
/// transaction.
pub(super) fn claim_idempotency(
    connection: &mut Connection,
    record: &IdempotencyRecord,
    now: DateTime<Utc>,
) -> StoreResult<Option<IdempotencyRecord>> {
    let tx = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(StoreError::backend)?;
    let existing = body(&tx, "SELECT body FROM idempotency WHERE key = ?1", &record.key)?
        .as_deref()
        .map(from_json::<IdempotencyRecord>)
        .transpose()?;
    if let Some(existing) = existing.filter(|existing| existing.expires_at > now) {
        return Ok(Some(existing));
    }
    let body_json = to_json(record)?;
    tx.prepare_cached("INSERT OR REPLACE INTO idempotency (key, expires_at, body) VALUES (?1, ?2, ?3)")
        .and_then(|mut insert| insert.execute(params![record.key, nanos(record.expires_at), body_json]))
        .map_err(StoreError::backend)?;
    tx.commit().map_err(StoreError::backend)?;
    Ok(None)
}

/// Records the response; a key no longer there (released) is left alone.
pub(super) fn complete_idempotency(
    connection: &mut Connection,
    key: &str,
    response: &StoredResponse,
) -> StoreResult<()> {
    let tx = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(StoreError::backend)?;
    let existing = body(&tx, "SELECT body FROM idempotency WHERE key = ?1", key)?;
    if let Some(existing) = existing {
        let record = IdempotencyRecord {
            response: Some(response.clone()),
            ..from_json::<IdempotencyRecord>(&existing)?
        };
        let body_json = to_json(&record)?;
        tx.prepare_cached("UPDATE idempotency SET body = ?2 WHERE key = ?1")
            .and_then(|mut update| update.execute(params![key, body_json]))
            .map_err(StoreError::backend)?;
    }
    tx.commit().map_err(StoreError::backend)
}

pub(super) fn release_idempotency(connection: &Connection, key: &str) -> StoreResult<()> {
    connection
        .prepare_cached("DELETE FROM idempotency WHERE key = ?1")
        .and_then(|mut delete| delete.execute([key]))
        .map(drop)
        .map_err(StoreError::backend)
}

pub(super) fn body(connection: &Connection, sql: &str, key: &str) -> StoreResult<Option<String>> {
    connection
        .prepare_cached(sql)
        .and_then(|mut select| select.query_row([key], |row| row.get(0)).optional())
        .map_err(StoreError::backend)
}

/// A conditional write that changed no row lost its condition.
pub(super) fn written(changed: rusqlite::Result<usize>) -> StoreResult<()> {
    match changed.map_err(StoreError::backend)? {
        0 => Err(StoreError::Conflict),
        _ => Ok(()),
    }
}
