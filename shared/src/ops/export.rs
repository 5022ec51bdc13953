//! Exports: a credential file built in the background (new temporary passwords,
//! activation codes, or identifiers), kept at most 24 hours and handed out through
//! links valid 15 minutes. Every export is an audit event listing its accounts.

use super::accounts::Selection;
use super::reset::ResetMethod;
use super::secrets::{Issuer, may_issue};
use super::{Actor, Sesame};
use crate::domain::{
    Account, AccountId, Activation, Caller, Error, ExportFile, ExportJob, ExportRequest, ExportStatus,
    Outcome, Result, SchoolId, Scope, Sort,
};
use crate::export::{self, Content, Document, Row, Secret};
use crate::ports::{AccountCursor, AccountQuery, StoreError};
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;

/// How long a credential file is kept.
pub const KEEP: Duration = Duration::hours(24);
/// How long a download link is valid.
pub const LINK_VALIDITY: Duration = Duration::minutes(15);
/// Most accounts one export may name by id (a filter may select a whole school).
pub const MAX_EXPORT_IDS: usize = 10_000;
/// Accounts whose secrets are made and saved at a time (progress moves by as much).
const BATCH: usize = 100;

/// A job as its requester sees it, with a fresh link when its file is ready.
pub struct ExportView {
    pub job: ExportJob,
    pub download: Option<(String, DateTime<Utc>)>,
}

impl Sesame {
    /// Queues an export of the caller's school; the file is built in the background.
    pub async fn create_export(
        &self,
        caller: &Caller,
        request_id: Option<&str>,
        request: ExportRequest,
    ) -> Result<ExportJob> {
        let total = match &request.scope {
            Scope::Ids(ids) => {
                let found = self.store.get_accounts(&caller.school, ids).await?;
                let refusal = |id: &AccountId| match found.iter().find(|a| &a.id == id) {
                    None => Some("no such account"),
                    Some(a) => match may_export(caller, request.content, a) {
                        Ok(()) => None,
                        Err(Error::NotFound) => Some("no such account"),
                        Err(_) => Some("you may not export this account's credentials"),
                    },
                };
                let errors: Vec<_> = ids
                    .iter()
                    .enumerate()
                    .filter_map(|(i, id)| {
                        let why = refusal(id)?;
                        Some(crate::domain::FieldError::new(format!("account_ids[{i}]"), why))
                    })
                    .collect();
                if !errors.is_empty() {
                    return Err(Error::Validation(errors));
                }
                ids.len() as u64
            }
            Scope::Filter(selection) => {
                let school = self.school(&caller.school).await?;
                match self.export_filter(caller, selection, school.settings.retention_days) {
                    Some(filter) => self.store.count_accounts(&caller.school, &filter).await?,
                    None => 0,
                }
            }
        };
        let now = self.now();
        let job = ExportJob {
            id: format!("exp_{}", uuid::Uuid::new_v4().simple()),
            school: caller.school.clone(),
            requested_by: caller.clone(),
            request_id: request_id.map(str::to_owned),
            request,
            status: ExportStatus::Queued,
            processed: 0,
            total,
            file: None,
            error: None,
            created_at: now,
            finished_at: None,
            delete_after: now + KEEP,
            version: 0,
        };
        self.store.put_export(&job).await?;
        self.jobs.enqueue(&job.school, &job.id).await?;
        Ok(ExportJob { version: 1, ..job })
    }

    fn export_filter(
        &self,
        caller: &Caller,
        selection: &Selection,
        retention: u32,
    ) -> Option<crate::ports::AccountFilter> {
        let mut filter = selection.to_filter(caller, self.now(), retention)?;
        if !caller.is_admin() {
            // Teachers export their students only (not the parents they may see).
            filter.profiles.retain(|p| *p == crate::domain::Profile::Student);
            if filter.profiles.is_empty() {
                return None;
            }
        }
        Some(filter)
    }

    /// An export of the caller's school that the caller made: exports belong to
    /// whoever made them (SPEC §2), anyone else gets 404.
    pub async fn get_export(&self, caller: &Caller, id: &str) -> Result<ExportView> {
        let job = self
            .store
            .get_export(&caller.school, id)
            .await?
            .ok_or(Error::NotFound)?;
        if job.requested_by.sub != caller.sub {
            return Err(Error::NotFound);
        }
        let now = self.now();
        let mut job = job;
        if job.status == ExportStatus::Done && now >= job.delete_after {
            job.status = ExportStatus::Deleted;
        }
        let download = match (&job.status, &job.file) {
            (ExportStatus::Done, Some(file)) => {
                let expires_at = (now + LINK_VALIDITY).min(job.delete_after);
                Some((
                    self.files.link(&file.key, &file.name, now, expires_at).await?,
                    expires_at,
                ))
            }
            _ => None,
        };
        Ok(ExportView { job, download })
    }

