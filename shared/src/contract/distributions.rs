//! Contract: distributions, guarded by their version, listed newest first with
//! their filters, visible to their school only.

use super::{day, school_id};
use crate::domain::{AccountId, ClassName, Distribution, DistributionKind};
use crate::ports::{DistributionQuery, Store, StoreError};

fn distribution(
    school: &str,
    id: &str,
    days: i64,
    kind: DistributionKind,
    actor: &str,
    class: &str,
) -> Distribution {
    let mut d = Distribution::done(id.to_owned(), school_id(school), kind, actor, day(days), 365);
    let account = AccountId::generate();
    let class = ClassName::parse(class).expect("a class");
    d.cover([(&account, std::slice::from_ref(&class))]);
    d
}

fn query(limit: usize) -> DistributionQuery {
    DistributionQuery {
        limit,
        ..DistributionQuery::default()
    }
}

async fn ids(store: &dyn Store, school: &str, query: &DistributionQuery) -> Vec<String> {
    let page = store
        .list_distributions(&school_id(school), query)
        .await
        .expect("list_distributions");
    page.items.into_iter().map(|d| d.id).collect()
}

pub async fn a_distribution_is_created_once_and_updated_at_its_version(store: &dyn Store) {
    let d = distribution("north", "dst_1", 0, DistributionKind::Export, "admin", "6A");
    store.put_distribution(&d).await.expect("create");
    assert!(matches!(
        store.put_distribution(&d).await,
        Err(StoreError::Conflict)
    ));
    let stored = store
        .get_distribution(&school_id("north"), "dst_1")
        .await
        .expect("get")
        .expect("found");
    assert_eq!(stored.version, 1);
    assert_eq!(stored.accounts, d.accounts);
    let mut next = stored.clone();
    next.processed = 7;
    store.put_distribution(&next).await.expect("update at version 1");
    assert!(matches!(
        store.put_distribution(&next).await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(
        store
            .get_distribution(&school_id("south"), "dst_1")
            .await
            .expect("get"),
        None
    );
}

pub async fn lists_distributions_newest_first_with_their_filters(store: &dyn Store) {
    for (id, days, kind, actor, class) in [
        ("dst_a", 1, DistributionKind::Export, "ann", "6A"),
        ("dst_b", 2, DistributionKind::SendActivation, "bob", "6B"),
        ("dst_c", 3, DistributionKind::TemporaryPassword, "ann", "6A_1"),
        ("dst_d", 4, DistributionKind::Export, "bob", "6A"),
    ] {
        store
            .put_distribution(&distribution("north", id, days, kind, actor, class))
            .await
            .expect("create");
    }
    store
        .put_distribution(&distribution(
            "south",
            "dst_s",
            5,
            DistributionKind::Export,
            "ann",
            "6A",
        ))
        .await
        .expect("create");
    assert_eq!(
        ids(store, "north", &query(10)).await,
        ["dst_d", "dst_c", "dst_b", "dst_a"]
    );
    let class = DistributionQuery {
        class: Some(ClassName::parse("6A").expect("class")),
        ..query(10)
    };
    // `6A` is not `6A_1`: the class matches whole.
    assert_eq!(ids(store, "north", &class).await, ["dst_d", "dst_a"]);
    let actor = DistributionQuery {
        actor: Some("ann".into()),
        ..query(10)
    };
    assert_eq!(ids(store, "north", &actor).await, ["dst_c", "dst_a"]);
    let kind = DistributionQuery {
        kind: Some(DistributionKind::Export),
        ..query(10)
    };
    assert_eq!(ids(store, "north", &kind).await, ["dst_d", "dst_a"]);
    let range = DistributionQuery {
        from: Some(day(2)),
        to: Some(day(3)),
        ..query(10)
    };
    assert_eq!(ids(store, "north", &range).await, ["dst_c", "dst_b"]);
    let first = store
        .list_distributions(&school_id("north"), &query(3))
        .await
        .expect("list");
    assert!(first.more);
    let last = first.items.last().expect("a last item");
    let rest = DistributionQuery {
        after: Some((last.created_at, last.id.clone())),
        ..query(3)
    };
    let second = store
        .list_distributions(&school_id("north"), &rest)
        .await
        .expect("list");
    assert!(!second.more);
    assert_eq!(
        second.items.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(),
        ["dst_a"]
    );
}
