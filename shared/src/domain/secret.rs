//! The one lifecycle of every secret a school hands out (SPEC §3): a temporary
//! password, a birth-date password, an activation code or a reset link. An account
//! has at most one outstanding; issuing a new one replaces it; a temporary or
//! birth-date password replaces the account's password at once; setting a password
//! by any road, or deactivation, revokes it. Every operation goes through
//! [`Credentials`]' methods below; none edits the fields itself.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SecretKind {
    TemporaryPassword,
    BirthDatePassword,
    ActivationCode,
    ResetLink,
}

impl SecretKind {
    /// A password the account signs in with (until its owner chooses one).
    pub fn is_password(self) -> bool {
        matches!(self, Self::TemporaryPassword | Self::BirthDatePassword)
    }
}

/// Where a handed-out secret stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SecretState {
    /// Outstanding and still valid (a temporary password used only to sign in too).
    Open,
    /// Its owner set a password of their own with it.
    Used,
    /// Past its validity, unused.
    Expired,
    /// A newer secret was issued to the account.
    Replaced,
    /// Withdrawn: deactivation, a password set by another road, a recalled sheet.
    Revoked,
}

/// A secret handed out to an account and not yet used, replaced or revoked: its
/// hash (never the secret), who issued it, when, until when, and the hand-out it
/// belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Secret {
    pub id: String,
    pub kind: SecretKind,
    /// Argon2id PHC string (passwords, codes) or SHA-256 hex (link tokens).
    pub hash: String,
    pub issued_by: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The distribution (export, mailing, reset) it was handed out in.
    #[serde(default)]
    pub distribution: Option<String>,
}

impl Secret {
    pub fn new(
        kind: SecretKind,
        hash: String,
        issued_by: &str,
        issued_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        distribution: Option<&str>,
    ) -> Self {
        Self {
            id: format!("sec_{}", uuid::Uuid::new_v4().simple()),
            kind,
            hash,
            issued_by: issued_by.to_owned(),
            issued_at,
            expires_at,
            distribution: distribution.map(str::to_owned),
        }
    }

    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        now >= self.expires_at
    }

    pub fn state(&self, now: DateTime<Utc>) -> SecretState {
        if self.is_expired(now) {
            SecretState::Expired
        } else {
            SecretState::Open
        }
    }
}

/// The password state of an account. Only hashes; never a plain secret.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Credentials {
    /// PHC string (Argon2id) of the password its owner chose or an admin set.
    /// `None` while a temporary or birth-date password stands in for it.
    pub password_hash: Option<String>,
    pub must_change_password: bool,
    pub password_changed_at: Option<DateTime<Utc>>,
    /// The one outstanding secret handed out by the school.
    #[serde(default)]
    pub secret: Option<Secret>,
    /// The account's recent secrets, newest first, as notes without any hash: the
    /// credential ledger. Kept with the account, so a note is written in the same
    /// write as the change it records; at most [`HISTORY`] notes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<SecretNote>,
}

/// How many secrets an account's ledger remembers.
pub const HISTORY: usize = 20;

/// What the ledger keeps of a secret: everything but the secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SecretNote {
    pub id: String,
    pub kind: SecretKind,
    pub issued_by: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub distribution: Option<String>,
    /// How and when it ended (`used`, `replaced`, `revoked`); absent while it is
    /// outstanding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<Closing>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Closing {
    pub state: SecretState,
    pub at: DateTime<Utc>,
}

impl SecretNote {
    fn of(secret: &Secret) -> Self {
        Self {
            id: secret.id.clone(),
            kind: secret.kind,
            issued_by: secret.issued_by.clone(),
            issued_at: secret.issued_at,
            expires_at: secret.expires_at,
            distribution: secret.distribution.clone(),
            closed: None,
        }
    }

    /// Its state at `now`: how it ended, else `expired` or `open`.
    pub fn state(&self, now: DateTime<Utc>) -> SecretState {
        match self.closed {
            Some(closing) => closing.state,
            None if now >= self.expires_at => SecretState::Expired,
            None => SecretState::Open,
        }
    }
}

