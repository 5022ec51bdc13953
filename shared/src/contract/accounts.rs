//! Contract: creating and reading accounts, and keeping schools apart.

use super::{account, class, create, day, get, id_of, listed, logins, school_id, sorted, strings};
use crate::domain::{Account, Class, Credentials, Email, Login, Profile, Secret, SecretKind, Sort, Source};
use crate::ports::{AccountFilter, AccountQuery, Store, StoreError};
use chrono::{Duration, NaiveDate};

pub async fn creates_and_reads_back_an_account(store: &dyn Store) {
    let mut zoe = super::fixtures::zoe(&["6A", "Latin 2"]);
    zoe.level = Some("6e".to_owned());
    zoe.groups = vec!["chorale".to_owned()];
    zoe.options = vec!["latin".to_owned()];
    zoe.email = Some(Email::parse("zoe@example.org").expect("valid e-mail"));
    zoe.birth_date = NaiveDate::from_ymd_opt(2013, 2, 28);
    zoe.parents = vec![id_of("paul.lefevre")];
    zoe.source = Source::Federated("ent".to_owned());
    zoe.external_id = Some("EXT-1".to_owned());
    zoe.credentials = Credentials {
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned()),
        must_change_password: true,
        password_changed_at: Some(day(-1)),
        secret: Some(Secret::new(
            SecretKind::ActivationCode,
            "$argon2id$v=19$code".to_owned(),
            "admin",
            day(0),
            day(90),
            Some("exp_1"),
        )),
        history: Vec::new(),
    };
    // The ledger's notes travel with the account.
    let secret = zoe.credentials.secret.take().expect("a secret");
    zoe.credentials.issue(secret);
    // Sub-microsecond precision must survive the round trip.
    zoe.created_at = day(0) + Duration::nanoseconds(123_456_789);

    create(store, std::slice::from_ref(&zoe)).await;

    let stored = get(store, &zoe).await.expect("the created account");
    assert_eq!(
        stored,
        Account { version: 1, ..zoe },
        "stored as given, at version 1"
    );
}

pub async fn gets_only_the_accounts_that_exist_in_the_school(store: &dyn Store) {
    let a = account("north", "anna.a", "Anna", "A", Profile::Student, &[]);
    let b = account("north", "bruno.b", "Bruno", "B", Profile::Student, &[]);
    let c = account("north", "chloe.c", "Chloé", "C", Profile::Student, &[]);
    create(store, &[a.clone(), b, c.clone()]).await;

    let found = store
        .get_accounts(
            &school_id("north"),
            &[c.id.clone(), id_of("nobody.here"), a.id.clone()],
        )
        .await
        .expect("get_accounts");

    assert_eq!(sorted(logins(&found)), strings(&["anna.a", "chloe.c"]));
    assert!(
        found.iter().all(|a| a.version == 1),
        "every account read at version 1"
    );
}

pub async fn finds_an_account_by_login_whatever_its_school(store: &dyn Store) {
    let north = account("north", "anna.a", "Anna", "A", Profile::Student, &[]);
    let south = account("south", "bruno.b", "Bruno", "B", Profile::Teacher, &[]);
    create(store, &[north, south.clone()]).await;

    let found = store.find_by_login(&south.login).await.expect("find_by_login");
    let missing = store
        .find_by_login(&Login::parse("nobody").expect("login"))
        .await
        .expect("find_by_login");

    assert_eq!(found, Some(Account { version: 1, ..south }));
    assert_eq!(missing, None);
}

pub async fn counts_each_class_as_a_count_of_it_would(store: &dyn Store) {
    let mut moved = account("north", "carla.c", "Carla", "C", Profile::Student, &["6A"]);
    create(
        store,
        &[
            account("north", "anna.a", "Anna", "A", Profile::Student, &["6A", "Latin"]),
            account("north", "bruno.b", "Bruno", "B", Profile::Student, &["6B"]),
            moved.clone(),
            account("north", "paul.p", "Paul", "P", Profile::Parent, &["6A"]),
            account("north", "tess.t", "Tess", "T", Profile::Teacher, &["6A", "6B"]),
            account("south", "sam.s", "Sam", "S", Profile::Student, &["6A"]),
        ],
    )
    .await;
    moved.classes = vec![class("6B")];
    moved.version = 1;
    let results = store.update_accounts(&[moved]).await.expect("update_accounts");
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let students = AccountFilter {
        profiles: vec![Profile::Student],
        ..AccountFilter::default()
    };
    let classes = [class("6A"), class("6B"), class("Latin"), class("5C")];

    let counts = store
        .count_in_classes(&school_id("north"), &classes, &students)
        .await
        .expect("count_in_classes");

    assert_eq!(counts, [1, 2, 1, 0], "6A, 6B, Latin, an empty class");
    for (class, count) in classes.iter().zip(&counts) {
        let one = AccountFilter {
            classes: vec![class.clone()],
            ..students.clone()
        };
        let alone = store
            .count_accounts(&school_id("north"), &one)
            .await
            .expect("count");
        assert_eq!(alone, *count, "{class}");
    }
}

