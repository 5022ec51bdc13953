//! Handing secrets out: temporary and birth-date passwords, activation codes and
//! reset links. Every road that issues one (reset, mail, export, console) comes
//! through here, and here asks the table of SPEC §2 (`Caller::may_issue`):
//! whoever may not reset an account's password obtains no secret of it. Each secret goes to the
//! account through the lifecycle of `domain::secret`, recording who issued it and
//! the distribution it belongs to.

use super::bulk::Change;
use super::{PerAccount, Sesame};
use crate::credentials::links::{self, ACTIVATION_CODE_DAYS, RESET_LINK_HOURS};
use crate::credentials::passphrase::{birth_date_password, temporary_password};
use crate::domain::Code;
use crate::domain::{
    Account, AccountId, Activation, Caller, DistributionKind, Error, Result, Secret, SecretKind,
};
use chrono::{DateTime, Duration, Utc};
use secrecy::SecretString;
use std::collections::HashMap;

/// A secret handed out once (a reset-link token or an activation code), and until
/// when it may be used.
pub type Handout = (SecretString, DateTime<Utc>);

/// Secrets made and hashed but not yet handed to their accounts: an export makes
/// them first, writes its file, and only then commits them, so that a failure
/// before the commit changes no password.
pub struct Minted {
    kind: SecretKind,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    secrets: HashMap<AccountId, (SecretString, String)>,
}

impl Minted {
    /// The plain secret made for `id`, and until when it will be valid.
    pub fn get(&self, id: &AccountId) -> Option<Handout> {
        self.secrets
            .get(id)
            .map(|(plain, _)| (plain.clone(), self.expires_at))
    }

    /// Adds what `other` made (of the same kind) to these.
    pub fn extend(&mut self, other: Minted) {
        self.secrets.extend(other.secrets);
    }

    pub fn ids(&self) -> Vec<AccountId> {
        self.secrets.keys().cloned().collect()
    }
}

/// Who hands a secret out, and in which distribution.
#[derive(Debug, Clone, Copy)]
pub struct Issuer<'a> {
    pub caller: &'a Caller,
    /// The distribution the secrets belong to, and its kind; recorded as they are
    /// handed out.
    pub distribution: Option<(&'a str, DistributionKind)>,
}

/// A fresh distribution id, for a hand-out that is not an export.
pub fn new_distribution_id() -> String {
    format!("dst_{}", uuid::Uuid::new_v4().simple())
}

/// Whether a pending account may get an activation code.
fn ensure_claimable(account: &Account) -> Result<()> {
    match account.activation {
        Activation::Pending => Ok(()),
        Activation::Activated => Err(Error::conflict(
            Code::AlreadyActivated,
            "this account is already activated; send a reset link instead",
        )),
    }
}

impl Sesame {
    /// New reset-link tokens, valid 24 hours, each replacing the account's
    /// outstanding secret. A disabled account may get one (its password can still
    /// be reset), but the link works only once access is enabled again.
    pub async fn issue_reset_links(
        &self,
        by: Issuer<'_>,
        ids: &[AccountId],
    ) -> Result<Vec<PerAccount<Handout>>> {
        let now = self.now();
        let expires_at = now + Duration::hours(RESET_LINK_HOURS);
        // Minted once, before any write: a retried write stores the same hash.
        let secrets = ids
            .iter()
            .map(|id| (id.clone(), links::new_reset_token(&by.caller.school, id)))
            .collect();
        let minted = Minted {
            kind: SecretKind::ResetLink,
            now,
            expires_at,
            secrets,
        };
        self.commit(by, ids, minted).await
    }

    /// New activation codes for pending accounts, hashed in parallel, each replacing
    /// the outstanding secret. Activated accounts answer `already_activated`.
    pub async fn issue_activation_codes(
        &self,
        by: Issuer<'_>,
        ids: &[AccountId],
    ) -> Result<Vec<PerAccount<Handout>>> {
        let minted = self.mint_activation_codes(by.caller, ids).await?;
        self.commit(by, ids, minted).await
    }

    /// Activation codes for those of `ids` that may get one, hashed, not handed out.
    pub async fn mint_activation_codes(&self, caller: &Caller, ids: &[AccountId]) -> Result<Minted> {
        let now = self.now();
        let eligible = self
            .eligible(caller, ids, SecretKind::ActivationCode, ensure_claimable)
            .await?;
        let codes: Vec<SecretString> = eligible.iter().map(|_| links::new_activation_code()).collect();
        let hashes = self.hasher.hash_many(codes.clone()).await?;
        Ok(Minted {
            kind: SecretKind::ActivationCode,
            now,
            expires_at: now + Duration::days(ACTIVATION_CODE_DAYS),
            secrets: eligible.into_iter().zip(codes.into_iter().zip(hashes)).collect(),
        })
    }

    /// New temporary passwords (valid the school's period) or birth-date passwords
    /// (when the school allows them), each replacing the account's password at once.
    pub async fn issue_passwords(
        &self,
        by: Issuer<'_>,
        ids: &[AccountId],
        kind: SecretKind,
    ) -> Result<Vec<PerAccount<Handout>>> {
        let minted = self.mint_passwords(by.caller, ids, kind).await?;
        self.commit(by, ids, minted).await
    }

