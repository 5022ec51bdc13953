//! Distributions you can follow and recall (SPEC §4): every hand-out is recorded
//! with the accounts it covered; each account's secret keeps its state in that
//! account's ledger, so a distribution's view and its recall read the accounts
//! themselves. The follow-up of a class, the ledger of one account and unlocking
//! live here too.

use super::auth::Path;
use super::bulk::{Change, optimistic};
use super::{Actor, PerAccount, Sesame};
use crate::domain::{
    Account, AccountId, Activation, Caller, ClassName, Distribution, DistributionKind, Error, Outcome,
    Profile, Result, SecretNote, SecretState,
};
use crate::ports::{AccountFilter, DistributionQuery, StoreError};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// One account of a distribution, and the state of the secret it got there.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Handed {
    pub account_id: String,
    pub login: String,
    pub first_name: String,
    pub last_name: String,
    pub state: SecretState,
    pub expires_at: Option<DateTime<Utc>>,
    /// The account's mail state now, when it has an address (did the mail of a
    /// send-activation or a reset link arrive?).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_state: Option<crate::domain::EmailStatus>,
}

/// A distribution as its view shows it: the record and, per account the caller
/// may see, its secret's state now.
pub struct DistributionView {
    pub distribution: Distribution,
    pub accounts: Vec<Handed>,
}

/// A class's follow-up for one profile (students, or parents).
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct FollowUpCounts {
    pub total: u64,
    pub activated: u64,
    pub pending: u64,
    /// Pending, with a secret still open.
    pub open: u64,
    /// Pending, whose last secret expired.
    pub expired: u64,
    /// Pending, whose last secret was revoked or replaced without a new one open.
    pub revoked: u64,
    /// Pending, never handed a secret.
    pub never_handed_out: u64,
    /// Pending, whose mail did not arrive: the address bounced or complained
    /// (these families need a card instead).
    pub mail_not_delivered: u64,
}

/// Someone to chase: a pending account, and where their secret stands.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ToChase {
    pub account_id: String,
    pub profile: Profile,
    pub login: String,
    pub first_name: String,
    pub last_name: String,
    pub has_email: bool,
    /// The address's mail state, when there is an address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_state: Option<crate::domain::EmailStatus>,
    /// `open`, `expired`, `revoked`, `replaced`, or absent when never handed out.
    pub secret: Option<SecretState>,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FollowUp {
    pub class: String,
    pub students: FollowUpCounts,
    pub parents: FollowUpCounts,
    pub to_chase: Vec<ToChase>,
}

/// A path of sign-in that is locked, and until when.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LockState {
    /// `login` (sign-in and change of password) or `activate`.
    pub path: String,
    pub until: DateTime<Utc>,
}

/// One account's credential ledger: never a secret.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Ledger {
    pub account_id: String,
    pub has_password: bool,
    pub must_change_password: bool,
    pub password_changed_at: Option<DateTime<Utc>>,
    /// The secret outstanding now, if any.
    pub outstanding: Option<LedgerEntry>,
    /// Its recent secrets, newest first.
    pub history: Vec<LedgerEntry>,
    pub locks: Vec<LockState>,
    /// Whether mail reaches the account's address (absent without one): a
    /// mailed secret behind a bounced address never arrived.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_state: Option<crate::domain::EmailStateView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LedgerEntry {
    #[serde(flatten)]
    pub note: SecretNote,
    pub state: SecretState,
}

/// What a follow-up says of one pending account's last secret.
fn last_state(account: &Account, now: DateTime<Utc>) -> Option<(SecretState, DateTime<Utc>)> {
    let note = account.credentials.history.first()?;
    Some((note.state(now), note.expires_at))
}

