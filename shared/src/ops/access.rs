//! Activating and deactivating access. Deactivation also revokes a temporary
//! password still outstanding; nobody deactivates their own account.

use super::bulk::Change;
use super::{Actor, PerAccount, Sesame};
use crate::domain::Code;
use crate::domain::{Access, Account, AccountId, Caller, Error, Outcome, Result};

/// Most accounts one bulk request may name (a reset that answers passwords: 100).
pub const MAX_BULK_IDS: usize = 500;

/// Who changes an account's access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum By {
    Administrator,
    /// An import's file, or a sync's leavers.
    Roster,
}

impl Sesame {
    pub async fn set_access(
        &self,
        caller: &Caller,
        request_id: Option<&str>,
        ids: &[AccountId],
        access: Access,
    ) -> Result<Vec<PerAccount<Account>>> {
        self.set_access_by(caller, request_id, ids, access, By::Administrator)
            .await
    }

    /// [`Sesame::set_access`] on behalf of `by`: a roster reopens only what a
    /// roster closed (the accounts an administrator closed it keeps).
    pub(super) async fn set_access_by(
        &self,
        caller: &Caller,
        request_id: Option<&str>,
        ids: &[AccountId],
        access: Access,
        by: By,
    ) -> Result<Vec<PerAccount<Account>>> {
        let now = self.now();
        let results = self
            .update_each(&caller.school, ids, |account| {
                caller.may_set_access(account)?;
                if access == Access::Disabled && caller.is_self(account) {
                    return Err(Error::conflict(
                        Code::CannotDeactivateSelf,
                        "you cannot deactivate your own account",
                    ));
                }
                if account.access == access {
                    return Ok(Change::Keep);
                }
                if by == By::Roster && access == Access::Enabled && !account.closed_by_roster {
                    return Err(Error::conflict(
                        Code::Conflict,
                        "an administrator closed this account: a roster does not reopen it",
                    ));
                }
                let mut next = account.clone();
                next.access = access;
                next.closed_by_roster = by == By::Roster && access == Access::Disabled;
                match access {
                    Access::Enabled => next.disabled_at = None,
                    Access::Disabled => {
                        next.disabled_at = Some(now);
                        next.credentials.revoke(now);
                    }
                }
                Ok(Change::Write(next))
            })
            .await?;
        let done = PerAccount::succeeded(&results);
        let outcome = Outcome::of(done.len(), ids.len());
        let action = match access {
            Access::Enabled => "account.activate",
            Access::Disabled => "account.deactivate",
        };
        self.audit(
            Actor::caller(caller, request_id),
            &caller.school,
            action,
            done,
            outcome,
            None,
        )
        .await?;
        Ok(results)
    }
}
