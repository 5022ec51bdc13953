//! Lists and counts of a school's accounts. A filter on classes reads the rows
//! of the fewest classes it names (a `Query` per class: each row holds its
//! account), then the secrets its rows say exist. Any other filter reads the
//! school's projection (`projection`: one `Query` of about 50 bytes per account),
//! filters, sorts and counts its rows, then fetches only the page's accounts by
//! key. Both apply `AccountFilter::matches` and `Account::sort_key`, the
//! definitions every store follows.

use super::DynamoStore;
use super::accounts::get_many;
use super::batch::{get_items, query_all};
use super::item::{
    HAS_SECRET, SK, account_key, account_of, is_account_item, member_of, member_pk, parsed, secret_key,
    string, with_secrets,
};
use super::projection::{self, Row};
use crate::domain::{Account, AccountId, ClassName, SchoolId};
use crate::ports::{AccountFilter, AccountPage, AccountQuery, StoreResult};
use futures::future::try_join_all;
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub(super) async fn list(
    store: &DynamoStore,
    school: &SchoolId,
    query: &AccountQuery,
) -> StoreResult<AccountPage> {
    if let Some(classes) = class_scope(&query.filter) {
        let keyed = members(store, school, classes)
            .await?
            .into_iter()
            .filter(|account| account.school == *school && query.filter.matches(account))
            .map(|account| (account.sort_key(query.sort), account.id.clone(), account))
            .collect();
        let (items, more, total) = page(keyed, query);
        return Ok(AccountPage { items, more, total });
    }
    let rows = projection::rows(store, school).await?;
    let keyed = rows
        .iter()
        .filter_map(|row| {
            let probe = row.probe(school);
            query
                .filter
                .matches(&probe)
                .then(|| (probe.sort_key(query.sort), probe.id, row))
        })
        .collect();
    let (rows, more, total) = page(keyed, query);
    let items = fetch(store, school, &rows).await?;
    Ok(AccountPage { items, more, total })
}

/// Sorts by key then id, and cuts the page after the keyset position: the
/// page's items, whether more follow, and the total.
fn page<T>(mut keyed: Vec<(String, AccountId, T)>, query: &AccountQuery) -> (Vec<T>, bool, u64) {
    keyed.sort_by(|(a_key, a_id, _), (b_key, b_id, _)| (a_key, a_id).cmp(&(b_key, b_id)));
    let total = keyed.len() as u64;
    let start = query.after.as_ref().map_or(0, |after| {
        keyed.partition_point(|(key, id, _)| (key, id) <= (&after.key, &after.id))
    });
    let rest = keyed.len() - start;
    let items = keyed
        .into_iter()
        .skip(start)
        .take(query.limit)
        .map(|(_, _, item)| item)
        .collect();
    (items, rest > query.limit, total)
}

/// The accounts of `rows`, in their order, with the secrets the rows say exist:
/// one `BatchGetItem` for a page of 50.
async fn fetch(store: &DynamoStore, school: &SchoolId, rows: &[&Row]) -> StoreResult<Vec<Account>> {
    let mut keys = Vec::with_capacity(rows.len() * 2);
    for row in rows {
        keys.push(account_key(school, row.id()));
        if row.has_secret() {
            keys.push(secret_key(school, row.id()));
        }
    }
    let (accounts, secrets): (Vec<_>, Vec<_>) = get_items(store, keys)
        .await?
        .into_iter()
        .partition(is_account_item);
    let accounts = accounts.iter().map(account_of).collect::<StoreResult<Vec<_>>>()?;
    let mut by_id: HashMap<AccountId, Account> = with_secrets(accounts, &secrets)?
        .into_iter()
        .map(|account| (account.id.clone(), account))
        .collect();
    Ok(rows.iter().filter_map(|row| by_id.remove(row.id())).collect())
}

pub(super) async fn count(
    store: &DynamoStore,
    school: &SchoolId,
    filter: &AccountFilter,
) -> StoreResult<u64> {
    if let Some(classes) = class_scope(filter) {
        let members = members(store, school, classes).await?;
        return Ok(members
            .iter()
            .filter(|account| account.school == *school && filter.matches(account))
            .count() as u64);
    }
    let rows = projection::rows(store, school).await?;
    Ok(rows
        .iter()
        .filter(|row| filter.matches(&row.probe(school)))
        .count() as u64)
}

/// Per class of `classes`, the accounts `filter` selects in it, from one read of
/// the school's projection, where a query per class would cost one round trip each.
pub(super) async fn count_in_classes(
    store: &DynamoStore,
    school: &SchoolId,
    classes: &[ClassName],
    filter: &AccountFilter,
) -> StoreResult<Vec<u64>> {
    let mut counts: HashMap<&ClassName, u64> = classes.iter().map(|c| (c, 0)).collect();
    for row in projection::rows(store, school).await? {
        let account = row.probe(school);
        if !filter.matches(&account) {
            continue;
        }
        let distinct: BTreeSet<&ClassName> = account.classes.iter().collect();
        for class in distinct {
            if let Some(count) = counts.get_mut(class) {
                *count += 1;
            }
        }
    }
    Ok(classes.iter().map(|c| counts[c]).collect())
}

/// The classes whose rows a filter on classes reads: whichever of its two class
/// conditions names fewer.
fn class_scope(filter: &AccountFilter) -> Option<&[ClassName]> {
    let named = (!filter.classes.is_empty()).then_some(filter.classes.as_slice());
    named
        .into_iter()
        .chain(filter.within_classes.as_deref())
        .min_by_key(|classes| classes.len())
}

/// The accounts in any of `classes`, each once: their classes' rows (a `Query`
/// per class), then the secrets of those whose row says they have one (a
/// `BatchGetItem`). A row that holds no account (written before rows did) has its
/// account read by key.
async fn members(store: &DynamoStore, school: &SchoolId, classes: &[ClassName]) -> StoreResult<Vec<Account>> {
    let classes: BTreeSet<&ClassName> = classes.iter().collect();
    let rosters = try_join_all(classes.iter().map(|class| async move {
        let rows = query_all(super::batch::partition(store, member_pk(school, class))).await?;
        Ok::<_, crate::ports::StoreError>((*class, rows))
    }))
    .await?;
    let mut accounts: BTreeMap<AccountId, Account> = BTreeMap::new();
    // Whether any of an account's rows says it has a secret (an account in more
    // than 98 classes has some rows written after its transaction).
    let mut with_secret = BTreeSet::new();
    let mut bare = BTreeSet::new();
    for (class, rows) in &rosters {
        for row in rows {
            match member_of(row, school, class)? {
                Some(account) => {
                    if row.get(HAS_SECRET).is_some_and(|has| has.as_bool() == Ok(&true)) {
                        with_secret.insert(account.id.clone());
                    }
                    accounts.insert(account.id.clone(), account);
                }
                None => {
                    bare.insert(parsed(string(row, SK)?, SK, AccountId::parse)?);
                }
            }
        }
    }
    bare.retain(|id| !accounts.contains_key(id));
    let secrets = with_secret.iter().map(|id| secret_key(school, id)).collect();
    let (secrets, read) =
        futures::future::try_join(get_items(store, secrets), get_many(store, school, &bare)).await?;
    let accounts = with_secrets(accounts.into_values().collect(), &secrets)?;
    Ok(accounts.into_iter().chain(read).collect())
}
