//! Distributions: one item each in its school's partition (`DIST#<id>`), guarded
//! by its version, forgotten by TTL at its `purge_at`. Beside the whole record
//! (`body`) the item keeps a `summary` without the accounts and results, which the
//! list reads alone: one `Query` on the partition's `DIST#` prefix, filtered and
//! ordered newest first in memory (a school makes a few hundred a year).

use super::DynamoStore;
use super::accounts::get_item;
use super::batch::query_all;
use super::item::{BODY, DISTRIBUTION_PREFIX as PREFIX, TTL, VERSION, body, json, key, n, school_pk};
use super::schools::put_versioned;
use crate::domain::{Distribution, SchoolId};
use crate::ports::{DistributionPage, DistributionQuery, StoreError, StoreResult};

const SUMMARY: &str = "summary";

fn distribution_key(school: &SchoolId, id: &str) -> super::item::Item {
    key(school_pk(school), format!("{PREFIX}{id}"))
}

pub(super) async fn get(
    store: &DynamoStore,
    school: &SchoolId,
    id: &str,
) -> StoreResult<Option<Distribution>> {
    get_item(store, distribution_key(school, id))
        .await?
        .as_ref()
        .map(body)
        .transpose()
}

/// Creates when `version` is 0, else replaces the item at that version.
pub(super) async fn put(store: &DynamoStore, distribution: &Distribution) -> StoreResult<()> {
    let stored = Distribution {
        version: distribution.version.saturating_add(1),
        ..distribution.clone()
    };
    let summary = Distribution {
        accounts: Vec::new(),
        results: Vec::new(),
        run: None,
        ..stored.clone()
    };
    let mut item = distribution_key(&stored.school, &stored.id);
    item.insert(VERSION.to_owned(), n(stored.version));
    item.insert(BODY.to_owned(), json(&stored)?);
    item.insert(SUMMARY.to_owned(), json(&summary)?);
    item.insert(TTL.to_owned(), n(stored.purge_at.timestamp()));
    put_versioned(store, item, distribution.version).await
}

pub(super) async fn list(
    store: &DynamoStore,
    school: &SchoolId,
    query: &DistributionQuery,
) -> StoreResult<DistributionPage> {
    let request = super::batch::partition_prefix(store, school_pk(school), PREFIX)
        .expression_attribute_names("#summary", SUMMARY)
        .projection_expression("#summary");
    let mut all: Vec<Distribution> = query_all(request)
        .await?
        .iter()
        .map(|item| {
            let summary = item
                .get(SUMMARY)
                .and_then(|v| v.as_s().ok())
                .ok_or_else(|| StoreError::backend(anyhow::anyhow!("a distribution without summary")))?;
            serde_json::from_str(summary).map_err(StoreError::backend)
        })
        .collect::<StoreResult<_>>()?;
    all.retain(|d| {
        query.class.as_ref().is_none_or(|c| d.classes.contains(c))
            && query.actor.as_ref().is_none_or(|a| &d.actor == a)
            && query.kind.is_none_or(|k| d.kind == k)
            && query.from.is_none_or(|from| d.created_at >= from)
            && query.to.is_none_or(|to| d.created_at <= to)
            && query
                .after
                .as_ref()
                .is_none_or(|(at, id)| (d.created_at, &d.id) < (*at, id))
    });
    all.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
    let more = all.len() > query.limit;
    all.truncate(query.limit);
    Ok(DistributionPage { items: all, more })
}
