//! Accounts: reads by key and by login, and conditional updates that keep the
//! class rosters in step. Creation, with its login reservations, is in `create`.

use super::batch::{Write, get_items, partition, query_all, write_items};
use super::item::{
    ACCOUNT, Item, SCHOOL, SK, VERSION, WRITE_TOKEN, account_item, account_key, account_of, account_range,
    is_account_item, key_of, login_key, n, parsed, row_writes, s, school_pk, secret_key, secret_write,
    string, with_secrets, write_token, written_by,
};
use super::projection::{self, Edits};
use super::{DynamoStore, Refusal, TRANSACTION_ITEMS, classes, failed};
use crate::domain::{Account, AccountId, ClassName, Login, SchoolId};
use crate::ports::{StoreError, StoreResult};
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use futures::{StreamExt, TryStreamExt};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

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

/// Accounts updated in shared transactions: every account read at once (one
/// `BatchGetItem` per 100), then as many accounts to a transaction as its 100
/// items hold. A transaction that is refused (one account changed since it was
/// read, or a concurrent write) wrote nothing: its accounts are then updated one by
/// one, so that each fails or succeeds on its own. Results in the order given.
pub(super) async fn update(store: &DynamoStore, accounts: &[Account]) -> StoreResult<Vec<StoreResult<()>>> {
    let mut seen = HashSet::new();
    let keys: Vec<Item> = accounts
        .iter()
        .filter(|a| seen.insert((&a.school, &a.id)))
        .map(|a| account_key(&a.school, &a.id))
        .collect();
    let mut read: HashMap<(SchoolId, AccountId), Account> = HashMap::new();
    for item in get_items(store, keys).await? {
        let account = account_of(&item)?;
        read.insert((account.school.clone(), account.id.clone()), account);
    }
    let mut results: Vec<Option<StoreResult<()>>> = accounts.iter().map(|_| None).collect();
    let mut alone = Vec::new();
    let mut groups: Vec<Vec<(usize, Change)>> = Vec::new();
    let mut group = Group::default();
    let mut planned = HashSet::new();
    for (index, account) in accounts.iter().enumerate() {
        // An account given twice is written twice, in order, after the rest.
        if !planned.insert((&account.school, &account.id)) {
            alone.push(index);
            continue;
        }
        let Some(current) = read.get(&(account.school.clone(), account.id.clone())) else {
            results[index] = Some(Err(StoreError::Conflict));
            continue;
        };
        let change = match Change::of(&store.table, current, account)? {
            Ok(change) => change,
            Err(refused) => {
                results[index] = Some(Err(refused));
                continue;
            }
        };
        let size = change.len() + change.counts.len() + change.edits.shards();
        if size > TRANSACTION_ITEMS {
            alone.push(index);
            continue;
        }
        if group.len() + size > TRANSACTION_ITEMS {
            groups.push(std::mem::take(&mut group).members);
        }
        group.add(index, change);
    }
    if !group.members.is_empty() {
        groups.push(group.members);
    }
    let sends: Vec<_> = groups
        .into_iter()
        .map(|members| send_group(store, members))
        .collect();
    let sent: Vec<(Vec<usize>, bool)> = futures::stream::iter(sends)
        .buffer_unordered(CONCURRENT_GROUPS)
        .try_collect()
        .await?;
    for (members, written) in sent {
        for index in members {
            if written {
                results[index] = Some(Ok(()));
            } else {
                alone.push(index);
            }
        }
    }
    alone.sort_unstable();
    let updates: Vec<_> = alone
        .iter()
        .map(|&index| update_one(store, &accounts[index]))
        .collect();
    let one_by_one: Vec<StoreResult<()>> = futures::stream::iter(updates)
        .buffered(CONCURRENT_UPDATES)
        .try_collect()
        .await?;
    for (index, result) in alone.into_iter().zip(one_by_one) {
        results[index] = Some(result);
    }
    Ok(results
        .into_iter()
        .map(|r| r.unwrap_or(Err(StoreError::Conflict)))
        .collect())
}

/// Shared transactions in flight at once.
const CONCURRENT_GROUPS: usize = 4;

/// The accounts of one shared transaction, and its class counts' changes.
#[derive(Default)]
struct Group {
    members: Vec<(usize, Change)>,
    counts: BTreeSet<(SchoolId, ClassName)>,
    edits: Edits,
    items: usize,
}

impl Group {
    /// Its items, one change of each class's count and one write of each shard of
    /// the projection included.
    fn len(&self) -> usize {
        self.items + self.counts.len() + self.edits.shards()
    }

    fn add(&mut self, index: usize, change: Change) {
        self.items += change.len();
        for class in change.counts.keys() {
            self.counts.insert((change.school.clone(), class.clone()));
        }
        self.edits.extend(change.edits.clone());
        self.members.push((index, change));
    }
}

