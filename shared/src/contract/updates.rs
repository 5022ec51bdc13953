//! Contract: conditional updates of accounts.

use super::{account, class, create, day, get, listed, school_id, strings};
use crate::domain::{Access, Account, LocalAdmin, Login, Profile, Secret, SecretKind, Sort};
use crate::ports::{AccountFilter, AccountQuery, Store, StoreError};

pub async fn an_update_needs_the_version_it_was_read_at(store: &dyn Store) {
    let anna = account("north", "anna.a", "Anna", "A", Profile::Student, &[]);
    create(store, std::slice::from_ref(&anna)).await;
    let read = get(store, &anna).await.expect("the created account");
    let disabled = Account {
        access: Access::Disabled,
        disabled_at: Some(day(3)),
        ..read.clone()
    };

    let first = store
        .update_accounts(std::slice::from_ref(&disabled))
        .await
        .expect("update_accounts");
    let stale = Account {
        local_admin: LocalAdmin::Admin,
        ..read.clone()
    };
    let second = store.update_accounts(&[stale]).await.expect("update_accounts");

    assert!(
        matches!(first[..], [Ok(())]),
        "the fresh update is written, got {first:?}"
    );
    assert!(
        matches!(second[..], [Err(StoreError::Conflict)]),
        "the stale one is refused, got {second:?}"
    );
    let stored = get(store, &read).await.expect("stored");
    assert_eq!(
        stored,
        Account {
            version: 2,
            ..disabled
        },
        "the fresh update, at version 2"
    );
}

pub async fn each_update_of_a_batch_succeeds_or_fails_on_its_own(store: &dyn Store) {
    let a = account("north", "anna.a", "Anna", "A", Profile::Student, &[]);
    let b = account("north", "bruno.b", "Bruno", "B", Profile::Student, &[]);
    create(store, &[a.clone(), b.clone()]).await;
    let fresh_a = Account {
        first_name: "Annabelle".to_owned(),
        version: 1,
        ..a.clone()
    };
    let stale_b = Account {
        first_name: "Bruneau".to_owned(),
        version: 7,
        ..b.clone()
    };

    let results = store
        .update_accounts(&[stale_b, fresh_a])
        .await
        .expect("update_accounts");

    assert!(
        matches!(results[..], [Err(StoreError::Conflict), Ok(())]),
        "in order, got {results:?}"
    );
    assert_eq!(
        get(store, &a).await.map(|a| (a.first_name, a.version)),
        Some(("Annabelle".to_owned(), 2))
    );
    assert_eq!(
        get(store, &b).await.map(|b| (b.first_name, b.version)),
        Some(("Bruno".to_owned(), 1))
    );
}

pub async fn updating_an_unknown_account_is_a_conflict(store: &dyn Store) {
    let ghost = Account {
        version: 1,
        ..account("north", "ghost.g", "Ghost", "G", Profile::Student, &[])
    };

    let results = store
        .update_accounts(std::slice::from_ref(&ghost))
        .await
        .expect("update_accounts");

    assert!(
        matches!(results[..], [Err(StoreError::Conflict)]),
        "got {results:?}"
    );
    assert_eq!(get(store, &ghost).await, None, "an update never creates");
}

pub async fn an_update_does_not_change_the_login(store: &dyn Store) {
    let anna = account("north", "anna.a", "Anna", "A", Profile::Student, &[]);
    create(store, std::slice::from_ref(&anna)).await;
    let renamed = Account {
        login: Login::parse("anna.renamed").expect("login"),
        version: 1,
        ..anna.clone()
    };

    // Whether the item is refused or written without its login, the login stays.
    let _ = store
        .update_accounts(std::slice::from_ref(&renamed))
        .await
        .expect("update_accounts");

    let by_old = store.find_by_login(&anna.login).await.expect("find_by_login");
    assert_eq!(
        by_old.map(|a| a.login),
        Some(anna.login.clone()),
        "still found by its login"
    );
    assert_eq!(
        store.find_by_login(&renamed.login).await.expect("find_by_login"),
        None
    );
    assert_eq!(get(store, &anna).await.map(|a| a.login), Some(anna.login));
}

