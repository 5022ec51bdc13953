//! Operations (use cases). Each takes the caller, checks the permission matrix,
//! works through the ports, and records an audit event for every change.

pub mod access;
pub mod accounts;
pub mod audit;
pub mod auth;
pub(crate) mod bulk;
pub mod commands;
pub mod console;
pub mod distributions;
pub mod email_state;
pub mod export;
pub mod import;
pub mod import_runs;
pub mod mail;
pub mod mail_runs;
pub mod replay;
pub mod reset;
pub mod roster;
pub mod secrets;
pub mod selfservice;
pub mod settings;
pub mod setup;

use crate::credentials::Hasher;
use crate::domain::{AccountId, AuditEvent, Caller, Error, Outcome, Result, School, SchoolId};
use crate::ports::{
    AccountStore, AuditStore, Clock, DistributionStore, ExportStore, FileStore, GuardStore, JobQueue, Mailer,
    SchoolStore, SessionStore, Store,
};
use crate::seal::Sealer;
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// Most accounts one audit event names; larger actions are recorded as several.
const AUDIT_TARGETS_PER_EVENT: usize = 500;

/// Everything the operations need: the ports and the deployment's keys.
#[derive(Clone)]
pub struct Sesame {
    /// The parts of the store, each named for what it keeps (one adapter behind all).
    pub schools: Arc<dyn SchoolStore>,
    pub accounts: Arc<dyn AccountStore>,
    pub guards: Arc<dyn GuardStore>,
    pub exports: Arc<dyn ExportStore>,
    pub distributions: Arc<dyn DistributionStore>,
    pub sessions: Arc<dyn SessionStore>,
    pub audit_log: Arc<dyn AuditStore>,
    pub clock: Arc<dyn Clock>,
    pub mailer: Arc<dyn Mailer>,
    pub files: Arc<dyn FileStore>,
    pub jobs: Arc<dyn JobQueue>,
    /// Admins' bulk hashing (resets, codes, imports).
    pub hasher: Hasher,
    /// Self-service checks (sign-in, activation, change), on a pool of its own with
    /// a bounded queue.
    pub checker: Hasher,
    /// Locks this process has seen lately (see `auth::KnownLocks`), where it alone
    /// answers sign-ins and unlocks for its store.
    pub locks: Option<std::sync::Arc<auth::KnownLocks>>,
    pub sealer: Sealer,
    /// The public base URL of this deployment (links in mail and files point here).
    pub public_url: String,
    /// Whether this deployment serves the sign-in page at `public_url/` (the
    /// edge's console), which fills in a login its address names.
    pub sign_in_page: bool,
    /// The deployment's sender address, for schools whose settings name none.
    pub sender: Option<crate::domain::Email>,
    /// The only identity the deployment may send from (the cloud's SES identity):
    /// a school's sender must belong to it.
    pub mail_identity: Option<crate::domain::MailIdentity>,
}

/// The adapters a deployment plugs into the ports.
pub struct Ports {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub mailer: Arc<dyn Mailer>,
    pub files: Arc<dyn FileStore>,
    pub jobs: Arc<dyn JobQueue>,
}

/// Who acts, for the audit log.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub name: &'a str,
    pub request_id: Option<&'a str>,
}

impl<'a> Actor<'a> {
    /// The caller of a request, by their token's subject.
    pub fn caller(caller: &'a Caller, request_id: Option<&'a str>) -> Self {
        Self {
            name: &caller.sub,
            request_id,
        }
    }
}

impl Sesame {
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The caller's school. A token naming a school that does not exist gets 404.
    pub async fn school(&self, id: &SchoolId) -> Result<School> {
        self.schools.get_school(id).await?.ok_or(Error::NotFound)
    }

    /// Records that `actor` did `action` to `targets`.
    pub async fn audit(
        &self,
        actor: Actor<'_>,
        school: &SchoolId,
        action: &str,
        targets: Vec<AccountId>,
        outcome: Outcome,
        detail: Option<String>,
    ) -> Result<()> {
        let at = self.now();
        let event = |targets: Vec<AccountId>| AuditEvent {
            id: format!("evt_{}", uuid::Uuid::new_v4().simple()),
            school: school.clone(),
            at,
            actor: actor.name.to_owned(),
            action: action.to_owned(),
            targets,
            outcome,
            request_id: actor.request_id.map(str::to_owned),
            detail: detail.clone(),
        };
        let events: Vec<AuditEvent> = if targets.is_empty() {
            vec![event(targets)]
        } else {
            targets
                .chunks(AUDIT_TARGETS_PER_EVENT)
                .map(|c| event(c.to_vec()))
                .collect()
        };
        Ok(self.audit_log.append_audit(&events).await?)
    }
}

/// One account's result in a bulk action.
#[derive(Debug)]
pub struct PerAccount<T> {
    pub account_id: AccountId,
    pub result: Result<T>,
}

impl<T> PerAccount<T> {
    /// The accounts of `results` whose action succeeded, for the audit log.
    pub fn succeeded(results: &[Self]) -> Vec<AccountId> {
        results
            .iter()
            .filter(|r| r.result.is_ok())
            .map(|r| r.account_id.clone())
            .collect()
    }

    /// The one result of a request about one account.
    pub fn only(results: Vec<Self>) -> Result<T> {
        results
            .into_iter()
            .next()
            .map_or(Err(Error::NotFound), |r| r.result)
    }
}
