//! The `Store` port over the SQLite functions: each call copies its arguments
//! and runs on the reader or writer connection off the executor.

use super::{SqliteStore, accounts, audit, distributions, exports, listing, other, sessions};
use crate::domain::{
    Account, AccountId, AuditEvent, Class, Distribution, ExportJob, ImportJob, Login, School, SchoolId,
    Session,
};
use crate::ports::{
    AccountFilter, AccountPage, AccountQuery, AccountStore, Attempt, AuditPage, AuditQuery, AuditStore,
    DistributionPage, DistributionQuery, DistributionStore, ExportStore, GuardStore, IdempotencyRecord,
    SchoolStore, SessionStore, StoreResult, StoredResponse, Throttle,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[async_trait]
impl SchoolStore for SqliteStore {
    async fn get_school(&self, id: &SchoolId) -> StoreResult<Option<School>> {
        let id = id.clone();
        self.read(move |c| other::get_school(c, &id)).await
    }

    async fn put_school(&self, school: &School) -> StoreResult<()> {
        let school = school.clone();
        self.write(move |c| other::put_school(c, &school)).await
    }

    async fn put_classes(&self, school: &SchoolId, classes: &[Class]) -> StoreResult<()> {
        let (school, classes) = (school.clone(), classes.to_vec());
        self.write(move |c| other::put_classes(c, &school, &classes))
            .await
    }

    async fn list_classes(&self, school: &SchoolId) -> StoreResult<Vec<Class>> {
        let school = school.clone();
        self.read(move |c| other::list_classes(c, &school)).await
    }

    async fn list_classes_with_students(&self, school: &SchoolId) -> StoreResult<Vec<(Class, u64)>> {
        let school = school.clone();
        self.read(move |c| other::list_classes_with_students(c, &school))
            .await
    }
}

#[async_trait]
impl AccountStore for SqliteStore {
    async fn get_account(&self, school: &SchoolId, id: &AccountId) -> StoreResult<Option<Account>> {
        let (school, id) = (school.clone(), id.clone());
        self.read(move |c| accounts::get(c, &school, &id)).await
    }

    async fn get_accounts(&self, school: &SchoolId, ids: &[AccountId]) -> StoreResult<Vec<Account>> {
        let (school, ids) = (school.clone(), ids.to_vec());
        self.read(move |c| accounts::get_many(c, &school, &ids)).await
    }

    async fn find_by_login(&self, login: &Login) -> StoreResult<Option<Account>> {
        let login = login.clone();
        self.read(move |c| accounts::find_by_login(c, &login)).await
    }

    async fn create_accounts(&self, new: &[Account]) -> StoreResult<()> {
        let new = new.to_vec();
        self.write(move |c| accounts::create(c, &new)).await
    }

    async fn update_accounts(&self, changed: &[Account]) -> StoreResult<Vec<StoreResult<()>>> {
        let changed = changed.to_vec();
        self.write(move |c| accounts::update(c, &changed)).await
    }

    async fn list_accounts(&self, school: &SchoolId, query: &AccountQuery) -> StoreResult<AccountPage> {
        let (school, query) = (school.clone(), query.clone());
        self.read(move |c| listing::list(c, &school, &query)).await
    }

    async fn count_accounts(&self, school: &SchoolId, filter: &AccountFilter) -> StoreResult<u64> {
        let (school, filter) = (school.clone(), filter.clone());
        self.read(move |c| listing::count(c, &school, &filter)).await
    }
}

#[async_trait]
impl GuardStore for SqliteStore {
    async fn get_throttle(&self, key: &str) -> StoreResult<Option<Throttle>> {
        let key = key.to_owned();
        self.read(move |c| other::get_throttle(c, &key)).await
    }

    async fn count_attempt(&self, key: &str, now: DateTime<Utc>) -> StoreResult<Attempt> {
        let key = key.to_owned();
        self.write(move |c| other::count_attempt(c, &key, now)).await
    }

    async fn clear_throttle(&self, key: &str) -> StoreResult<()> {
        let key = key.to_owned();
        self.write(move |c| other::clear_throttle(c, &key)).await
    }

    async fn refund_attempt(&self, key: &str, now: DateTime<Utc>) -> StoreResult<()> {
        let key = key.to_owned();
        self.write(move |c| other::refund_attempt(c, &key, now)).await
    }

    async fn sweep_expired(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        self.write(move |c| other::sweep_expired(c, now)).await
    }

    async fn claim_idempotency(
        &self,
        record: &IdempotencyRecord,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<IdempotencyRecord>> {
        let record = record.clone();
        self.write(move |c| other::claim_idempotency(c, &record, now))
            .await
    }

    async fn complete_idempotency(&self, key: &str, response: &StoredResponse) -> StoreResult<()> {
        let (key, response) = (key.to_owned(), response.clone());
        self.write(move |c| other::complete_idempotency(c, &key, &response))
            .await
    }

    async fn release_idempotency(&self, key: &str) -> StoreResult<()> {
        let key = key.to_owned();
        self.write(move |c| other::release_idempotency(c, &key)).await
    }
}

#[async_trait]
impl DistributionStore for SqliteStore {
    async fn put_distribution(&self, distribution: &Distribution) -> StoreResult<()> {
        let distribution = distribution.clone();
        self.write(move |c| distributions::put(c, &distribution)).await
    }

    async fn get_distribution(&self, school: &SchoolId, id: &str) -> StoreResult<Option<Distribution>> {
        let (school, id) = (school.clone(), id.to_owned());
        self.read(move |c| distributions::get(c, &school, &id)).await
    }

    async fn list_distributions(
        &self,
        school: &SchoolId,
        query: &DistributionQuery,
    ) -> StoreResult<DistributionPage> {
        let (school, query) = (school.clone(), query.clone());
        self.read(move |c| distributions::list(c, &school, &query)).await
    }
}

#[async_trait]
impl SessionStore for SqliteStore {
    async fn put_session(&self, session: &Session) -> StoreResult<()> {
        let session = session.clone();
        self.write(move |c| sessions::put(c, &session)).await
    }

    async fn get_session(&self, key: &str) -> StoreResult<Option<Session>> {
        let key = key.to_owned();
        self.read(move |c| sessions::get(c, &key)).await
    }

    async fn delete_session(&self, key: &str) -> StoreResult<()> {
        let key = key.to_owned();
        self.write(move |c| sessions::delete(c, &key)).await
    }
}

#[async_trait]
impl ExportStore for SqliteStore {
    async fn put_export(&self, job: &ExportJob) -> StoreResult<()> {
        let job = job.clone();
        self.write(move |c| exports::put_export(c, &job)).await
    }

    async fn get_export(&self, school: &SchoolId, id: &str) -> StoreResult<Option<ExportJob>> {
        let (school, id) = (school.clone(), id.to_owned());
        self.read(move |c| exports::get_export(c, &school, &id)).await
    }

    async fn put_import(&self, job: &ImportJob) -> StoreResult<()> {
        let job = job.clone();
        self.write(move |c| exports::put_import(c, &job)).await
    }

    async fn get_import(&self, school: &SchoolId, id: &str) -> StoreResult<Option<ImportJob>> {
        let (school, id) = (school.clone(), id.to_owned());
        self.read(move |c| exports::get_import(c, &school, &id)).await
    }
}

#[async_trait]
impl AuditStore for SqliteStore {
    async fn append_audit(&self, events: &[AuditEvent]) -> StoreResult<()> {
        let events = events.to_vec();
        self.write(move |c| audit::append(c, &events)).await
    }

    async fn list_audit(&self, school: &SchoolId, query: &AuditQuery) -> StoreResult<AuditPage> {
        let (school, query) = (school.clone(), query.clone());
        self.read(move |c| audit::list(c, &school, &query)).await
    }
}