/// What happened to the secret a change closed, for the ledger and the audit.
#[derive(Debug, Clone, PartialEq)]
pub struct Closed {
    pub secret: Secret,
    pub state: SecretState,
}

impl Credentials {
    /// Hands `secret` out: the older one is replaced; a password kind replaces the
    /// account's password at once and must be changed at the next sign-in.
    pub fn issue(&mut self, secret: Secret) -> Option<Closed> {
        if secret.kind.is_password() {
            self.password_hash = None;
            self.must_change_password = true;
            self.password_changed_at = Some(secret.issued_at);
        }
        let at = secret.issued_at;
        let note = SecretNote::of(&secret);
        let closed = self.secret.replace(secret).map(|secret| Closed {
            secret,
            state: SecretState::Replaced,
        });
        self.note_closed(closed.as_ref(), at);
        self.history.insert(0, note);
        self.history.truncate(HISTORY);
        closed
    }

    /// Records in the ledger how `closed` ended.
    fn note_closed(&mut self, closed: Option<&Closed>, at: DateTime<Utc>) {
        let Some(closed) = closed else { return };
        if let Some(note) = self.history.iter_mut().find(|n| n.id == closed.secret.id) {
            note.closed = Some(Closing {
                state: closed.state,
                at,
            });
        }
    }

    /// Forgets the notes issued before `cutoff` (the school's retention).
    pub fn forget_before(&mut self, cutoff: DateTime<Utc>) {
        self.history.retain(|n| n.issued_at >= cutoff);
    }

    /// The ledger's note of the secret of `distribution`, if it remembers one.
    pub fn note_of(&self, distribution: &str) -> Option<&SecretNote> {
        self.history
            .iter()
            .find(|n| n.distribution.as_deref() == Some(distribution))
    }

    /// A password is set by any road (the owner with a secret, the owner changing
    /// theirs, an admin, an import): every outstanding secret ends. `with` names
    /// the secret the owner used, which then counts as used, not revoked.
    pub fn set_password(
        &mut self,
        hash: String,
        must_change: bool,
        now: DateTime<Utc>,
        with: Option<&str>,
    ) -> Option<Closed> {
        self.password_hash = Some(hash);
        self.must_change_password = must_change;
        self.password_changed_at = Some(now);
        let closed = self.secret.take().map(|secret| {
            let state = if with == Some(secret.id.as_str()) {
                SecretState::Used
            } else {
                SecretState::Revoked
            };
            Closed { secret, state }
        });
        self.note_closed(closed.as_ref(), now);
        closed
    }

    /// Withdraws the outstanding secret (deactivation, a recalled distribution). A
    /// password kind leaves the account with no password: it needs a new hand-out.
    pub fn revoke(&mut self, now: DateTime<Utc>) -> Option<Closed> {
        let closed = self.secret.take().map(|secret| Closed {
            secret,
            state: SecretState::Revoked,
        });
        self.note_closed(closed.as_ref(), now);
        closed
    }

    /// The outstanding secret of `kind`, whatever its validity.
    pub fn outstanding(&self, kind: SecretKind) -> Option<&Secret> {
        self.secret.as_ref().filter(|s| s.kind == kind)
    }

    /// The hash a typed password is checked against at `now`: an open temporary
    /// or birth-date password, else the account's own password. An expired
    /// handed-out password opens nothing.
    pub fn sign_in_hash(&self, now: DateTime<Utc>) -> Option<(&str, Option<&Secret>)> {
        match &self.secret {
            Some(secret) if secret.kind.is_password() => {
                (!secret.is_expired(now)).then_some((secret.hash.as_str(), Some(secret)))
            }
            _ => self.password_hash.as_deref().map(|hash| (hash, None)),
        }
    }

    /// Until when the current password is a temporary one.
    pub fn temporary_password_expires_at(&self) -> Option<DateTime<Utc>> {
        self.secret
            .as_ref()
            .filter(|s| s.kind.is_password())
            .map(|s| s.expires_at)
    }

