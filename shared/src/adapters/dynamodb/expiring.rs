//! Items that expire: brute-force counters and idempotency records. Each carries
//! a `ttl` for DynamoDB to delete it eventually; expiry itself is checked here and
//! by the operations, for TTL deletes up to days late.

use super::accounts::get_item;
use super::item::{
    BODY, Item, TTL, WRITE_TOKEN, body, idempotency_key, json, n, nanos, number, throttle_key, ttl,
    write_token, written_by,
};
use super::{DynamoStore, conditional, failed};
use crate::ports::{Attempt, IdempotencyRecord, StoreError, StoreResult, StoredResponse, Throttle, throttle};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, Utc};

/// `expires_at` of an idempotency record in nanoseconds, for its claim condition.
const EXPIRES_AT: &str = "expires_at";
/// The stored response, apart from the JSON body: binary, and possibly large.
const STATUS: &str = "response_status";
const SEALED_BODY: &str = "response_body";
/// Claims of one key that lose a race with a release or an expiry, then retry.
const CLAIM_ATTEMPTS: usize = 3;

const ATTEMPTS: &str = "attempts";
const WINDOW_START: &str = "window_start";
const LOCKED_UNTIL: &str = "locked_until";
/// Rounds of the conditional updates below before an attempt that keeps losing
/// races (only at a window's rollover) is refused as locked for a second.
const COUNT_ROUNDS: usize = 6;

pub(super) async fn get_throttle(store: &DynamoStore, key: &str) -> StoreResult<Option<Throttle>> {
    get_item(store, throttle_key(key))
        .await?
        .map(|item| throttle_of(key, &item))
        .transpose()
}

/// The counter an item holds; instants in nanoseconds, `locked_until` 0 for none.
/// An attribute missing (an item caught between two writes by an emulator that
/// does not isolate them) reads as 0: no attempt, a closed window, no lock.
fn throttle_of(key: &str, item: &Item) -> StoreResult<Throttle> {
    let value = |name: &'static str| number(item, name).unwrap_or(0);
    let instant = |nanos: u64| DateTime::from_timestamp_nanos(i64::try_from(nanos).unwrap_or(i64::MAX));
    let locked_until = value(LOCKED_UNTIL);
    Ok(Throttle {
        key: key.to_owned(),
        attempts: u32::try_from(value(ATTEMPTS)).unwrap_or(u32::MAX),
        window_start: instant(value(WINDOW_START)),
        locked_until: (locked_until > 0).then(|| instant(locked_until)),
    })
}

/// [`throttle::admit`] as conditional writes, each atomic on the item, so that
/// concurrent attempts (from any number of Lambda instances) each see the count the
/// others left: one more attempt in an open window with room and no lock; else a
/// new window when the old one is over and no lock is in force; else a refusal.
pub(super) async fn count_attempt(
    store: &DynamoStore,
    key: &str,
    now: DateTime<Utc>,
) -> StoreResult<Attempt> {
    let floor = n(nanos(now - throttle::WINDOW));
    // This attempt's mark: a count the SDK retries after a lost answer finds its
    // own mark and is not counted twice.
    let token = write_token();
    for _ in 0..COUNT_ROUNDS {
        let counted = store
            .client
            .update_item()
            .table_name(&store.table)
            .set_key(Some(throttle_key(key)))
            .update_expression("SET #attempts = #attempts + :one, #token = :token")
            .condition_expression(
                "#attempts < :max AND #window_start > :floor AND #locked_until <= :now \
                 AND (attribute_not_exists(#token) OR #token <> :token)",
            )
            .expression_attribute_names("#token", WRITE_TOKEN)
            .expression_attribute_values(":token", token.clone())
            .expression_attribute_names("#attempts", ATTEMPTS)
            .expression_attribute_names("#window_start", WINDOW_START)
            .expression_attribute_names("#locked_until", LOCKED_UNTIL)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(throttle::MAX_ATTEMPTS))
            .expression_attribute_values(":floor", floor.clone())
            .expression_attribute_values(":now", n(nanos(now)))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let holder = match counted {
            Ok(output) => {
                let counted = throttle_of(key, &output.attributes.unwrap_or_default())?;
                if counted.attempts >= throttle::MAX_ATTEMPTS {
                    lock(store, key, now).await?;
                }
                return Ok(Attempt::Admitted);
            }
            Err(e) => match e.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(refused)) => refused.item.clone(),
                _ => return Err(failed("UpdateItem")(e)),
            },
        };
        // An emulator may not return the item that refused the write: read it.
        let holder = match holder {
            Some(holder) if !holder.is_empty() => Some(holder),
            _ => get_item(store, throttle_key(key)).await?,
        };
        if written_by(holder.as_ref(), &token) {
            // Counted already, its answer lost: the lock it may have set is ours too.
            let counted = holder.map(|item| throttle_of(key, &item)).transpose()?;
            if counted.is_some_and(|t| t.attempts >= throttle::MAX_ATTEMPTS && t.locked_at(now).is_none()) {
                lock(store, key, now).await?;
            }
            return Ok(Attempt::Admitted);
        }
        let current = holder.map(|item| throttle_of(key, &item)).transpose()?;
        match throttle::admit(current.as_ref(), key, now) {
            (_, Attempt::Locked { until }) => return Ok(Attempt::Locked { until }),
            // The window is open and has room: the count raced with another; again.
            (_, Attempt::Admitted) if current.as_ref().is_some_and(|t| t.window_open(now)) => continue,
            (_, Attempt::Admitted) => {
                if new_window(store, key, now, &floor, &token).await? {
                    return Ok(Attempt::Admitted);
                }
            }
        }
    }
    Ok(Attempt::Locked {
        until: now + chrono::Duration::seconds(1),
    })
}

