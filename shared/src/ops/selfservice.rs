//! Reset links and activation codes: handing them out (for mail and exports), and
//! their use by the student or parent who received one to choose a password.
//!
//! Handing out does no permission check: the caller of [`Sesame::issue_reset_link`]
//! and friends (the mail and export operations) checks `Caller::may_distribute` (or
//! `may_reset`) first and records the audit event of what it did with the secret.
//!
//! Error codes of the use (all 400 unless said otherwise), stable for clients:
//! - `invalid_link`: malformed, unknown, already used, replaced by a newer link or
//!   revoked (deactivation). Counted towards the lock of that account's reset path.
//! - `link_expired`: a genuine link, past its 24 hours.
//! - `invalid_activation_code`: unknown login, wrong code, account already claimed,
//!   or no code outstanding. Counted towards the lock of that login's activate path.
//! - `activation_code_expired`: the right code, past its validity.
//! - and, as for logins: 429 `too_many_attempts` (with `Retry-After`), 403
//!   `access_disabled`, 409 `federated_account`, 422 `password_policy`.

use super::auth::{LoginOutcome, Path, login_subject};
use super::bulk::Change;
use super::reset::{policy_context, with_password};
use super::{Actor, PerAccount, Sesame};
use crate::credentials::links::{self, ACTIVATION_CODE_DAYS, RESET_LINK_HOURS};
use crate::credentials::policy;
use crate::domain::{
    Access, Account, AccountId, Activation, Error, Login, Outcome, Result, SchoolId, Source, StoredSecret,
};
use chrono::{DateTime, Duration, Utc};
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;

/// A secret handed out once (a reset-link token or an activation code), and until
/// when it may be used.
pub type Handout = (SecretString, DateTime<Utc>);

/// What the reset page may show about a link that works.
#[derive(Debug, Clone)]
pub struct OpenLink {
    pub login: Login,
    pub school: SchoolId,
    /// The school's minimum password length.
    pub min_length: u32,
    pub expires_at: DateTime<Utc>,
}

fn invalid_link() -> Error {
    Error::bad_request(
        "invalid_link",
        "this link is not valid: it may have been used already, replaced by a newer one or revoked",
    )
}

fn link_expired() -> Error {
    Error::bad_request("link_expired", "this link has expired; ask for a new one")
}

fn invalid_code() -> Error {
    Error::bad_request(
        "invalid_activation_code",
        "the login or activation code is incorrect, or the account is already activated",
    )
}

fn code_expired() -> Error {
    Error::bad_request(
        "activation_code_expired",
        "this activation code has expired; ask the school for a new one",
    )
}

fn ensure_local(account: &Account) -> Result<()> {
    match &account.source {
        Source::Federated(directory) => Err(Error::Federated {
            directory: directory.clone(),
        }),
        Source::Local => Ok(()),
    }
}

/// Whether a pending account may get an activation code.
fn ensure_claimable(account: &Account) -> Result<()> {
    ensure_local(account)?;
    match account.activation {
        Activation::Pending => Ok(()),
        Activation::Activated => Err(Error::conflict(
            "already_activated",
            "this account is already activated; send a reset link instead",
        )),
    }
}

/// The throttle subject of a reset link: the account it names.
fn reset_subject(school: &SchoolId, account: &AccountId) -> String {
    format!("{school}/{account}")
}

impl Sesame {
    /// The address of the page where `token` is used.
    pub fn reset_url(&self, token: &SecretString) -> SecretString {
        SecretString::from(format!("{}/reset/{}", self.public_url, token.expose_secret()))
    }

    /// The address of the page where an activation code is typed.
    pub fn activation_url(&self) -> String {
        format!("{}/activate", self.public_url)
    }

    /// A new reset link for one account; see [`Sesame::issue_reset_links`].
    pub async fn issue_reset_link(&self, school: &SchoolId, id: &AccountId) -> Result<Handout> {
        let mut results = self.issue_reset_links(school, std::slice::from_ref(id)).await?;
        results.pop().map_or(Err(Error::NotFound), |r| r.result)
    }