/// Sends one shared transaction: whether it was written. One refused by a
/// condition may be its own retry after a lost answer (its first account then
/// carries its token: a transaction is all or nothing).
async fn send_group(store: &DynamoStore, members: Vec<(usize, Change)>) -> StoreResult<(Vec<usize>, bool)> {
    let mut counts: BTreeMap<(SchoolId, ClassName), i64> = BTreeMap::new();
    let mut items = Vec::new();
    let mut edits = Edits::default();
    let mut indexes = Vec::with_capacity(members.len());
    let first = members
        .first()
        .map(|(_, c)| (account_key(&c.school, &c.id), c.token.clone()));
    for (index, change) in members {
        indexes.push(index);
        for (class, delta) in &change.counts {
            *counts.entry((change.school.clone(), class.clone())).or_default() += delta;
        }
        edits.extend(change.edits.clone());
        items.extend(change.into_items(&store.table)?);
    }
    for ((school, class), delta) in counts.into_iter().filter(|(_, d)| *d != 0) {
        items.push(classes::count_change(&store.table, &school, &class, delta)?);
    }
    let written = match projection::transact_with(store, items, &edits).await? {
        Ok(()) => true,
        Err(Refusal::Contention) => false,
        Err(Refusal::Condition(_)) => match first {
            Some((key, token)) => written_by(get_item(store, key).await?.as_ref(), &token),
            None => false,
        },
    };
    Ok((indexes, written))
}

/// What updating one account writes, from the item it was read at.
struct Change {
    school: SchoolId,
    id: AccountId,
    token: AttributeValue,
    /// The account's put, at the version read.
    put: TransactWriteItem,
    /// Its secret's item, put or deleted.
    secret: Write,
    /// Its rows: deleted from the classes it left, rewritten in each of its classes.
    rows: Vec<Write>,
    /// Its classes' student counts.
    counts: BTreeMap<ClassName, i64>,
    /// Its row in the school's projection.
    edits: Edits,
}

impl Change {
    /// The change, or `Conflict` if the account is no longer at the version read.
    fn of(table: &str, current: &Account, account: &Account) -> StoreResult<StoreResult<Self>> {
        if current.version != account.version {
            return Ok(Err(StoreError::Conflict));
        }
        // The stored login is kept; the roster changes are those from the version read.
        let stored = Account {
            login: current.login.clone(),
            version: account.version.saturating_add(1),
            ..account.clone()
        };
        let rows = row_writes(Some(current), &stored)?;
        let mut counts = BTreeMap::new();
        classes::student_deltas(Some(current), Some(&stored), &mut counts);
        let mut edits = Edits::default();
        edits.put(&stored);
        let token = write_token();
        let mut item = account_item(&stored)?;
        item.insert(WRITE_TOKEN.to_owned(), token.clone());
        let put = Put::builder()
            .table_name(table)
            .set_item(Some(item))
            .condition_expression(AT_VERSION)
            .expression_attribute_names("#version", VERSION)
            .expression_attribute_values(":expected", n(account.version))
            .build()
            .map_err(StoreError::backend)?;
        Ok(Ok(Self {
            school: stored.school.clone(),
            id: stored.id.clone(),
            token,
            put: TransactWriteItem::builder().put(put).build(),
            secret: secret_write(&stored)?,
            rows,
            counts,
            edits,
        }))
    }

    /// Its writes, but for the count changes and its shard of the projection.
    fn len(&self) -> usize {
        2 + self.rows.len()
    }

    /// Its writes in a transaction, but for the count changes.
    fn into_items(self, table: &str) -> StoreResult<Vec<TransactWriteItem>> {
        let mut items = vec![self.put, self.secret.in_transaction(table)?];
        for row in self.rows {
            items.push(row.in_transaction(table)?);
        }
        Ok(items)
    }
}

/// One account in a transaction of its own, read afresh. The outer error fails
/// the whole call; the inner one is this account's.
async fn update_one(store: &DynamoStore, account: &Account) -> StoreResult<StoreResult<()>> {
    let Some(item) = get_item(store, account_key(&account.school, &account.id)).await? else {
        return Ok(Err(StoreError::Conflict));
    };
    let mut change = match Change::of(&store.table, &account_of(&item)?, account)? {
        Ok(change) => change,
        Err(refused) => return Ok(Err(refused)),
    };
    // The account, its secret item, its count changes and its rows in one
    // transaction, so that neither secrets nor rosters ever disagree with the
    // accounts; an account in more than 98 classes has the rest written right after.
    let (school, id, token) = (change.school.clone(), change.id.clone(), change.token.clone());
    let mut counts = std::mem::take(&mut change.counts);
    let mut rows = std::mem::take(&mut change.rows);
    let edits = std::mem::take(&mut change.edits);
    // Room for the projection's shard.
    let room = TRANSACTION_ITEMS - edits.shards();
    let mut items = change.into_items(&store.table)?;
    let mut count_overflow = BTreeMap::new();
    while let Some((class, delta)) = counts.pop_first() {
        if items.len() < room {
            items.push(classes::count_change(&store.table, &school, &class, delta)?);
        } else {
            count_overflow.insert(class, delta);
        }
    }
    let overflow = rows.split_off(rows.len().min(room - items.len()));
    for row in rows {
        items.push(row.in_transaction(&store.table)?);
    }
    match projection::transact_with(store, items, &edits).await? {
        Ok(()) => {}
        Err(Refusal::Contention) => return Ok(Err(StoreError::Conflict)),
        // A retry after a lost answer finds the account as this write left it.
        Err(Refusal::Condition(_)) => {
            let now = get_item(store, account_key(&school, &id)).await?;
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
    classes::change_counts(store, &school, &count_overflow).await?;
    Ok(Ok(()))
}
