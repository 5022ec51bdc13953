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
             VALUES (:id, :school, :login, :profile, :level, :access, :activation, :has_email, :local_admin, \
             :created_at, :disabled_at, :search, :sort_name, :sort_profile, :sort_class, :version, :body)",
        )
        .and_then(|mut insert| insert.execute(row.named().as_slice()))
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
    // The login is written as stored (the same value): one list of parameters
    // serves both statements.
    tx.prepare_cached(
        "UPDATE accounts SET login = :login, profile = :profile, level = :level, access = :access, \
         activation = :activation, has_email = :has_email, local_admin = :local_admin, \
         created_at = :created_at, disabled_at = :disabled_at, search = :search, sort_name = :sort_name, \
         sort_profile = :sort_profile, sort_class = :sort_class, version = :version, body = :body \
         WHERE id = :id AND school = :school",
    )
    .and_then(|mut write| write.execute(row.named().as_slice()))
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
struct Row<'a> {
    id: &'a str,
    school: &'a str,
    login: &'a str,
    level: &'a Option<String>,
    profile: &'static str,
    access: &'static str,
    activation: &'static str,
    local_admin: &'static str,
    has_email: bool,
    created_at: i64,
    disabled_at: Option<i64>,
    search: String,
    sort_name: String,
    sort_profile: String,
    sort_class: String,
    version: i64,
    body: String,
}

impl<'a> Row<'a> {
    /// The parameters of the statements that write an account, by name.
    fn named(&self) -> [(&'static str, &dyn rusqlite::ToSql); 17] {
        [
            (":id", &self.id),
            (":school", &self.school),
            (":login", &self.login),
            (":profile", &self.profile),
            (":level", self.level),
            (":access", &self.access),
            (":activation", &self.activation),
            (":has_email", &self.has_email),
            (":local_admin", &self.local_admin),
            (":created_at", &self.created_at),
            (":disabled_at", &self.disabled_at),
            (":search", &self.search),
            (":sort_name", &self.sort_name),
            (":sort_profile", &self.sort_profile),
            (":sort_class", &self.sort_class),
            (":version", &self.version),
            (":body", &self.body),
        ]
    }

    fn of(account: &'a Account) -> StoreResult<Self> {
        Ok(Self {
            id: account.id.as_str(),
            school: account.school.as_str(),
            login: account.login.as_str(),
            level: &account.level,
            profile: account.profile.as_str(),
            access: access_str(account.access),
            activation: activation_str(account.activation),
            local_admin: account.local_admin.as_str(),
            has_email: account.email.is_some(),
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
