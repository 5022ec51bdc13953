//! Contract: schools, classes, brute-force counters and idempotency records.

use super::{class, day, school_id};
use crate::domain::{Class, School, Settings};
use crate::ports::{Attempt, IdempotencyRecord, Store, StoreError, StoredResponse, throttle};
use chrono::Duration;

fn school(id: &str, version: u64) -> School {
    School {
        id: school_id(id),
        name: format!("Collège {id}"),
        settings: Settings::default(),
        version,
    }
}

pub async fn creates_a_school_at_version_one(store: &dyn Store) {
    store.put_school(&school("north", 0)).await.expect("put_school");

    let stored = store.get_school(&school_id("north")).await.expect("get_school");

    assert_eq!(stored, Some(school("north", 1)));
    assert_eq!(
        store.get_school(&school_id("south")).await.expect("get_school"),
        None
    );
}

pub async fn creating_an_existing_school_is_a_conflict(store: &dyn Store) {
    store.put_school(&school("north", 0)).await.expect("put_school");

    let again = store
        .put_school(&School {
            name: "Other".to_owned(),
            ..school("north", 0)
        })
        .await;

    assert!(matches!(again, Err(StoreError::Conflict)), "got {again:?}");
    assert_eq!(
        store
            .get_school(&school_id("north"))
            .await
            .expect("get")
            .map(|s| s.name),
        Some("Collège north".into())
    );
}

pub async fn a_school_update_needs_the_stored_version(store: &dyn Store) {
    store.put_school(&school("north", 0)).await.expect("put_school");
    let mut settings = Settings {
        retention_days: 30,
        ..Settings::default()
    };

    let fresh = store
        .put_school(&School {
            settings: settings.clone(),
            ..school("north", 1)
        })
        .await;
    settings.retention_days = 60;
    let stale = store
        .put_school(&School {
            settings: settings.clone(),
            ..school("north", 1)
        })
        .await;

    assert!(fresh.is_ok(), "the write at the stored version, got {fresh:?}");
    assert!(
        matches!(stale, Err(StoreError::Conflict)),
        "the stale write, got {stale:?}"
    );
    let stored = store
        .get_school(&school_id("north"))
        .await
        .expect("get_school")
        .expect("the school");
    assert_eq!((stored.version, stored.settings.retention_days), (2, 30));
}

pub async fn classes_are_upserted_by_name_and_listed_per_school(store: &dyn Store) {
    let of = |name: &str, level: Option<&str>| Class {
        name: class(name),
        level: level.map(str::to_owned),
    };
    store
        .put_classes(&school_id("north"), &[of("6A", None), of("5B", Some("5e"))])
        .await
        .expect("put");
    store
        .put_classes(&school_id("south"), &[of("6A", Some("6e"))])
        .await
        .expect("put");

    store
        .put_classes(&school_id("north"), &[of("6A", Some("6e")), of("4C", Some("4e"))])
        .await
        .expect("put");

    let mut north = store
        .list_classes(&school_id("north"))
        .await
        .expect("list_classes");
    north.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(
        north,
        vec![of("4C", Some("4e")), of("5B", Some("5e")), of("6A", Some("6e"))]
    );
    assert_eq!(
        store.list_classes(&school_id("south")).await.expect("list"),
        vec![of("6A", Some("6e"))]
    );
    assert!(
        store
            .list_classes(&school_id("west"))
            .await
            .expect("list")
            .is_empty()
    );
}

const KEY: &str = "login:zoe.lefevre";

pub async fn counts_ten_attempts_then_refuses_until_the_lock_ends(store: &dyn Store) {
    let now = day(0);
    let mut verdicts = Vec::new();
    for i in 0..11 {
        verdicts.push(
            store
                .count_attempt(KEY, now + Duration::seconds(i))
                .await
                .expect("count"),
        );
    }
    let lock_end = now + Duration::seconds(9) + throttle::LOCK;
    let late = store
        .count_attempt(KEY, lock_end - Duration::seconds(1))
        .await
        .expect("count");
    let after = store.count_attempt(KEY, lock_end).await.expect("count");

    assert!(
        verdicts[..10].iter().all(|v| *v == Attempt::Admitted),
        "{verdicts:?}"
    );
    assert_eq!(verdicts[10], Attempt::Locked { until: lock_end });
    assert_eq!(late, Attempt::Locked { until: lock_end }, "never extended");
    assert_eq!(after, Attempt::Admitted, "a new window once the lock is over");
    assert_eq!(store.get_throttle("login:other").await.expect("get"), None);
}