impl Sesame {
    /// Records that `accounts` were handed secrets of distribution `id` (created on
    /// first use, merged after). Called by every road that issues secrets.
    pub(crate) async fn cover(
        &self,
        caller: &Caller,
        id: &str,
        kind: DistributionKind,
        accounts: &[&Account],
    ) -> Result<()> {
        if accounts.is_empty() {
            return Ok(());
        }
        let keep_days = self.school(&caller.school).await?.settings.audit_days;
        optimistic(|| async {
            let mut distribution = match self.distributions.get_distribution(&caller.school, id).await? {
                Some(found) => found,
                None => Distribution::done(
                    id.to_owned(),
                    caller.school.clone(),
                    kind,
                    &caller.sub,
                    self.now(),
                    keep_days,
                ),
            };
            distribution.cover(accounts.iter().map(|a| (&a.id, a.classes.as_slice())));
            if distribution.run.is_none() {
                distribution.total = distribution.accounts.len() as u64;
                distribution.processed = distribution.total;
            }
            match self.distributions.put_distribution(&distribution).await {
                Ok(()) => Ok(Some(())),
                Err(StoreError::Conflict) => Ok(None),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }

    /// The distribution `id`, if the caller may see it (else 404).
    /// A distribution past its `purge_at` is gone, whether or not the sweep (or
    /// DynamoDB's TTL, up to days late) has deleted it yet.
    pub async fn distribution(&self, caller: &Caller, id: &str) -> Result<Distribution> {
        let now = self.now();
        self.distributions
            .get_distribution(&caller.school, id)
            .await?
            .filter(|d| caller.may_see_distribution(d) && d.purge_at > now)
            .ok_or(Error::NotFound)
    }

    /// The distributions the caller may see, newest first (a teacher: theirs).
    /// `query.after` is set from `cursor`; answers the page and the next cursor.
    pub async fn list_distributions(
        &self,
        caller: &Caller,
        mut query: DistributionQuery,
        cursor: Option<&str>,
    ) -> Result<(Vec<Distribution>, Option<String>)> {
        query.after = cursor.map(super::audit::decode_cursor).transpose()?;
        if !caller.is_admin() {
            if query.actor.as_ref().is_some_and(|a| *a != caller.sub) {
                return Ok((Vec::new(), None));
            }
            query.actor = Some(caller.sub.clone());
        }
        let mut page = self
            .distributions
            .list_distributions(&caller.school, &query)
            .await?;
        let now = self.now();
        page.items.retain(|d| d.purge_at > now);
        let next = page
            .more
            .then(|| {
                page.items
                    .last()
                    .map(|d| super::audit::encode_cursor(d.created_at, &d.id))
            })
            .flatten();
        Ok((page.items, next))
    }

    /// A distribution with each account's secret state now (the accounts the
    /// caller may see).
    pub async fn view_distribution(&self, caller: &Caller, id: &str) -> Result<DistributionView> {
        let distribution = self.distribution(caller, id).await?;
        let now = self.now();
        let mut accounts = Vec::with_capacity(distribution.accounts.len());
        for chunk in distribution.accounts.chunks(500) {
            let found = self.accounts.get_accounts(&caller.school, chunk).await?;
            for id in chunk {
                let Some(account) = found.iter().find(|a| &a.id == id) else {
                    continue;
                };
                if !caller.can_see(account) {
                    continue;
                }
                // Recorded but never written (a refused or interrupted write), or
                // forgotten by the ledger long after: nothing of it to show.
                let Some(note) = account.credentials.note_of(&distribution.id) else {
                    continue;
                };
                accounts.push(Handed {
                    account_id: account.id.to_string(),
                    login: account.login.to_string(),
                    first_name: account.first_name.clone(),
                    last_name: account.last_name.clone(),
                    state: note.state(now),
                    expires_at: Some(note.expires_at),
                    email_state: account.email.is_some().then_some(account.email_state.status),
                });
            }
        }
        Ok(DistributionView {
            distribution,
            accounts,
        })
    }

    /// Revokes the still-open secrets that `distribution` gave `ids` (on behalf of
    /// `check`, asked per account); used secrets stay used. Answers each account's
    /// state afterwards.
    pub(crate) async fn revoke_secrets_of(
        &self,
        school: &crate::domain::SchoolId,
        ids: &[AccountId],
        distribution: &str,
        check: impl Fn(&Account) -> Result<()>,
    ) -> Result<Vec<PerAccount<SecretState>>> {
        let now = self.now();
        let written = self
            .update_each(school, ids, |account| {
                check(account)?;
                let open = account
                    .credentials
                    .secret
                    .as_ref()
                    .is_some_and(|s| s.distribution.as_deref() == Some(distribution));
                if !open {
                    return Ok(Change::Keep);
                }
                let mut next = account.clone();
                next.credentials.revoke(now);
                Ok(Change::Write(next))
            })
            .await?;
        Ok(written
            .into_iter()
            .map(|r| PerAccount {
                result: r.result.map(|a| {
                    a.credentials
                        .note_of(distribution)
                        .map_or(SecretState::Expired, |n| n.state(now))
                }),
                account_id: r.account_id,
            })
            .collect())
    }

    /// "This sheet is lost": revokes every still-open secret of the distribution,
    /// each account as the reset column allows.
    pub async fn revoke_distribution(
        &self,
        caller: &Caller,
        request_id: Option<&str>,
        id: &str,
    ) -> Result<Vec<PerAccount<SecretState>>> {
        let distribution = self.distribution(caller, id).await?;
        let results = self
            .revoke_secrets_of(&caller.school, &distribution.accounts, &distribution.id, |a| {
                Ok(caller.may_reset(a)?)
            })
            .await?;
        let done = PerAccount::succeeded(&results);
        let outcome = Outcome::of(done.len(), results.len());
        self.audit(
            Actor::caller(caller, request_id),
            &caller.school,
            "distribution.revoke",
            done,
            outcome,
            Some(format!("distribution={id}")),
        )
        .await?;
        Ok(results)
    }

    /// The activation follow-up of `class`: students and parents apart, and who
    /// to chase.
    pub async fn follow_up(&self, caller: &Caller, class: &ClassName) -> Result<FollowUp> {
        if !caller.may_follow(class) {
            return Err(Error::NotFound);
        }
        let filter = AccountFilter {
            classes: vec![class.clone()],
            profiles: vec![Profile::Student, Profile::Parent],
            ..AccountFilter::default()
        };
        let accounts = self.all_accounts(&caller.school, filter).await?;
        let now = self.now();
        let mut students = FollowUpCounts::default();
        let mut parents = FollowUpCounts::default();
        let mut to_chase = Vec::new();
        for account in accounts.iter().filter(|a| caller.can_see(a)) {
            let counts = match account.profile {
                Profile::Student => &mut students,
                _ => &mut parents,
            };
            counts.total += 1;
            if account.activation == Activation::Activated {
                counts.activated += 1;
                continue;
            }
            counts.pending += 1;
            if account.mail_blocked() {
                counts.mail_not_delivered += 1;
            }
            let last = last_state(account, now);
            match last.map(|(state, _)| state) {
                None => counts.never_handed_out += 1,
                Some(SecretState::Open) => counts.open += 1,
                Some(SecretState::Expired) => counts.expired += 1,
                Some(SecretState::Revoked | SecretState::Replaced | SecretState::Used) => counts.revoked += 1,
            }
            to_chase.push(ToChase {
                account_id: account.id.to_string(),
                profile: account.profile,
                login: account.login.to_string(),
                first_name: account.first_name.clone(),
                last_name: account.last_name.clone(),
                has_email: account.email.is_some(),
                email_state: account.email.is_some().then_some(account.email_state.status),
                secret: last.map(|(state, _)| state),
                expires_at: last.map(|(_, at)| at),
            });
        }
        Ok(FollowUp {
            class: class.to_string(),
            students,
            parents,
            to_chase,
        })
    }

    /// One account's credential ledger (as the reset column allows): never a secret.
    pub async fn ledger(&self, caller: &Caller, id: &AccountId) -> Result<Ledger> {
        let account = self.account_if(caller, id, Caller::may_reset).await?;
        let now = self.now();
        let entry = |note: &SecretNote| LedgerEntry {
            state: note.state(now),
            note: note.clone(),
        };
        let credentials = &account.credentials;
        let outstanding = credentials
            .secret
            .as_ref()
            .and_then(|s| credentials.history.iter().find(|n| n.id == s.id))
            .map(entry);
        let mut locks = Vec::new();
        for (path, name) in Path::OF_AN_ACCOUNT {
            let key = path.key(account.login.as_str());
            if let Some(until) = self
                .guards
                .get_throttle(&key)
                .await?
                .and_then(|t| t.locked_at(now))
            {
                locks.push(LockState {
                    path: name.to_owned(),
                    until,
                });
            }
        }
        Ok(Ledger {
            account_id: account.id.to_string(),
            has_password: credentials.has_password(),
            must_change_password: credentials.must_change_password,
            password_changed_at: credentials.password_changed_at,
            outstanding,
            history: credentials.history.iter().map(entry).collect(),
            locks,
            email_state: account
                .email
                .is_some()
                .then(|| crate::domain::EmailStateView::from(&account.email_state)),
        })
    }

    /// Clears the brute-force locks of `ids` (as the reset column allows), audited.
    pub async fn unlock(
        &self,
        caller: &Caller,
        request_id: Option<&str>,
        ids: &[AccountId],
    ) -> Result<Vec<PerAccount<()>>> {
        let found = self.accounts.get_accounts(&caller.school, ids).await?;
        let mut results = Vec::with_capacity(ids.len());
        for id in ids {
            let result = match found.iter().find(|a| &a.id == id) {
                None => Err(Error::NotFound),
                Some(account) => match caller.may_reset(account) {
                    Err(denied) => Err(denied.into()),
                    Ok(()) => {
                        for (path, _) in Path::OF_AN_ACCOUNT {
                            self.clear_attempts(&path.key(account.login.as_str())).await?;
                        }
                        Ok(())
                    }
                },
            };
            results.push(PerAccount {
                account_id: id.clone(),
                result,
            });
        }
        let done = PerAccount::succeeded(&results);
        let outcome = Outcome::of(done.len(), ids.len());
        self.audit(
            Actor::caller(caller, request_id),
            &caller.school,
            "account.unlock",
            done,
            outcome,
            None,
        )
        .await?;
        Ok(results)
    }
}
