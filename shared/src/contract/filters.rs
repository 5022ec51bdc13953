//! Contract: each field of `AccountFilter`, over one roster.

use super::{account, class, create, day, listed, logins, roster, sorted, strings};
use crate::domain::{Access, Activation, LocalAdmin, Profile, Sort};
use crate::ports::{AccountFilter, Store};

/// Creates the roster, then checks that `filter` lists exactly `expected` in the
/// north school, and that `AccountFilter::matches` agrees (a check of the fixture).
async fn assert_lists(store: &dyn Store, filter: AccountFilter, expected: &[&str]) {
    let roster = roster();
    create(store, &roster).await;
    let expected = sorted(strings(expected));
    let by_definition = sorted(logins(
        roster
            .iter()
            .filter(|a| a.school.as_str() == "north" && filter.matches(a)),
    ));
    assert_eq!(
        by_definition, expected,
        "the fixture disagrees with AccountFilter::matches for {filter:?}"
    );

    let listed = listed(store, "north", &filter, Sort::Name).await;

    assert_eq!(sorted(listed), expected, "the accounts listed for {filter:?}");
}

fn filter() -> AccountFilter {
    AccountFilter::default()
}

pub async fn lists_by_profile(store: &dyn Store) {
    let teachers_and_staff = AccountFilter {
        profiles: vec![Profile::Teacher, Profile::Staff],
        ..filter()
    };
    assert_lists(store, teachers_and_staff, &["marc.durand", "ines.roux"]).await;
}

pub async fn lists_by_class_without_repeating_an_account(store: &dyn Store) {
    let both = AccountFilter {
        classes: vec![class("6A"), class("5B")],
        ..filter()
    };
    assert_lists(
        store,
        both,
        &["zoe.lefevre", "adam.bernard", "lea.martin", "marc.durand"],
    )
    .await;
}

pub async fn within_classes_narrows_the_classes(store: &dyn Store) {
    let roster = roster();
    create(store, &roster).await;
    let narrowed = AccountFilter {
        classes: vec![class("6A"), class("5B")],
        within_classes: Some(vec![class("5B")]),
        ..filter()
    };
    let alone = AccountFilter {
        within_classes: Some(vec![class("6A")]),
        ..filter()
    };
    let none_taught = AccountFilter {
        within_classes: Some(Vec::new()),
        ..filter()
    };

    assert_eq!(
        sorted(listed(store, "north", &narrowed, Sort::Name).await),
        strings(&["adam.bernard", "lea.martin", "marc.durand"])
    );
    assert_eq!(
        sorted(listed(store, "north", &alone, Sort::Name).await),
        strings(&["adam.bernard", "marc.durand", "zoe.lefevre"])
    );
    assert_eq!(
        listed(store, "north", &none_taught, Sort::Name).await,
        Vec::<String>::new(),
        "no class, no one"
    );
    for filter in [narrowed, alone, none_taught] {
        let expected = logins(
            roster
                .iter()
                .filter(|a| a.school.as_str() == "north" && filter.matches(a)),
        );
        assert_eq!(
            sorted(listed(store, "north", &filter, Sort::Name).await),
            sorted(expected),
            "{filter:?}"
        );
    }
}

pub async fn lists_by_level(store: &dyn Store) {
    assert_lists(
        store,
        AccountFilter {
            level: Some("5e".to_owned()),
            ..filter()
        },
        &["adam.bernard", "lea.martin"],
    )
    .await;
}

pub async fn lists_by_group(store: &dyn Store) {
    let latin = AccountFilter {
        group: Some("latin".to_owned()),
        ..filter()
    };
    assert_lists(store, latin, &["zoe.lefevre", "adam.bernard"]).await;
}

pub async fn lists_by_access(store: &dyn Store) {
    assert_lists(
        store,
        AccountFilter {
            access: Some(Access::Disabled),
            ..filter()
        },
        &["lea.martin", "hugo.petit"],
    )
    .await;
}

pub async fn lists_by_activation(store: &dyn Store) {
    let activated = AccountFilter {
        activation: Some(Activation::Activated),
        ..filter()
    };
    assert_lists(store, activated, &["zoe.lefevre", "marc.durand"]).await;
}

pub async fn lists_by_email_presence(store: &dyn Store) {
    let roster = roster();
    create(store, &roster).await;
    let with = AccountFilter {
        has_email: Some(true),
        ..filter()
    };
    let without = AccountFilter {
        has_email: Some(false),
        ..filter()
    };

    assert_eq!(
        sorted(listed(store, "north", &with, Sort::Name).await),
        strings(&["ines.roux", "marc.durand", "zoe.lefevre"])
    );
    assert_eq!(
        sorted(listed(store, "north", &without, Sort::Name).await),
        strings(&[
            "adam.bernard",
            "hugo.petit",
            "jo_ann.ndiaye",
            "joxann.faye",
            "lea.martin",
            "paul.moreau"
        ])
    );
}