pub async fn concurrent_attempts_admit_exactly_ten(store: &dyn Store) {
    let now = day(0);
    let attempts = (0..60).map(|_| store.count_attempt(KEY, now));
    let verdicts = futures::future::join_all(attempts).await;

    let admitted = verdicts
        .iter()
        .filter(|v| matches!(v, Ok(Attempt::Admitted)))
        .count();
    assert_eq!(admitted, 10, "{verdicts:?}");
    assert!(verdicts.iter().all(Result::is_ok), "{verdicts:?}");
    let stored = store.get_throttle(KEY).await.expect("get").expect("a counter");
    assert_eq!(stored.attempts, 10);
    assert_eq!(stored.locked_until, Some(now + throttle::LOCK));
}

pub async fn clearing_forgets_the_attempts_and_the_lock(store: &dyn Store) {
    let now = day(0);
    for _ in 0..10 {
        store.count_attempt(KEY, now).await.expect("count");
    }

    store.clear_throttle(KEY).await.expect("clear");

    assert_eq!(store.get_throttle(KEY).await.expect("get"), None);
    assert_eq!(
        store.count_attempt(KEY, now).await.expect("count"),
        Attempt::Admitted
    );
}

fn record(fingerprint: &str, created_days: i64) -> IdempotencyRecord {
    IdempotencyRecord {
        key: "bulk-42".to_owned(),
        fingerprint: fingerprint.to_owned(),
        response: None,
        created_at: day(created_days),
        expires_at: day(created_days + 1),
    }
}

pub async fn a_second_claim_answers_the_first_record(store: &dyn Store) {
    let first = record("first", 0);

    let claimed = store.claim_idempotency(&first, day(0)).await.expect("claim");
    let second = store
        .claim_idempotency(&record("second", 0), day(0) + Duration::hours(23))
        .await
        .expect("claim");

    assert_eq!(claimed, None, "the first claim stores its record");
    assert_eq!(second, Some(first), "the second answers the first record");
}

pub async fn an_expired_claim_is_replaced(store: &dyn Store) {
    store
        .claim_idempotency(&record("first", 0), day(0))
        .await
        .expect("claim");
    let later = record("second", 1);

    // `expires_at` of the first record is `day(1)`: expired at that instant.
    let claimed = store.claim_idempotency(&later, day(1)).await.expect("claim");
    let third = store
        .claim_idempotency(&record("third", 1), day(1))
        .await
        .expect("claim");

    assert_eq!(claimed, None, "an expired record is replaced");
    assert_eq!(third, Some(later), "the replacement is what later claims see");
}

pub async fn a_completed_claim_answers_its_response(store: &dyn Store) {
    store
        .claim_idempotency(&record("first", 0), day(0))
        .await
        .expect("claim");
    let response = StoredResponse {
        status: 207,
        sealed_body: vec![0, 1, 2, 255],
    };

    store
        .complete_idempotency("bulk-42", &response)
        .await
        .expect("complete");
    let answer = store
        .claim_idempotency(&record("second", 0), day(0))
        .await
        .expect("claim");

    assert_eq!(
        answer,
        Some(IdempotencyRecord {
            response: Some(response),
            ..record("first", 0)
        })
    );
}

pub async fn a_released_key_can_be_claimed_again(store: &dyn Store) {
    store
        .claim_idempotency(&record("first", 0), day(0))
        .await
        .expect("claim");

    store.release_idempotency("bulk-42").await.expect("release");
    let retry = store
        .claim_idempotency(&record("retry", 0), day(0))
        .await
        .expect("claim");
    let after = store
        .claim_idempotency(&record("other", 0), day(0))
        .await
        .expect("claim");

    assert_eq!(retry, None, "the released key is free");
    assert_eq!(after, Some(record("retry", 0)));
}
