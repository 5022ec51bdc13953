//! The audit log: a school's events in one partition sorted by `(at, id)`, read
//! newest first, and for each target account a pointer item in a partition of its
//! own, so that one account's events are a `Query` too. Audit items never expire.

use super::batch::{Write, get_items, write_items};
use super::item::{
    BODY, Item, SK, audit_pk, audit_target_pk, body, event_sk, instant_prefix, json, key, nanos, s, string,
};
use super::{DynamoStore, Refusal, TRANSACTION_ITEMS, failed, transact};
use crate::domain::{AccountId, AuditEvent, SchoolId};
use crate::ports::{AuditPage, AuditQuery, StoreError, StoreResult};
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use std::collections::{BTreeMap, HashMap, HashSet};

const ACTOR: &str = "actor";
const ACTION: &str = "action";

/// All or nothing; an event already logged (same school, instant and id) is a
/// `Conflict`. The pointers are written first: until their event exists they
/// lead nowhere, and reads skip them.
pub(super) async fn append(store: &DynamoStore, events: &[AuditEvent]) -> StoreResult<()> {
    let mut ids = HashSet::new();
    if events.iter().any(|event| !ids.insert(&event.id)) {
        return Err(StoreError::Conflict);
    }
    let mut pointers = BTreeMap::new();
    for event in events {
        for target in &event.targets {
            let key = (
                audit_target_pk(&event.school, target),
                event_sk(event.at, &event.id),
            );
            pointers.entry(key).or_insert(event);
        }
    }
    let pointers = pointers
        .into_iter()
        .map(|((pk, sk), event)| {
            let mut item = key(pk, sk);
            item.insert(ACTOR.to_owned(), s(&event.actor));
            item.insert(ACTION.to_owned(), s(&event.action));
            Write::Put(item).in_batch()
        })
        .collect::<StoreResult<Vec<_>>>()?;
    write_items(store, pointers).await?;

    let mut written: Vec<Item> = Vec::new();
    for chunk in events.chunks(TRANSACTION_ITEMS) {
        let mut writes = Vec::with_capacity(chunk.len());
        for event in chunk {
            let mut item = key(audit_pk(&event.school), event_sk(event.at, &event.id));
            item.insert(ACTOR.to_owned(), s(&event.actor));
            item.insert(ACTION.to_owned(), s(&event.action));
            item.insert(BODY.to_owned(), json(event)?);
            let put = Put::builder()
                .table_name(&store.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map_err(StoreError::backend)?;
            writes.push(TransactWriteItem::builder().put(put).build());
        }
        let sent = transact(store, writes).await;
        // A retry after a lost answer is refused by the events the first try wrote
        // (their ids are new: finding one means the transaction went through).
        let sent = match sent {
            Ok(Err(Refusal::Condition(index))) => {
                let event = &chunk[index.min(chunk.len() - 1)];
                let key = key(audit_pk(&event.school), event_sk(event.at, &event.id));
                if super::accounts::get_item(store, key).await?.is_some() {
                    Ok(Ok(()))
                } else {
                    Ok(Err(Refusal::Condition(index)))
                }
            }
            other => other,
        };
        let error = match sent {
            Ok(Ok(())) => {
                written.extend(
                    chunk
                        .iter()
                        .map(|e| key(audit_pk(&e.school), event_sk(e.at, &e.id))),
                );
                continue;
            }
            Ok(Err(Refusal::Condition(_) | Refusal::Contention)) => StoreError::Conflict,
            Err(backend) => backend,
        };
        // More than 100 events at once (50,000 targets): undo the first ones.
        let deletes = written.into_iter().map(|k| Write::Delete(k).in_batch());
        write_items(store, deletes.collect::<StoreResult<_>>()?).await?;
        return Err(error);
    }
    Ok(())
}

/// Newest first from `before`; the time range bounds the key condition, the
/// other filters are applied to each page read.
pub(super) async fn list(
    store: &DynamoStore,
    school: &SchoolId,
    query: &AuditQuery,
) -> StoreResult<AuditPage> {
    let pk = match &query.account_id {
        Some(account) => audit_target_pk(school, account),
        None => audit_pk(school),
    };
    // Exclusive upper bound: before `before`, and up to `to` included.
    let to = query
        .to
        .and_then(|to| nanos(to).checked_add(1))
        .map(instant_prefix);
    let before = query.before.as_ref().map(|(at, id)| event_sk(*at, id));
    let upper = [to, before].into_iter().flatten().min();
    // Inclusive lower bound: from `from`, where reading stops.
    let lower = query.from.map(|from| instant_prefix(nanos(from)));
    let mut request = super::batch::partition(store, pk)
        .scan_index_forward(false)
        .limit(i32::try_from(query.limit.saturating_add(1)).unwrap_or(i32::MAX));
    request = match (&upper, &lower) {
        (Some(upper), _) => request
            .key_condition_expression("#pk = :pk AND #sk < :upper")
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":upper", s(upper)),
        (None, Some(lower)) => request
            .key_condition_expression("#pk = :pk AND #sk >= :lower")
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":lower", s(lower)),
        (None, None) => request,
    };

    let wanted = query.limit.saturating_add(1);
    let mut items: Vec<AuditEvent> = Vec::new();
    let mut start = None;
    loop {
        let page = request
            .clone()
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(failed("Query"))?;
        let mut below = false;
        let mut picked = Vec::new();
        for item in page.items.unwrap_or_default() {
            if lower
                .as_deref()
                .is_some_and(|lower| string(&item, SK).is_ok_and(|sk| sk < lower))
            {
                below = true;
                break;
            }
            let is = |name, wanted: &Option<String>| {
                wanted
                    .as_deref()
                    .is_none_or(|w| string(&item, name).is_ok_and(|v| v == w))
            };
            if is(ACTOR, &query.actor) && is(ACTION, &query.action) {
                picked.push(item);
            }
        }
        let events = match &query.account_id {
            Some(account) => pointed(store, school, account, picked).await?,
            None => picked.iter().map(body).collect::<StoreResult<_>>()?,
        };
        items.extend(events);
        match page.last_evaluated_key {
            Some(key) if !below && items.len() < wanted && !key.is_empty() => start = Some(key),
            _ => break,
        }
    }
    let more = items.len() > query.limit;
    items.truncate(query.limit);
    Ok(AuditPage { items, more })
}

/// The events `pointers` lead to, in their order; those that do not exist (an
/// append that failed after its pointers) or do not name `account` are skipped.
async fn pointed(
    store: &DynamoStore,
    school: &SchoolId,
    account: &AccountId,
    pointers: Vec<Item>,
) -> StoreResult<Vec<AuditEvent>> {
    let sks = pointers
        .iter()
        .map(|pointer| string(pointer, SK).map(str::to_owned))
        .collect::<StoreResult<Vec<_>>>()?;
    let keys = sks.iter().map(|sk| key(audit_pk(school), sk.clone())).collect();
    let mut found: HashMap<String, AuditEvent> = HashMap::new();
    for item in get_items(store, keys).await? {
        found.insert(string(&item, SK)?.to_owned(), body(&item)?);
    }
    Ok(sks
        .iter()
        .filter_map(|sk| found.remove(sk))
        .filter(|event| event.targets.contains(account))
        .collect())
}