/// The class list's counts, however the store keeps them, agree with counting:
/// after creations (before and after a class is declared), moves, a change of
/// profile, a redeclared class, and concurrent creations into one class.
pub async fn lists_classes_with_their_students_as_counted(store: &dyn Store) {
    let north = school_id("north");
    let declare = |names: &[&str], level: &str| {
        names
            .iter()
            .map(|name| Class {
                name: class(name),
                level: Some(level.to_owned()),
            })
            .collect::<Vec<_>>()
    };
    // 3D's pupil arrives before 3D is declared.
    create(
        store,
        &[account("north", "dora.d", "Dora", "D", Profile::Student, &["3D"])],
    )
    .await;
    store
        .put_classes(&north, &declare(&["6A", "6B", "Latin", "5C", "3D"], "6e"))
        .await
        .expect("put_classes");
    store
        .put_classes(&school_id("south"), &declare(&["6A"], "6e"))
        .await
        .expect("put_classes");
    let mut moved = account("north", "carla.c", "Carla", "C", Profile::Student, &["6A"]);
    let mut grown = account("north", "ines.i", "Ines", "I", Profile::Student, &["6B"]);
    create(
        store,
        &[
            account("north", "anna.a", "Anna", "A", Profile::Student, &["6A", "Latin"]),
            account("north", "bruno.b", "Bruno", "B", Profile::Student, &["6B"]),
            moved.clone(),
            grown.clone(),
            account("north", "paul.p", "Paul", "P", Profile::Parent, &["6A"]),
            account("north", "tess.t", "Tess", "T", Profile::Teacher, &["6A", "6B"]),
            account("south", "sam.s", "Sam", "S", Profile::Student, &["6A"]),
        ],
    )
    .await;
    moved.classes = vec![class("6B"), class("Latin")];
    moved.version = 1;
    grown.profile = Profile::Staff;
    grown.version = 1;
    let results = store
        .update_accounts(&[moved, grown])
        .await
        .expect("update_accounts");
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    // Redeclaring a class keeps its pupils.
    store
        .put_classes(&north, &declare(&["6A"], "sixième"))
        .await
        .expect("put_classes");
    // Twenty pupils join 6B at once, each in a creation of its own.
    let joins = (0..20).map(|i| async move {
        let login = format!("pupil.{i}");
        create(
            store,
            &[account("north", &login, "Pupil", "P", Profile::Student, &["6B"])],
        )
        .await;
    });
    futures::future::join_all(joins).await;

    let listed = store
        .list_classes_with_students(&north)
        .await
        .expect("list_classes_with_students");

    let classes = store.list_classes(&north).await.expect("list_classes");
    let names: Vec<_> = classes.iter().map(|c| c.name.clone()).collect();
    let students = AccountFilter {
        profiles: vec![Profile::Student],
        ..AccountFilter::default()
    };
    let counted = store
        .count_in_classes(&north, &names, &students)
        .await
        .expect("count_in_classes");
    let expected: Vec<(Class, u64)> = classes.into_iter().zip(counted).collect();
    assert_eq!(listed, expected);
    let counts: Vec<(String, u64)> = listed.iter().map(|(c, n)| (c.name.to_string(), *n)).collect();
    let want = [("3D", 1), ("5C", 0), ("6A", 1), ("6B", 22), ("Latin", 2)];
    assert_eq!(
        counts,
        want.map(|(c, n)| (c.to_owned(), n)),
        "by name; 6A's level is {:?}",
        listed[2].0.level
    );
    assert_eq!(listed[2].0.level.as_deref(), Some("sixième"));
}

pub async fn finds_a_caller_by_id_or_login_in_its_school_only(store: &dyn Store) {
    let north = account("north", "anna.a", "Anna", "A", Profile::Teacher, &[]);
    let south = account("south", "bruno.b", "Bruno", "B", Profile::Teacher, &[]);
    create(store, &[north.clone(), south.clone()]).await;
    let found = |school: &'static str, sub: String| async move {
        store
            .find_caller(&school_id(school), &sub)
            .await
            .expect("find_caller")
            .map(|a| a.id)
    };

    assert_eq!(found("north", north.id.to_string()).await, Some(north.id.clone()));
    assert_eq!(
        found("north", north.login.to_string()).await,
        Some(north.id.clone())
    );
    assert_eq!(
        found("north", south.login.to_string()).await,
        None,
        "another school's login"
    );
    assert_eq!(
        found("north", south.id.to_string()).await,
        None,
        "another school's id"
    );
    assert_eq!(found("north", "nobody.here".to_owned()).await, None);
    assert_eq!(found("north", "not a sub!".to_owned()).await, None);
}

