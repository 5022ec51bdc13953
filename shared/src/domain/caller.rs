//! Who is calling; what they may do is the table of `permissions`.
//!
//! Every check answers `NotFound` for accounts the caller may not see (another
//! school's, or outside a teacher's classes) so that their existence never leaks,
//! and `Forbidden` for accounts the caller sees but may not act on.

use super::account::Account;
use super::ids::{ClassName, SchoolId};
use super::permissions::{Action, Task};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    SecondaryAdmin,
    Teacher,
}

impl Role {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "admin" => Some(Self::Admin),
            "secondary_admin" => Some(Self::SecondaryAdmin),
            "teacher" => Some(Self::Teacher),
            _ => None,
        }
    }
}

/// An authenticated caller of the admin API, from verified token claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caller {
    /// The actor (`sub`): an account id or login of the school, or a service name.
    pub sub: String,
    pub school: SchoolId,
    pub role: Role,
    /// For teachers: the classes they teach.
    pub classes: Vec<ClassName>,
}

/// Why a caller may not act on an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// The caller may not even see it: answer exactly as for a missing account.
    NotFound,
    Forbidden,
}

impl Caller {
    pub fn is_admin(&self) -> bool {
        matches!(self.role, Role::Admin | Role::SecondaryAdmin)
    }

    /// Whether the caller sees `account` (every other action needs it too).
    pub fn can_see(&self, account: &Account) -> bool {
        self.may(Action::View, account).is_ok()
    }

    pub fn may_view(&self, account: &Account) -> Result<(), Denied> {
        self.may(Action::View, account)
    }

    /// The reset column: obtain any secret of the account, set its password,
    /// unlock it, recall it, read its ledger.
    pub fn may_reset(&self, account: &Account) -> Result<(), Denied> {
        self.may(Action::Reset, account)
    }

    /// Activate or deactivate access.
    pub fn may_set_access(&self, account: &Account) -> Result<(), Denied> {
        self.may(Action::SetAccess, account)
    }

    /// List and view a distribution: admins all of their school's; a teacher those
    /// they made.
    pub fn may_see_distribution(&self, distribution: &crate::domain::Distribution) -> bool {
        distribution.school == self.school
            && (self.may_do(Task::OverseeSchool) || distribution.actor == self.sub)
    }

    /// Follow a class: admins any; a teacher theirs.
    pub fn may_follow(&self, class: &crate::domain::ClassName) -> bool {
        self.may_do(Task::OverseeSchool) || self.classes.contains(class)
    }

    /// Import rosters, read the audit log, read settings.
    pub fn may_administer(&self) -> bool {
        self.may_do(Task::Import)
    }

    /// Whether `account` is the caller's own.
    pub fn is_self(&self, account: &Account) -> bool {
        account.school == self.school
            && (account.id.as_str() == self.sub || account.login.as_str() == self.sub)
    }
}
