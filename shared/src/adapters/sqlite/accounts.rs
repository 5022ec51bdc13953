//! Accounts: reads by id and login, creation and conditional updates, and the
//! columns and join rows derived from an account for querying.

use super::{from_json, nanos, to_json, version};
use crate::domain::{Access, Account, AccountId, Activation, Login, SchoolId, Sort};
use crate::ports::{StoreError, StoreResult};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

pub(super) fn get(
    connection: &Connection,
    school: &SchoolId,
    id: &AccountId,
) -> StoreResult<Option<Account>> {
    let mut statement = connection
        .prepare_cached(&format!("{SELECT_ACCOUNT} WHERE a.school = ?1 AND a.id = ?2"))
        .map_err(StoreError::backend)?;
    statement
        .query_row(params![school.as_str(), id.as_str()], bodies)
        .optional()
        .map_err(StoreError::backend)?
        .map(account_of)
        .transpose()
}

pub(super) fn get_many(
    connection: &Connection,
    school: &SchoolId,
    ids: &[AccountId],
) -> StoreResult<Vec<Account>> {
    let ids: Vec<&str> = ids.iter().map(AccountId::as_str).collect();
    let mut statement = connection
        .prepare_cached(&format!(
            "{SELECT_ACCOUNT} WHERE a.school = ?1 AND a.id IN (SELECT value FROM json_each(?2))"
        ))
        .map_err(StoreError::backend)?;
    let rows = statement
        .query_map(params![school.as_str(), to_json(&ids)?], bodies)
        .map_err(StoreError::backend)?;
    rows.map(|row| account_of(row.map_err(StoreError::backend)?))
        .collect()
}

pub(super) fn find_by_login(connection: &Connection, login: &Login) -> StoreResult<Option<Account>> {
    let mut statement = connection
        .prepare_cached(&format!("{SELECT_ACCOUNT} WHERE a.login = ?1"))
        .map_err(StoreError::backend)?;
    statement
        .query_row([login.as_str()], bodies)
        .optional()
        .map_err(StoreError::backend)?
        .map(account_of)
        .transpose()
}

/// An account's row and its outstanding secret's, which lives in a row of its
/// own (SPEC §8) that the sweep deletes once it has expired.
pub(super) const SELECT_ACCOUNT: &str =
    "SELECT a.body, (SELECT s.body FROM secrets s WHERE s.account_id = a.id) FROM accounts a";

/// The two bodies `SELECT_ACCOUNT` reads.
pub(super) fn bodies(row: &rusqlite::Row<'_>) -> rusqlite::Result<(String, Option<String>)> {
    Ok((row.get(0)?, row.get(1)?))
}

pub(super) fn account_of((body, secret): (String, Option<String>)) -> StoreResult<Account> {
    let mut account: Account = from_json(&body)?;
    account.credentials.secret = secret.as_deref().map(from_json).transpose()?;
    Ok(account)
}

/// Writes the account's outstanding secret to its own row, or deletes that row.
fn write_secret(tx: &Transaction<'_>, account: &Account) -> StoreResult<()> {
    match &account.credentials.secret {
        Some(secret) => tx
            .prepare_cached(
                "INSERT INTO secrets (account_id, school, expires_at, body) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (account_id) DO UPDATE SET expires_at = excluded.expires_at, body = excluded.body",
            )
            .and_then(|mut upsert| {
                upsert.execute(params![
                    account.id.as_str(),
                    account.school.as_str(),
                    nanos(secret.expires_at),
                    to_json(secret).map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?,
                ])
            }),
        None => tx
            .prepare_cached("DELETE FROM secrets WHERE account_id = ?1")
            .and_then(|mut delete| delete.execute([account.id.as_str()])),
    }
    .map(drop)
    .map_err(StoreError::backend)
}

/// All or nothing: the first taken login or existing id rolls the batch back.
pub(super) fn create(connection: &mut Connection, accounts: &[Account]) -> StoreResult<()> {
    let tx = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(StoreError::backend)?;
    for account in accounts {
        if exists(
            &tx,
            "SELECT 1 FROM accounts WHERE login = ?1",
            account.login.as_str(),
        )? {
            return Err(StoreError::LoginTaken(account.login.clone()));
        }
        if exists(&tx, "SELECT 1 FROM accounts WHERE id = ?1", account.id.as_str())? {
            return Err(StoreError::Conflict);
        }
        let stored = Account {
            version: 1,
            ..account.clone()
        };
        let row = Row::of(&stored)?;
        tx.prepare_cached(
            "INSERT INTO accounts (id, school, login, profile, level, access, activation, has_email, \
             local_admin, created_at, disabled_at, search, sort_name, sort_profile, sort_class, version, body) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
        )
        .and_then(|mut insert| {
            insert.execute(params![
                stored.id.as_str(),
                stored.school.as_str(),
                stored.login.as_str(),
                row.profile,
                stored.level,
                row.access,
                row.activation,
                stored.email.is_some(),
                row.local_admin,
                row.created_at,
                row.disabled_at,
                row.search,
                row.sort_name,
                row.sort_profile,
                row.sort_class,
                row.version,
                row.body,
            ])
        })
        .map_err(StoreError::backend)?;
        write_memberships(&tx, &stored)?;
        write_secret(&tx, &stored)?;
    }
    tx.commit().map_err(StoreError::backend)
}

