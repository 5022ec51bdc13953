//! Schools, guarded by their version, and their classes, upserted by name.

use super::DynamoStore;
use super::accounts::get_item;
use super::batch::{Write, query_prefix, write_items};
use super::item::{BODY, CLASS_PREFIX, VERSION, body, class_key, json, n, school_key, school_pk};
use crate::domain::{Class, ClassName, School, SchoolId};
use crate::ports::{StoreError, StoreResult};
use std::collections::BTreeMap;

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

/// Upserts by name; of a name given twice, the last one is kept.
pub(super) async fn put_classes(
    store: &DynamoStore,
    school: &SchoolId,
    classes: &[Class],
) -> StoreResult<()> {
    let by_name: BTreeMap<&ClassName, &Class> = classes.iter().map(|class| (&class.name, class)).collect();
    let puts = by_name
        .into_values()
        .map(|class| {
            let mut item = class_key(school, &class.name);
            item.insert(BODY.to_owned(), json(class)?);
            Write::Put(item).in_batch()
        })
        .collect::<StoreResult<Vec<_>>>()?;
    write_items(store, puts).await
}

/// By name, as the SQLite store lists them.
pub(super) async fn list_classes(store: &DynamoStore, school: &SchoolId) -> StoreResult<Vec<Class>> {
    let items = query_prefix(store, school_pk(school), CLASS_PREFIX).await?;
    items.iter().map(body).collect()
}
