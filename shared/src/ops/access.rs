//! Activating and deactivating access. Deactivation also revokes a temporary
//! password still outstanding; nobody deactivates their own account.

use super::bulk::Change;
use super::{Actor, PerAccount, Sesame};
use crate::domain::Code;
use crate::domain::{Access, Account, AccountId, Caller, Error, Outcome, Result};

/// Most accounts one bulk request may name (a reset that answers passwords: 100).
pub const MAX_BULK_IDS: usize = 500;

impl Sesame {
    pub async fn set_access(
        &self,
        caller: &Caller,
        request_id: Option<&str>,
        ids: &[AccountId],
        access: Access,
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
                let mut next = account.clone();
                next.access = access;
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
