//! Export jobs: one item per job in its school's partition, guarded by its version,
//! forgotten by TTL a month after its file is gone (the job holds no secret).

use super::DynamoStore;
use super::accounts::get_item;
use super::item::{BODY, TTL, VERSION, body, export_key, import_key, json, n};
use super::schools::put_versioned;
use crate::domain::{ExportJob, ImportJob, SchoolId};
use crate::ports::StoreResult;
use chrono::Duration;

pub(super) async fn get_export(
    store: &DynamoStore,
    school: &SchoolId,
    id: &str,
) -> StoreResult<Option<ExportJob>> {
    get_item(store, export_key(school, id))
        .await?
        .as_ref()
        .map(body)
        .transpose()
}

/// Creates when `job.version` is 0, else replaces the item at that version.
pub(super) async fn put_export(store: &DynamoStore, job: &ExportJob) -> StoreResult<()> {
    let stored = ExportJob {
        version: job.version.saturating_add(1),
        ..job.clone()
    };
    let mut item = export_key(&stored.school, &stored.id);
    item.insert(VERSION.to_owned(), n(stored.version));
    item.insert(BODY.to_owned(), json(&stored)?);
    item.insert(
        TTL.to_owned(),
        n((stored.delete_after + Duration::days(30)).timestamp()),
    );
    put_versioned(store, item, job.version).await
}

pub(super) async fn get_import(
    store: &DynamoStore,
    school: &SchoolId,
    id: &str,
) -> StoreResult<Option<ImportJob>> {
    get_item(store, import_key(school, id))
        .await?
        .as_ref()
        .map(body)
        .transpose()
}

/// Creates when `job.version` is 0, else replaces the item at that version;
/// forgotten by TTL a month after it was created.
pub(super) async fn put_import(store: &DynamoStore, job: &ImportJob) -> StoreResult<()> {
    let stored = ImportJob {
        version: job.version.saturating_add(1),
        ..job.clone()
    };
    let mut item = import_key(&stored.school, &stored.id);
    item.insert(VERSION.to_owned(), n(stored.version));
    item.insert(BODY.to_owned(), json(&stored)?);
    item.insert(
        TTL.to_owned(),
        n((stored.created_at + Duration::days(30)).timestamp()),
    );
    put_versioned(store, item, job.version).await
}