    /// Whether anything signs this account in (its own or a handed-out password).
    /// A short mark of the password the account signs in with now (its hash, or
    /// its temporary password's): a new password, by any road, gives a new mark,
    /// since every hash has a salt of its own. It reveals nothing of the password.
    pub fn mark(&self) -> String {
        use sha2::{Digest, Sha256};
        let signing = self
            .secret
            .as_ref()
            .filter(|s| s.kind.is_password())
            .map(|s| s.hash.as_str());
        let hash = signing.or(self.password_hash.as_deref()).unwrap_or_default();
        crate::credentials::hex(&Sha256::digest(hash.as_bytes())[..12])
    }

    pub fn has_password(&self) -> bool {
        self.password_hash.is_some() || self.secret.as_ref().is_some_and(|s| s.kind.is_password())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn secret(kind: SecretKind, now: DateTime<Utc>) -> Secret {
        Secret::new(
            kind,
            format!("hash-{kind:?}"),
            "admin",
            now,
            now + Duration::days(1),
            None,
        )
    }

    #[test]
    fn a_temporary_password_replaces_the_password_at_once() {
        let now = Utc::now();
        let mut c = Credentials {
            password_hash: Some("own".into()),
            ..Credentials::default()
        };
        c.issue(secret(SecretKind::TemporaryPassword, now));
        assert_eq!(c.password_hash, None);
        assert!(c.must_change_password);
        assert_eq!(c.sign_in_hash(now).map(|h| h.0), Some("hash-TemporaryPassword"));
    }

    #[test]
    fn a_new_secret_replaces_the_older_one() {
        let now = Utc::now();
        let mut c = Credentials::default();
        c.issue(secret(SecretKind::ResetLink, now));
        let closed = c.issue(secret(SecretKind::TemporaryPassword, now));
        assert_eq!(
            closed.map(|c| (c.secret.kind, c.state)),
            Some((SecretKind::ResetLink, SecretState::Replaced))
        );
        assert_eq!(c.outstanding(SecretKind::ResetLink), None);
    }

    #[test]
    fn a_link_keeps_the_own_password_until_it_is_used() {
        let now = Utc::now();
        let mut c = Credentials {
            password_hash: Some("own".into()),
            ..Credentials::default()
        };
        c.issue(secret(SecretKind::ResetLink, now));
        assert_eq!(c.sign_in_hash(now).map(|h| h.0), Some("own"));
    }

    #[test]
    fn setting_a_password_by_any_road_ends_the_outstanding_secret() {
        let now = Utc::now();
        let mut c = Credentials::default();
        let link = secret(SecretKind::ResetLink, now);
        let id = link.id.clone();
        c.issue(link);
        let used = c.set_password("mine".into(), false, now, Some(&id));
        assert_eq!(used.map(|c| c.state), Some(SecretState::Used));
        c.issue(secret(SecretKind::ActivationCode, now));
        let revoked = c.set_password("admin's".into(), true, now, None);
        assert_eq!(revoked.map(|c| c.state), Some(SecretState::Revoked));
        assert_eq!(c.secret, None);
        let states: Vec<_> = c.history.iter().map(|n| (n.kind, n.state(now))).collect();
        assert_eq!(
            states,
            [
                (SecretKind::ActivationCode, SecretState::Revoked),
                (SecretKind::ResetLink, SecretState::Used)
            ]
        );
    }

    #[test]
    fn revoking_a_birth_date_password_leaves_no_password() {
        let now = Utc::now();
        let mut c = Credentials {
            password_hash: Some("own".into()),
            ..Credentials::default()
        };
        c.issue(secret(SecretKind::BirthDatePassword, now));
        c.revoke(now);
        assert_eq!(c.sign_in_hash(now), None);
    }

    #[test]
    fn an_expired_temporary_password_opens_nothing() {
        let now = Utc::now();
        let mut c = Credentials::default();
        c.issue(secret(SecretKind::TemporaryPassword, now));
        assert_eq!(c.sign_in_hash(now + Duration::days(1)), None);
    }
}
