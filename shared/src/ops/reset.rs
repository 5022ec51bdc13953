//! Password resets by staff: bulk temporary (or legacy birth-date) passwords, and a
//! password chosen by an administrator.

use super::bulk::Change;
use super::mail::MailReport;
use super::{Actor, PerAccount, Sesame};
use crate::credentials::passphrase::{birth_date_password, temporary_password};
use crate::credentials::policy::{self, PolicyContext};
use crate::domain::{Account, AccountId, Caller, Error, Outcome, Result, School, Source};
use chrono::{DateTime, Duration, Utc};
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;

/// Most accounts one reset request may name; beyond that, use an export.
pub const MAX_RESET_IDS: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResetMethod {
    /// A fresh passphrase, valid for the school's temporary-password period.
    Temporary,
    /// Legacy: the birth date `ddmmyyyy`, when the school has turned the mode on.
    BirthDate,
    /// A single-use link, valid 24 hours, mailed to the account's address; the
    /// current password keeps working until the link is used.
    EmailLink,
}

/// What a reset request produced.
#[derive(Debug)]
pub enum Resets {
    /// Passwords to show once (`temporary`, `birth_date`).
    Passwords(Vec<PerAccount<Issued>>),
    /// Links sent by mail (`email_link`).
    Mailed(MailReport),
}

