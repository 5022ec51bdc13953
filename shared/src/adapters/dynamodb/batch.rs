//! Reads and writes of many items: `BatchGetItem` and `BatchWriteItem` in chunks,
//! retrying what DynamoDB left unprocessed, and `Query` through every page.

use super::item::Item;
use super::{DynamoStore, failed};
use crate::ports::{StoreError, StoreResult};
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{
    Delete, DeleteRequest, KeysAndAttributes, Put, PutRequest, TransactWriteItem, WriteRequest,
};
use futures::{StreamExt, TryStreamExt};
use std::time::Duration;

/// `BatchGetItem` takes at most 100 keys, `BatchWriteItem` 25 requests.
const GET_CHUNK: usize = 100;
const WRITE_CHUNK: usize = 25;
/// Chunks in flight at once.
const CONCURRENT_CHUNKS: usize = 4;
/// Tries of one chunk while DynamoDB leaves part of it unprocessed (throttling),
/// waiting 50 ms, 100 ms, … 3.2 s in between: about 6 s in all.
const ATTEMPTS: u32 = 8;

#[derive(Debug, thiserror::Error)]
#[error("DynamoDB left {0} items unprocessed after {ATTEMPTS} attempts")]
struct Unprocessed(usize);

async fn backoff(attempt: u32) {
    tokio::time::sleep(Duration::from_millis(50 << attempt.min(6))).await;
}

/// The items at `keys` that exist, in no particular order, read strongly
/// consistently. `keys` must not repeat.
pub(super) async fn get_items(store: &DynamoStore, keys: Vec<Item>) -> StoreResult<Vec<Item>> {
    let chunks: Vec<Vec<Item>> = keys.chunks(GET_CHUNK).map(<[Item]>::to_vec).collect();
    let found: Vec<Vec<Item>> = futures::stream::iter(chunks)
        .map(|chunk| get_chunk(store, chunk))
        .buffer_unordered(CONCURRENT_CHUNKS)
        .try_collect()
        .await?;
    Ok(found.into_iter().flatten().collect())
}

async fn get_chunk(store: &DynamoStore, mut keys: Vec<Item>) -> StoreResult<Vec<Item>> {
    let mut found = Vec::with_capacity(keys.len());
    for attempt in 0..ATTEMPTS {
        if keys.is_empty() {
            return Ok(found);
        }
        if attempt > 0 {
            backoff(attempt - 1).await;
        }
        let request = KeysAndAttributes::builder()
            .set_keys(Some(std::mem::take(&mut keys)))
            .consistent_read(true)
            .build()
            .map_err(StoreError::backend)?;
        let output = store
            .client
            .batch_get_item()
            .request_items(&store.table, request)
            .send()
            .await
            .map_err(failed("BatchGetItem"))?;
        if let Some(mut responses) = output.responses {
            found.extend(responses.remove(&store.table).unwrap_or_default());
        }
        if let Some(mut unprocessed) = output.unprocessed_keys {
            keys = unprocessed
                .remove(&store.table)
                .map(|k| k.keys)
                .unwrap_or_default();
        }
    }
    match keys.len() {
        0 => Ok(found),
        left => Err(StoreError::Unavailable(Unprocessed(left).into())),
    }
}

/// Performs every request (puts and deletes, no two on one item), a chunk at a
/// time. Not atomic: on an error, some chunks may have been written.
pub(super) async fn write_items(store: &DynamoStore, requests: Vec<WriteRequest>) -> StoreResult<()> {
    let chunks: Vec<Vec<WriteRequest>> = requests
        .chunks(WRITE_CHUNK)
        .map(<[WriteRequest]>::to_vec)
        .collect();
    futures::stream::iter(chunks)
        .map(|chunk| write_chunk(store, chunk))
        .buffer_unordered(CONCURRENT_CHUNKS)
        .try_collect::<Vec<()>>()
        .await
        .map(drop)
}

async fn write_chunk(store: &DynamoStore, mut requests: Vec<WriteRequest>) -> StoreResult<()> {
    for attempt in 0..ATTEMPTS {
        if requests.is_empty() {
            return Ok(());
        }
        if attempt > 0 {
            backoff(attempt - 1).await;
        }
        let output = store
            .client
            .batch_write_item()
            .request_items(&store.table, std::mem::take(&mut requests))
            .send()
            .await
            .map_err(failed("BatchWriteItem"))?;
        if let Some(mut unprocessed) = output.unprocessed_items {
            requests = unprocessed.remove(&store.table).unwrap_or_default();
        }
    }
    match requests.len() {
        0 => Ok(()),
        left => Err(StoreError::Unavailable(Unprocessed(left).into())),
    }
}

/// Every item a query matches, through every page (`LastEvaluatedKey`).
pub(super) async fn query_all(query: QueryFluentBuilder) -> StoreResult<Vec<Item>> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = query
            .clone()
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(failed("Query"))?;
        items.extend(page.items.unwrap_or_default());
        match page.last_evaluated_key {
            Some(key) if !key.is_empty() => start = Some(key),
            _ => return Ok(items),
        }
    }
}

/// Every item of the partition `pk` whose sort key starts with `prefix`, read
/// consistently.
pub(super) async fn query_prefix(store: &DynamoStore, pk: String, prefix: &str) -> StoreResult<Vec<Item>> {
    query_all(partition_prefix(store, pk, prefix)).await
}

/// A consistent query of the partition `pk` (`#pk`, `:pk`), whole until the
/// caller narrows its key condition.
pub(super) fn partition(store: &DynamoStore, pk: String) -> QueryFluentBuilder {
    store
        .client
        .query()
        .table_name(&store.table)
        .key_condition_expression("#pk = :pk")
        .expression_attribute_names("#pk", super::item::PK)
        .expression_attribute_values(":pk", super::item::s(pk))
        .consistent_read(true)
}

/// A consistent query of the items of the partition `pk` whose sort key starts
/// with `prefix`.
pub(super) fn partition_prefix(store: &DynamoStore, pk: String, prefix: &str) -> QueryFluentBuilder {
    partition(store, pk)
        .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
        .expression_attribute_names("#sk", super::item::SK)
        .expression_attribute_values(":prefix", super::item::s(prefix))
}

/// An unconditional write of one item, in a batch or in a transaction.
pub(super) enum Write {
    Put(Item),
    /// The item's key.
    Delete(Item),
}

impl Write {
    pub(super) fn in_batch(self) -> StoreResult<WriteRequest> {
        Ok(match self {
            Self::Put(item) => WriteRequest::builder()
                .put_request(
                    PutRequest::builder()
                        .set_item(Some(item))
                        .build()
                        .map_err(StoreError::backend)?,
                )
                .build(),
            Self::Delete(key) => WriteRequest::builder()
                .delete_request(
                    DeleteRequest::builder()
                        .set_key(Some(key))
                        .build()
                        .map_err(StoreError::backend)?,
                )
                .build(),
        })
    }

    pub(super) fn in_transaction(self, table: &str) -> StoreResult<TransactWriteItem> {
        Ok(match self {
            Self::Put(item) => TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(table)
                        .set_item(Some(item))
                        .build()
                        .map_err(StoreError::backend)?,
                )
                .build(),
            Self::Delete(key) => TransactWriteItem::builder()
                .delete(
                    Delete::builder()
                        .table_name(table)
                        .set_key(Some(key))
                        .build()
                        .map_err(StoreError::backend)?,
                )
                .build(),
        })
    }
}
