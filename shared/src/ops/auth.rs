//! Self-service sign-in: a student or parent logs in and changes their password.
//! Every attempt is counted before it is verified (SPEC §3), every failure looks the
//! same to the caller (401) and costs one Argon2 verification whether or not the
//! login exists. Self-service routes never answer 409: a lost race reads as a
//! failure of the attempt.

use super::bulk::Change;
use super::{Actor, Sesame};
use crate::credentials::hashing::Place;
use crate::credentials::policy;
use crate::domain::{Access, Account, AccountId, Error, FieldError, Login, Outcome, Result};
use crate::ports::Attempt;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};

pub(crate) use crate::domain::lockout::{Path, client_subject, login_subject};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginOutcome {
    pub account_id: AccountId,
    pub must_change_password: bool,
    /// Whose account it is, for the page that says it worked.
    pub login: crate::domain::Login,
    pub school: crate::domain::SchoolId,
}

impl LoginOutcome {
    /// The outcome of a sign-in or password change on `account`, as it now is.
    pub fn of(account: crate::domain::Account) -> Self {
        Self {
            must_change_password: account.credentials.must_change_password,
            account_id: account.id,
            login: account.login,
            school: account.school,
        }
    }
}

/// The locks this process learnt of in the last few seconds, so that a burst at a
/// locked account is answered 429 from memory, with no hashing and no I/O. The
/// store stays the authority: an entry is trusted for [`KnownLocks::TRUST`] only,
/// and only where this process answers every sign-in and unlock of its store (the
/// edge on SQLite): in the cloud an unlock runs in another function, and must lift
/// the lock at once (SPEC §3), so each attempt reads the store there.
#[derive(Default)]
pub struct KnownLocks(std::sync::Mutex<std::collections::HashMap<String, SeenLock>>);

/// Until when a key is locked, and when this process learnt it.
type SeenLock = (DateTime<Utc>, DateTime<Utc>);

impl KnownLocks {
    const TRUST: chrono::Duration = chrono::Duration::seconds(5);
    /// Entries kept at most; older ones are dropped when it fills.
    const MAX: usize = 10_000;

    fn until(&self, key: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let locks = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (until, seen) = locks.get(key)?;
        (*until > now && now - *seen < Self::TRUST).then_some(*until)
    }

    fn learn(&self, key: &str, until: DateTime<Utc>, now: DateTime<Utc>) {
        let mut locks = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if locks.len() >= Self::MAX {
            locks.retain(|_, (until, seen)| *until > now && now - *seen < Self::TRUST);
        }
        if locks.len() < Self::MAX {
            locks.insert(key.to_owned(), (until, now));
        }
    }

    /// Forgets `key`'s lock (a success or an unlock in this process).
    pub fn forget(&self, key: &str) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(key);
    }
}

/// A verification that may run: its attempt is counted, its place in the
/// self-service hashing queue held.
pub(crate) struct Admitted {
    pub key: String,
    pub place: Place,
}

impl Sesame {
    /// Counts one attempt on `path` for `subject` before anything is verified. The
    /// place in the checking queue is taken before counting, so a full queue (503)
    /// never costs an account one of its attempts; a lock answers 429 with no hashing.
    pub(crate) async fn admit(&self, path: Path, subject: &str) -> Result<Admitted> {
        let key = path.key(subject);
        let now = self.now();
        let locked = |until| Error::Locked {
            retry_after_secs: Attempt::retry_after(until, now),
        };
        // A lock in force costs no hashing and no write (counting would change
        // nothing: a lock is never shortened nor extended): it answers from
        // memory when this process saw it lately, else from a read.
        if let Some(until) = self.locks.as_ref().and_then(|l| l.until(&key, now)) {
            return Err(locked(until));
        }
        if let Some(until) = self
            .guards
            .get_throttle(&key)
            .await?
            .and_then(|t| t.locked_at(now))
        {
            self.learn_lock(&key, until, now);
            return Err(locked(until));
        }
        let place = self.checker.reserve()?;
        match self.guards.count_attempt(&key, now).await? {
            Attempt::Admitted => Ok(Admitted { key, place }),
            Attempt::Locked { until } => {
                self.learn_lock(&key, until, now);
                Err(locked(until))
            }
        }
    }