/// A password handed out once, in the response, and never again.
pub struct Issued {
    pub password: SecretString,
    pub expires_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// `email_link` mails a link (see [`Sesame::reset`]): it hands out no password.
fn not_a_password() -> Error {
    Error::bad_request(
        "not_a_password_method",
        "email_link mails a link and hands out no password",
    )
}

/// Whether `caller` may change `account`'s password at all.
fn check_password_change(caller: &Caller, account: &Account) -> Result<()> {
    caller.may_reset(account)?;
    match &account.source {
        Source::Federated(directory) => Err(Error::Federated {
            directory: directory.clone(),
        }),
        Source::Local => Ok(()),
    }
}

/// `account` with a new password hash and what goes with it.
pub(crate) fn with_password(
    account: &Account,
    hash: String,
    must_change: bool,
    temporary_until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Account {
    let mut next = account.clone();
    next.credentials.password_hash = Some(hash);
    next.credentials.must_change_password = must_change;
    next.credentials.temporary_password_expires_at = temporary_until;
    next.credentials.password_changed_at = Some(now);
    next
}

/// What a password is checked against for `account` in `school`.
pub(crate) fn policy_context<'a>(school: &'a School, account: &'a Account) -> PolicyContext<'a> {
    PolicyContext {
        min_length: school.settings.password_min_length,
        login: account.login.as_str(),
        names: [&account.first_name, &account.last_name],
        school_name: &school.name,
    }
}

impl Sesame {
    /// `POST /v1/accounts/reset-password`: new passwords to show, or reset links sent
    /// by mail (`copy_to_me` applies to those).
    pub async fn reset(
        &self,
        caller: &Caller,
        request_id: Option<&str>,
        ids: &[AccountId],
        method: ResetMethod,
        copy_to_me: bool,
    ) -> Result<Resets> {
        match method {
            ResetMethod::EmailLink => Ok(Resets::Mailed(
                self.send_reset_links(caller, request_id, ids, copy_to_me).await?,
            )),
            ResetMethod::Temporary | ResetMethod::BirthDate => Ok(Resets::Passwords(
                self.reset_passwords(caller, request_id, ids, method).await?,
            )),
        }
    }

    /// New passwords (`temporary` or `birth_date`), handed out once in the answer.
    pub async fn reset_passwords(
        &self,
        caller: &Caller,
        request_id: Option<&str>,
        ids: &[AccountId],
        method: ResetMethod,
    ) -> Result<Vec<PerAccount<Issued>>> {
        if method == ResetMethod::EmailLink {
            return Err(not_a_password());
        }
        let school = self.school(&caller.school).await?;
        if method == ResetMethod::BirthDate && !school.settings.birth_date_mode {
            return Err(Error::conflict(
                "birth_date_mode_disabled",
                "birth-date passwords are turned off for this school (see /v1/settings)",
            ));
        }
        let now = self.now();
        let expires_at = match method {
            ResetMethod::Temporary => {
                Some(now + Duration::days(i64::from(school.settings.temporary_password_days)))
            }
            ResetMethod::BirthDate | ResetMethod::EmailLink => None,
        };

        // Decide who gets a new password before spending time on hashes.
        let accounts = self.store.get_accounts(&caller.school, ids).await?;
        let mut accounts: HashMap<AccountId, Account> =
            accounts.into_iter().map(|a| (a.id.clone(), a)).collect();
        let mut refused: HashMap<AccountId, Error> = HashMap::new();
        let mut secrets: HashMap<AccountId, SecretString> = HashMap::new();
        for id in ids {
            let secret = accounts.remove(id).ok_or(Error::NotFound).and_then(|account| {
                check_password_change(caller, &account)?;
                match method {
                    ResetMethod::Temporary => Ok(temporary_password(school.settings.language)),
                    ResetMethod::BirthDate => account.birth_date.map(birth_date_password).ok_or_else(|| {
                        Error::conflict("no_birth_date", "this account has no birth date to reset to")
                    }),
                    ResetMethod::EmailLink => Err(not_a_password()),
                }
            });
            match secret {
                Ok(secret) => {
                    secrets.insert(id.clone(), secret);
                }
                Err(e) => {
                    refused.insert(id.clone(), e);
                }
            }
        }

        let eligible: Vec<AccountId> = ids
            .iter()
            .filter(|id| secrets.contains_key(*id))
            .cloned()
            .collect();
        let plain: Vec<SecretString> = eligible.iter().map(|id| secrets[id].clone()).collect();
        let hashes: HashMap<AccountId, String> = eligible
            .iter()
            .cloned()
            .zip(self.hasher.hash_many(plain).await?)
            .collect();
        let written = self
            .update_each(&caller.school, &eligible, |account| {
                check_password_change(caller, account)?;
                let hash = hashes[&account.id].clone();
                Ok(Change::Write(with_password(account, hash, true, expires_at, now)))
            })
            .await?;
        let mut written: HashMap<AccountId, Result<Account>> =
            written.into_iter().map(|r| (r.account_id, r.result)).collect();

        let results: Vec<PerAccount<Issued>> = ids
            .iter()
            .map(|id| {
                let result = match (refused.remove(id), written.remove(id)) {
                    (Some(e), _) => Err(e),
                    (None, Some(Ok(_))) => secrets
                        .remove(id)
                        .map(|password| Issued { password, expires_at })
                        .ok_or(Error::NotFound),
                    (None, Some(Err(e))) => Err(e),
                    (None, None) => Err(Error::NotFound),
                };
                PerAccount {
                    account_id: id.clone(),
                    result,
                }
            })
            .collect();
        let done: Vec<AccountId> = results
            .iter()
            .filter(|r| r.result.is_ok())
            .map(|r| r.account_id.clone())
            .collect();
        let outcome = Outcome::of(done.len(), ids.len());
        let detail = format!(
            "method={}",
            if method == ResetMethod::Temporary {
                "temporary"
            } else {
                "birth_date"
            }
        );
        let actor = Actor {
            name: &caller.sub,
            request_id,
        };
        self.audit(
            actor,
            &caller.school,
            "password.reset",
            done,
            outcome,
            Some(detail),
        )
        .await?;
        Ok(results)
    }

    /// An administrator (or teacher, for their students) sets a chosen password.
    pub async fn set_password(
        &self,
        caller: &Caller,
        request_id: Option<&str>,
        id: &AccountId,
        password: SecretString,
        confirmation: SecretString,
        must_change: bool,
    ) -> Result<Account> {
        let account = self
            .store
            .get_account(&caller.school, id)
            .await?
            .ok_or(Error::NotFound)?;
        check_password_change(caller, &account)?;
        if password.expose_secret() != confirmation.expose_secret() {
            return Err(Error::invalid("confirmation", "does not match the password"));
        }
        let school = self.school(&caller.school).await?;
        let broken = policy::check(&password, &policy_context(&school, &account), "password");
        if !broken.is_empty() {
            return Err(Error::PasswordPolicy(broken));
        }
        let hash = self.hasher.hash(password).await?;
        let now = self.now();
        let result = self
            .update_one(&caller.school, id, |account| {
                check_password_change(caller, account)?;
                Ok(Change::Write(with_password(
                    account,
                    hash.clone(),
                    must_change,
                    None,
                    now,
                )))
            })
            .await;
        let outcome = if result.is_ok() {
            Outcome::Ok
        } else {
            Outcome::Error
        };
        let actor = Actor {
            name: &caller.sub,
            request_id,
        };
        let detail = format!("must_change={must_change}");
        self.audit(
            actor,
            &caller.school,
            "password.set",
            vec![id.clone()],
            outcome,
            Some(detail),
        )
        .await?;
        result
    }
}