    /// Temporary or birth-date passwords for those of `ids` that may get one,
    /// hashed, not handed out.
    pub async fn mint_passwords(
        &self,
        caller: &Caller,
        ids: &[AccountId],
        kind: SecretKind,
    ) -> Result<Minted> {
        let by = Issuer {
            caller,
            distribution: None,
        };
        let school = self.school(&by.caller.school).await?;
        let now = self.now();
        let expires_at = now + Duration::days(i64::from(school.settings.temporary_password_days));
        let plain: HashMap<AccountId, SecretString> = match kind {
            SecretKind::TemporaryPassword => ids
                .iter()
                .map(|id| (id.clone(), temporary_password(school.settings.language)))
                .collect(),
            SecretKind::BirthDatePassword => {
                if !school.settings.birth_date_mode {
                    return Err(Error::conflict(
                        Code::BirthDateModeDisabled,
                        "birth-date passwords are turned off for this school (see /v1/settings)",
                    ));
                }
                self.accounts
                    .get_accounts(&by.caller.school, ids)
                    .await?
                    .into_iter()
                    .filter_map(|a| Some((a.id, birth_date_password(a.birth_date?))))
                    .collect()
            }
            SecretKind::ActivationCode | SecretKind::ResetLink => {
                return Err(Error::bad_request(
                    Code::NotAPasswordMethod,
                    "this method hands out no password",
                ));
            }
        };
        let eligible = self.eligible(by.caller, ids, kind, |_| Ok(())).await?;
        let eligible: Vec<AccountId> = eligible.into_iter().filter(|id| plain.contains_key(id)).collect();
        let secrets: Vec<SecretString> = eligible.iter().map(|id| plain[id].clone()).collect();
        let hashes = self.hasher.hash_many(secrets.clone()).await?;
        Ok(Minted {
            kind,
            now,
            expires_at,
            secrets: eligible
                .into_iter()
                .zip(secrets.into_iter().zip(hashes))
                .collect(),
        })
    }

    /// The accounts among `ids` that `caller` may get a secret of and that pass
    /// `check`, before any time is spent on hashes.
    async fn eligible(
        &self,
        caller: &Caller,
        ids: &[AccountId],
        kind: SecretKind,
        check: impl Fn(&Account) -> Result<()>,
    ) -> Result<Vec<AccountId>> {
        let found = self.accounts.get_accounts(&caller.school, ids).await?;
        let ok: Vec<AccountId> = found
            .iter()
            .filter(|a| caller.may_issue(a, kind).and_then(|()| check(a)).is_ok())
            .map(|a| a.id.clone())
            .collect();
        let mut eligible = Vec::with_capacity(ok.len());
        for id in ids {
            if ok.contains(id) && !eligible.contains(id) {
                eligible.push(id.clone());
            }
        }
        Ok(eligible)
    }

    /// Hands each minted secret to its account through the lifecycle, checking the
    /// rule again on the account as written; answers per id of `ids`, in order (an
    /// id with no minted secret answers why it got none).
    pub async fn commit(
        &self,
        by: Issuer<'_>,
        ids: &[AccountId],
        mut minted: Minted,
    ) -> Result<Vec<PerAccount<Handout>>> {
        let (kind, now, expires_at) = (minted.kind, minted.now, minted.expires_at);
        let secrets = &minted.secrets;
        // The ledger forgets what is older than the school keeps its audit.
        let keep_days = self.school(&by.caller.school).await?.settings.audit_days;
        let cutoff = now - Duration::days(i64::from(keep_days));
        let distribution = by.distribution.map(|(id, _)| id);
        // The distribution is recorded before its secrets are written, so that a
        // crash in between never leaves secrets out of reach of a recall; an
        // account it names whose write did not happen has no note of it, and its
        // view leaves it out.
        if let Some((id, distribution_kind)) = by.distribution {
            let mut covered = Vec::with_capacity(secrets.len());
            let handed: Vec<AccountId> = ids
                .iter()
                .filter(|id| secrets.contains_key(*id))
                .cloned()
                .collect();
            for chunk in handed.chunks(100) {
                covered.extend(self.accounts.get_accounts(&by.caller.school, chunk).await?);
            }
            let covered: Vec<&Account> = covered.iter().collect();
            self.cover(by.caller, id, distribution_kind, &covered).await?;
        }
        let written = self
            .update_each(&by.caller.school, ids, |account| {
                by.caller.may_issue(account, kind)?;
                if kind == SecretKind::ActivationCode {
                    ensure_claimable(account)?;
                }
                let (_, hash) = secrets.get(&account.id).ok_or_else(|| {
                    Error::conflict(Code::NoBirthDate, "this account has no birth date to reset to")
                })?;
                let secret = Secret::new(kind, hash.clone(), &by.caller.sub, now, expires_at, distribution);
                let mut next = account.clone();
                next.credentials.issue(secret);
                next.credentials.forget_before(cutoff);
                Ok(Change::Write(next))
            })
            .await?;
        Ok(written
            .into_iter()
            .map(|r| PerAccount {
                result: r.result.and_then(|_| {
                    let (plain, _) = minted.secrets.remove(&r.account_id).ok_or(Error::NotFound)?;
                    Ok((plain, expires_at))
                }),
                account_id: r.account_id,
            })
            .collect())
    }
}
