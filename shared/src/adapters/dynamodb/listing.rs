//! Lists and counts of a school's accounts. A filter on classes reads the rows
//! of the fewest classes it names (a `Query` per class: each row holds its
//! account), then the secrets its rows say exist; any other reads the school's
//! accounts (a `Query` on its partition). Both then apply `AccountFilter::matches`
//! and sort in memory: the total of every page needs them all anyway.

use super::DynamoStore;
use super::accounts::get_many;
use super::batch::{get_items, query_all, query_prefix};
use super::item::{
    ACCOUNT_PREFIX, HAS_SECRET, Item, SK, account_of, is_account_item, member_of, member_pk, parsed, school_pk,
    secret_key, string, with_secrets,
};
use crate::domain::{Account, AccountId, ClassName, SchoolId};
use crate::ports::{AccountFilter, AccountPage, AccountQuery, StoreResult};
use futures::future::try_join_all;
use std::collections::{BTreeMap, BTreeSet};

pub(super) async fn list(
    store: &DynamoStore,
    school: &SchoolId,
    query: &AccountQuery,
) -> StoreResult<AccountPage> {
    let mut keyed: Vec<(String, Account)> = matching(store, school, &query.filter)
        .await?
        .into_iter()
        .map(|account| (account.sort_key(query.sort), account))
        .collect();
    keyed.sort_by(|(a_key, a), (b_key, b)| (a_key, &a.id).cmp(&(b_key, &b.id)));
    let total = keyed.len() as u64;
    let start = query.after.as_ref().map_or(0, |after| {
        keyed.partition_point(|(key, account)| (key, &account.id) <= (&after.key, &after.id))
    });
    let rest = keyed.len() - start;
    let items = keyed
        .into_iter()
        .skip(start)
        .take(query.limit)
        .map(|(_, account)| account)
        .collect();
    Ok(AccountPage {
        items,
        more: rest > query.limit,
        total,
    })
}

pub(super) async fn count(
    store: &DynamoStore,
    school: &SchoolId,
    filter: &AccountFilter,
) -> StoreResult<u64> {
    Ok(matching(store, school, filter).await?.len() as u64)
}

/// Per class of `classes`, the accounts `filter` selects in it, from one read of
/// the school's accounts (a `Query` of its partition, paged by DynamoDB at 1 MB),
/// where a query per class would cost one round trip each.
pub(super) async fn count_in_classes(
    store: &DynamoStore,
    school: &SchoolId,
    classes: &[ClassName],
    filter: &AccountFilter,
) -> StoreResult<Vec<u64>> {
    let items = query_prefix(store, school_pk(school), ACCOUNT_PREFIX).await?;
    let items: Vec<&Item> = items.iter().filter(|item| is_account_item(item)).collect();
    let mut counts: std::collections::HashMap<&ClassName, u64> = classes.iter().map(|c| (c, 0)).collect();
    for item in items {
        let account = account_of(item)?;
        if account.school != *school || !filter.matches(&account) {
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

/// The accounts of `school` that `filter` selects, in no particular order.
async fn matching(
    store: &DynamoStore,
    school: &SchoolId,
    filter: &AccountFilter,
) -> StoreResult<Vec<Account>> {
    let named = (!filter.classes.is_empty()).then_some(filter.classes.as_slice());
    let within = filter.within_classes.as_deref();
    let candidates = match named
        .into_iter()
        .chain(within)
        .min_by_key(|classes| classes.len())
    {
        Some(classes) => members(store, school, classes).await?,
        None => school_accounts(store, school).await?,
    };
    Ok(candidates
        .into_iter()
        .filter(|account| account.school == *school && filter.matches(account))
        .collect())
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
    let mut secrets = Vec::new();
    let mut bare = BTreeSet::new();
    for (class, rows) in &rosters {
        for row in rows {
            match member_of(row, school, class)? {
                Some(account) => {
                    if row.get(HAS_SECRET).is_some_and(|has| has.as_bool() == Ok(&true))
                        && !accounts.contains_key(&account.id)
                    {
                        secrets.push(secret_key(school, &account.id));
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
    let (secrets, read) = futures::future::try_join(get_items(store, secrets), get_many(store, school, &bare)).await?;
    let accounts = with_secrets(accounts.into_values().collect(), &secrets)?;
    Ok(accounts.into_iter().chain(read).collect())
}

/// The school's accounts and their secrets, each beside its account: one `Query`
/// of the partition's `ACCOUNT#` range.
async fn school_accounts(store: &DynamoStore, school: &SchoolId) -> StoreResult<Vec<Account>> {
    let (accounts, secrets): (Vec<Item>, Vec<Item>) = query_prefix(store, school_pk(school), ACCOUNT_PREFIX)
        .await?
        .into_iter()
        .partition(is_account_item);
    let accounts = accounts.iter().map(account_of).collect::<StoreResult<_>>()?;
    with_secrets(accounts, &secrets)
}
