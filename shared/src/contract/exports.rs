//! Contract: export jobs, guarded by their version, visible to their school only.

use super::{day, school_id};
use crate::domain::{Caller, ExportJob, ExportRequest, ExportStatus, Language, Role, Scope, Sort};
use crate::export::{Content, Format, PerPage};
use crate::ports::{Store, StoreError};

fn job(school: &str, id: &str) -> ExportJob {
    ExportJob {
        id: id.to_owned(),
        school: school_id(school),
        requested_by: Caller {
            sub: "admin".into(),
            school: school_id(school),
            role: Role::Admin,
            classes: vec![],
        },
        request_id: Some("req-1".into()),
        request: ExportRequest {
            scope: Scope::Ids(vec![]),
            content: Content::Credentials,
            format: Format::Pdf,
            per_page: PerPage::Eight,
            sort: Sort::Class,
            language: Some(Language::En),
        },
        status: ExportStatus::Queued,
        processed: 0,
        total: 35,
        file: None,
        error: None,
        created_at: day(0),
        finished_at: None,
        delete_after: day(1),
        committing: None,
        version: 0,
    }
}

pub async fn creates_an_export_job_at_version_one(store: &dyn Store) {
    store
        .put_export(&job("north", "exp_1"))
        .await
        .expect("put_export");

    let stored = store
        .get_export(&school_id("north"), "exp_1")
        .await
        .expect("get_export");

    assert_eq!(
        stored,
        Some(ExportJob {
            version: 1,
            ..job("north", "exp_1")
        })
    );
}

pub async fn an_export_job_is_invisible_to_other_schools(store: &dyn Store) {
    store
        .put_export(&job("north", "exp_1"))
        .await
        .expect("put_export");

    let elsewhere = store
        .get_export(&school_id("south"), "exp_1")
        .await
        .expect("get_export");

    assert_eq!(elsewhere, None);
}

pub async fn an_export_job_is_updated_only_at_the_version_read(store: &dyn Store) {
    store
        .put_export(&job("north", "exp_1"))
        .await
        .expect("put_export");
    let read = store
        .get_export(&school_id("north"), "exp_1")
        .await
        .expect("get")
        .expect("exists");
    let running = ExportJob {
        status: ExportStatus::Running,
        processed: 10,
        ..read.clone()
    };

    store.put_export(&running).await.expect("first update");
    let stale = store
        .put_export(&ExportJob {
            status: ExportStatus::Failed,
            ..read
        })
        .await;
    let again = store.put_export(&job("north", "exp_1")).await;

    assert!(matches!(stale, Err(StoreError::Conflict)), "got {stale:?}");
    assert!(matches!(again, Err(StoreError::Conflict)), "got {again:?}");
    let stored = store
        .get_export(&school_id("north"), "exp_1")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(
        (stored.status, stored.processed, stored.version),
        (ExportStatus::Running, 10, 2)
    );
}
