//! Console sessions (SPEC §11): signing in with a Sésame account (the same guard
//! as `/v1/auth/login`), opening the session a cookie names on each request (the
//! account read again, its role and classes from it), signing out. The pages of
//! the console build on these.

use super::Sesame;
use super::auth::Path;
use crate::credentials::links::{new_session_token, session_key};
use crate::domain::{Account, Error, Result, Session};
use crate::ports::StoreError;
use chrono::Duration;
use secrecy::SecretString;

/// A session's `last_seen` is written at most this often (each request reads it).
const TOUCH_EVERY: Duration = Duration::minutes(1);

/// A new session: the cookie's token (shown to the browser only) and the record.
pub struct SignedIn {
    pub token: SecretString,
    pub session: Session,
    pub account: Account,
}

impl Sesame {
    /// Signs `login` in: the same checks, counter and lock as `/v1/auth/login`.
    pub async fn sign_in(&self, login: &str, password: SecretString) -> Result<SignedIn> {
        let (account, _) = self.authenticate(Path::Login, login, password).await?;
        let (token, key) = new_session_token();
        let (csrf, _) = new_session_token();
        let mut session = Session::begin(key, &account, self.now());
        session.csrf = secrecy::ExposeSecret::expose_secret(&csrf).to_owned();
        self.sessions.put_session(&session).await?;
        session.version += 1;
        Ok(SignedIn {
            token,
            session,
            account,
        })
    }

    /// The session `token` names and its account as they are now; an ended
    /// session is deleted and answers `Unauthenticated`.
    pub async fn open_session(&self, token: &str) -> Result<(Session, Account)> {
        let key = session_key(token).ok_or(Error::Unauthenticated)?;
        let mut session = self
            .sessions
            .get_session(&key)
            .await?
            .ok_or(Error::Unauthenticated)?;
        let account = self
            .accounts
            .get_account(&session.school, &session.account)
            .await?;
        let now = self.now();
        if session.check(account.as_ref(), now).is_err() {
            self.sessions.delete_session(&key).await?;
            return Err(Error::Unauthenticated);
        }
        let account = account.ok_or(Error::Unauthenticated)?;
        if now - session.last_seen >= TOUCH_EVERY {
            session.last_seen = now;
            match self.sessions.put_session(&session).await {
                Ok(()) => session.version += 1,
                // Another request of the same browser touched it meanwhile.
                Err(StoreError::Conflict) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok((session, account))
    }

    /// Ends the session `token` names (nothing happens for an unknown one).
    pub async fn sign_out(&self, token: &str) -> Result<()> {
        if let Some(key) = session_key(token) {
            self.sessions.delete_session(&key).await?;
        }
        Ok(())
    }
}
