//! Who is calling, and the permission matrix of SPEC §2.
//!
//! Every check answers `NotFound` for accounts the caller may not see (another
//! school's, or outside a teacher's classes) so that their existence never leaks,
//! and `Forbidden` for accounts the caller sees but may not act on.

use super::account::{Account, LocalAdmin, Profile};
use super::ids::{ClassName, SchoolId};
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

    fn teaches(&self, account: &Account) -> bool {
        account.classes.iter().any(|c| self.classes.contains(c))
    }

    /// Admins see the whole school; teachers the students of their classes and
    /// those students' parents.
    pub fn can_see(&self, account: &Account) -> bool {
        if account.school != self.school {
            return false;
        }
        match self.role {
            Role::Admin | Role::SecondaryAdmin => true,
            Role::Teacher => {
                matches!(account.profile, Profile::Student | Profile::Parent) && self.teaches(account)
            }
        }
    }

    fn seen(&self, account: &Account) -> Result<(), Denied> {
        if self.can_see(account) {
            Ok(())
        } else {
            Err(Denied::NotFound)
        }
    }

    fn allow(ok: bool) -> Result<(), Denied> {
        if ok { Ok(()) } else { Err(Denied::Forbidden) }
    }

    pub fn may_view(&self, account: &Account) -> Result<(), Denied> {
        self.seen(account)
    }

    /// Reset or set a password: teachers only for students of their classes;
    /// secondary admins for anyone but `local_admin: admin` accounts.
    pub fn may_reset(&self, account: &Account) -> Result<(), Denied> {
        self.seen(account)?;
        Self::allow(match self.role {
            Role::Admin => true,
            Role::SecondaryAdmin => account.local_admin != LocalAdmin::Admin,
            Role::Teacher => account.profile == Profile::Student,
        })
    }

    /// Activate or deactivate access: admins; secondary admins except for admins.
    pub fn may_set_access(&self, account: &Account) -> Result<(), Denied> {
        self.seen(account)?;
        Self::allow(match self.role {
            Role::Admin => true,
            Role::SecondaryAdmin => account.local_admin != LocalAdmin::Admin,
            Role::Teacher => false,
        })
    }

    /// Send activation or login mail, or export credentials.
    pub fn may_distribute(&self, account: &Account) -> Result<(), Denied> {
        self.seen(account)?;
        Self::allow(self.is_admin() || account.profile == Profile::Student)
    }

    /// List and view a distribution: admins all of their school's; a teacher those
    /// they made.
    pub fn may_see_distribution(&self, distribution: &crate::domain::Distribution) -> bool {
        distribution.school == self.school && (self.is_admin() || distribution.actor == self.sub)
    }

    /// Follow a class: admins any; a teacher theirs.
    pub fn may_follow(&self, class: &crate::domain::ClassName) -> bool {
        self.is_admin() || self.classes.contains(class)
    }

    /// Import rosters, read the audit log, read and change settings.
    pub fn may_administer(&self) -> bool {
        self.is_admin()
    }

    /// Whether `account` is the caller's own.
    pub fn is_self(&self, account: &Account) -> bool {
        account.school == self.school
            && (account.id.as_str() == self.sub || account.login.as_str() == self.sub)
    }
}
