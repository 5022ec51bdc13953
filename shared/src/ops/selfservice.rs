//! Reset links and activation codes in use: the student or parent who received one
//! chooses a password with it (handing them out is `ops::secrets`).
//!
//! Error codes of the use (all 400 unless said otherwise), stable for clients:
//! - `invalid_link`: malformed, unknown, already used, replaced by a newer link or
//!   revoked (deactivation). Counted towards the lock of the client's address.
//! - `link_expired`: a genuine link, past its 24 hours.
//! - `invalid_activation_code`: unknown login, wrong code, account already claimed,
//!   or no code outstanding. Counted towards the lock of that login's activate path.
//! - `activation_code_expired`: the right code, past its validity.
//! - and, as for logins: 429 `too_many_attempts` (with `Retry-After`), 403
//!   `access_disabled`, 422 `password_policy`, 503 `busy`. A federated account
//!   answers as an unknown one: self-service never answers 409.

use super::Sesame;
use super::auth::{LoginOutcome, Path, client_subject, login_subject, self_service_error};
use super::bulk::Change;
use crate::credentials::links;
use crate::credentials::policy;
use crate::domain::Code;
use crate::domain::{Access, Account, Activation, Error, Login, Result, SchoolId, Secret, SecretKind};
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use std::net::IpAddr;

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
        Code::InvalidLink,
        "this link is not valid: it may have been used already, replaced by a newer one or revoked",
    )
}

fn link_expired() -> Error {
    Error::bad_request(Code::LinkExpired, "this link has expired; ask for a new one")
}

fn invalid_code() -> Error {
    Error::bad_request(
        Code::InvalidActivationCode,
        "the login or activation code is incorrect, or the account is already activated",
    )
}

fn code_expired() -> Error {
    Error::bad_request(
        Code::ActivationCodeExpired,
        "this activation code has expired; ask the school for a new one",
    )
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

    /// The account a reset link opens, and the outstanding link it matched. Every
    /// check a use makes, without using it: the reset page calls it to show the form.
    ///
    /// A link's secret cannot be guessed (256 bits), so wrong links are counted per
    /// client address, never per account: a stranger's guesses never lock the
    /// account's real link (SPEC §3).
    async fn open_reset_link(
        &self,
        token: &SecretString,
        client: Option<IpAddr>,
    ) -> Result<(Account, Secret)> {
        let admitted = self.admit(Path::Reset, &client_subject(client)).await?;
        drop(admitted.place);
        let Some(parsed) = links::parse_reset_token(token) else {
            return Err(invalid_link());
        };
        let account = self.accounts.get_account(&parsed.school, &parsed.account).await?;
        let matched = account.filter(|a| !a.is_federated()).and_then(|account| {
            let stored = account.credentials.outstanding(SecretKind::ResetLink)?.clone();
            links::same_hash(&stored.hash, &parsed.hash).then_some((account, stored))
        });
        let Some((account, stored)) = matched else {
            return Err(invalid_link());
        };
        // A genuine link gives its attempt back, but never clears the client's
        // count: one link of one's own, opened between guesses, must not reset the
        // limit on guessing others.
        self.guards.refund_attempt(&admitted.key, self.now()).await?;
        if stored.is_expired(self.now()) {
            return Err(link_expired());
        }
        if account.access == Access::Disabled {
            return Err(Error::AccessDisabled);
        }
        Ok((account, stored))
    }

    /// Checks a reset link without using it.
    pub async fn check_reset_link(&self, token: &SecretString, client: Option<IpAddr>) -> Result<OpenLink> {
        let (account, stored) = self.open_reset_link(token, client).await?;
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
        client: Option<IpAddr>,
        token: SecretString,
        new_password: SecretString,
    ) -> Result<LoginOutcome> {
        let (account, stored) = self.open_reset_link(&token, client).await?;
        let school = self.school(&account.school).await?;
        policy::ensure(&new_password, &school, &account, "new_password")?;
        let hash = self.checker.hash(new_password).await?;
        let updated = self.use_secret(&account, &stored, hash, invalid_link).await?;
        self.audit_self(request_id, &updated, "password.reset_by_link")
            .await?;
        Ok(LoginOutcome::of(updated))
    }

    /// Claims a pending account with its login and activation code, setting the
    /// chosen password. Attempts are counted like logins; an unknown login costs the
    /// same Argon2 verification as a wrong code.
    pub async fn activate(
        &self,
        request_id: Option<&str>,
        login: &str,
        code: SecretString,
        new_password: SecretString,
    ) -> Result<LoginOutcome> {
        let login = Login::parse(login).ok();
        let admitted = self.admit(Path::Activate, login_subject(login.as_ref())).await?;
        let account = match &login {
            Some(login) => self.accounts.find_by_login(login).await?,
            None => None,
        };
        let stored = account
            .as_ref()
            .filter(|a| a.activation == Activation::Pending && !a.is_federated())
            .and_then(|a| a.credentials.outstanding(SecretKind::ActivationCode).cloned());
        let typed = SecretString::from(links::normalize_code(code.expose_secret()));
        let matches = self
            .checker
            .verify_in(admitted.place, typed, stored.as_ref().map(|s| s.hash.clone()))
            .await?;
        let (Some(account), Some(stored), true) = (account, stored, matches) else {
            return Err(invalid_code());
        };
        self.clear_attempts(&admitted.key).await?;
        if stored.is_expired(self.now()) {
            return Err(code_expired());
        }
        if account.access == Access::Disabled {
            return Err(Error::AccessDisabled);
        }
        let school = self.school(&account.school).await?;
        policy::ensure(&new_password, &school, &account, "new_password")?;
        let hash = self.checker.hash(new_password).await?;
        let updated = self.use_secret(&account, &stored, hash, invalid_code).await?;
        self.audit_self(request_id, &updated, "account.claim").await?;
        Ok(LoginOutcome::of(updated))
    }

    /// The owner sets a password of their own with `secret`, if it is still the
    /// account's outstanding one (used, replaced or revoked while the password was
    /// being hashed: `gone`).
    async fn use_secret(
        &self,
        account: &Account,
        secret: &Secret,
        hash: String,
        gone: fn() -> Error,
    ) -> Result<Account> {
        let now = self.now();
        self.update_one(&account.school, &account.id, |current| {
            if current.credentials.secret.as_ref() != Some(secret) || current.is_federated() {
                return Err(gone());
            }
            if current.access == Access::Disabled {
                return Err(Error::AccessDisabled);
            }
            let mut next = current.clone();
            next.set_own_password(hash.clone(), now, Some(&secret.id));
            Ok(Change::Write(next))
        })
        .await
        .map_err(self_service_error)
    }
}
