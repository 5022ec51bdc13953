//! Lists and counts of a school's accounts: `AccountFilter` as SQL, keyset pages.
//!
//! A filter on classes reads the class index first (a roster of 35 among 100,000
//! accounts must not scan the school), then sorts the few rows it found; so do a
//! group filter and a search, through their own indexes. Any other list walks the
//! index of its sort order from the cursor.

use super::accounts::{access_str, account_of, activation_str, bodies};
use super::{nanos, to_json};
use crate::domain::{ClassName, SchoolId, Sort};
use crate::ports::{AccountFilter, AccountPage, AccountQuery, StoreError, StoreResult};
use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};

pub(super) fn list(
    connection: &mut Connection,
    school: &SchoolId,
    query: &AccountQuery,
) -> StoreResult<AccountPage> {
    let selection = Selection::of(school, &query.filter)?;
    let column = match query.sort {
        Sort::Name => "a.sort_name",
        Sort::Profile => "a.sort_profile",
        Sort::Class => "a.sort_class",
    };
    let mut params = selection.params.clone();
    let mut sql = format!(
        "{} SELECT a.body, (SELECT s.body FROM secrets s WHERE s.account_id = a.id) FROM {} WHERE {}",
        selection.with, selection.from, selection.conditions
    );
    if let Some(after) = &query.after {
        sql.push_str(&format!(" AND ({column}, a.id) > (?, ?)"));
        params.push(Value::Text(after.key.clone()));
        params.push(Value::Text(after.id.as_str().to_owned()));
    }
    sql.push_str(&format!(" ORDER BY {column}, a.id LIMIT ?"));
    params.push(Value::Integer(
        i64::try_from(query.limit.saturating_add(1)).unwrap_or(i64::MAX),
    ));

    // One read transaction, so that the page and the total agree.
    let tx = connection.transaction().map_err(StoreError::backend)?;
    let mut items = {
        let mut statement = tx.prepare_cached(&sql).map_err(StoreError::backend)?;
        let rows = statement
            .query_map(params_from_iter(params), bodies)
            .map_err(StoreError::backend)?;
        rows.map(|row| account_of(row.map_err(StoreError::backend)?))
            .collect::<StoreResult<Vec<_>>>()?
    };
    let total = count_selection(&tx, &selection)?;
    let more = items.len() > query.limit;
    items.truncate(query.limit);
    Ok(AccountPage { items, more, total })
}

pub(super) fn count(connection: &Connection, school: &SchoolId, filter: &AccountFilter) -> StoreResult<u64> {
    count_selection(connection, &Selection::of(school, filter)?)
}

fn count_selection(connection: &Connection, selection: &Selection) -> StoreResult<u64> {
    let sql = format!(
        "{} SELECT COUNT(*) FROM {} WHERE {}",
        selection.with, selection.from, selection.conditions
    );
    let count: i64 = connection
        .prepare_cached(&sql)
        .and_then(|mut statement| statement.query_row(params_from_iter(&selection.params), |row| row.get(0)))
        .map_err(StoreError::backend)?;
    u64::try_from(count).map_err(StoreError::backend)
}

/// The rows a filter selects, as SQL fragments and their parameters in order.
struct Selection {
    /// Empty, or a CTE `picked` of the ids the driving condition selects.
    with: String,
    from: &'static str,
    conditions: String,
    params: Vec<Value>,
}

const HAS_CLASS_AMONG: &str = "EXISTS (SELECT 1 FROM account_classes k \
     WHERE k.account_id = a.id AND k.class IN (SELECT value FROM json_each(?)))";

