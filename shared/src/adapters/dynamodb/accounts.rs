//! Accounts: reads by key and by login, and conditional updates that keep the
//! class rosters in step. Creation, with its login reservations, is in `create`.

use super::batch::{Write, get_items, partition, query_all, write_items};
use super::item::{
    ACCOUNT, Item, SCHOOL, SK, VERSION, WRITE_TOKEN, account_item, account_key, account_of, account_range,
    is_account_item, key_of, login_key, member_key, n, parsed, s, school_pk, secret_key, secret_write,
    string, with_secrets, write_token, written_by,
};
use super::{DynamoStore, Refusal, TRANSACTION_ITEMS, classes, failed, transact};
use crate::domain::{Account, AccountId, ClassName, Login, SchoolId};
use crate::ports::{StoreError, StoreResult};
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use futures::{StreamExt, TryStreamExt};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Updates of one call in flight at once.
const CONCURRENT_UPDATES: usize = 16;
/// The condition of an update: the stored version is still the one read.
const AT_VERSION: &str = "#version = :expected";

pub(super) async fn get_item(store: &DynamoStore, key: Item) -> StoreResult<Option<Item>> {
    let output = store
        .client
        .get_item()
        .table_name(&store.table)
        .set_key(Some(key))
        .consistent_read(true)
        .send()
        .await
        .map_err(failed("GetItem"))?;
    Ok(output.item)
}

/// An account with its secret: one `Query` of the two neighbouring items, which
/// costs one read unit where two `GetItem`s cost two.
pub(super) async fn get(
    store: &DynamoStore,
    school: &SchoolId,
    id: &AccountId,
) -> StoreResult<Option<Account>> {
    let (first, last) = account_range(id);
    let query = partition(store, school_pk(school))
        .key_condition_expression("#pk = :pk AND #sk BETWEEN :first AND :last")
        .expression_attribute_names("#sk", SK)
        .expression_attribute_values(":first", s(first))
        .expression_attribute_values(":last", s(last));
    let (accounts, secrets): (Vec<Item>, Vec<Item>) =
        query_all(query).await?.into_iter().partition(is_account_item);
    let Some(account) = accounts.first().map(account_of).transpose()? else {
        return Ok(None);
    };
    Ok(with_secrets(vec![account], &secrets)?.pop())
}

pub(super) async fn get_many(
    store: &DynamoStore,
    school: &SchoolId,
    ids: impl IntoIterator<Item = &AccountId>,
) -> StoreResult<Vec<Account>> {
    let distinct: BTreeSet<&AccountId> = ids.into_iter().collect();
    let keys = distinct
        .into_iter()
        .flat_map(|id| [account_key(school, id), secret_key(school, id)])
        .collect();
    let (secrets, accounts): (Vec<Item>, Vec<Item>) = get_items(store, keys)
        .await?
        .into_iter()
        .partition(|item| !is_account_item(item));
    let accounts = accounts.iter().map(account_of).collect::<StoreResult<_>>()?;
    with_secrets(accounts, &secrets)
}

/// The login's reservation names the account; an account whose login is not
/// this one (a reservation left by a failed rollback) is not found.
pub(super) async fn find_by_login(store: &DynamoStore, login: &Login) -> StoreResult<Option<Account>> {
    let Some(reservation) = get_item(store, login_key(login)).await? else {
        return Ok(None);
    };
    let school = parsed(string(&reservation, SCHOOL)?, SCHOOL, SchoolId::parse)?;
    let id = parsed(string(&reservation, ACCOUNT)?, ACCOUNT, AccountId::parse)?;
    Ok(get(store, &school, &id)
        .await?
        .filter(|account| account.login == *login))
}

/// The account a token's `sub` names: its account item by id and its login's
/// reservation, in one `BatchGetItem` (no secret: a caller's checks need the
/// account); by login, the account the reservation names, if it is of `school`.
pub(super) async fn find_caller(
    store: &DynamoStore,
    school: &SchoolId,
    sub: &str,
) -> StoreResult<Option<Account>> {
    let by_id = AccountId::parse(sub).ok().map(|id| account_key(school, &id));
    let login = Login::parse(sub).ok();
    let keys: Vec<Item> = by_id
        .iter()
        .cloned()
        .chain(login.as_ref().map(login_key))
        .collect();
    if keys.is_empty() {
        return Ok(None);
    }
    let items = get_items(store, keys).await?;
    let same_key = |item: &Item, key: &Item| key_of(item) == *key;
    if let Some(key) = &by_id
        && let Some(item) = items.iter().find(|item| same_key(item, key))
    {
        return Ok(Some(account_of(item)?));
    }
    let Some(login) = login else {
        return Ok(None);
    };
    let Some(reservation) = items.iter().find(|item| same_key(item, &login_key(&login))) else {
        return Ok(None);
    };
    let reserved_by = parsed(string(reservation, SCHOOL)?, SCHOOL, SchoolId::parse)?;
    if reserved_by != *school {
        return Ok(None);
    }
    let id = parsed(string(reservation, ACCOUNT)?, ACCOUNT, AccountId::parse)?;
    let account = get_item(store, account_key(school, &id)).await?;
    Ok(account
        .as_ref()
        .map(account_of)
        .transpose()?
        .filter(|account| account.login == login))
}