    /// New reset-link tokens, valid 24 hours, each replacing the account's older link.
    /// Federated accounts are refused. A disabled account may get one (its password
    /// can still be reset), but the link works only once access is enabled again.
    /// No permission check here: the caller checks.
    pub async fn issue_reset_links(
        &self,
        school: &SchoolId,
        ids: &[AccountId],
    ) -> Result<Vec<PerAccount<Handout>>> {
        let expires_at = self.now() + Duration::hours(RESET_LINK_HOURS);
        // Minted once, before any write: a retried write stores the same hash.
        let mut tokens: HashMap<AccountId, (SecretString, String)> = ids
            .iter()
            .map(|id| (id.clone(), links::new_reset_token(school, id)))
            .collect();
        let written = self
            .update_each(school, ids, |account| {
                ensure_local(account)?;
                let hash = tokens.get(&account.id).ok_or(Error::NotFound)?.1.clone();
                let mut next = account.clone();
                next.credentials.reset_link = Some(StoredSecret { hash, expires_at });
                Ok(Change::Write(next))
            })
            .await?;
        Ok(written
            .into_iter()
            .map(|r| PerAccount {
                result: r.result.and_then(|_| {
                    let (token, _) = tokens.remove(&r.account_id).ok_or(Error::NotFound)?;
                    Ok((token, expires_at))
                }),
                account_id: r.account_id,
            })
            .collect())
    }

    /// A new activation code for one pending account; see [`Sesame::issue_activation_codes`].
    pub async fn issue_activation_code(&self, school: &SchoolId, id: &AccountId) -> Result<Handout> {
        let mut results = self
            .issue_activation_codes(school, std::slice::from_ref(id))
            .await?;
        results.pop().map_or(Err(Error::NotFound), |r| r.result)
    }

    /// New activation codes for pending accounts, each replacing the older code,
    /// hashed in parallel. Activated accounts answer `already_activated`, federated
    /// ones `federated_account`. No permission check here: the caller checks.
    pub async fn issue_activation_codes(
        &self,
        school: &SchoolId,
        ids: &[AccountId],
    ) -> Result<Vec<PerAccount<Handout>>> {
        let expires_at = self.now() + Duration::days(ACTIVATION_CODE_DAYS);
        // Decide who gets a code before spending time on hashes.
        let found: HashMap<AccountId, Account> = self
            .store
            .get_accounts(school, ids)
            .await?
            .into_iter()
            .map(|a| (a.id.clone(), a))
            .collect();
        let mut refused: HashMap<AccountId, Error> = HashMap::new();
        let mut eligible: Vec<AccountId> = Vec::new();
        for id in ids {
            match found.get(id).ok_or(Error::NotFound).and_then(ensure_claimable) {
                Ok(()) if !eligible.contains(id) => eligible.push(id.clone()),
                Ok(()) => {}
                Err(e) => {
                    refused.insert(id.clone(), e);
                }
            }
        }
        let codes: Vec<SecretString> = eligible.iter().map(|_| links::new_activation_code()).collect();
        let hashes = self.hasher.hash_many(codes.clone()).await?;
        let mut minted: HashMap<AccountId, (SecretString, String)> = eligible
            .iter()
            .cloned()
            .zip(codes.into_iter().zip(hashes))
            .collect();
        let written = self
            .update_each(school, &eligible, |account| {
                ensure_claimable(account)?;
                let hash = minted.get(&account.id).ok_or(Error::NotFound)?.1.clone();
                let mut next = account.clone();
                next.credentials.activation_code = Some(StoredSecret { hash, expires_at });
                Ok(Change::Write(next))
            })
            .await?;
        let mut written: HashMap<AccountId, Result<Account>> =
            written.into_iter().map(|r| (r.account_id, r.result)).collect();
        Ok(ids
            .iter()
            .map(|id| {
                let result = match (refused.remove(id), written.remove(id)) {
                    (Some(e), _) => Err(e),
                    (None, Some(Ok(_))) => minted
                        .remove(id)
                        .map(|(code, _)| (code, expires_at))
                        .ok_or(Error::NotFound),
                    (None, Some(Err(e))) => Err(e),
                    (None, None) => Err(Error::NotFound),
                };
                PerAccount {
                    account_id: id.clone(),
                    result,
                }
            })
            .collect())
    }

    /// The account a reset link opens, and the stored link it matched. Every check
    /// a use makes, without using it: the reset page calls it to show the form.
    async fn open_reset_link(&self, token: &SecretString) -> Result<(Account, StoredSecret)> {
        let parsed = links::parse_reset_token(token).ok_or_else(invalid_link)?;
        let key = self
            .ensure_not_locked(Path::Reset, &reset_subject(&parsed.school, &parsed.account))
            .await?;
        let account = self.store.get_account(&parsed.school, &parsed.account).await?;
        let matched = account.and_then(|account| {
            let stored = account.credentials.reset_link.clone()?;
            links::same_hash(&stored.hash, &parsed.hash).then_some((account, stored))
        });
        let Some((account, stored)) = matched else {
            self.record_failure(&key).await?;
            return Err(invalid_link());
        };
        self.clear_failures(&key).await?;
        if self.now() >= stored.expires_at {
            return Err(link_expired());
        }
        ensure_local(&account)?;
        if account.access == Access::Disabled {
            return Err(Error::AccessDisabled);
        }
        Ok((account, stored))
    }