pub async fn an_update_moves_an_account_between_classes(store: &dyn Store) {
    let mut anna = account("north", "anna.a", "Anna", "A", Profile::Student, &["6A"]);
    anna.groups = vec!["latin".to_owned()];
    create(store, std::slice::from_ref(&anna)).await;
    let moved = Account {
        classes: vec![class("5B")],
        groups: vec!["chorale".to_owned()],
        last_name: "Zed".to_owned(),
        version: 1,
        ..anna
    };

    let results = store.update_accounts(&[moved]).await.expect("update_accounts");

    assert!(matches!(results[..], [Ok(())]), "got {results:?}");
    let in_class = |name: &str| AccountFilter {
        classes: vec![class(name)],
        ..Default::default()
    };
    let in_group = |name: &str| AccountFilter {
        group: Some(name.to_owned()),
        ..Default::default()
    };
    assert!(
        listed(store, "north", &in_class("6A"), Sort::Name)
            .await
            .is_empty(),
        "left 6A"
    );
    assert_eq!(
        listed(store, "north", &in_class("5B"), Sort::Name).await,
        strings(&["anna.a"])
    );
    assert!(
        listed(store, "north", &in_group("latin"), Sort::Name)
            .await
            .is_empty(),
        "left latin"
    );
    assert_eq!(
        listed(store, "north", &in_group("chorale"), Sort::Name).await,
        strings(&["anna.a"])
    );
    let search = AccountFilter {
        search: Some("zed".to_owned()),
        ..Default::default()
    };
    assert_eq!(
        listed(store, "north", &search, Sort::Name).await,
        strings(&["anna.a"]),
        "search follows names"
    );
}

pub async fn concurrent_updates_at_one_version_let_exactly_one_through(store: &dyn Store) {
    let anna = account("north", "anna.a", "Anna", "A", Profile::Student, &[]);
    create(store, std::slice::from_ref(&anna)).await;
    let read = get(store, &anna).await.expect("the created account");
    let edit = |n: u8| {
        vec![Account {
            first_name: format!("Anna {n}"),
            ..read.clone()
        }]
    };
    let (first, second, third) = (edit(0), edit(1), edit(2));

    let results = tokio::join!(
        store.update_accounts(&first),
        store.update_accounts(&second),
        store.update_accounts(&third)
    );

    let results = [results.0, results.1, results.2].map(|r| r.expect("update_accounts"));
    let winners: Vec<usize> = (0..3).filter(|&n| matches!(results[n][..], [Ok(())])).collect();
    let losers = results
        .iter()
        .filter(|r| matches!(r[..], [Err(StoreError::Conflict)]))
        .count();
    assert_eq!(
        (winners.len(), losers),
        (1, 2),
        "one writer wins, the others conflict: {results:?}"
    );
    let stored = get(store, &anna).await.expect("stored");
    assert_eq!(
        (stored.first_name, stored.version),
        (format!("Anna {}", winners[0]), 2)
    );
}

/// A secret handed out to `account`, valid until `day(until)`.
pub fn handed_out(kind: SecretKind, until: i64) -> Secret {
    Secret::new(
        kind,
        "$argon2id$v=19$hash".to_owned(),
        "admin",
        day(0),
        day(until),
        Some("dst_1"),
    )
}

