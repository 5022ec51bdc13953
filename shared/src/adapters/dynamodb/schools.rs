//! Schools, guarded by their version (their classes are in `classes`).

use super::DynamoStore;
use super::accounts::get_item;
use super::item::{BODY, VERSION, body, json, n, school_key};
use crate::domain::{School, SchoolId};
use crate::ports::{StoreError, StoreResult};

pub(super) async fn get_school(store: &DynamoStore, id: &SchoolId) -> StoreResult<Option<School>> {
    get_item(store, school_key(id))
        .await?
        .as_ref()
        .map(body)
        .transpose()
}

/// Creates when `school.version` is 0, else replaces the item at that version.
pub(super) async fn put_school(store: &DynamoStore, school: &School) -> StoreResult<()> {
    let stored = School {
        version: school.version.saturating_add(1),
        ..school.clone()
    };
    let mut item = school_key(&stored.id);
    item.insert(VERSION.to_owned(), n(stored.version));
    item.insert(BODY.to_owned(), json(&stored)?);
    put_versioned(store, item, school.version).await
}

/// Writes `item` if it is new (`read_version` 0) or its stored version is
/// `read_version`; a `Conflict` otherwise.
pub(super) async fn put_versioned(
    store: &DynamoStore,
    mut item: super::item::Item,
    read_version: u64,
) -> StoreResult<()> {
    use super::item::{PK, SK, WRITE_TOKEN, write_token, written_by};
    use aws_sdk_dynamodb::operation::put_item::PutItemError;
    use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
    let token = write_token();
    item.insert(WRITE_TOKEN.to_owned(), token.clone());
    let key: super::item::Item = [PK, SK]
        .into_iter()
        .filter_map(|k| Some((k.to_owned(), item.get(k)?.clone())))
        .collect();
    let request = store
        .client
        .put_item()
        .table_name(&store.table)
        .set_item(Some(item))
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
    let request = if read_version == 0 {
        request.condition_expression("attribute_not_exists(pk)")
    } else {
        request
            .condition_expression("#version = :expected")
            .expression_attribute_names("#version", VERSION)
            .expression_attribute_values(":expected", n(read_version))
    };
    let refused = match request.send().await {
        Ok(_) => return Ok(()),
        Err(e) => match e.as_service_error() {
            Some(PutItemError::ConditionalCheckFailedException(refused)) => refused.item.clone(),
            _ => return Err(super::failed("PutItem")(e)),
        },
    };
    // The SDK retried a write whose answer was lost: the item that refused the
    // retry may be this write's own.
    let holder = match refused.filter(|i| !i.is_empty()) {
        Some(holder) => Some(holder),
        None => super::accounts::get_item(store, key).await?,
    };
    if written_by(holder.as_ref(), &token) {
        Ok(())
    } else {
        Err(StoreError::Conflict)
    }
}
