//! Lists and counts of a school's accounts. A filter on classes reads the rosters
//! of the fewest classes it names (a `Query` per class, then the members by key);
//! any other reads the school's accounts (a `Query` on its partition). Both then
//! apply `AccountFilter::matches` and sort in memory: a school holds a few
//! thousand accounts, and the total of every page needs them all anyway.

use super::DynamoStore;
use super::accounts::get_many;
use super::batch::{query_all, query_prefix};
use super::item::{
    ACCOUNT_PREFIX, Item, SK, account_of, is_account_item, member_pk, parsed, school_pk, string, with_secrets,
};
use crate::domain::{Account, AccountId, ClassName, SchoolId};
use crate::ports::{AccountFilter, AccountPage, AccountQuery, StoreResult};
use futures::future::try_join_all;
use std::collections::BTreeSet;

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

/// The accounts in any of `classes`, each once: their rosters, then their items.
async fn members(store: &DynamoStore, school: &SchoolId, classes: &[ClassName]) -> StoreResult<Vec<Account>> {
    let classes: BTreeSet<&ClassName> = classes.iter().collect();
    let rosters = try_join_all(classes.into_iter().map(|class| {
        let query = super::batch::partition(store, member_pk(school, class))
            .expression_attribute_names("#sk", SK)
            .projection_expression("#sk");
        query_all(query)
    }))
    .await?;
    let ids = rosters
        .iter()
        .flatten()
        .map(|member| parsed(string(member, SK)?, SK, AccountId::parse))
        .collect::<StoreResult<BTreeSet<AccountId>>>()?;
    get_many(store, school, &ids).await
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