pub async fn a_secret_is_issued_replaced_and_revoked_with_its_account(store: &dyn Store) {
    let mut anna = account("north", "anna.a", "Anna", "A", Profile::Student, &["6A"]);
    create(store, std::slice::from_ref(&anna)).await;
    anna.version = 1;
    let link = handed_out(SecretKind::ResetLink, 1);
    anna.credentials.issue(link.clone());
    store
        .update_accounts(std::slice::from_ref(&anna))
        .await
        .expect("issue")[0]
        .as_ref()
        .expect("written");
    let issued = get(store, &anna).await.expect("the account");
    // Listed whole, and by its class (a store may read a class apart).
    let listed = |classes: Vec<crate::domain::ClassName>| async move {
        north_in(store, classes)
            .await
            .into_iter()
            .map(|a| a.credentials.secret)
            .collect::<Vec<_>>()
    };
    let listed_secret = listed(vec![]).await;
    let in_class = listed(vec![class("6A")]).await;
    let mut revoked = issued.clone();
    revoked.credentials.revoke(chrono::Utc::now());
    store
        .update_accounts(std::slice::from_ref(&revoked))
        .await
        .expect("revoke")[0]
        .as_ref()
        .expect("written");

    assert_eq!(issued.credentials.secret, Some(link.clone()));
    assert_eq!(listed_secret, [Some(link.clone())], "listed with its secret");
    assert_eq!(in_class, [Some(link)], "listed in its class with its secret");
    assert_eq!(
        get(store, &anna).await.expect("the account").credentials.secret,
        None
    );
    assert_eq!(listed(vec![class("6A")]).await, [None], "revoked, in its class");
}

/// An account in many classes (a teacher's) is listed in each of them as it is
/// now, when it grows from a few classes to many, changes, and shrinks again.
pub async fn an_account_in_many_classes_is_listed_in_each_as_it_is(store: &dyn Store) {
    let names = ["6A", "6B", "6C", "5A", "5B", "4A", "3A"];
    let mut tess = account("north", "tess.t", "Tess", "T", Profile::Teacher, &names[..2]);
    create(store, std::slice::from_ref(&tess)).await;
    let in_class = |name: &'static str| async move {
        north_in(store, vec![class(name)])
            .await
            .into_iter()
            .map(|a| (a.last_name, a.classes.len(), a.credentials.secret.is_some()))
            .collect::<Vec<_>>()
    };
    let write = |account: &Account| {
        let account = account.clone();
        async move {
            let results = store
                .update_accounts(std::slice::from_ref(&account))
                .await
                .expect("update");
            assert!(results[0].is_ok(), "{results:?}");
        }
    };
    // From two classes to seven, with a secret.
    tess.version = 1;
    tess.classes = names.iter().map(|n| class(n)).collect();
    tess.credentials.issue(handed_out(SecretKind::ResetLink, 1));
    write(&tess).await;
    for name in names {
        assert_eq!(in_class(name).await, [("T".to_owned(), 7, true)], "{name}");
    }
    // A change while in seven: every class shows it.
    tess.version = 2;
    tess.last_name = "Tessier".to_owned();
    tess.credentials.revoke(chrono::Utc::now());
    write(&tess).await;
    for name in names {
        assert_eq!(in_class(name).await, [("Tessier".to_owned(), 7, false)], "{name}");
    }
    // Back to three.
    tess.version = 3;
    tess.classes = names[4..].iter().map(|n| class(n)).collect();
    write(&tess).await;
    for name in &names[..4] {
        assert_eq!(in_class(name).await, [], "{name}: left");
    }
    for name in &names[4..] {
        assert_eq!(in_class(name).await, [("Tessier".to_owned(), 3, false)], "{name}");
    }
}

/// The north school's accounts in any of `classes` (none: all), by name, one page.
async fn north_in(store: &dyn Store, classes: Vec<crate::domain::ClassName>) -> Vec<Account> {
    let query = AccountQuery {
        filter: AccountFilter {
            classes,
            ..AccountFilter::default()
        },
        sort: Sort::Name,
        after: None,
        limit: 10,
    };
    let page = store
        .list_accounts(&school_id("north"), &query)
        .await
        .expect("list");
    page.items
}

/// An account whose temporary password expires at `day(10)`, as stored.
pub async fn a_secret_to_expire(store: &dyn Store) -> Account {
    let mut zoe = account("north", "zoe.t", "Zoé", "T", Profile::Student, &["6A"]);
    create(store, std::slice::from_ref(&zoe)).await;
    zoe.version = 1;
    zoe.credentials
        .issue(handed_out(SecretKind::TemporaryPassword, 10));
    store
        .update_accounts(std::slice::from_ref(&zoe))
        .await
        .expect("issue")[0]
        .as_ref()
        .expect("written");
    get(store, &zoe).await.expect("the account")
}
