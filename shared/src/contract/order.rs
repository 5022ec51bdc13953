//! Contract: the sort orders, and keyset pages that cover a list exactly once,
//! in order, with its total.

use super::{account, class, create, listed, logins, roster, strings};
use crate::domain::{Account, Profile, Sort};
use crate::ports::{AccountCursor, AccountFilter, AccountQuery, Store};

/// 25 students with repeating names and classes, some without a class.
fn students() -> Vec<Account> {
    let last_names = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Élie"];
    let classes = [&["6A"][..], &["5B"], &["6A", "4C"], &[]];
    (1..=25)
        .map(|n| {
            let last = last_names[(n * 7) % last_names.len()];
            let login = format!("s{n:02}.{}", last.to_lowercase().replace('é', "e"));
            let profile = if n % 5 == 0 {
                Profile::Parent
            } else {
                Profile::Student
            };
            account(
                "north",
                &login,
                &format!("Élève {}", 30 - n),
                last,
                profile,
                classes[n % classes.len()],
            )
        })
        .collect()
}

/// Every page of `filter` in `sort` order, `limit` at a time, checking `more`
/// and `total` on each.
async fn pages(
    store: &dyn Store,
    filter: &AccountFilter,
    sort: Sort,
    limit: usize,
    total: u64,
) -> Vec<Account> {
    let mut all: Vec<Account> = Vec::new();
    let mut after = None;
    loop {
        let query = AccountQuery {
            filter: filter.clone(),
            sort,
            after: after.clone(),
            limit,
        };
        let page = store
            .list_accounts(&super::school_id("north"), &query)
            .await
            .expect("list_accounts");
        assert_eq!(page.total, total, "the total on every page ({sort:?})");
        assert!(page.items.len() <= limit, "a page holds at most its limit");
        all.extend(page.items.iter().cloned());
        let remaining = total as usize - all.len().min(total as usize);
        assert_eq!(
            page.more,
            remaining > 0,
            "more is set while accounts remain ({sort:?})"
        );
        match page.items.last() {
            Some(last) if page.more => {
                after = Some(AccountCursor {
                    key: last.sort_key(sort),
                    id: last.id.clone(),
                });
            }
            _ => return all,
        }
    }
}

fn in_order(mut accounts: Vec<Account>, sort: Sort) -> Vec<String> {
    accounts.sort_by_key(|a| (a.sort_key(sort), a.id.clone()));
    logins(&accounts)
}

pub async fn pages_through_every_account_exactly_once_in_each_order(store: &dyn Store) {
    let students = students();
    create(store, &students).await;

    for sort in [Sort::Name, Sort::Profile, Sort::Class] {
        let listed = pages(store, &AccountFilter::default(), sort, 7, 25).await;

        assert_eq!(
            logins(&listed),
            in_order(students.clone(), sort),
            "every account once, in {sort:?} order"
        );
    }
}

pub async fn pages_a_class_roster_with_its_total(store: &dyn Store) {
    let students = students();
    create(store, &students).await;
    let roster = AccountFilter {
        classes: vec![class("6A")],
        ..Default::default()
    };
    let members: Vec<Account> = students.iter().filter(|a| roster.matches(a)).cloned().collect();
    assert_eq!(members.len(), 12, "the fixture's 6A");

    for sort in [Sort::Name, Sort::Class] {
        let listed = pages(store, &roster, sort, 5, 12).await;

        assert_eq!(
            logins(&listed),
            in_order(members.clone(), sort),
            "the roster once, in {sort:?} order"
        );
    }
}

async fn listed_in(store: &dyn Store, sort: Sort) -> Vec<String> {
    create(store, &roster()).await;
    listed(store, "north", &AccountFilter::default(), sort).await
}

pub async fn sorts_by_name(store: &dyn Store) {
    let expected = [
        "adam.bernard",
        "marc.durand",
        "joxann.faye",
        "zoe.lefevre",
        "lea.martin",
        "paul.moreau",
        "jo_ann.ndiaye",
        "hugo.petit",
        "ines.roux",
    ];
    assert_eq!(
        listed_in(store, Sort::Name).await,
        strings(&expected),
        "last name, first name, login"
    );
}

pub async fn sorts_by_profile_then_name(store: &dyn Store) {
    let expected = [
        "adam.bernard",
        "zoe.lefevre",
        "lea.martin",
        "hugo.petit",
        "paul.moreau",
        "marc.durand",
        "ines.roux",
        "joxann.faye",
        "jo_ann.ndiaye",
    ];
    assert_eq!(
        listed_in(store, Sort::Profile).await,
        strings(&expected),
        "students, parents, teachers, staff, guests"
    );
}

pub async fn sorts_by_class_with_classless_accounts_last(store: &dyn Store) {
    let expected = [
        "adam.bernard",
        "marc.durand",
        "lea.martin",
        "zoe.lefevre",
        "joxann.faye",
        "paul.moreau",
        "jo_ann.ndiaye",
        "hugo.petit",
        "ines.roux",
    ];
    assert_eq!(
        listed_in(store, Sort::Class).await,
        strings(&expected),
        "first class, then name"
    );
}