pub async fn lists_by_local_admin(store: &dyn Store) {
    let roster = roster();
    create(store, &roster).await;
    let of = |level| AccountFilter {
        local_admin: Some(level),
        ..filter()
    };

    assert_eq!(
        listed(store, "north", &of(LocalAdmin::Secondary), Sort::Name).await,
        strings(&["marc.durand"])
    );
    assert_eq!(
        listed(store, "north", &of(LocalAdmin::Admin), Sort::Name).await,
        strings(&["ines.roux"])
    );
    assert_eq!(
        listed(store, "north", &of(LocalAdmin::None), Sort::Name)
            .await
            .len(),
        7
    );
}

pub async fn lists_by_creation_range_inclusively(store: &dyn Store) {
    let range = AccountFilter {
        created_from: Some(day(2)),
        created_to: Some(day(5)),
        ..filter()
    };
    assert_lists(
        store,
        range,
        &["lea.martin", "hugo.petit", "marc.durand", "ines.roux"],
    )
    .await;
}

pub async fn lists_accounts_disabled_since_an_instant(store: &dyn Store) {
    let roster = roster();
    create(store, &roster).await;
    let since = |days| AccountFilter {
        disabled_since: Some(day(days)),
        ..filter()
    };

    assert_eq!(
        listed(store, "north", &since(-10), Sort::Name).await,
        strings(&["hugo.petit"]),
        "inclusive"
    );
    assert_eq!(
        sorted(listed(store, "north", &since(-100), Sort::Name).await),
        strings(&["hugo.petit", "ines.roux", "lea.martin"]),
        "whatever the access now"
    );
}

pub async fn lists_accounts_in_pre_deletion_or_not(store: &dyn Store) {
    let mut undated = account("north", "eve.sansdate", "Ève", "Sansdate", Profile::Student, &[]);
    undated.access = Access::Disabled;
    create(store, &roster()).await;
    create(store, &[undated]).await;
    let pre_deletion = |want, days| AccountFilter {
        pre_deletion: Some((want, day(days))),
        ..filter()
    };
    let everyone_but_lea = strings(&[
        "adam.bernard",
        "eve.sansdate",
        "hugo.petit",
        "ines.roux",
        "jo_ann.ndiaye",
        "joxann.faye",
    ])
    .into_iter()
    .chain(strings(&["marc.durand", "paul.moreau", "zoe.lefevre"]))
    .collect::<Vec<_>>();

    assert_eq!(
        listed(store, "north", &pre_deletion(true, -90), Sort::Name).await,
        strings(&["lea.martin"])
    );
    assert_eq!(
        sorted(listed(store, "north", &pre_deletion(false, -90), Sort::Name).await),
        everyone_but_lea,
        "including a disabled account with no date"
    );
    assert!(
        listed(store, "north", &pre_deletion(true, -100), Sort::Name)
            .await
            .is_empty(),
        "disabled strictly before the cutoff"
    );
    assert_eq!(
        listed(store, "north", &pre_deletion(false, -100), Sort::Name)
            .await
            .len(),
        10
    );
}

pub async fn searches_folded_names_and_logins_literally(store: &dyn Store) {
    let roster = roster();
    create(store, &roster).await;
    let search = |needle: &str| AccountFilter {
        search: Some(needle.to_owned()),
        ..filter()
    };

    assert_eq!(
        listed(store, "north", &search("zoe"), Sort::Name).await,
        strings(&["zoe.lefevre"]),
        "accents"
    );
    assert_eq!(
        listed(store, "north", &search("lefevre zoe"), Sort::Name).await,
        strings(&["zoe.lefevre"])
    );
    assert_eq!(
        listed(store, "north", &search("ndiaye"), Sort::Name).await,
        strings(&["jo_ann.ndiaye"])
    );
    assert_eq!(
        listed(store, "north", &search("o_a"), Sort::Name).await,
        strings(&["jo_ann.ndiaye"]),
        "_ is literal"
    );
    assert!(
        listed(store, "north", &search("%"), Sort::Name).await.is_empty(),
        "% is literal"
    );
    assert_eq!(
        sorted(listed(store, "north", &search("jo "), Sort::Name).await),
        strings(&["jo_ann.ndiaye", "joxann.faye"])
    );
}

pub async fn every_condition_of_a_filter_must_hold(store: &dyn Store) {
    let combined = AccountFilter {
        profiles: vec![Profile::Student],
        classes: vec![class("5B")],
        access: Some(Access::Enabled),
        group: Some("latin".to_owned()),
        search: Some("bernard".to_owned()),
        ..filter()
    };
    assert_lists(store, combined, &["adam.bernard"]).await;
}