impl Selection {
    fn of(school: &SchoolId, filter: &AccountFilter) -> StoreResult<Self> {
        let school = Value::Text(school.as_str().to_owned());
        let mut params = Vec::new();
        let (with, from) = match driver(filter)? {
            Some((picked, value)) => {
                params.push(school.clone());
                params.push(value);
                // CROSS JOIN keeps the driving index as the outer loop.
                (
                    format!("WITH picked (id) AS MATERIALIZED ({picked})"),
                    "picked CROSS JOIN accounts a ON a.id = picked.id",
                )
            }
            None => (String::new(), "accounts a"),
        };
        let mut conditions = vec!["a.school = ?"];
        params.push(school);
        let mut condition = |sql: &'static str, value: Value| {
            conditions.push(sql);
            params.push(value);
        };
        if !filter.profiles.is_empty() {
            let profiles: Vec<&str> = filter.profiles.iter().map(|p| p.as_str()).collect();
            condition(
                "a.profile IN (SELECT value FROM json_each(?))",
                Value::Text(to_json(&profiles)?),
            );
        }
        if !filter.classes.is_empty() {
            condition(HAS_CLASS_AMONG, classes_json(&filter.classes)?);
        }
        if let Some(within) = &filter.within_classes {
            condition(HAS_CLASS_AMONG, classes_json(within)?);
        }
        if let Some(level) = &filter.level {
            condition("a.level = ?", Value::Text(level.clone()));
        }
        if let Some(group) = &filter.group {
            condition(
                "EXISTS (SELECT 1 FROM account_groups g WHERE g.account_id = a.id AND g.grp = ?)",
                Value::Text(group.clone()),
            );
        }
        if let Some(access) = filter.access {
            condition("a.access = ?", Value::Text(access_str(access).to_owned()));
        }
        if let Some(activation) = filter.activation {
            condition(
                "a.activation = ?",
                Value::Text(activation_str(activation).to_owned()),
            );
        }
        if let Some(has_email) = filter.has_email {
            condition("a.has_email = ?", Value::Integer(has_email.into()));
        }
        if let Some(state) = filter.email_state {
            condition(
                "a.has_email = 1 AND coalesce(json_extract(a.body, '$.email_state.status'), 'unknown') = ?",
                Value::Text(state.as_str().to_owned()),
            );
        }
        if let Some(local_admin) = filter.local_admin {
            condition("a.local_admin = ?", Value::Text(local_admin.as_str().to_owned()));
        }
        if let Some(from) = filter.created_from {
            condition("a.created_at >= ?", Value::Integer(nanos(from)));
        }
        if let Some(to) = filter.created_to {
            condition("a.created_at <= ?", Value::Integer(nanos(to)));
        }
        if let Some(since) = filter.disabled_since {
            condition("a.disabled_at >= ?", Value::Integer(nanos(since)));
        }
        if let Some((want, cutoff)) = filter.pre_deletion {
            // Never NULL: `disabled_at < ?` is only reached when it is set.
            conditions
                .push("(a.access = 'disabled' AND a.disabled_at IS NOT NULL AND a.disabled_at < ?) = ?");
            params.push(Value::Integer(nanos(cutoff)));
            params.push(Value::Integer(want.into()));
        }
        if let Some(needle) = &filter.search {
            // instr, not LIKE: a plain, case-sensitive `contains`, as the filter defines.
            conditions.push("instr(a.search, ?) > 0");
            params.push(Value::Text(needle.clone()));
        }
        Ok(Self {
            with,
            from,
            conditions: conditions.join(" AND "),
            params,
        })
    }
}

/// The condition to read through its own index first, if any, as a query of ids
/// taking the school and one value. Each stays among the conditions as well.
fn driver(filter: &AccountFilter) -> StoreResult<Option<(&'static str, Value)>> {
    const MEMBERS: &str = "SELECT DISTINCT account_id FROM account_classes \
         WHERE school = ? AND class IN (SELECT value FROM json_each(?))";
    Ok(if !filter.classes.is_empty() {
        Some((MEMBERS, classes_json(&filter.classes)?))
    } else if let Some(within) = &filter.within_classes {
        Some((MEMBERS, classes_json(within)?))
    } else if let Some(group) = &filter.group {
        Some((
            "SELECT account_id FROM account_groups WHERE school = ? AND grp = ?",
            Value::Text(group.clone()),
        ))
    } else {
        // A scan of the small search index beats one of the table.
        filter.search.as_ref().map(|needle| {
            (
                "SELECT id FROM accounts WHERE school = ? AND instr(search, ?) > 0",
                Value::Text(needle.clone()),
            )
        })
    })
}

fn classes_json(classes: &[ClassName]) -> StoreResult<Value> {
    let names: Vec<&str> = classes.iter().map(ClassName::as_str).collect();
    Ok(Value::Text(to_json(&names)?))
}
