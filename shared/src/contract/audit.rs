//! Contract: the audit log, newest first, its filters and its pages.

use super::{day, event, school_id};
use crate::domain::AuditEvent;
use crate::ports::{AuditQuery, Store};
use chrono::Duration;

/// Ten events of the north school over four days (two pairs at the same
/// instant) and one of the south school.
fn log() -> Vec<AuditEvent> {
    let at = |hours| day(0) + Duration::hours(hours);
    vec![
        event(
            "north",
            "ev-01",
            at(0),
            "admin-1",
            "password.reset",
            &["zoe.lefevre"],
        ),
        event(
            "north",
            "ev-02",
            at(1),
            "admin-1",
            "account.deactivate",
            &["adam.bernard", "lea.martin"],
        ),
        event(
            "north",
            "ev-03",
            at(1),
            "teacher-7",
            "password.reset",
            &["adam.bernard"],
        ),
        event(
            "north",
            "ev-04",
            at(24),
            "admin-2",
            "account.activate",
            &["lea.martin"],
        ),
        event(
            "north",
            "ev-05",
            at(30),
            "admin-1",
            "password.reset",
            &["zoe.lefevre", "adam.bernard"],
        ),
        event(
            "north",
            "ev-06",
            at(48),
            "teacher-7",
            "password.reset",
            &["hugo.petit"],
        ),
        event("north", "ev-07", at(48), "admin-2", "settings.update", &[]),
        event("north", "ev-08", at(50), "admin-1", "mail.send", &["zoe.lefevre"]),
        event(
            "north",
            "ev-09",
            at(72),
            "admin-1",
            "password.reset",
            &["lea.martin"],
        ),
        event(
            "north",
            "ev-10",
            at(80),
            "admin-2",
            "account.deactivate",
            &["zoe.lefevre"],
        ),
        event(
            "south",
            "ev-11",
            at(60),
            "admin-1",
            "password.reset",
            &["zoe.lefevre"],
        ),
    ]
}

async fn ids(store: &dyn Store, school: &str, query: AuditQuery) -> Vec<String> {
    store.append_audit(&log()).await.expect("append_audit");
    listed_in(store, school, query).await
}

/// The ids of the north school's events `query` lists, the log as it is.
async fn listed_ids(store: &dyn Store, query: AuditQuery) -> Vec<String> {
    listed_in(store, "north", query).await
}

async fn listed_in(store: &dyn Store, school: &str, query: AuditQuery) -> Vec<String> {
    let page = store
        .list_audit(&school_id(school), &AuditQuery { limit: 50, ..query })
        .await
        .expect("list_audit");
    assert!(!page.more, "one page holds the whole log");
    page.items.into_iter().map(|e| e.id).collect()
}

fn events(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|id| format!("ev-{id}")).collect()
}

pub async fn lists_audit_events_newest_first(store: &dyn Store) {
    store.append_audit(&log()).await.expect("append_audit");

    let page = store
        .list_audit(
            &school_id("north"),
            &AuditQuery {
                limit: 50,
                ..Default::default()
            },
        )
        .await;

    let page = page.expect("list_audit");
    let expected = events(&["10", "09", "08", "07", "06", "05", "04", "03", "02", "01"]);
    assert_eq!(
        page.items.iter().map(|e| e.id.clone()).collect::<Vec<_>>(),
        expected,
        "ties by id, descending"
    );
    assert!(!page.more);
    let first = log().into_iter().find(|e| e.id == "ev-10");
    assert_eq!(page.items.first(), first.as_ref(), "events read back as appended");
}

pub async fn filters_audit_events_by_account(store: &dyn Store) {
    let lea = super::id_of("lea.martin");

    let listed = ids(
        store,
        "north",
        AuditQuery {
            account_id: Some(lea),
            ..Default::default()
        },
    )
    .await;

    assert_eq!(listed, events(&["09", "04", "02"]));
}

pub async fn filters_audit_events_by_actor_and_action(store: &dyn Store) {
    let by_actor = AuditQuery {
        actor: Some("teacher-7".to_owned()),
        ..Default::default()
    };
    let by_action = AuditQuery {
        action: Some("account.deactivate".to_owned()),
        ..Default::default()
    };
    let both = AuditQuery {
        actor: Some("admin-1".to_owned()),
        action: Some("password.reset".into()),
        ..Default::default()
    };

    assert_eq!(ids(store, "north", by_actor).await, events(&["06", "03"]));
    assert_eq!(listed_ids(store, by_action).await, events(&["10", "02"]));
    assert_eq!(listed_ids(store, both).await, events(&["09", "05", "01"]));
}

pub async fn filters_audit_events_by_time_range_inclusively(store: &dyn Store) {
    let range = AuditQuery {
        from: Some(day(0) + Duration::hours(24)),
        to: Some(day(0) + Duration::hours(48)),
        ..Default::default()
    };

    assert_eq!(
        ids(store, "north", range).await,
        events(&["07", "06", "05", "04"])
    );
}

pub async fn pages_audit_events_before_a_position(store: &dyn Store) {
    store.append_audit(&log()).await.expect("append_audit");
    let mut before = None;
    let mut pages = Vec::new();

    loop {
        let query = AuditQuery {
            before: before.clone(),
            limit: 4,
            ..Default::default()
        };
        let page = store
            .list_audit(&school_id("north"), &query)
            .await
            .expect("list_audit");
        pages.push((
            page.items.iter().map(|e| e.id.clone()).collect::<Vec<_>>(),
            page.more,
        ));
        match page.items.last() {
            Some(last) if page.more => before = Some((last.at, last.id.clone())),
            _ => break,
        }
    }

    let expected = vec![
        (events(&["10", "09", "08", "07"]), true),
        (events(&["06", "05", "04", "03"]), true),
        (events(&["02", "01"]), false),
    ];
    assert_eq!(
        pages, expected,
        "ties at a page boundary (07 and 06, 03 and 02) are split by id"
    );
}

pub async fn another_schools_audit_events_are_never_listed(store: &dyn Store) {
    let zoe = super::id_of("zoe.lefevre");

    let south = ids(store, "south", AuditQuery::default()).await;
    let north = store
        .list_audit(
            &school_id("north"),
            &AuditQuery {
                account_id: Some(zoe),
                limit: 50,
                ..Default::default()
            },
        )
        .await
        .expect("list_audit");

    assert_eq!(south, events(&["11"]));
    assert_eq!(
        north.items.iter().map(|e| e.id.clone()).collect::<Vec<_>>(),
        events(&["10", "08", "05", "01"])
    );
}
