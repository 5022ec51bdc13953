//! An export job: a credential file being built in the background, then kept at
//! most 24 hours behind expiring links.

use super::account::Sort;
use super::caller::Caller;
use super::ids::{AccountId, SchoolId};
use super::school::Language;
use super::selection::Selection;
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

/// What an export holds (SPEC §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Content {
    /// New temporary passwords (seed 000 columns).
    Credentials,
    /// Pending accounts: login and a new activation code; activated: how to reset.
    Activation,
    /// Class, names, login, birth date; no secret (seed 001).
    Identifiers,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Csv,
    Xlsx,
    Pdf,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
            Self::Pdf => "pdf",
        }
    }
}

/// Cards per A4 page of a PDF (1, 2 or 8 in JSON; fields of this type are
/// documented as `u8` in the OpenAPI description).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub enum PerPage {
    #[default]
    One,
    Two,
    Eight,
}

impl TryFrom<u8> for PerPage {
    type Error = String;
    fn try_from(n: u8) -> Result<Self, String> {
        match n {
            1 => Ok(Self::One),
            2 => Ok(Self::Two),
            8 => Ok(Self::Eight),
            _ => Err(format!("per_page must be 1, 2 or 8, not {n}")),
        }
    }
}

impl From<PerPage> for u8 {
    fn from(per_page: PerPage) -> u8 {
        match per_page {
            PerPage::One => 1,
            PerPage::Two => 2,
            PerPage::Eight => 8,
        }
    }
}

impl PerPage {
    pub fn cards(self) -> usize {
        usize::from(u8::from(self))
    }
}

impl utoipa::PartialSchema for PerPage {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Integer)
            .enum_values(Some([1, 2, 8]))
            .description(Some("Cards per A4 page of a PDF."))
            .into()
    }
}

impl ToSchema for PerPage {}