/// One transaction; each account is written only if its stored version is still
/// the one it was read at. The stored login is kept whatever the account says.
pub(super) fn update(connection: &mut Connection, accounts: &[Account]) -> StoreResult<Vec<StoreResult<()>>> {
    let tx = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(StoreError::backend)?;
    let mut results = Vec::with_capacity(accounts.len());
    for account in accounts {
        results.push(update_one(&tx, account)?);
    }
    tx.commit().map_err(StoreError::backend)?;
    Ok(results)
}

/// The outer error fails the whole batch; the inner one is this account's.
fn update_one(tx: &Transaction<'_>, account: &Account) -> StoreResult<StoreResult<()>> {
    // A version the column cannot hold cannot be the stored one.
    let Ok(read_version) = i64::try_from(account.version) else {
        return Ok(Err(StoreError::Conflict));
    };
    let stored_login: Option<String> = tx
        .prepare_cached("SELECT login FROM accounts WHERE id = ?1 AND school = ?2 AND version = ?3")
        .and_then(|mut select| {
            select
                .query_row(
                    params![account.id.as_str(), account.school.as_str(), read_version],
                    |row| row.get(0),
                )
                .optional()
        })
        .map_err(StoreError::backend)?;
    let Some(stored_login) = stored_login else {
        return Ok(Err(StoreError::Conflict));
    };
    let login = Login::parse(&stored_login).map_err(StoreError::backend)?;
    let stored = Account {
        login,
        version: account.version.saturating_add(1),
        ..account.clone()
    };
    let row = Row::of(&stored)?;
    tx.prepare_cached(
        "UPDATE accounts SET profile = ?3, level = ?4, access = ?5, activation = ?6, has_email = ?7, \
         local_admin = ?8, created_at = ?9, disabled_at = ?10, search = ?11, sort_name = ?12, \
         sort_profile = ?13, sort_class = ?14, version = ?15, body = ?16 \
         WHERE id = ?1 AND school = ?2",
    )
    .and_then(|mut write| {
        write.execute(params![
            stored.id.as_str(),
            stored.school.as_str(),
            row.profile,
            stored.level,
            row.access,
            row.activation,
            stored.email.is_some(),
            row.local_admin,
            row.created_at,
            row.disabled_at,
            row.search,
            row.sort_name,
            row.sort_profile,
            row.sort_class,
            row.version,
            row.body,
        ])
    })
    .map_err(StoreError::backend)?;
    tx.prepare_cached("DELETE FROM account_classes WHERE account_id = ?1")
        .and_then(|mut delete| delete.execute([stored.id.as_str()]))
        .and_then(|_| tx.prepare_cached("DELETE FROM account_groups WHERE account_id = ?1"))
        .and_then(|mut delete| delete.execute([stored.id.as_str()]))
        .map_err(StoreError::backend)?;
    write_memberships(tx, &stored)?;
    write_secret(tx, &stored)?;
    Ok(Ok(()))
}

fn exists(tx: &Transaction<'_>, sql: &str, key: &str) -> StoreResult<bool> {
    tx.prepare_cached(sql)
        .and_then(|mut select| select.exists([key]))
        .map_err(StoreError::backend)
}

/// The class and group rows that let a roster be read through an index.
fn write_memberships(tx: &Transaction<'_>, account: &Account) -> StoreResult<()> {
    let (id, school) = (account.id.as_str(), account.school.as_str());
    let mut class_row = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO account_classes (account_id, school, class) VALUES (?1, ?2, ?3)",
        )
        .map_err(StoreError::backend)?;
    for class in &account.classes {
        class_row
            .execute(params![id, school, class.as_str()])
            .map_err(StoreError::backend)?;
    }
    let mut group_row = tx
        .prepare_cached("INSERT OR IGNORE INTO account_groups (account_id, school, grp) VALUES (?1, ?2, ?3)")
        .map_err(StoreError::backend)?;
    for group in &account.groups {
        group_row
            .execute(params![id, school, group])
            .map_err(StoreError::backend)?;
    }
    Ok(())
}

/// The derived column values of an account row.
struct Row {
    profile: &'static str,
    access: &'static str,
    activation: &'static str,
    local_admin: &'static str,
    created_at: i64,
    disabled_at: Option<i64>,
    search: String,
    sort_name: String,
    sort_profile: String,
    sort_class: String,
    version: i64,
    body: String,
}

impl Row {
    fn of(account: &Account) -> StoreResult<Self> {
        Ok(Self {
            profile: account.profile.as_str(),
            access: access_str(account.access),
            activation: activation_str(account.activation),
            local_admin: account.local_admin.as_str(),
            created_at: nanos(account.created_at),
            disabled_at: account.disabled_at.map(nanos),
            search: account.search_text(),
            sort_name: account.sort_key(Sort::Name),
            sort_profile: account.sort_key(Sort::Profile),
            sort_class: account.sort_key(Sort::Class),
            version: version(account.version)?,
            // The outstanding secret lives in its own row.
            body: to_json(&Account {
                credentials: crate::domain::Credentials {
                    secret: None,
                    ..account.credentials.clone()
                },
                ..account.clone()
            })?,
        })
    }
}

pub(super) fn access_str(access: Access) -> &'static str {
    match access {
        Access::Enabled => "enabled",
        Access::Disabled => "disabled",
    }
}

pub(super) fn activation_str(activation: Activation) -> &'static str {
    match activation {
        Activation::Pending => "pending",
        Activation::Activated => "activated",
    }
}