    /// Checks a reset link without using it.
    pub async fn check_reset_link(&self, token: &SecretString) -> Result<OpenLink> {
        let (account, stored) = self.open_reset_link(token).await?;
        let school = self.school(&account.school).await?;
        Ok(OpenLink {
            login: account.login,
            school: account.school,
            min_length: school.settings.password_min_length,
            expires_at: stored.expires_at,
        })
    }

    /// Uses a reset link: sets the chosen password, retires the link (single use),
    /// and claims a pending account. A password the policy refuses leaves the link
    /// usable.
    pub async fn reset_with_token(
        &self,
        request_id: Option<&str>,
        token: SecretString,
        new_password: SecretString,
    ) -> Result<LoginOutcome> {
        let (account, stored) = self.open_reset_link(&token).await?;
        let school = self.school(&account.school).await?;
        let broken = policy::check(&new_password, &policy_context(&school, &account), "new_password");
        if !broken.is_empty() {
            return Err(Error::PasswordPolicy(broken));
        }
        let hash = self.hasher.hash(new_password).await?;
        let now = self.now();
        let updated = self
            .update_one(&account.school, &account.id, |current| {
                // Used, replaced or revoked while the password was being hashed.
                if current.credentials.reset_link.as_ref() != Some(&stored) {
                    return Err(invalid_link());
                }
                ensure_local(current)?;
                if current.access == Access::Disabled {
                    return Err(Error::AccessDisabled);
                }
                let mut next = with_password(current, hash.clone(), false, None, now);
                next.credentials.reset_link = None;
                if next.activation == Activation::Pending {
                    next.activation = Activation::Activated;
                    next.activated_at = Some(now);
                    next.credentials.activation_code = None;
                }
                Ok(Change::Write(next))
            })
            .await?;
        self.audit_self(request_id, &updated, "password.reset_by_link")
            .await?;
        Ok(LoginOutcome {
            account_id: updated.id,
            must_change_password: false,
        })
    }

    /// Claims a pending account with its login and activation code, setting the
    /// chosen password. Failures are counted like logins; an unknown login costs the
    /// same Argon2 verification as a wrong code.
    pub async fn activate(
        &self,
        request_id: Option<&str>,
        login: &str,
        code: SecretString,
        new_password: SecretString,
    ) -> Result<LoginOutcome> {
        let login = Login::parse(login).ok();
        let key = self
            .ensure_not_locked(Path::Activate, login_subject(login.as_ref()))
            .await?;
        let account = match &login {
            Some(login) => self.store.find_by_login(login).await?,
            None => None,
        };
        let stored = account
            .as_ref()
            .filter(|a| a.activation == Activation::Pending && !a.is_federated())
            .and_then(|a| a.credentials.activation_code.clone());
        let typed = SecretString::from(links::normalize_code(code.expose_secret()));
        let matches = self
            .hasher
            .verify(typed, stored.as_ref().map(|s| s.hash.clone()))
            .await?;
        let (Some(account), Some(stored), true) = (account, stored, matches) else {
            self.record_failure(&key).await?;
            return Err(invalid_code());
        };
        self.clear_failures(&key).await?;
        let now = self.now();
        if now >= stored.expires_at {
            return Err(code_expired());
        }
        if account.access == Access::Disabled {
            return Err(Error::AccessDisabled);
        }
        let school = self.school(&account.school).await?;
        let broken = policy::check(&new_password, &policy_context(&school, &account), "new_password");
        if !broken.is_empty() {
            return Err(Error::PasswordPolicy(broken));
        }
        let hash = self.hasher.hash(new_password).await?;
        let updated = self
            .update_one(&account.school, &account.id, |current| {
                // Claimed, replaced or revoked while the password was being hashed.
                if current.activation != Activation::Pending
                    || current.credentials.activation_code.as_ref() != Some(&stored)
                {
                    return Err(invalid_code());
                }
                if current.access == Access::Disabled {
                    return Err(Error::AccessDisabled);
                }
                let mut next = with_password(current, hash.clone(), false, None, now);
                next.credentials.activation_code = None;
                next.activation = Activation::Activated;
                next.activated_at = Some(now);
                Ok(Change::Write(next))
            })
            .await?;
        self.audit_self(request_id, &updated, "account.claim").await?;
        Ok(LoginOutcome {
            account_id: updated.id,
            must_change_password: false,
        })
    }

    async fn audit_self(&self, request_id: Option<&str>, account: &Account, action: &str) -> Result<()> {
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
