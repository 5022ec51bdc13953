//! The one stored copy of a handed-out secret (SPEC §3): the sealed replay of an
//! idempotent response. Its secrets belong to a distribution named after the
//! replay's record, so that whatever ends one of them (revoked, replaced, used)
//! deletes the replay with it.

use super::Sesame;
use crate::domain::Account;

const REPLAY_PREFIX: &str = "rpl_";

/// The distribution id of the secrets an idempotent response remembers (its
/// record's key), so that revoking or replacing one of them can delete that one
/// stored copy (SPEC §3).
pub fn replay_distribution(record_key: &str) -> String {
    format!("{REPLAY_PREFIX}{record_key}")
}

/// The remembered response whose secrets belong to `distribution`, if any.
pub fn replay_of(distribution: &str) -> Option<&str> {
    distribution.strip_prefix(REPLAY_PREFIX)
}

/// The remembered response that holds a secret `old` had and `new` no longer has.
pub(crate) fn closed_replay(old: &Account, new: &Account) -> Option<String> {
    let closed = old.credentials.secret.as_ref()?;
    let still = new.credentials.secret.as_ref().is_some_and(|s| s.id == closed.id);
    // A request retried with its key replaces what its failed first run handed
    // out: the record it would delete is its own.
    let same_run = new
        .credentials
        .secret
        .as_ref()
        .is_some_and(|s| s.distribution == closed.distribution);
    if still || same_run {
        return None;
    }
    replay_of(closed.distribution.as_deref()?).map(str::to_owned)
}

impl Sesame {
    /// Deletes the remembered responses whose secrets were just revoked, replaced
    /// or used (a failure is logged: the record expires within 24 h anyway).
    pub(crate) async fn forget_replays(&self, keys: std::collections::BTreeSet<String>) {
        for key in keys {
            if let Err(e) = self.guards.release_idempotency(&key).await {
                tracing::error!(
                    error = format!("{:#}", anyhow::Error::from(e)),
                    "could not delete a remembered response"
                );
            }
        }
    }
}