    /// Deletes an export's file now.
    pub async fn delete_export(
        &self,
        caller: &Caller,
        request_id: Option<&str>,
        id: &str,
    ) -> Result<ExportJob> {
        let view = self.get_export(caller, id).await?;
        let mut job = view.job;
        if let Some(file) = &job.file {
            self.files.delete(&file.key).await?;
        }
        job.status = ExportStatus::Deleted;
        job.file = None;
        self.store.put_export(&job).await?;
        let actor = Actor {
            name: &caller.sub,
            request_id,
        };
        self.audit(
            actor,
            &caller.school,
            "export.delete",
            vec![],
            Outcome::Ok,
            Some(format!("export={id}")),
        )
        .await?;
        Ok(ExportJob {
            version: job.version + 1,
            ..job
        })
    }

    /// Deletes every credential file older than a day (run periodically).
    pub async fn sweep_exports(&self) -> Result<usize> {
        Ok(self.files.sweep(self.now() - KEEP).await?)
    }

    /// Builds the file of a queued export. Running it again for a job that is no
    /// longer queued does nothing (a redelivered message).
    pub async fn run_export(&self, school: &SchoolId, id: &str) -> Result<()> {
        let Some(mut job) = self.store.get_export(school, id).await? else {
            return Err(Error::NotFound);
        };
        if job.status != ExportStatus::Queued {
            return Ok(());
        }
        job.status = ExportStatus::Running;
        job = self.save(job).await?;
        match self.build(&mut job).await {
            Ok(()) => Ok(()),
            Err(error) => {
                if let Error::Internal(source) = &error {
                    tracing::error!(export = id, error = format!("{source:#}"), "export failed");
                }
                job.status = ExportStatus::Failed;
                job.error = Some(error.detail());
                job.finished_at = Some(self.now());
                self.save(job).await.map(drop)
            }
        }
    }

    async fn save(&self, job: ExportJob) -> Result<ExportJob> {
        match self.store.put_export(&job).await {
            Ok(()) => Ok(ExportJob {
                version: job.version + 1,
                ..job
            }),
            Err(StoreError::Conflict) => Err(Error::conflict("conflict", "the export changed meanwhile")),
            Err(e) => Err(e.into()),
        }
    }

    async fn build(&self, job: &mut ExportJob) -> Result<()> {
        let caller = job.requested_by.clone();
        let school = self.school(&job.school).await?;
        let mut accounts = self
            .export_accounts(&caller, &job.request, school.settings.retention_days)
            .await?;
        let sort = job.request.sort;
        accounts.sort_by_cached_key(|a| (a.sort_key(sort), a.id.clone()));
        job.total = accounts.len() as u64;
        let mut rows = Vec::with_capacity(accounts.len());
        let mut covered = Vec::with_capacity(accounts.len());
        for batch in accounts.chunks(BATCH) {
            let secrets = self.secrets(&caller, job, batch).await?;
            for account in batch {
                if let Some(secret) = secrets.get(&account.id) {
                    covered.push(account.id.clone());
                    rows.push(row(&caller, account, secret.clone()));
                }
            }
            job.processed += batch.len() as u64;
            *job = self.save(job.clone()).await?;
        }
        let format = job.request.format;
        let (language, content, per_page) = (job.request.language, job.request.content, job.request.per_page);
        // Rendering is CPU work: off the executor, with the rows dropped right after.
        let bytes = tokio::task::spawn_blocking(move || {
            let document = Document {
                school_name: &school.name,
                login_url: &school.settings.login_url,
                language,
                content,
                per_page,
                rows: &rows,
            };
            export::render(format, &document)
        })
        .await
        .map_err(|e| Error::Internal(e.into()))??;
        let name = export::file_name(job.request.content, job.request.language, format, job.created_at);
        let key = format!(
            "exports/{}/{}-{}.{}",
            job.school,
            job.created_at.timestamp(),
            job.id,
            format.extension()
        );
        self.files.put(&key, bytes, export::content_type(format)).await?;
        job.file = Some(ExportFile { key, name });
        job.status = ExportStatus::Done;
        job.finished_at = Some(self.now());
        *job = self.save(job.clone()).await?;
        let detail = format!(
            "export={} content={:?} format={:?}",
            job.id, job.request.content, format
        )
        .to_lowercase();
        let actor = Actor {
            name: &caller.sub,
            request_id: job.request_id.as_deref(),
        };
        let outcome = Outcome::of(covered.len(), job.total as usize);
        self.audit(
            actor,
            &job.school,
            "export.create",
            covered,
            outcome,
            Some(detail),
        )
        .await
    }

