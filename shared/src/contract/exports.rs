//! Contract: export jobs, guarded by their version, visible to their school only.

use super::{day, school_id};
use crate::domain::{
    Caller, ExportJob, ExportRequest, ExportStatus, ImportJob, Language, Role, RunStatus, Scope, Sort,
};
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

fn import_job(school: &str, id: &str) -> ImportJob {
    let admin = Caller {
        sub: "admin".into(),
        school: school_id(school),
        role: Role::Admin,
        classes: vec![],
    };
    ImportJob::queued(
        id.to_owned(),
        admin,
        None,
        format!("uploads/{school}/1-0"),
        false,
        day(0),
    )
}

pub async fn an_import_job_is_created_once_updated_at_its_version_and_kept_in_its_school(store: &dyn Store) {
    store
        .put_import(&import_job("north", "imp_1"))
        .await
        .expect("put_import");
    let again = store.put_import(&import_job("north", "imp_1")).await;
    let read = store
        .get_import(&school_id("north"), "imp_1")
        .await
        .expect("get")
        .expect("exists");
    let running = ImportJob {
        status: RunStatus::Running,
        writing: true,
        processed: 500,
        ..read.clone()
    };
    store.put_import(&running).await.expect("first update");
    let stale = store
        .put_import(&ImportJob {
            status: RunStatus::Failed,
            ..read.clone()
        })
        .await;

    assert!(matches!(again, Err(StoreError::Conflict)), "got {again:?}");
    assert!(matches!(stale, Err(StoreError::Conflict)), "got {stale:?}");
    assert_eq!(
        read,
        ImportJob {
            version: 1,
            ..import_job("north", "imp_1")
        }
    );
    let stored = store
        .get_import(&school_id("north"), "imp_1")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(
        stored,
        ImportJob {
            version: 2,
            ..running
        }
    );
    let elsewhere = store.get_import(&school_id("south"), "imp_1").await.expect("get");
    assert_eq!(elsewhere, None);
}