/// Starts a new window with this attempt, if the old one is over and no lock is
/// in force (another attempt may have started it first: `false`).
async fn new_window(
    store: &DynamoStore,
    key: &str,
    now: DateTime<Utc>,
    floor: &AttributeValue,
    token: &AttributeValue,
) -> StoreResult<bool> {
    let mut item = throttle_key(key);
    item.insert(WRITE_TOKEN.to_owned(), token.clone());
    item.insert(ATTEMPTS.to_owned(), n(1));
    item.insert(WINDOW_START.to_owned(), n(nanos(now)));
    item.insert(LOCKED_UNTIL.to_owned(), n(0));
    item.insert(TTL.to_owned(), ttl(now + throttle::WINDOW));
    let started = store
        .client
        .put_item()
        .table_name(&store.table)
        .set_item(Some(item))
        .condition_expression(
            "attribute_not_exists(pk) OR (#window_start <= :floor AND #locked_until <= :now)",
        )
        .expression_attribute_names("#window_start", WINDOW_START)
        .expression_attribute_names("#locked_until", LOCKED_UNTIL)
        .expression_attribute_values(":floor", floor.clone())
        .expression_attribute_values(":now", n(nanos(now)))
        .send()
        .await;
    if conditional(started, "PutItem")? {
        return Ok(true);
    }
    // Refused: perhaps by this very window, started by a try whose answer was lost.
    Ok(written_by(
        get_item(store, throttle_key(key)).await?.as_ref(),
        token,
    ))
}

/// Sets the lock of a full window; a lock already in force is left as it is.
async fn lock(store: &DynamoStore, key: &str, now: DateTime<Utc>) -> StoreResult<()> {
    let until = now + throttle::LOCK;
    let locked = store
        .client
        .update_item()
        .table_name(&store.table)
        .set_key(Some(throttle_key(key)))
        .update_expression("SET #locked_until = :until, #ttl = :ttl")
        .condition_expression("attribute_exists(pk) AND #locked_until <= :now")
        .expression_attribute_names("#locked_until", LOCKED_UNTIL)
        .expression_attribute_names("#ttl", TTL)
        .expression_attribute_values(":until", n(nanos(until)))
        .expression_attribute_values(":ttl", ttl(until))
        .expression_attribute_values(":now", n(nanos(now)))
        .send()
        .await;
    conditional(locked, "UpdateItem").map(drop)
}

/// [`throttle::refund`] as one conditional update: a refused one had nothing to
/// give back (no attempt, a lock in force, a closed window), or was this very
/// refund, retried after its answer was lost (its token is in the item).
pub(super) async fn refund_attempt(store: &DynamoStore, key: &str, now: DateTime<Utc>) -> StoreResult<()> {
    let refunded = store
        .client
        .update_item()
        .table_name(&store.table)
        .set_key(Some(throttle_key(key)))
        .update_expression("SET #attempts = #attempts - :one, #token = :token")
        .condition_expression(
            "#attempts > :zero AND #window_start > :floor AND #locked_until <= :now \
             AND (attribute_not_exists(#token) OR #token <> :token)",
        )
        .expression_attribute_names("#token", WRITE_TOKEN)
        .expression_attribute_values(":token", write_token())
        .expression_attribute_names("#attempts", ATTEMPTS)
        .expression_attribute_names("#window_start", WINDOW_START)
        .expression_attribute_names("#locked_until", LOCKED_UNTIL)
        .expression_attribute_values(":one", n(1))
        .expression_attribute_values(":zero", n(0))
        .expression_attribute_values(":floor", n(nanos(now - throttle::WINDOW)))
        .expression_attribute_values(":now", n(nanos(now)))
        .send()
        .await;
    match refunded {
        Ok(_) => Ok(()),
        Err(e)
            if matches!(
                e.as_service_error(),
                Some(UpdateItemError::ConditionalCheckFailedException(_))
            ) =>
        {
            Ok(())
        }
        Err(e) => Err(failed("UpdateItem")(e)),
    }
}

pub(super) async fn clear_throttle(store: &DynamoStore, key: &str) -> StoreResult<()> {
    delete(store, throttle_key(key)).await
}

pub(super) async fn delete(store: &DynamoStore, key: Item) -> StoreResult<()> {
    store
        .client
        .delete_item()
        .table_name(&store.table)
        .set_key(Some(key))
        .send()
        .await
        .map(drop)
        .map_err(failed("DeleteItem"))
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
    let token = write_token();
    item.insert(WRITE_TOKEN.to_owned(), token.clone());
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
                _ => {
                    // Perhaps written all the same: a claim no one will complete
                    // would hold the key for a day. Undone if it is this one.
                    let _ = store
                        .client
                        .delete_item()
                        .table_name(&store.table)
                        .set_key(Some(idempotency_key(&record.key)))
                        .condition_expression("#token = :token")
                        .expression_attribute_names("#token", WRITE_TOKEN)
                        .expression_attribute_values(":token", token.clone())
                        .send()
                        .await;
                    return Err(failed("PutItem")(e));
                }
            },
        };
        // An emulator may not return the item that refused the write: read it.
        let holder = match holder.filter(|h| !h.is_empty()) {
            Some(holder) => Some(holder),
            None => get_item(store, idempotency_key(&record.key)).await?,
        };
        // The SDK retried a claim whose answer was lost: this claim is ours.
        if written_by(holder.as_ref(), &token) {
            return Ok(None);
        }
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
    conditional(completed, "UpdateItem").map(drop)
}

pub(super) async fn release_idempotency(store: &DynamoStore, key: &str) -> StoreResult<()> {
    delete(store, idempotency_key(key)).await
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