    /// The accounts the export covers, as its requester may export them.
    async fn export_accounts(
        &self,
        caller: &Caller,
        request: &ExportRequest,
        retention: u32,
    ) -> Result<Vec<Account>> {
        let accounts = match &request.scope {
            Scope::Ids(ids) => {
                let mut found = Vec::with_capacity(ids.len());
                for chunk in ids.chunks(100) {
                    found.extend(self.store.get_accounts(&caller.school, chunk).await?);
                }
                found
            }
            Scope::Filter(selection) => {
                let Some(filter) = self.export_filter(caller, selection, retention) else {
                    return Ok(Vec::new());
                };
                let mut all = Vec::new();
                let mut query = AccountQuery {
                    filter,
                    sort: Sort::Name,
                    after: None,
                    limit: 500,
                };
                loop {
                    let page = self.store.list_accounts(&caller.school, &query).await?;
                    query.after = page.items.last().map(|a| AccountCursor {
                        key: a.sort_key(Sort::Name),
                        id: a.id.clone(),
                    });
                    all.extend(page.items);
                    if !page.more {
                        break all;
                    }
                }
            }
        };
        Ok(accounts
            .into_iter()
            .filter(|a| may_export(caller, request.content, a).is_ok())
            .collect())
    }

    /// What each account of `batch` gets in the file; accounts that cannot be
    /// covered (a federated account's password, say) are left out.
    async fn secrets(
        &self,
        caller: &Caller,
        job: &ExportJob,
        batch: &[Account],
    ) -> Result<HashMap<AccountId, Option<Secret>>> {
        let ids: Vec<AccountId> = batch.iter().map(|a| a.id.clone()).collect();
        let mut out = HashMap::with_capacity(batch.len());
        match job.request.content {
            Content::Identifiers => {
                out.extend(ids.into_iter().map(|id| (id, None)));
            }
            Content::Credentials => {
                let issued = self
                    .reset_passwords(
                        caller,
                        job.request_id.as_deref(),
                        &ids,
                        ResetMethod::Temporary,
                        Some(&job.id),
                    )
                    .await?;
                for item in issued {
                    if let Ok(issued) = item.result {
                        let expires_at = issued.expires_at.unwrap_or(job.delete_after);
                        out.insert(
                            item.account_id,
                            Some(Secret::TemporaryPassword {
                                password: issued.password,
                                expires_at,
                            }),
                        );
                    }
                }
            }
            Content::Activation => {
                let pending: Vec<AccountId> = batch
                    .iter()
                    .filter(|a| a.activation == Activation::Pending && !a.is_federated())
                    .map(|a| a.id.clone())
                    .collect();
                for a in batch.iter().filter(|a| a.activation == Activation::Activated) {
                    out.insert(a.id.clone(), Some(Secret::HowToReset));
                }
                let by = Issuer {
                    caller,
                    distribution: Some(&job.id),
                };
                for item in self.issue_activation_codes(by, &pending).await? {
                    if let Ok((code, expires_at)) = item.result {
                        out.insert(item.account_id, Some(Secret::ActivationCode { code, expires_at }));
                    }
                }
            }
        }
        Ok(out)
    }
}

/// Who may have `account` in an export of `content`: the identifiers of those they
/// may distribute to; secrets only where they may obtain one (SPEC §2).
fn may_export(caller: &Caller, content: Content, account: &Account) -> Result<()> {
    caller.may_distribute(account)?;
    match content {
        Content::Identifiers => Ok(()),
        Content::Credentials | Content::Activation => may_issue(caller, account),
    }
}

/// A row of the file; birth dates only for the two admin roles (SPEC §2).
fn row(caller: &Caller, account: &Account, secret: Option<Secret>) -> Row {
    let mut classes: Vec<&str> = account.classes.iter().map(|c| c.as_str()).collect();
    classes.sort_unstable();
    Row {
        class: classes.join(", "),
        first_name: account.first_name.clone(),
        last_name: account.last_name.clone(),
        login: account.login.to_string(),
        birth_date: account.birth_date.filter(|_| caller.is_admin()),
        profile: account.profile,
        secret,
    }
}
