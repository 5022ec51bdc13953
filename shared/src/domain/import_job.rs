//! A roster import run in the background: the file was uploaded behind a link
//! that expires (a roster larger than one request carries), then read and
//! imported by a worker, which records its progress and, at the end, its report.

use super::caller::Caller;
use super::distribution::RunStatus;
use super::ids::SchoolId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportJob {
    pub id: String,
    pub school: SchoolId,
    pub requested_by: Caller,
    pub request_id: Option<String>,
    /// Where the uploaded roster is kept until the run ends (then it is deleted).
    pub upload_key: String,
    pub dry_run: bool,
    pub status: RunStatus,
    /// Accounts written so far; `total` once done. `total` is the roster's rows,
    /// once read.
    pub processed: u64,
    pub total: u64,
    pub report: Option<ImportReport>,
    /// Why it failed, in words fit for the client (never an internal cause).
    pub error: Option<String>,
    /// Set once the run starts writing: a run interrupted after that point is not
    /// run again but reported, so that nothing is created twice.
    pub writing: bool,
    /// Runs begun: a job whose runs keep being cut short (a worker's time limit)
    /// fails after a few instead of staying `running`.
    #[serde(default)]
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub version: u64,
}

impl ImportJob {
    /// A job not yet run, of the roster kept at `upload_key`.
    pub fn queued(
        id: String,
        requested_by: Caller,
        request_id: Option<String>,
        upload_key: String,
        dry_run: bool,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            school: requested_by.school.clone(),
            requested_by,
            request_id,
            upload_key,
            dry_run,
            status: RunStatus::Queued,
            processed: 0,
            total: 0,
            report: None,
            error: None,
            writing: false,
            attempts: 0,
            created_at: now,
            finished_at: None,
            version: 0,
        }
    }

    /// A new job's id (`imp_` and 32 hexadecimal digits).
    pub fn new_id() -> String {
        format!("imp_{}", uuid::Uuid::new_v4().simple())
    }

    /// Whether `id` has the shape of a job id (anything else names no job).
    pub fn is_id(id: &str) -> bool {
        id.strip_prefix("imp_")
            .is_some_and(|hex| hex.len() == 32 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
    }
}

/// A problem with one row (numbered as in the file, the header being row 1).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct RowError {
    pub row: usize,
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub dry_run: bool,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub errors: Vec<RowError>,
}