    fn learn_lock(&self, key: &str, until: DateTime<Utc>, now: DateTime<Utc>) {
        if let Some(locks) = &self.locks {
            locks.learn(key, until, now);
        }
    }

    /// Forgets the attempts counted on `key` (after a success).
    pub(crate) async fn clear_attempts(&self, key: &str) -> Result<()> {
        if let Some(locks) = &self.locks {
            locks.forget(key);
        }
        Ok(self.guards.clear_throttle(key).await?)
    }

    /// Checks `login` and `password` on `path`: the account, if they match a usable
    /// password (its own, or an open temporary or birth-date one), and the handed-out
    /// secret that matched, if any. Disabled accounts are told so only after a
    /// correct password.
    pub(crate) async fn authenticate(
        &self,
        path: Path,
        login: &str,
        password: SecretString,
    ) -> Result<(Account, Option<String>)> {
        let login = Login::parse(login).ok();
        let admitted = self.admit(path, login_subject(login.as_ref())).await?;
        let account = match &login {
            Some(login) => self.accounts.find_by_login(login).await?,
            None => None,
        };
        let now = self.now();
        let candidate = account
            .as_ref()
            .filter(|a| !a.is_federated())
            .and_then(|a| a.credentials.sign_in_hash(now))
            .map(|(hash, secret)| (hash.to_owned(), secret.map(|s| s.id.clone())));
        let (hash, secret) = candidate.unzip();
        let matches = self.checker.verify_in(admitted.place, password, hash).await?;
        let (Some(account), true) = (account, matches) else {
            return Err(Error::InvalidCredentials);
        };
        self.clear_attempts(&admitted.key).await?;
        if account.access == Access::Disabled {
            return Err(Error::AccessDisabled);
        }
        Ok((account, secret.flatten()))
    }

    pub async fn login(&self, login: &str, password: SecretString) -> Result<LoginOutcome> {
        let (account, _) = self.authenticate(Path::Login, login, password).await?;
        Ok(LoginOutcome::of(account))
    }

    /// The user replaces their (possibly temporary) password by one of their own,
    /// which also claims a pending account.
    pub async fn change_password(
        &self,
        request_id: Option<&str>,
        login: &str,
        current: SecretString,
        new: SecretString,
    ) -> Result<LoginOutcome> {
        let same = current.expose_secret() == new.expose_secret();
        let (account, used) = self.authenticate(Path::Change, login, current).await?;
        let school = self.school(&account.school).await?;
        let mut broken = policy::check(
            &new,
            &policy::PolicyContext::of(&school, &account),
            "new_password",
        );
        if same {
            broken.push(FieldError::rule(
                "new_password",
                "same_as_current",
                "must differ from the current password",
            ));
        }
        if !broken.is_empty() {
            return Err(Error::PasswordPolicy(broken));
        }
        let verified = account.credentials.clone();
        let hash = self.checker.hash(new).await?;
        let now = self.now();
        let updated = self
            .update_one(&account.school, &account.id, |current| {
                // Changed while the new password was being hashed: the password
                // just verified may no longer be the account's.
                if current.credentials != verified {
                    return Err(Error::InvalidCredentials);
                }
                let mut next = current.clone();
                next.set_own_password(hash.clone(), now, used.as_deref());
                Ok(Change::Write(next))
            })
            .await
            .map_err(self_service_error)?;
        self.audit_self(request_id, &updated, "password.change").await?;
        Ok(LoginOutcome::of(updated))
    }

    pub(crate) async fn audit_self(
        &self,
        request_id: Option<&str>,
        account: &Account,
        action: &str,
    ) -> Result<()> {
        let name = format!("self:{}", account.id);
        let actor = Actor {
            name: &name,
            request_id,
        };
        self.audit(
            actor,
            &account.school,
            action,
            vec![account.id.clone()],
            Outcome::Ok,
            None,
        )
        .await
    }
}

/// Self-service routes never answer 409: a write that kept losing its race is a
/// busy server, to be tried again.
pub(crate) fn self_service_error(error: Error) -> Error {
    match error {
        Error::Conflict { .. } => Error::Busy { retry_after_secs: 1 },
        other => other,
    }
}
