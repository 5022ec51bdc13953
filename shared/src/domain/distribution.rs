//! Distributions: every hand-out of secrets (an export, a send-activation, a reset)
//! is one, so that a lost sheet can be recalled and a class followed. A
//! distribution records who handed out what to which accounts; each account's
//! secret keeps its own state in that account's ledger (`Credentials::history`).

use super::caller::Caller;
use super::export_job::Scope;
use super::ids::{AccountId, ClassName, SchoolId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DistributionKind {
    /// A credentials or activation file.
    Export,
    /// Activation mail (codes) and login-information mail (reset links).
    SendActivation,
    /// A reset by temporary password.
    TemporaryPassword,
    /// A reset to the birth date.
    BirthDatePassword,
    /// A reset link by mail.
    ResetLink,
}

impl DistributionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Export => "export",
            Self::SendActivation => "send_activation",
            Self::TemporaryPassword => "temporary_password",
            Self::BirthDatePassword => "birth_date_password",
            Self::ResetLink => "reset_link",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::Export,
            Self::SendActivation,
            Self::TemporaryPassword,
            Self::BirthDatePassword,
            Self::ResetLink,
        ]
        .into_iter()
        .find(|k| k.as_str() == raw)
    }
}

/// Where a distribution run in the background stands (one made in a request is
/// `done` when it is recorded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Queued,
    Running,
    Done,
    Failed,
}

/// What a send-activation run in the background was asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MailRun {
    pub requested_by: Caller,
    pub request_id: Option<String>,
    pub scope: Scope,
    pub copy_to_me: bool,
}

/// One account's result in a background run, as the synchronous answer gives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RunResult {
    pub account_id: String,
    /// `ok` or `error`.
    pub status: String,
    /// `sent`, `no_email` or `failed` when `ok`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mail: Option<String>,
    /// The problem `code` when `error` (or why a mail failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Distribution {
    pub id: String,
    pub school: SchoolId,
    pub kind: DistributionKind,
    /// The caller who handed the secrets out (`sub`).
    pub actor: String,
    pub created_at: DateTime<Utc>,
    /// The classes of the accounts it covers, for filtering.
    pub classes: Vec<ClassName>,
    /// The accounts that were handed a secret.
    pub accounts: Vec<AccountId>,
    pub status: RunStatus,
    pub processed: u64,
    pub total: u64,
    /// A background send-activation's request, until it is done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<MailRun>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<RunResult>,
    /// When it is forgotten (the school's audit retention).
    pub purge_at: DateTime<Utc>,
    pub version: u64,
}

impl Distribution {
    /// A distribution handed out now, in a request.
    pub fn done(
        id: String,
        school: SchoolId,
        kind: DistributionKind,
        actor: &str,
        now: DateTime<Utc>,
        keep_days: u32,
    ) -> Self {
        Self {
            id,
            school,
            kind,
            actor: actor.to_owned(),
            created_at: now,
            classes: Vec::new(),
            accounts: Vec::new(),
            status: RunStatus::Done,
            processed: 0,
            total: 0,
            run: None,
            results: Vec::new(),
            purge_at: now + chrono::Duration::days(i64::from(keep_days)),
            version: 0,
        }
    }

    /// Adds `accounts` (of `classes`) to what it covers, each once.
    pub fn cover<'a>(&mut self, accounts: impl IntoIterator<Item = (&'a AccountId, &'a [ClassName])>) {
        for (id, classes) in accounts {
            if !self.accounts.contains(id) {
                self.accounts.push(id.clone());
            }
            for class in classes {
                if !self.classes.contains(class) {
                    self.classes.push(class.clone());
                }
            }
        }
        self.classes.sort();
    }
}
