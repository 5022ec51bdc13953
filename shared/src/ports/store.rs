//! The store port. Its queries are shaped so that a key-value store with indexes
//! (DynamoDB) can answer them with key conditions: by id, by login, a school's
//! accounts in one sort order from a keyset position, a class's accounts, a school's
//! audit events newest first. Nothing here is SQL. Every state change is guarded by
//! a version (optimistic concurrency); expiring items carry `expires_at`, which the
//! operations check themselves.

pub use crate::credentials::throttle::{self, Attempt, Throttle};
use crate::domain::Code;
use crate::domain::{
    Access, Account, AccountId, Activation, AuditEvent, Class, ClassName, ExportJob, LocalAdmin, Login,
    Profile, School, SchoolId, Sort,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The item changed since it was read (version mismatch), or already exists.
    #[error("conflicting write")]
    Conflict,
    /// Another account already has this login.
    #[error("login {0} is taken")]
    LoginTaken(Login),
    #[error("storage backend failed")]
    Backend(#[source] anyhow::Error),
    /// The store did not answer, or answered "too busy": the same call may work in
    /// a moment (throttling, time-outs, 5xx; a locked or unreachable database).
    #[error("storage backend unavailable")]
    Unavailable(#[source] anyhow::Error),
}

impl StoreError {
    /// A failure of the store: `Unavailable` when it is one a retry may cure.
    pub fn backend(error: impl Into<anyhow::Error>) -> Self {
        let error = error.into();
        #[cfg(feature = "sqlite")]
        if let Some(rusqlite::Error::SqliteFailure(failure, _)) = error.downcast_ref::<rusqlite::Error>() {
            use rusqlite::ErrorCode::*;
            if matches!(
                failure.code,
                DatabaseBusy | DatabaseLocked | SystemIoFailure | CannotOpen | DiskFull
            ) {
                return Self::Unavailable(error);
            }
        }
        Self::Backend(error)
    }
}

impl From<StoreError> for crate::domain::Error {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict => {
                Self::conflict(Code::Conflict, "the resource changed meanwhile; try again")
            }
            StoreError::LoginTaken(login) => {
                Self::conflict(Code::LoginTaken, format!("the login {login} is taken"))
            }
            StoreError::Backend(source) => Self::Internal(source.context("store")),
            StoreError::Unavailable(source) => Self::Unavailable(source.context("store")),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Which accounts of a school a list, count or export covers. Every set condition
/// must hold; an empty list means "any".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountFilter {
    pub profiles: Vec<Profile>,
    /// At least one of the account's classes is among these.
    pub classes: Vec<ClassName>,
    /// A second class condition, for a teacher's scope: also among these.
    pub within_classes: Option<Vec<ClassName>>,
    pub level: Option<String>,
    pub group: Option<String>,
    pub access: Option<Access>,
    pub activation: Option<Activation>,
    /// `Some(true)`: has an e-mail address; `Some(false)`: has none.
    pub has_email: Option<bool>,
    /// Has an address, in this mail state.
    pub email_state: Option<crate::domain::EmailStatus>,
    pub local_admin: Option<LocalAdmin>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    /// Disabled at or after this instant.
    pub disabled_since: Option<DateTime<Utc>>,
    /// `Some((true, cutoff))`: disabled before `cutoff`; `Some((false, cutoff))`: not.
    pub pre_deletion: Option<(bool, DateTime<Utc>)>,
    /// Folded text that `Account::search_text` must contain.
    pub search: Option<String>,
}

impl AccountFilter {
    /// The same filter evaluated in memory: the definition every adapter must match.
    pub fn matches(&self, a: &Account) -> bool {
        let any_class = |set: &[ClassName]| a.classes.iter().any(|c| set.contains(c));
        (self.profiles.is_empty() || self.profiles.contains(&a.profile))
            && (self.classes.is_empty() || any_class(&self.classes))
            && self.within_classes.as_deref().is_none_or(any_class)
            && self.level.as_ref().is_none_or(|l| a.level.as_ref() == Some(l))
            && self.group.as_ref().is_none_or(|g| a.groups.contains(g))
            && self.access.is_none_or(|x| a.access == x)
            && self.activation.is_none_or(|x| a.activation == x)
            && self.has_email.is_none_or(|x| a.email.is_some() == x)
            && self
                .email_state
                .is_none_or(|x| a.email.is_some() && a.email_state.status == x)
            && self.local_admin.is_none_or(|x| a.local_admin == x)
            && self.created_from.is_none_or(|t| a.created_at >= t)
            && self.created_to.is_none_or(|t| a.created_at <= t)
            && self
                .disabled_since
                .is_none_or(|t| a.disabled_at.is_some_and(|d| d >= t))
            && self.pre_deletion.is_none_or(|(want, cutoff)| {
                let is = a.access == Access::Disabled && a.disabled_at.is_some_and(|d| d < cutoff);
                is == want
            })
            && self
                .search
                .as_ref()
                .is_none_or(|s| a.search_text().contains(s.as_str()))
    }
}

/// A keyset position: the sort key and id of the last item of the previous page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountCursor {
    pub key: String,
    pub id: AccountId,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AccountQuery {
    pub filter: AccountFilter,
    pub sort: Sort,
    pub after: Option<AccountCursor>,
    /// 1 to 500 (the operations clamp it).
    pub limit: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AccountPage {
    pub items: Vec<Account>,
    /// Whether more items follow the last one.
    pub more: bool,
    /// All the accounts that match the filter, on every page.
    pub total: u64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditQuery {
    pub account_id: Option<AccountId>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Newest first: the page starts after this `(at, id)`.
    pub before: Option<(DateTime<Utc>, String)>,
    pub limit: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuditPage {
    pub items: Vec<AuditEvent>,
    pub more: bool,
}

/// A remembered response to a bulk POST, so that a retry with the same
/// `Idempotency-Key` gets the same answer (its body is encrypted: it may hold
/// temporary passwords).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    pub key: String,
    /// A hash of the request, so that a key reused for another request is refused.
    pub fingerprint: String,
    /// `None` while the first request is still running.
    pub response: Option<StoredResponse>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredResponse {
    pub status: u16,
    /// Nonce and ciphertext of the JSON body.
    pub sealed_body: Vec<u8>,
}

/// Schools and their classes.
#[async_trait]
pub trait SchoolStore: Send + Sync {
    async fn get_school(&self, id: &SchoolId) -> StoreResult<Option<School>>;
    /// Creates the school when `school.version == 0`, otherwise writes it if the
    /// stored version is `school.version`; the stored version becomes one more.
    async fn put_school(&self, school: &School) -> StoreResult<()>;
    async fn put_classes(&self, school: &SchoolId, classes: &[Class]) -> StoreResult<()>;
    async fn list_classes(&self, school: &SchoolId) -> StoreResult<Vec<Class>>;
    /// The school's classes as `list_classes` gives them, each with its students:
    /// the accounts of profile student among its members (what `count_in_classes`
    /// says of them with the students' filter), from one read of the classes.
    async fn list_classes_with_students(&self, school: &SchoolId) -> StoreResult<Vec<(Class, u64)>>;
}

/// Accounts, each with its outstanding secret, by key, by login and by filter.
#[async_trait]
pub trait AccountStore: Send + Sync {
    async fn get_account(&self, school: &SchoolId, id: &AccountId) -> StoreResult<Option<Account>>;
    /// The accounts of `school` among `ids` that exist, in no particular order.
    async fn get_accounts(&self, school: &SchoolId, ids: &[AccountId]) -> StoreResult<Vec<Account>>;
    /// Looks a login up across the whole deployment (logins are global).
    async fn find_by_login(&self, login: &Login) -> StoreResult<Option<Account>>;
    /// Creates all of `accounts` or none: `LoginTaken` names a login already used,
    /// `Conflict` an id that exists. Versions are stored as 1.
    async fn create_accounts(&self, accounts: &[Account]) -> StoreResult<()>;
    /// Writes each account whose stored version is still `account.version`,
    /// storing `version + 1`; each item succeeds or fails (`Conflict`) on its own
    /// (a backend failure fails the call). The stored login is kept: an update never
    /// changes a login.
    async fn update_accounts(&self, accounts: &[Account]) -> StoreResult<Vec<StoreResult<()>>>;
    async fn list_accounts(&self, school: &SchoolId, query: &AccountQuery) -> StoreResult<AccountPage>;
    async fn count_accounts(&self, school: &SchoolId, filter: &AccountFilter) -> StoreResult<u64>;

    /// For each of `classes`, in order, what `count_accounts` says of `filter`
    /// narrowed to that class. A store that reads a school's accounts in one go
    /// counts every class from that one read.
    async fn count_in_classes(
        &self,
        school: &SchoolId,
        classes: &[ClassName],
        filter: &AccountFilter,
    ) -> StoreResult<Vec<u64>> {
        let mut counts = Vec::with_capacity(classes.len());
        for class in classes {
            let filter = AccountFilter {
                classes: vec![class.clone()],
                ..filter.clone()
            };
            counts.push(self.count_accounts(school, &filter).await?);
        }
        Ok(counts)
    }

    /// The account a bearer token's `sub` names in `school`: by id, else by
    /// login (logins are global, so one of another school is none). Its
    /// outstanding secret may be left out: a caller's checks need the account.
    async fn find_caller(&self, school: &SchoolId, sub: &str) -> StoreResult<Option<Account>> {
        if let Ok(id) = AccountId::parse(sub)
            && let Some(account) = self.get_account(school, &id).await?
        {
            return Ok(Some(account));
        }
        let Ok(login) = Login::parse(sub) else {
            return Ok(None);
        };
        let account = self.find_by_login(&login).await?;
        Ok(account.filter(|a| a.school == *school))
    }
}

/// The guards: brute-force counters and idempotency records, which expire.
#[async_trait]
pub trait GuardStore: Send + Sync {
    async fn get_throttle(&self, key: &str) -> StoreResult<Option<Throttle>>;
    /// Counts one attempt on `key` at `now` as [`throttle::admit`] says, atomically:
    /// however many callers count at once, each sees the count the others left.
    async fn count_attempt(&self, key: &str, now: DateTime<Utc>) -> StoreResult<Attempt>;
    /// Forgets the attempts and any lock on `key` (a success, or an unlock).
    async fn clear_throttle(&self, key: &str) -> StoreResult<()>;
    /// Gives back one attempt counted on `key` at `now` as [`throttle::refund`]
    /// says (an attempt that turned out genuine on a path counted per client).
    async fn refund_attempt(&self, key: &str, now: DateTime<Utc>) -> StoreResult<()>;
    /// Deletes the expiring items (counters, idempotency records) that expired
    /// before `now`; a store whose items expire by themselves (TTL) does nothing.
    async fn sweep_expired(&self, now: DateTime<Utc>) -> StoreResult<u64>;
    /// Stores `record` unless a record with its key exists that has not expired at
    /// `now`; answers that existing record instead.
    async fn claim_idempotency(
        &self,
        record: &IdempotencyRecord,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<IdempotencyRecord>>;
    /// Stores the response of a claimed key (a key that expired meanwhile: no-op).
    async fn complete_idempotency(&self, key: &str, response: &StoredResponse) -> StoreResult<()>;
    async fn release_idempotency(&self, key: &str) -> StoreResult<()>;
}

/// Background jobs: exports, and imports of uploaded rosters.
#[async_trait]
pub trait ExportStore: Send + Sync {
    /// Creates the job when `job.version == 0`, otherwise writes it if the stored
    /// version is `job.version`; the stored version becomes one more.
    async fn put_export(&self, job: &ExportJob) -> StoreResult<()>;
    async fn get_export(&self, school: &SchoolId, id: &str) -> StoreResult<Option<ExportJob>>;
    /// Like [`put_export`](Self::put_export), for an import job.
    async fn put_import(&self, job: &crate::domain::ImportJob) -> StoreResult<()>;
    async fn get_import(&self, school: &SchoolId, id: &str) -> StoreResult<Option<crate::domain::ImportJob>>;
}

/// The audit log.
#[async_trait]
pub trait AuditStore: Send + Sync {
    async fn append_audit(&self, events: &[AuditEvent]) -> StoreResult<()>;
    async fn list_audit(&self, school: &SchoolId, query: &AuditQuery) -> StoreResult<AuditPage>;
}

/// Which distributions to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct DistributionQuery {
    /// Covering an account of this class.
    pub class: Option<crate::domain::ClassName>,
    pub actor: Option<String>,
    pub kind: Option<crate::domain::DistributionKind>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// The cursor: the `(created_at, id)` of the last item of the previous page.
    pub after: Option<(DateTime<Utc>, String)>,
    pub limit: usize,
}

pub struct DistributionPage {
    pub items: Vec<crate::domain::Distribution>,
    /// More follow after the last item.
    pub more: bool,
}

/// Distributions (SPEC §4), forgotten after their `purge_at`.
#[async_trait]
pub trait DistributionStore: Send + Sync {
    /// Creates it when `version == 0`, otherwise writes it if the stored version is
    /// `version`; the stored version becomes one more.
    async fn put_distribution(&self, distribution: &crate::domain::Distribution) -> StoreResult<()>;
    async fn get_distribution(
        &self,
        school: &SchoolId,
        id: &str,
    ) -> StoreResult<Option<crate::domain::Distribution>>;
    /// Newest first; items may come without their `accounts` and `results`.
    async fn list_distributions(
        &self,
        school: &SchoolId,
        query: &DistributionQuery,
    ) -> StoreResult<DistributionPage>;
}

/// Console sessions (SPEC §11), forgotten once they end.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Creates it when `version == 0`, otherwise writes it if the stored version is
    /// `version`; the stored version becomes one more.
    async fn put_session(&self, session: &crate::domain::Session) -> StoreResult<()>;
    async fn get_session(&self, key: &str) -> StoreResult<Option<crate::domain::Session>>;
    /// Deleting a missing session is not an error.
    async fn delete_session(&self, key: &str) -> StoreResult<()>;
}

/// The whole store: each operation calls the parts it uses; an adapter implements
/// each part, and is a `Store` by that alone.
pub trait Store:
    SchoolStore + AccountStore + GuardStore + ExportStore + AuditStore + DistributionStore + SessionStore
{
}

impl<T> Store for T where
    T: SchoolStore + AccountStore + GuardStore + ExportStore + AuditStore + DistributionStore + SessionStore
{
}
