//! Versioned writes of many accounts: each account is read, changed by a pure
//! function, and written only if nobody wrote it meanwhile; on a conflict it is read
//! again and the change applied again, a few times, before the account is reported
//! as in conflict. One account's failure never fails the others.

use super::replay::closed_replay;
use super::{PerAccount, Sesame};
use crate::domain::{Account, AccountId, Error, Result, SchoolId};
use crate::ports::StoreError;
use std::collections::HashMap;

/// How many times a versioned write is tried, reading again after each conflict.
const ATTEMPTS: usize = 8;

/// Runs `attempt` (read, change, versioned write) until its write does not
/// conflict, at most [`ATTEMPTS`] times; an attempt answers `None` when its write
/// conflicted. `update_each` follows the same rule for many accounts at once.
pub(crate) async fn optimistic<T, Fut>(mut attempt: impl FnMut() -> Fut) -> Result<T>
where
    Fut: std::future::Future<Output = Result<Option<T>>>,
{
    for _ in 0..ATTEMPTS {
        if let Some(done) = attempt().await? {
            return Ok(done);
        }
    }
    Err(StoreError::Conflict.into())
}

/// What to do with one account.
#[allow(clippy::large_enum_variant)] // short-lived, one per account changed
pub enum Change {
    /// Write this new value.
    Write(Account),
    /// Nothing to write; the account is fine as it is.
    Keep,
}

impl Sesame {
    /// Applies `change` to each of `ids` (in `school`) and writes the results.
    /// Answers, per id in order, the account as written (or kept), or the error.
    pub(crate) async fn update_each(
        &self,
        school: &SchoolId,
        ids: &[AccountId],
        mut change: impl FnMut(&Account) -> Result<Change>,
    ) -> Result<Vec<PerAccount<Account>>> {
        let mut done: HashMap<AccountId, Result<Account>> = HashMap::with_capacity(ids.len());
        let mut replays = std::collections::BTreeSet::new();
        let mut pending: Vec<AccountId> = ids.to_vec();
        for _ in 0..ATTEMPTS {
            if pending.is_empty() {
                break;
            }
            let found = self.accounts.get_accounts(school, &pending).await?;
            let mut found: HashMap<AccountId, Account> =
                found.into_iter().map(|a| (a.id.clone(), a)).collect();
            let mut writes = Vec::new();
            let mut read = HashMap::new();
            for id in pending.drain(..) {
                let Some(account) = found.remove(&id) else {
                    done.insert(id, Err(Error::NotFound));
                    continue;
                };
                match change(&account) {
                    Err(e) => {
                        done.insert(id, Err(e));
                    }
                    Ok(Change::Keep) => {
                        done.insert(id, Ok(account));
                    }
                    Ok(Change::Write(new)) => {
                        writes.push(new);
                        read.insert(id, account);
                    }
                }
            }
            let outcomes = self.accounts.update_accounts(&writes).await?;
            for (mut account, outcome) in writes.into_iter().zip(outcomes) {
                match outcome {
                    Ok(()) => {
                        if let Some(key) = read.get(&account.id).and_then(|old| closed_replay(old, &account))
                        {
                            replays.insert(key);
                        }
                        account.version += 1;
                        done.insert(account.id.clone(), Ok(account));
                    }
                    Err(StoreError::Conflict) => pending.push(account.id),
                    Err(other) => {
                        done.insert(account.id, Err(other.into()));
                    }
                }
            }
        }
        for id in pending {
            done.insert(id, Err(StoreError::Conflict.into()));
        }
        // The one stored copy of a secret goes with the secret.
        self.forget_replays(replays).await;
        Ok(ids
            .iter()
            .map(|id| PerAccount {
                account_id: id.clone(),
                result: done.remove(id).unwrap_or(Err(Error::NotFound)),
            })
            .collect())
    }

    /// The single-account form of [`Sesame::update_each`].
    pub(crate) async fn update_one(
        &self,
        school: &SchoolId,
        id: &AccountId,
        change: impl FnMut(&Account) -> Result<Change>,
    ) -> Result<Account> {
        let mut results = self.update_each(school, std::slice::from_ref(id), change).await?;
        results.pop().map_or(Err(Error::NotFound), |r| r.result)
    }
}
