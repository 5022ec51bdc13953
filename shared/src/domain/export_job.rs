//! An export job: a credential file being built in the background, then kept at
//! most 24 hours behind expiring links.

use super::account::Sort;
use super::caller::Caller;
use super::ids::{AccountId, SchoolId};
use super::school::Language;
use crate::export::{Content, Format, PerPage};
use crate::ops::accounts::Selection;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportStatus {
    Queued,
    Running,
    Done,
    Failed,
    /// The file was deleted (on request, or by the sweep).
    Deleted,
}

/// Which accounts an export covers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Ids(Vec<AccountId>),
    Filter(Selection),
}

/// What was asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportRequest {
    pub scope: Scope,
    pub content: Content,
    pub format: Format,
    pub per_page: PerPage,
    pub sort: Sort,
    /// The language of the file; `None` asks for the school's, which the export
    /// takes when it is created.
    pub language: Option<Language>,
}

/// The file an export produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportFile {
    pub key: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportJob {
    pub id: String,
    pub school: SchoolId,
    /// Who asked, with the scope they had then (a teacher's classes).
    pub requested_by: Caller,
    pub request_id: Option<String>,
    pub request: ExportRequest,
    pub status: ExportStatus,
    pub processed: u64,
    pub total: u64,
    pub file: Option<ExportFile>,
    /// Why it failed, in words fit for the client (never an internal cause).
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The file is deleted by then at the latest (24 hours after creation).
    pub delete_after: DateTime<Utc>,
    /// Set once the file is written: how many secrets its commit hands to their
    /// accounts, so that a crash during the commit can be told from one before it.
    #[serde(default)]
    pub committing: Option<u64>,
    pub version: u64,
}