/// Each account on its own, a few at a time; results in the order given.
pub(super) async fn update(store: &DynamoStore, accounts: &[Account]) -> StoreResult<Vec<StoreResult<()>>> {
    let updates: Vec<_> = accounts
        .iter()
        .map(|account| update_one(store, account))
        .collect();
    futures::stream::iter(updates)
        .buffered(CONCURRENT_UPDATES)
        .try_collect()
        .await
}

/// The outer error fails the whole call; the inner one is this account's.
async fn update_one(store: &DynamoStore, account: &Account) -> StoreResult<StoreResult<()>> {
    let Some(item) = get_item(store, account_key(&account.school, &account.id)).await? else {
        return Ok(Err(StoreError::Conflict));
    };
    let current = account_of(&item)?;
    if current.version != account.version {
        return Ok(Err(StoreError::Conflict));
    }
    // The stored login is kept; the roster changes are those from the version read.
    let stored = Account {
        login: current.login.clone(),
        version: account.version.saturating_add(1),
        ..account.clone()
    };
    let (old, new): (BTreeSet<&ClassName>, BTreeSet<&ClassName>) =
        (current.classes.iter().collect(), stored.classes.iter().collect());
    let mut roster_changes: Vec<Write> = old
        .difference(&new)
        .map(|class| Write::Delete(member_key(&stored.school, class, &stored.id)))
        .collect();
    roster_changes.extend(
        new.difference(&old)
            .map(|class| Write::Put(member_key(&stored.school, class, &stored.id))),
    );
    let expected = HashMap::from([(":expected".to_owned(), n(account.version))]);
    let names = HashMap::from([("#version".to_owned(), VERSION.to_owned())]);
    // The account, its secret item and its roster changes in one transaction, so
    // that neither secrets nor rosters ever disagree with the accounts; an account
    // in more than 98 classes has the rest of its changes written right after.
    let token = write_token();
    let mut item = account_item(&stored)?;
    item.insert(WRITE_TOKEN.to_owned(), token.clone());
    let put = Put::builder()
        .table_name(&store.table)
        .set_item(Some(item))
        .condition_expression(AT_VERSION)
        .set_expression_attribute_names(Some(names))
        .set_expression_attribute_values(Some(expected))
        .build()
        .map_err(StoreError::backend)?;
    let mut items = vec![
        TransactWriteItem::builder().put(put).build(),
        secret_write(&stored)?.in_transaction(&store.table)?,
    ];
    // The classes whose student counts change, in the same transaction but for
    // what a move across more than 98 classes spills over.
    let mut deltas = BTreeMap::new();
    classes::student_deltas(Some(&current), Some(&stored), &mut deltas);
    let mut count_overflow = BTreeMap::new();
    for (class, delta) in deltas {
        if items.len() < TRANSACTION_ITEMS {
            items.push(classes::count_change(&store.table, &stored.school, &class, delta)?);
        } else {
            count_overflow.insert(class, delta);
        }
    }
    let overflow = roster_changes.split_off(roster_changes.len().min(TRANSACTION_ITEMS - items.len()));
    for change in roster_changes {
        items.push(change.in_transaction(&store.table)?);
    }
    match transact(store, items).await? {
        Ok(()) => {}
        Err(Refusal::Contention) => return Ok(Err(StoreError::Conflict)),
        // A retry after a lost answer finds the account as this write left it.
        Err(Refusal::Condition(_)) => {
            let now = get_item(store, account_key(&stored.school, &stored.id)).await?;
            if !written_by(now.as_ref(), &token) {
                return Ok(Err(StoreError::Conflict));
            }
        }
    }
    let overflow = overflow
        .into_iter()
        .map(Write::in_batch)
        .collect::<StoreResult<_>>()?;
    write_items(store, overflow).await?;
    classes::change_counts(store, &stored.school, &count_overflow).await?;
    Ok(Ok(()))
}
