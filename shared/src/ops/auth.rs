//! Self-service: a student or parent logs in and changes their password. Every
//! failure looks the same to the caller (401), costs one Argon2 verification whether
//! or not the login exists, and counts towards the lock of that path.

use super::bulk::Change;
use super::reset::{policy_context, with_password};
use super::{Actor, Sesame};
use crate::credentials::{policy, throttle};
use crate::domain::{Access, Account, AccountId, Activation, Error, FieldError, Login, Outcome, Result};
use crate::ports::StoreError;
use secrecy::{ExposeSecret, SecretString};

/// The paths whose failures are counted separately.
#[derive(Debug, Clone, Copy)]
pub enum Path {
    Login,
    Change,
    Activate,
    /// Reset links, keyed by the account the token names.
    Reset,
}

impl Path {
    fn key(self, login: &str) -> String {
        let path = match self {
            Self::Login => "login",
            Self::Change => "change",
            Self::Activate => "activate",
            Self::Reset => "reset",
        };
        format!("{path}:{}", login.trim().to_lowercase())
    }
}

/// What failures of a typed login are counted on: the login, or, for anything that
/// cannot be one, a single shared counter (no account is hurt by its lock, and keys
/// stay short: DynamoDB bounds their size).
pub(crate) fn login_subject(login: Option<&Login>) -> &str {
    login.map_or("!not-a-login", Login::as_str)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginOutcome {
    pub account_id: AccountId,
    pub must_change_password: bool,
}

impl Sesame {
    /// Fails with `Locked` while `path` is locked for `login`.
    pub(crate) async fn ensure_not_locked(&self, path: Path, login: &str) -> Result<String> {
        let key = path.key(login);
        let counter = self.store.get_throttle(&key).await?;
        match throttle::locked_for(counter.as_ref(), self.now()) {
            Some(retry_after_secs) => Err(Error::Locked { retry_after_secs }),
            None => Ok(key),
        }
    }

    /// Counts one failure on `key`.
    pub(crate) async fn record_failure(&self, key: &str) -> Result<()> {
        for _ in 0..5 {
            let previous = self.store.get_throttle(key).await?;
            let next = throttle::after_failure(previous, key, self.now());
            match self.store.put_throttle(&next).await {
                Err(StoreError::Conflict) => continue,
                other => return Ok(other?),
            }
        }
        Err(StoreError::Conflict.into())
    }

    /// Forgets the failures counted on `key` (after a success).
    pub(crate) async fn clear_failures(&self, key: &str) -> Result<()> {
        if let Some(mut counter) = self.store.get_throttle(key).await?
            && counter.failures > 0
        {
            counter.failures = 0;
            counter.locked_until = None;
            // A concurrent failure winning this race is fine: it is counted.
            match self.store.put_throttle(&counter).await {
                Ok(()) | Err(StoreError::Conflict) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Checks `login` and `password` on `path`: the account, if they match a usable
    /// password. Disabled accounts are told so only after a correct password.
    pub(crate) async fn authenticate(
        &self,
        path: Path,
        login: &str,
        password: SecretString,
    ) -> Result<Account> {
        let login = Login::parse(login).ok();
        let key = self
            .ensure_not_locked(path, login_subject(login.as_ref()))
            .await?;
        let account = match &login {
            Some(login) => self.store.find_by_login(login).await?,
            None => None,
        };
        let hash = account.as_ref().and_then(|a| a.credentials.password_hash.clone());
        let matches = self.hasher.verify(password, hash).await?;
        let now = self.now();
        let usable = account.filter(|a| {
            matches
                && a.credentials
                    .temporary_password_expires_at
                    .is_none_or(|expiry| now < expiry)
        });
        let Some(account) = usable else {
            self.record_failure(&key).await?;
            return Err(Error::InvalidCredentials);
        };
        self.clear_failures(&key).await?;
        if account.access == Access::Disabled {
            return Err(Error::AccessDisabled);
        }
        Ok(account)
    }

    pub async fn login(&self, login: &str, password: SecretString) -> Result<LoginOutcome> {
        let account = self.authenticate(Path::Login, login, password).await?;
        Ok(LoginOutcome {
            account_id: account.id,
            must_change_password: account.credentials.must_change_password,
        })
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
        let account = self.authenticate(Path::Change, login, current).await?;
        let school = self.school(&account.school).await?;
        let mut broken = policy::check(&new, &policy_context(&school, &account), "new_password");
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
        let verified_hash = account.credentials.password_hash.clone();
        let hash = self.hasher.hash(new).await?;
        let now = self.now();
        let updated = self
            .update_one(&account.school, &account.id, |current| {
                if current.credentials.password_hash != verified_hash {
                    return Err(Error::conflict(
                        "password_changed",
                        "the password was changed meanwhile",
                    ));
                }
                let mut next = with_password(current, hash.clone(), false, None, now);
                if next.activation == Activation::Pending {
                    next.activation = Activation::Activated;
                    next.activated_at = Some(now);
                }
                Ok(Change::Write(next))
            })
            .await?;
        let actor = format!("self:{}", updated.id);
        let actor = Actor {
            name: &actor,
            request_id,
        };
        self.audit(
            actor,
            &updated.school,
            "password.change",
            vec![updated.id.clone()],
            Outcome::Ok,
            None,
        )
        .await?;
        Ok(LoginOutcome {
            account_id: updated.id,
            must_change_password: false,
        })
    }
}
