//! A school's classes, upserted by name, and the students each one has: a count
//! kept on the class's item (`students`) by the same transactions that write the
//! accounts, so that the class list is one `Query` whatever the school's size.
//! Only the writes that move a student into or out of a class touch its item: no
//! item is rewritten by every account write of a school.

use super::DynamoStore;
use super::batch::query_prefix;
use super::item::{BODY, CLASS_PREFIX, Item, body, class_key, json, n, school_pk};
use crate::domain::{Account, Class, ClassName, Profile, SchoolId};
use crate::ports::{StoreError, StoreResult};
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use futures::{StreamExt, TryStreamExt};
use std::collections::{BTreeMap, BTreeSet};

/// The count of a class's students on its item.
const STUDENTS: &str = "students";
/// Class items written at once.
const CONCURRENT_WRITES: usize = 16;
const ADD: &str = "ADD #students :delta";

/// Upserts by name (of a name given twice, the last is kept); an update sets the
/// class's description and keeps its count.
pub(super) async fn put_classes(
    store: &DynamoStore,
    school: &SchoolId,
    classes: &[Class],
) -> StoreResult<()> {
    let by_name: BTreeMap<&ClassName, &Class> = classes.iter().map(|class| (&class.name, class)).collect();
    let writes = by_name
        .into_values()
        .map(|class| {
            Ok(class_update(store, school, &class.name)
                .update_expression("SET #body = :body")
                .expression_attribute_names("#body", BODY)
                .expression_attribute_values(":body", json(class)?))
        })
        .collect::<StoreResult<Vec<_>>>()?;
    send_all(writes).await
}

/// An `UpdateItem` of a class's item.
fn class_update(store: &DynamoStore, school: &SchoolId, class: &ClassName) -> UpdateItemFluentBuilder {
    store
        .client
        .update_item()
        .table_name(&store.table)
        .set_key(Some(class_key(school, class)))
}

/// Sends every update, a few at a time. An update refused because a transaction
/// was writing the same class item (`TransactionConflictException`) wrote nothing
/// and is sent again after a short random pause, up to 10 times.
async fn send_all(updates: Vec<UpdateItemFluentBuilder>) -> StoreResult<()> {
    let sends = updates.into_iter().map(|update| async move {
        let mut attempt = 1;
        loop {
            match update.clone().send().await {
                Ok(_) => return Ok(()),
                Err(e)
                    if attempt < 10
                        && e.as_service_error().and_then(|s| s.code())
                            == Some("TransactionConflictException") =>
                {
                    super::pause(attempt).await;
                    attempt += 1;
                }
                Err(e) => return Err(super::failed("UpdateItem")(e)),
            }
        }
    });
    futures::stream::iter(sends)
        .buffer_unordered(CONCURRENT_WRITES)
        .try_collect::<Vec<()>>()
        .await
        .map(drop)
}

/// By name, as the SQLite store lists them. An item with a count but no
/// description (its students arrived before the class was declared) is no class.
pub(super) async fn list_classes(store: &DynamoStore, school: &SchoolId) -> StoreResult<Vec<Class>> {
    Ok(list_classes_with_students(store, school)
        .await?
        .into_iter()
        .map(|(class, _)| class)
        .collect())
}

pub(super) async fn list_classes_with_students(
    store: &DynamoStore,
    school: &SchoolId,
) -> StoreResult<Vec<(Class, u64)>> {
    let items = query_prefix(store, school_pk(school), CLASS_PREFIX).await?;
    items
        .iter()
        .filter(|item| item.contains_key(BODY))
        .map(|item| Ok((body(item)?, students(item))))
        .collect()
}

/// The count on a class item; one gone below zero by a fault reads as none.
fn students(item: &Item) -> u64 {
    item.get(STUDENTS)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse::<i64>().ok())
        .map_or(0, |count| u64::try_from(count).unwrap_or(0))
}

/// The classes an account counts as a student in.
fn student_of(account: Option<&Account>) -> BTreeSet<&ClassName> {
    account
        .filter(|a| a.profile == Profile::Student)
        .map(|a| a.classes.iter().collect())
        .unwrap_or_default()
}

/// What writing `new` over `old` (none: created) changes in each class's count.
pub(super) fn student_deltas<'a>(
    old: Option<&'a Account>,
    new: Option<&'a Account>,
    into: &mut BTreeMap<ClassName, i64>,
) {
    let (before, after) = (student_of(old), student_of(new));
    for class in after.difference(&before) {
        *into.entry((*class).clone()).or_default() += 1;
    }
    for class in before.difference(&after) {
        *into.entry((*class).clone()).or_default() -= 1;
    }
    into.retain(|_, delta| *delta != 0);
}

/// A transaction's change of one class's count.
pub(super) fn count_change(
    table: &str,
    school: &SchoolId,
    class: &ClassName,
    delta: i64,
) -> StoreResult<TransactWriteItem> {
    let update = Update::builder()
        .table_name(table)
        .set_key(Some(class_key(school, class)))
        .update_expression(ADD)
        .expression_attribute_names("#students", STUDENTS)
        .expression_attribute_values(":delta", n(delta))
        .build()
        .map_err(StoreError::backend)?;
    Ok(TransactWriteItem::builder().update(update).build())
}

/// Changes counts outside a transaction: what spills out of a full one, or the
/// undoing of a rolled-back creation.
pub(super) async fn change_counts(
    store: &DynamoStore,
    school: &SchoolId,
    deltas: &BTreeMap<ClassName, i64>,
) -> StoreResult<()> {
    let writes = deltas
        .iter()
        .filter(|(_, delta)| **delta != 0)
        .map(|(class, delta)| {
            class_update(store, school, class)
                .update_expression(ADD)
                .expression_attribute_names("#students", STUDENTS)
                .expression_attribute_values(":delta", n(delta))
        })
        .collect();
    send_all(writes).await
}
