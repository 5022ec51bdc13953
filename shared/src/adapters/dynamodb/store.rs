//! The `Store` port over the DynamoDB functions of this adapter.

use super::{
    DynamoStore, accounts, audit, classes, create, distributions, expiring, exports, listing, schools,
    sessions,
};
use crate::domain::{
    Account, AccountId, AuditEvent, Class, ClassName, ExportJob, ImportJob, Login, School, SchoolId,
};
use crate::ports::{
    AccountFilter, AccountPage, AccountQuery, AccountStore, Attempt, AuditPage, AuditQuery, AuditStore,
    ExportStore, GuardStore, IdempotencyRecord, SchoolStore, StoreResult, StoredResponse, Throttle,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[async_trait]
impl SchoolStore for DynamoStore {
    async fn get_school(&self, id: &SchoolId) -> StoreResult<Option<School>> {
        schools::get_school(self, id).await
    }

    async fn put_school(&self, school: &School) -> StoreResult<()> {
        schools::put_school(self, school).await
    }

    async fn put_classes(&self, school: &SchoolId, classes: &[Class]) -> StoreResult<()> {
        classes::put_classes(self, school, classes).await
    }

    async fn list_classes(&self, school: &SchoolId) -> StoreResult<Vec<Class>> {
        classes::list_classes(self, school).await
    }

    async fn list_classes_with_students(&self, school: &SchoolId) -> StoreResult<Vec<(Class, u64)>> {
        classes::list_classes_with_students(self, school).await
    }
}

#[async_trait]
impl AccountStore for DynamoStore {
    async fn get_account(&self, school: &SchoolId, id: &AccountId) -> StoreResult<Option<Account>> {
        accounts::get(self, school, id).await
    }

    async fn get_accounts(&self, school: &SchoolId, ids: &[AccountId]) -> StoreResult<Vec<Account>> {
        accounts::get_many(self, school, ids).await
    }

    async fn find_by_login(&self, login: &Login) -> StoreResult<Option<Account>> {
        accounts::find_by_login(self, login).await
    }

    async fn create_accounts(&self, new: &[Account]) -> StoreResult<()> {
        create::create(self, new).await
    }

    async fn update_accounts(&self, changed: &[Account]) -> StoreResult<Vec<StoreResult<()>>> {
        accounts::update(self, changed).await
    }

    async fn list_accounts(&self, school: &SchoolId, query: &AccountQuery) -> StoreResult<AccountPage> {
        listing::list(self, school, query).await
    }

    async fn count_accounts(&self, school: &SchoolId, filter: &AccountFilter) -> StoreResult<u64> {
        listing::count(self, school, filter).await
    }

    async fn count_in_classes(
        &self,
        school: &SchoolId,
        classes: &[ClassName],
        filter: &AccountFilter,
    ) -> StoreResult<Vec<u64>> {
        listing::count_in_classes(self, school, classes, filter).await
    }

    async fn find_caller(&self, school: &SchoolId, sub: &str) -> StoreResult<Option<Account>> {
        accounts::find_caller(self, school, sub).await
    }
}

#[async_trait]
impl GuardStore for DynamoStore {
    async fn get_throttle(&self, key: &str) -> StoreResult<Option<Throttle>> {
        expiring::get_throttle(self, key).await
    }

    async fn count_attempt(&self, key: &str, now: DateTime<Utc>) -> StoreResult<Attempt> {
        expiring::count_attempt(self, key, now).await
    }

    async fn clear_throttle(&self, key: &str) -> StoreResult<()> {
        expiring::clear_throttle(self, key).await
    }

    async fn refund_attempt(&self, key: &str, now: DateTime<Utc>) -> StoreResult<()> {
        expiring::refund_attempt(self, key, now).await
    }

    /// Items carry a `ttl` for DynamoDB to delete them; the code checks expiry itself.
    async fn sweep_expired(&self, _now: DateTime<Utc>) -> StoreResult<u64> {
        Ok(0)
    }

    async fn claim_idempotency(
        &self,
        record: &IdempotencyRecord,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<IdempotencyRecord>> {
        expiring::claim_idempotency(self, record, now).await
    }

    async fn complete_idempotency(&self, key: &str, response: &StoredResponse) -> StoreResult<()> {
        expiring::complete_idempotency(self, key, response).await
    }

    async fn release_idempotency(&self, key: &str) -> StoreResult<()> {
        expiring::release_idempotency(self, key).await
    }
}

#[async_trait]
impl crate::ports::DistributionStore for DynamoStore {
    async fn put_distribution(&self, distribution: &crate::domain::Distribution) -> StoreResult<()> {
        distributions::put(self, distribution).await
    }

    async fn get_distribution(
        &self,
        school: &SchoolId,
        id: &str,
    ) -> StoreResult<Option<crate::domain::Distribution>> {
        distributions::get(self, school, id).await
    }

    async fn list_distributions(
        &self,
        school: &SchoolId,
        query: &crate::ports::DistributionQuery,
    ) -> StoreResult<crate::ports::DistributionPage> {
        distributions::list(self, school, query).await
    }
}

#[async_trait]
impl crate::ports::SessionStore for DynamoStore {
    async fn put_session(&self, session: &crate::domain::Session) -> StoreResult<()> {
        sessions::put(self, session).await
    }

    async fn get_session(&self, key: &str) -> StoreResult<Option<crate::domain::Session>> {
        sessions::get(self, key).await
    }

    async fn delete_session(&self, key: &str) -> StoreResult<()> {
        sessions::remove(self, key).await
    }
}

#[async_trait]
impl ExportStore for DynamoStore {
    async fn put_export(&self, job: &ExportJob) -> StoreResult<()> {
        exports::put_export(self, job).await
    }

    async fn get_export(&self, school: &SchoolId, id: &str) -> StoreResult<Option<ExportJob>> {
        exports::get_export(self, school, id).await
    }

    async fn put_import(&self, job: &ImportJob) -> StoreResult<()> {
        exports::put_import(self, job).await
    }

    async fn get_import(&self, school: &SchoolId, id: &str) -> StoreResult<Option<ImportJob>> {
        exports::get_import(self, school, id).await
    }
}

#[async_trait]
impl AuditStore for DynamoStore {
    async fn append_audit(&self, events: &[AuditEvent]) -> StoreResult<()> {
        audit::append(self, events).await
    }

    async fn list_audit(&self, school: &SchoolId, query: &AuditQuery) -> StoreResult<AuditPage> {
        audit::list(self, school, query).await
    }
}
