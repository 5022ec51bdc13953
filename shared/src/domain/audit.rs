//! Audit events: who did what to which accounts, when, and how it ended. Never a secret.

use super::ids::{AccountId, SchoolId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    Partial,
    Error,
}

impl Outcome {
    /// The outcome of a bulk action from how many of its accounts succeeded.
    pub fn of(succeeded: usize, total: usize) -> Self {
        match succeeded {
            0 if total > 0 => Self::Error,
            n if n == total => Self::Ok,
            _ => Self::Partial,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditEvent {
    pub id: String,
    #[schema(value_type = String)]
    pub school: SchoolId,
    pub at: DateTime<Utc>,
    /// The `sub` of the caller, or `self:<account id>` for self-service.
    pub actor: String,
    /// e.g. `password.reset`, `account.deactivate`.
    pub action: String,
    #[schema(value_type = Vec<String>)]
    pub targets: Vec<AccountId>,
    pub outcome: Outcome,
    pub request_id: Option<String>,
    /// Non-secret details, e.g. the reset method.
    pub detail: Option<String>,
}
