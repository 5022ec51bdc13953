//! Password resets by staff: bulk temporary (or legacy birth-date) passwords, and a
//! password chosen by an administrator.

use super::bulk::Change;
use super::mail::MailReport;
use super::secrets::Issuer;
use super::{Actor, PerAccount, Sesame};
use crate::credentials::policy;
use crate::domain::Code;
use crate::domain::{Account, AccountId, Caller, DistributionKind, Error, Outcome, Result, SecretKind};
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};

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
        Code::NotAPasswordMethod,
        "email_link mails a link and hands out no password",
    )
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
        distribution: Option<&str>,
    ) -> Result<Resets> {
        match method {
            ResetMethod::EmailLink => Ok(Resets::Mailed(
                self.send_mail(
                    caller,
                    request_id,
                    ids,
                    copy_to_me,
                    super::mail::Purpose::Reset,
                    &super::secrets::new_distribution_id(),
                )
                .await?,
            )),
            ResetMethod::Temporary | ResetMethod::BirthDate => Ok(Resets::Passwords(
                self.reset_passwords(caller, request_id, ids, method, distribution)
                    .await?,
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
        distribution: Option<&str>,
    ) -> Result<Vec<PerAccount<Issued>>> {
        let kind = match method {
            ResetMethod::Temporary => SecretKind::TemporaryPassword,
            ResetMethod::BirthDate => SecretKind::BirthDatePassword,
            ResetMethod::EmailLink => return Err(not_a_password()),
        };
        let distribution = distribution.map_or_else(super::secrets::new_distribution_id, str::to_owned);
        let distribution_kind = match kind {
            SecretKind::BirthDatePassword => DistributionKind::BirthDatePassword,
            _ => DistributionKind::TemporaryPassword,
        };
        let by = Issuer {
            caller,
            distribution: Some((&distribution, distribution_kind)),
        };
        let results: Vec<PerAccount<Issued>> = self
            .issue_passwords(by, ids, kind)
            .await?
            .into_iter()
            .map(|r| PerAccount {
                account_id: r.account_id,
                result: r.result.map(|(password, expires_at)| Issued {
                    password,
                    expires_at: Some(expires_at),
                }),
            })
            .collect();
        let done = PerAccount::succeeded(&results);
        let outcome = Outcome::of(done.len(), ids.len());
        let detail = format!(
            "method={}",
            if method == ResetMethod::Temporary {
                "temporary"
            } else {
                "birth_date"
            }
        );
        let actor = Actor::caller(caller, request_id);
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
        let account = self.account_if(caller, id, Caller::may_reset).await?;
        account.ensure_local()?;
        if password.expose_secret() != confirmation.expose_secret() {
            return Err(Error::invalid("confirmation", "does not match the password"));
        }
        let school = self.school(&caller.school).await?;
        policy::ensure(&password, &school, &account, "password")?;
        let hash = self.hasher.hash(password).await?;
        let now = self.now();
        let result = self
            .update_one(&caller.school, id, |account| {
                caller.may_reset(account)?;
                account.ensure_local()?;
                let mut next = account.clone();
                next.credentials
                    .set_password(hash.clone(), must_change, now, None);
                Ok(Change::Write(next))
            })
            .await;
        let outcome = if result.is_ok() {
            Outcome::Ok
        } else {
            Outcome::Error
        };
        let actor = Actor::caller(caller, request_id);
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
