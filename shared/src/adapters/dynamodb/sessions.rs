//! Console sessions: one item each (`SESSION#<key>`), guarded by its version, with
//! `ttl` at the instant it ends; the code checks that instant itself.

use super::DynamoStore;
use super::accounts::get_item;
use super::expiring::delete;
use super::item::{BODY, TTL, VERSION, body, json, key, n};
use super::schools::put_versioned;
use crate::domain::Session;
use crate::ports::StoreResult;

fn session_key(key_: &str) -> super::item::Item {
    key(format!("SESSION#{key_}"), "SESSION".to_owned())
}

pub(super) async fn get(store: &DynamoStore, key_: &str) -> StoreResult<Option<Session>> {
    get_item(store, session_key(key_))
        .await?
        .as_ref()
        .map(body)
        .transpose()
}

pub(super) async fn put(store: &DynamoStore, session: &Session) -> StoreResult<()> {
    let stored = Session {
        version: session.version.saturating_add(1),
        ..session.clone()
    };
    let mut item = session_key(&stored.key);
    item.insert(VERSION.to_owned(), n(stored.version));
    item.insert(BODY.to_owned(), json(&stored)?);
    item.insert(TTL.to_owned(), n(stored.ends_at().timestamp()));
    put_versioned(store, item, session.version).await
}

pub(super) async fn remove(store: &DynamoStore, key_: &str) -> StoreResult<()> {
    delete(store, session_key(key_)).await
}