pub async fn a_taken_login_fails_the_whole_batch(store: &dyn Store) {
    create(
        store,
        &[account(
            "north",
            "zoe.martin",
            "Zoé",
            "Martin",
            Profile::Student,
            &[],
        )],
    )
    .await;
    let fresh = account("south", "adam.roux", "Adam", "Roux", Profile::Student, &[]);
    let mut taken = account("south", "zoe.martin", "Zoé", "Martin", Profile::Student, &[]);
    taken.id = id_of("zoe.martin.south");

    let result = store.create_accounts(&[fresh.clone(), taken]).await;

    assert!(
        matches!(&result, Err(StoreError::LoginTaken(login)) if login.as_str() == "zoe.martin"),
        "a login taken in another school is refused by name, got {result:?}"
    );
    assert_eq!(get(store, &fresh).await, None, "nothing of the batch is created");
    assert_eq!(
        store.find_by_login(&fresh.login).await.expect("find_by_login"),
        None
    );
}

pub async fn a_login_repeated_within_a_batch_is_taken(store: &dyn Store) {
    let first = account("north", "lea.petit", "Léa", "Petit", Profile::Student, &[]);
    let mut second = account("north", "lea.petit", "Léa", "Petit", Profile::Parent, &[]);
    second.id = id_of("lea.petit.2");

    let result = store.create_accounts(&[first.clone(), second]).await;

    assert!(
        matches!(&result, Err(StoreError::LoginTaken(login)) if login.as_str() == "lea.petit"),
        "got {result:?}"
    );
    assert_eq!(get(store, &first).await, None, "nothing of the batch is created");
}

pub async fn an_existing_id_is_a_conflict(store: &dyn Store) {
    let first = account("north", "anna.a", "Anna", "A", Profile::Student, &[]);
    create(store, std::slice::from_ref(&first)).await;
    let mut same_id = account("north", "anna.b", "Anna", "B", Profile::Student, &[]);
    same_id.id = first.id.clone();

    let result = store.create_accounts(&[same_id.clone()]).await;

    assert!(matches!(result, Err(StoreError::Conflict)), "got {result:?}");
    assert_eq!(
        store.find_by_login(&same_id.login).await.expect("find_by_login"),
        None
    );
}

pub async fn another_schools_accounts_are_never_returned(store: &dyn Store) {
    let north = account("north", "anna.a", "Anna", "A", Profile::Student, &["6A"]);
    let south = account("south", "bruno.b", "Bruno", "B", Profile::Student, &["6A"]);
    create(store, &[north.clone(), south.clone()]).await;
    let south_id = school_id("south");

    let by_id = store
        .get_account(&south_id, &north.id)
        .await
        .expect("get_account");
    let by_ids = store
        .get_accounts(&south_id, &[north.id.clone(), south.id.clone()])
        .await
        .expect("get");
    let whole = AccountQuery {
        filter: AccountFilter::default(),
        sort: Sort::Name,
        after: None,
        limit: 50,
    };
    let page = store
        .list_accounts(&south_id, &whole)
        .await
        .expect("list_accounts");
    let roster = AccountFilter {
        classes: vec![class("6A")],
        ..Default::default()
    };

    assert_eq!(by_id, None, "get_account");
    assert_eq!(logins(&by_ids), strings(&["bruno.b"]), "get_accounts");
    assert_eq!(
        (logins(&page.items), page.total),
        (strings(&["bruno.b"]), 1),
        "list_accounts"
    );
    assert_eq!(
        listed(store, "south", &roster, Sort::Class).await,
        strings(&["bruno.b"]),
        "a class roster"
    );
    assert_eq!(
        store.count_accounts(&south_id, &roster).await.expect("count"),
        1,
        "count_accounts"
    );
    let south_update = Account {
        school: south_id,
        version: 1,
        ..north.clone()
    };
    let results = store
        .update_accounts(&[south_update])
        .await
        .expect("update_accounts");
    assert!(
        matches!(results[..], [Err(StoreError::Conflict)]),
        "an update names the school, got {results:?}"
    );
    assert_eq!(
        get(store, &north).await.map(|a| a.school),
        Some(school_id("north"))
    );
}
