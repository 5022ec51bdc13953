//! A roster import run in the background: the file was uploaded behind a link
//! that expires (a roster larger than one request carries), then read and
//! imported by a worker, which records its progress and, at the end, its report.

use super::account::Profile;
use super::caller::Caller;
use super::distribution::RunStatus;
use super::ids::{AccountId, SchoolId};
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
    /// How the roster applies (a merge, or a sync that closes who left).
    #[serde(default)]
    pub options: ImportOptions,
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
            options: ImportOptions::default(),
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
    /// The file of a bundle the row is in (a OneRoster bundle: `users.csv`, …); the
    /// field is then that file's column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

impl RowError {
    pub fn new(row: usize, field: &str, message: impl Into<String>) -> Self {
        Self {
            row,
            field: field.to_owned(),
            message: message.into(),
            file: None,
        }
    }
}

/// How an import applies its file (SPEC §4).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ImportMode {
    /// Creates and updates the accounts the file names; nobody else is touched.
    #[default]
    Merge,
    /// The file is the school's whole roster for its profiles: local accounts of
    /// those profiles that it does not name are deactivated.
    Sync,
}

/// What an import is asked to do besides reading its file.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImportOptions {
    /// `None`: as the file implies (a OneRoster bulk bundle syncs, anything else merges).
    #[serde(default)]
    pub mode: Option<ImportMode>,
    /// The profiles a sync covers; empty: those the file carries.
    #[serde(default)]
    pub sync_profiles: Vec<Profile>,
    /// The deactivations the caller confirms (the dry run's count): a real sync
    /// needs it and refuses a file that would close more.
    #[serde(default)]
    pub expect_deactivations: Option<usize>,
    /// The `digest` of the sync's preview: when given, the real run closes those
    /// very accounts or refuses.
    #[serde(default)]
    pub expect_digest: Option<String>,
}

/// An account a sync closes (or would close).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Leaver {
    #[schema(value_type = String)]
    pub id: AccountId,
    pub login: String,
    pub first_name: String,
    pub last_name: String,
}

/// The leavers of one class and profile.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct LeaverGroup {
    /// `null`: accounts in no class.
    pub class: Option<String>,
    pub profile: Profile,
    pub count: usize,
    pub accounts: Vec<Leaver>,
}

/// What a sync closes: in a dry run, who would be; after a real run, who was.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct SyncReport {
    /// The profiles the file stands for.
    pub profiles: Vec<Profile>,
    /// Accounts closed (dry run: that would be): the number `expect_deactivations`
    /// confirms. Those the file names as disabled (`enabledUser=false`,
    /// `tobedeleted`) are among them.
    pub deactivations: usize,
    /// A fingerprint of the accounts closed (dry run: that would be), for
    /// `expect_digest`.
    pub digest: String,
    /// Accounts missing from the file that a sync never closes: federated ones,
    /// those with `local_admin`, and those the importer may not deactivate.
    pub kept: usize,
    /// The leavers by class and profile (an account in several classes is listed
    /// under its first).
    pub by_class: Vec<LeaverGroup>,
}

/// What a OneRoster bundle held besides the school's rows.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct OneRosterSummary {
    /// `1.1` or `1.2`, as the manifest says.
    pub version: String,
    /// Whether `users.csv` was a delta (only what it carries applies; never a sync).
    pub delta: bool,
    /// Users of other orgs than the school's (`oneroster_org`), left out.
    pub other_orgs: usize,
    /// Users whose row carried a password, which is never imported.
    pub passwords: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub dry_run: bool,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub errors: Vec<RowError>,
    /// Accounts deactivated (a dry run: that would be): a sync's leavers, and the
    /// accounts the file itself closes.
    #[serde(default)]
    pub deactivated: usize,
    /// Accounts reopened (a dry run: that would be): those a roster had closed
    /// that the file names open again (OneRoster `enabledUser=true`).
    #[serde(default)]
    pub reactivated: usize,
    /// What was done differently from what the file asked, row by row, without
    /// refusing it (a OneRoster `username` taken or invalid: the account got
    /// another login).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<RowError>,
    /// `merge` or `sync`.
    #[serde(default)]
    pub mode: ImportMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync: Option<SyncReport>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oneroster: Option<OneRosterSummary>,
}
