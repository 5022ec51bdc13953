//! Creation of accounts: all of a batch or none, each login reserved by an item of
//! its own (`LOGIN#<login>`) so that logins stay unique across the deployment.

use super::batch::{Write, get_items, write_items};
use super::item::{
    ACCOUNT, Item, PK, SCHOOL, SK, account_item, account_key, account_of, class_key, key_of, login_key,
    member_key, row_writes, s, secret_key, secret_write, string,
};
use super::projection::{self, Edits};
use super::{DynamoStore, Refusal, TRANSACTION_ITEMS, classes, conditional};
use crate::domain::{Account, AccountId, ClassName, Login, SchoolId};
use crate::ports::{StoreError, StoreResult};
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use futures::{StreamExt, TryStreamExt};
use std::collections::{BTreeMap, HashSet};

const ABSENT: &str = "attribute_not_exists(pk)";
/// Login reservations being released at once by a rollback.
const CONCURRENT_RELEASES: usize = 16;

/// What one write of a creation is: what a failed condition on it means, and
/// how to undo it.
enum Role {
    Account(SchoolId, AccountId),
    /// A login reservation, for this account.
    Login(Login, SchoolId, AccountId),
    /// An item that goes with the account (a class membership, its secret).
    Member,
    /// A change of a class's count of students (undone from the accounts as
    /// stored, not from the plan).
    Count,
}

struct Planned {
    role: Role,
    key: Item,
    write: TransactWriteItem,
}

/// Checks the whole batch first, then writes it in transactions of at most 100
/// items, each account with its login and class items in one transaction.
///
/// One transaction is atomic. A batch too large for one is not quite: between its
/// transactions, readers see the accounts of the first ones, and a login or id
/// created concurrently (after the check) refuses a later transaction. The
/// accounts this call already wrote are then deleted again, so the call still
/// creates all or nothing, but a concurrent update of one of them in that
/// window is deleted with it.
pub(super) async fn create(store: &DynamoStore, accounts: &[Account]) -> StoreResult<()> {
    if accounts.is_empty() {
        return Ok(());
    }
    check(store, accounts).await?;
    let mut written: Vec<(Role, Item)> = Vec::new();
    // The accounts of one projection shard together: each transaction then rewrites
    // fewer shards (an import's batch of 500 shares each shard between two or so).
    let mut ordered: Vec<&Account> = accounts.iter().collect();
    ordered.sort_by_key(|account| projection::shard_of(&account.id));
    for (transaction, edits) in plan(&store.table, &ordered)? {
        let mut roles = Vec::with_capacity(transaction.len());
        let mut keys = Vec::with_capacity(transaction.len());
        let mut writes = Vec::with_capacity(transaction.len());
        for planned in transaction {
            roles.push(planned.role);
            keys.push(planned.key);
            writes.push(planned.write);
        }
        let sent = projection::transact_with(store, writes, &edits).await;
        // A retry after a lost answer is refused by what the first try wrote: the
        // accounts' ids are new, so finding one of them means the transaction
        // (all or nothing) went through.
        let sent = match sent {
            Ok(Err(Refusal::Condition(_))) if ours(store, &keys).await? => Ok(Ok(())),
            other => other,
        };
        let error = match sent {
            Ok(Ok(())) => {
                written.extend(roles.into_iter().zip(keys));
                continue;
            }
            Ok(Err(Refusal::Condition(index))) => match roles.get(index) {
                Some(Role::Login(login, ..)) => StoreError::LoginTaken(login.clone()),
                _ => StoreError::Conflict,
            },
            Ok(Err(Refusal::Contention)) => StoreError::Conflict,
            Err(backend) => {
                // Perhaps written all the same (a time-out): undone with the rest.
                written.extend(roles.into_iter().zip(keys));
                backend
            }
        };
        return Err(roll_back(store, written, error).await);
    }
    Ok(())
}

/// Whether the account items among `keys` (new ids, so no one else's) exist.
async fn ours(store: &DynamoStore, keys: &[Item]) -> StoreResult<bool> {
    let accounts: Vec<Item> = keys
        .iter()
        .filter(|k| super::item::is_account_item(k))
        .cloned()
        .collect();
    match accounts.first() {
        Some(key) => Ok(super::accounts::get_item(store, key.clone()).await?.is_some()),
        None => Ok(false),
    }
}

