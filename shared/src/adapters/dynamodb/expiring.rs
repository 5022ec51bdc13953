//! Items that expire: brute-force counters and idempotency records. Each carries
//! a `ttl` for DynamoDB to delete it eventually; expiry itself is checked here and
//! by the operations, for TTL deletes up to days late.

use super::accounts::get_item;
use super::item::{
    BODY, Item, TTL, VERSION, body, idempotency_key, json, n, nanos, number, throttle_key, ttl,
};
use super::schools::put_versioned;
use super::{DynamoStore, failed};
use crate::ports::{IdempotencyRecord, StoreError, StoreResult, StoredResponse, Throttle};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, Utc};

/// `expires_at` of an idempotency record in nanoseconds, for its claim condition.
const EXPIRES_AT: &str = "expires_at";
/// The stored response, apart from the JSON body: binary, and possibly large.
const STATUS: &str = "response_status";
const SEALED_BODY: &str = "response_body";
/// Claims of one key that lose a race with a release or an expiry, then retry.
const CLAIM_ATTEMPTS: usize = 3;

pub(super) async fn get_throttle(store: &DynamoStore, key: &str) -> StoreResult<Option<Throttle>> {
    get_item(store, throttle_key(key))
        .await?
        .as_ref()
        .map(body)
        .transpose()
}

/// Creates when `throttle.version` is 0, else replaces the item at that version;
/// the stored version is one more, as for schools.
pub(super) async fn put_throttle(store: &DynamoStore, throttle: &Throttle) -> StoreResult<()> {
    let stored = Throttle {
        version: throttle.version.saturating_add(1),
        ..throttle.clone()
    };
    let mut item = throttle_key(&stored.key);
    item.insert(VERSION.to_owned(), n(stored.version));
    item.insert(TTL.to_owned(), ttl(stored.expires_at));
    item.insert(BODY.to_owned(), json(&stored)?);
    put_versioned(store, item, throttle.version).await
}

/// Stores `record` unless an unexpired record holds its key, in one conditional
/// write; a refused write answers the record that refused it.
pub(super) async fn claim_idempotency(
    store: &DynamoStore,
    record: &IdempotencyRecord,
    now: DateTime<Utc>,
) -> StoreResult<Option<IdempotencyRecord>> {
    let stored = IdempotencyRecord {
        response: None,
        ..record.clone()
    };
    let mut item = idempotency_key(&record.key);
    item.insert(EXPIRES_AT.to_owned(), n(nanos(record.expires_at)));
    item.insert(TTL.to_owned(), ttl(record.expires_at));
    item.insert(BODY.to_owned(), json(&stored)?);
    if let Some(response) = &record.response {
        item.insert(STATUS.to_owned(), n(response.status));
        item.insert(
            SEALED_BODY.to_owned(),
            AttributeValue::B(Blob::new(response.sealed_body.clone())),
        );
    }
    for _ in 0..CLAIM_ATTEMPTS {
        let claimed = store
            .client
            .put_item()
            .table_name(&store.table)
            .set_item(Some(item.clone()))
            .condition_expression("attribute_not_exists(pk) OR #expires_at <= :now")
            .expression_attribute_names("#expires_at", EXPIRES_AT)
            .expression_attribute_values(":now", n(nanos(now)))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let holder = match claimed {
            Ok(_) => return Ok(None),
            Err(e) => match e.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(refused)) => refused.item.clone(),
                _ => return Err(failed("PutItem")(e)),
            },
        };
        // An emulator may not return the item that refused the write: read it.
        let holder = match holder {
            Some(holder) => Some(holder),
            None => get_item(store, idempotency_key(&record.key)).await?,
        };
        match holder.as_ref().map(record_of).transpose()? {
            Some(existing) if existing.expires_at > now => return Ok(Some(existing)),
            // Released or expired since the write was refused: claim again.
            _ => {}
        }
    }
    Err(StoreError::Conflict)
}

/// Records the response; a key no longer there (released, or expired and
/// deleted) is left alone.
pub(super) async fn complete_idempotency(
    store: &DynamoStore,
    key: &str,
    response: &StoredResponse,
) -> StoreResult<()> {
    let completed = store
        .client
        .update_item()
        .table_name(&store.table)
        .set_key(Some(idempotency_key(key)))
        .update_expression("SET #status = :status, #sealed = :sealed")
        .condition_expression("attribute_exists(pk)")
        .expression_attribute_names("#status", STATUS)
        .expression_attribute_names("#sealed", SEALED_BODY)
        .expression_attribute_values(":status", n(response.status))
        .expression_attribute_values(
            ":sealed",
            AttributeValue::B(Blob::new(response.sealed_body.clone())),
        )
        .send()
        .await;
    match completed {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(UpdateItemError::is_conditional_check_failed_exception) =>
        {
            Ok(())
        }
        Err(e) => Err(failed("UpdateItem")(e)),
    }
}

pub(super) async fn release_idempotency(store: &DynamoStore, key: &str) -> StoreResult<()> {
    store
        .client
        .delete_item()
        .table_name(&store.table)
        .set_key(Some(idempotency_key(key)))
        .send()
        .await
        .map(drop)
        .map_err(failed("DeleteItem"))
}

/// The record an item holds: its body, and its response when there is one.
fn record_of(item: &Item) -> StoreResult<IdempotencyRecord> {
    let record: IdempotencyRecord = body(item)?;
    let response = match item.get(SEALED_BODY) {
        Some(AttributeValue::B(sealed)) => Some(StoredResponse {
            status: u16::try_from(number(item, STATUS)?).map_err(StoreError::backend)?,
            sealed_body: sealed.clone().into_inner(),
        }),
        _ => None,
    };
    Ok(IdempotencyRecord { response, ..record })
}
