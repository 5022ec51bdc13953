//! The audit log: appended in batches, read newest first with a keyset on `(at, id)`.

use super::{bodies, nanos, to_json};
use crate::domain::{AuditEvent, SchoolId};
use crate::ports::{AuditPage, AuditQuery, StoreError, StoreResult};
use rusqlite::types::Value;
use rusqlite::{Connection, TransactionBehavior, params, params_from_iter};

/// All or nothing; an event id already logged is a `Conflict`.
pub(super) fn append(connection: &mut Connection, events: &[AuditEvent]) -> StoreResult<()> {
    let tx = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(StoreError::backend)?;
    {
        let mut event_row = tx
            .prepare_cached(
                "INSERT INTO audit_events (id, school, at, actor, action, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                 ON CONFLICT (id) DO NOTHING",
            )
            .map_err(StoreError::backend)?;
        let mut target_row = tx
            .prepare_cached(
                "INSERT OR IGNORE INTO audit_targets (event_id, school, account_id) VALUES (?1, ?2, ?3)",
            )
            .map_err(StoreError::backend)?;
        for event in events {
            let school = event.school.as_str();
            let inserted = event_row
                .execute(params![
                    event.id,
                    school,
                    nanos(event.at),
                    event.actor,
                    event.action,
                    to_json(event)?
                ])
                .map_err(StoreError::backend)?;
            if inserted == 0 {
                return Err(StoreError::Conflict);
            }
            for target in &event.targets {
                target_row
                    .execute(params![event.id, school, target.as_str()])
                    .map_err(StoreError::backend)?;
            }
        }
    }
    tx.commit().map_err(StoreError::backend)
}

pub(super) fn list(connection: &Connection, school: &SchoolId, query: &AuditQuery) -> StoreResult<AuditPage> {
    let school = Value::Text(school.as_str().to_owned());
    let (mut sql, mut params) = match &query.account_id {
        // One account's events are few: read them through its index, not the log's.
        Some(account) => (
            String::from(
                "SELECT e.body FROM audit_targets t CROSS JOIN audit_events e ON e.id = t.event_id \
                 WHERE t.school = ? AND t.account_id = ? AND e.school = ?",
            ),
            vec![school.clone(), Value::Text(account.as_str().to_owned()), school],
        ),
        None => (
            String::from("SELECT e.body FROM audit_events e WHERE e.school = ?"),
            vec![school],
        ),
    };
    if let Some(actor) = &query.actor {
        sql.push_str(" AND e.actor = ?");
        params.push(Value::Text(actor.clone()));
    }
    if let Some(action) = &query.action {
        sql.push_str(" AND e.action = ?");
        params.push(Value::Text(action.clone()));
    }
    if let Some(from) = query.from {
        sql.push_str(" AND e.at >= ?");
        params.push(Value::Integer(nanos(from)));
    }
    if let Some(to) = query.to {
        sql.push_str(" AND e.at <= ?");
        params.push(Value::Integer(nanos(to)));
    }
    if let Some((at, id)) = &query.before {
        sql.push_str(" AND (e.at, e.id) < (?, ?)");
        params.push(Value::Integer(nanos(*at)));
        params.push(Value::Text(id.clone()));
    }
    sql.push_str(" ORDER BY e.at DESC, e.id DESC LIMIT ?");
    params.push(Value::Integer(
        i64::try_from(query.limit.saturating_add(1)).unwrap_or(i64::MAX),
    ));

    let mut items: Vec<AuditEvent> = bodies(connection, &sql, params_from_iter(params))?;
    let more = items.len() > query.limit;
    items.truncate(query.limit);
    Ok(AuditPage { items, more })
}