/// Refuses the batch before anything is written, as the SQLite store does: the
/// first account, in the order given, whose login is reserved or repeats in the
/// batch is `LoginTaken`; one whose id exists or repeats is a `Conflict`.
async fn check(store: &DynamoStore, accounts: &[Account]) -> StoreResult<()> {
    let mut seen = HashSet::new();
    let mut keys = Vec::new();
    for account in accounts {
        for key in [
            login_key(&account.login),
            account_key(&account.school, &account.id),
        ] {
            if seen.insert(pair(&key)?) {
                keys.push(key);
            }
        }
    }
    let existing = get_items(store, keys)
        .await?
        .iter()
        .map(pair)
        .collect::<StoreResult<HashSet<_>>>()?;
    let (mut logins, mut ids) = (HashSet::new(), HashSet::new());
    for account in accounts {
        if !logins.insert(&account.login) || existing.contains(&pair(&login_key(&account.login))?) {
            return Err(StoreError::LoginTaken(account.login.clone()));
        }
        let key = pair(&account_key(&account.school, &account.id))?;
        if existing.contains(&key) || !ids.insert(key) {
            return Err(StoreError::Conflict);
        }
    }
    Ok(())
}

fn pair(item: &Item) -> StoreResult<(String, String)> {
    Ok((string(item, PK)?.to_owned(), string(item, SK)?.to_owned()))
}

/// The transactions of a batch. An account's items stay in one transaction, but
/// for an account in more than 98 classes, whose last class items spill over.
/// Each transaction also adds its students to their classes' counts, one change
/// per class.
fn plan(table: &str, accounts: &[&Account]) -> StoreResult<Vec<(Vec<Planned>, Edits)>> {
    let mut plan = Plan::default();
    for account in accounts {
        let stored = Account {
            version: 1,
            ..(*account).clone()
        };
        let mut reservation = login_key(&stored.login);
        reservation.insert(SCHOOL.to_owned(), s(stored.school.as_str()));
        reservation.insert(ACCOUNT.to_owned(), s(stored.id.as_str()));
        let mut unit = vec![
            planned(
                table,
                Role::Account(stored.school.clone(), stored.id.clone()),
                account_item(&stored)?,
                true,
            )?,
            planned(
                table,
                Role::Login(stored.login.clone(), stored.school.clone(), stored.id.clone()),
                reservation,
                true,
            )?,
        ];
        if let Write::Put(secret) = secret_write(&stored)? {
            unit.push(planned(table, Role::Member, secret, false)?);
        }
        for row in row_writes(None, &stored)? {
            if let Write::Put(row) = row {
                unit.push(planned(table, Role::Member, row, false)?);
            }
        }
        let mut deltas = BTreeMap::new();
        classes::student_deltas(None, Some(&stored), &mut deltas);
        let counted: Vec<(SchoolId, ClassName)> = deltas
            .keys()
            .map(|class| (stored.school.clone(), class.clone()))
            .collect();
        let new_counts = counted.iter().filter(|k| !plan.counts.contains_key(*k)).count();
        let new_shard = usize::from(plan.edits.adds_shard(&stored));
        if !plan.current.is_empty() && plan.len() + unit.len() + new_counts + new_shard > TRANSACTION_ITEMS {
            plan.close(table)?;
        }
        plan.edits.put(&stored);
        for item in unit {
            if plan.len() == TRANSACTION_ITEMS {
                plan.close(table)?;
            }
            plan.current.push(item);
        }
        for (key, delta) in counted.into_iter().zip(deltas.into_values()) {
            if !plan.counts.contains_key(&key) && plan.len() == TRANSACTION_ITEMS {
                plan.close(table)?;
            }
            *plan.counts.entry(key).or_default() += delta;
        }
    }
    plan.close(table)?;
    Ok(plan.transactions)
}

/// The transactions planned so far, and the one being filled with its counts and
/// its rows of the school's projection.
#[derive(Default)]
struct Plan {
    transactions: Vec<(Vec<Planned>, Edits)>,
    current: Vec<Planned>,
    counts: BTreeMap<(SchoolId, ClassName), i64>,
    edits: Edits,
}

impl Plan {
    /// The items of the transaction being filled, its count changes and its
    /// shards included.
    fn len(&self) -> usize {
        self.current.len() + self.counts.len() + self.edits.shards()
    }

