//! Contract: console sessions, created once, written at their version, deleted.

use super::{account, day};
use crate::domain::{Profile, Session};
use crate::ports::{Store, StoreError};

pub async fn a_session_is_created_once_written_at_its_version_and_deleted(store: &dyn Store) {
    let admin = account("north", "h.garnier", "Hélène", "Garnier", Profile::Staff, &[]);
    let session = Session::begin("a".repeat(64), &admin, day(0));
    store.put_session(&session).await.expect("create");
    assert!(matches!(
        store.put_session(&session).await,
        Err(StoreError::Conflict)
    ));
    let mut stored = store
        .get_session(&session.key)
        .await
        .expect("get")
        .expect("found");
    assert_eq!(stored.version, 1);
    assert_eq!(stored.account, admin.id);
    stored.last_seen = day(0) + chrono::Duration::minutes(10);
    store.put_session(&stored).await.expect("touch at version 1");
    assert!(matches!(
        store.put_session(&stored).await,
        Err(StoreError::Conflict)
    ));
    let touched = store
        .get_session(&session.key)
        .await
        .expect("get")
        .expect("found");
    assert_eq!(touched.last_seen, stored.last_seen);
    store.delete_session(&session.key).await.expect("delete");
    assert_eq!(store.get_session(&session.key).await.expect("get"), None);
    store
        .delete_session(&session.key)
        .await
        .expect("deleting again is no error");
}
