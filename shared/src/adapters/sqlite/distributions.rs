//! Distributions: one row each, its state as JSON, guarded by a version; listed
//! newest first through `(school, created_at, id)`.

use super::other::written;
use super::{bodies, nanos, to_json, version};
use crate::domain::{Distribution, SchoolId};
use crate::ports::{DistributionPage, DistributionQuery, StoreResult};
use rusqlite::types::Value;
use rusqlite::{Connection, params, params_from_iter};

pub(super) fn get(connection: &Connection, school: &SchoolId, id: &str) -> StoreResult<Option<Distribution>> {
    super::exports::body_by_id(connection, "distributions", school, id)
}

/// Inserts when `version` is 0, else replaces the row at that version.
pub(super) fn put(connection: &Connection, distribution: &Distribution) -> StoreResult<()> {
    let stored = Distribution {
        version: distribution.version.saturating_add(1),
        ..distribution.clone()
    };
    let classes: String = stored.classes.iter().map(|c| format!("|{c}")).collect::<String>() + "|";
    let body = to_json(&stored)?;
    let new_version = version(stored.version)?;
    let changed = if distribution.version == 0 {
        connection
            .prepare_cached(
                "INSERT INTO distributions (school, id, created_at, actor, kind, classes, expires_at, version, body) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (school, id) DO NOTHING",
            )
            .and_then(|mut insert| {
                insert.execute(params![
                    stored.school.as_str(),
                    stored.id,
                    nanos(stored.created_at),
                    stored.actor,
                    stored.kind.as_str(),
                    classes,
                    nanos(stored.purge_at),
                    new_version,
                    body
                ])
            })
    } else {
        let read_version = version(distribution.version)?;
        connection
            .prepare_cached(
                "UPDATE distributions SET classes = ?3, version = ?4, body = ?5 \
                 WHERE school = ?1 AND id = ?2 AND version = ?6",
            )
            .and_then(|mut update| {
                update.execute(params![
                    stored.school.as_str(),
                    stored.id,
                    classes,
                    new_version,
                    body,
                    read_version
                ])
            })
    };
    written(changed)
}

pub(super) fn list(
    connection: &Connection,
    school: &SchoolId,
    query: &DistributionQuery,
) -> StoreResult<DistributionPage> {
    let mut sql = String::from("SELECT body FROM distributions WHERE school = ?");
    let mut values: Vec<Value> = vec![Value::Text(school.to_string())];
    if let Some(class) = &query.class {
        sql += " AND classes LIKE ? ESCAPE '\\'";
        let escaped = class
            .as_str()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        values.push(Value::Text(format!("%|{escaped}|%")));
    }
    if let Some(actor) = &query.actor {
        sql += " AND actor = ?";
        values.push(Value::Text(actor.clone()));
    }
    if let Some(kind) = query.kind {
        sql += " AND kind = ?";
        values.push(Value::Text(kind.as_str().to_owned()));
    }
    if let Some(from) = query.from {
        sql += " AND created_at >= ?";
        values.push(Value::Integer(nanos(from)));
    }
    if let Some(to) = query.to {
        sql += " AND created_at <= ?";
        values.push(Value::Integer(nanos(to)));
    }
    if let Some((at, id)) = &query.after {
        sql += " AND (created_at < ? OR (created_at = ? AND id < ?))";
        values.extend([
            Value::Integer(nanos(*at)),
            Value::Integer(nanos(*at)),
            Value::Text(id.clone()),
        ]);
    }
    sql += " ORDER BY created_at DESC, id DESC LIMIT ?";
    values.push(Value::Integer(query.limit as i64 + 1));
    let mut items: Vec<Distribution> = bodies(connection, &sql, params_from_iter(values))?;
    let more = items.len() > query.limit;
    items.truncate(query.limit);
    Ok(DistributionPage { items, more })
}