    fn close(&mut self, table: &str) -> StoreResult<()> {
        for ((school, class), delta) in std::mem::take(&mut self.counts) {
            self.current.push(Planned {
                key: class_key(&school, &class),
                write: classes::count_change(table, &school, &class, delta)?,
                role: Role::Count,
            });
        }
        if !self.current.is_empty() {
            self.transactions
                .push((std::mem::take(&mut self.current), std::mem::take(&mut self.edits)));
        }
        Ok(())
    }
}

fn planned(table: &str, role: Role, item: Item, absent: bool) -> StoreResult<Planned> {
    let key = key_of(&item);
    let write = if absent {
        let put = Put::builder()
            .table_name(table)
            .set_item(Some(item))
            .condition_expression(ABSENT)
            .build()
            .map_err(StoreError::backend)?;
        TransactWriteItem::builder().put(put).build()
    } else {
        Write::Put(item).in_transaction(table)?
    };
    Ok(Planned { role, key, write })
}

/// Deletes what this call wrote, then answers `error`; a rollback that fails is
/// the error then, for the batch is half written. A login reservation is deleted
/// only if it is this call's: another creation may hold it by now. What an
/// account's rows and counts are is read from the account as stored (a transaction
/// that failed may not have written it; an update in between may have moved it),
/// and the counts, the one step that cannot be repeated, come last.
async fn roll_back(store: &DynamoStore, written: Vec<(Role, Item)>, error: StoreError) -> StoreError {
    if written.is_empty() {
        return error;
    }
    let mut deletes = Vec::new();
    let mut reservations = Vec::new();
    let mut accounts = Vec::new();
    let mut rows = Edits::default();
    for (role, key) in written {
        match role {
            Role::Login(_, school, account) => reservations.push((key, school, account)),
            Role::Account(school, account) => {
                rows.remove(&school, &account);
                accounts.push(key);
            }
            Role::Member => deletes.push(key),
            Role::Count => {}
        }
    }
    let rolled_back = async {
        let mut counts: BTreeMap<SchoolId, BTreeMap<ClassName, i64>> = BTreeMap::new();
        for item in get_items(store, accounts.clone()).await? {
            let account = account_of(&item)?;
            let school = &account.school;
            classes::student_deltas(Some(&account), None, counts.entry(school.clone()).or_default());
            deletes.extend(
                account
                    .classes
                    .iter()
                    .map(|class| member_key(school, class, &account.id)),
            );
            deletes.push(secret_key(school, &account.id));
        }
        deletes.extend(accounts);
        let mut seen = HashSet::new();
        let deletes = deletes
            .into_iter()
            .filter(|key| pair(key).is_ok_and(|p| seen.insert(p)))
            .map(|key| Write::Delete(key).in_batch())
            .collect::<StoreResult<_>>()?;
        write_items(store, deletes).await?;
        projection::apply(store, rows).await?;
        let releases: Vec<_> = reservations
            .iter()
            .map(|(key, school, account)| release(store, key, school, account))
            .collect();
        futures::stream::iter(releases)
            .buffer_unordered(CONCURRENT_RELEASES)
            .try_collect::<Vec<()>>()
            .await?;
        for (school, deltas) in &counts {
            classes::change_counts(store, school, deltas).await?;
        }
        Ok::<(), StoreError>(())
    };
    match rolled_back.await {
        Ok(()) => error,
        Err(rollback) => {
            tracing::error!(%error, "a batch of accounts failed and could not be rolled back");
            StoreError::Backend(anyhow::Error::new(rollback).context(format!(
                "rolling back a partly created batch of accounts ({error})"
            )))
        }
    }
}

/// Deletes a login reservation if it names this account.
async fn release(store: &DynamoStore, key: &Item, school: &SchoolId, account: &AccountId) -> StoreResult<()> {
    let deleted = store
        .client
        .delete_item()
        .table_name(&store.table)
        .set_key(Some(key.clone()))
        .condition_expression("#school = :school AND #account = :account")
        .expression_attribute_names("#school", SCHOOL)
        .expression_attribute_names("#account", ACCOUNT)
        .expression_attribute_values(":school", s(school.as_str()))
        .expression_attribute_values(":account", s(account.as_str()))
        .send()
        .await;
    // Refused: the reservation is another account's now, and stays.
    conditional(deleted, "DeleteItem").map(drop)
}
