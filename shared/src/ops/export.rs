//! Exports: a credential file built in the background (new temporary passwords,
//! activation codes, or identifiers), kept at most 24 hours and handed out through
//! links valid 15 minutes. Every export is an audit event listing its accounts.

use super::accounts::Selection;
use super::secrets::{Issuer, Minted};
use super::{Actor, Sesame};
use crate::domain::Code;
use crate::domain::{
    Account, AccountId, Action, Activation, Caller, DistributionKind, Error, ExportFile, ExportJob,
    ExportRequest, ExportStatus, Outcome, Result, School, SchoolId, Scope, SecretKind,
};
use crate::export::{self, Content, Document, Row, Secret};
use crate::ports::StoreError;
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
        mut request: ExportRequest,
    ) -> Result<ExportJob> {
        let school = self.school(&caller.school).await?;
        request.language.get_or_insert(school.settings.language);
        let total = match &request.scope {
            Scope::Ids(ids) => {
                let found = self.accounts.get_accounts(&caller.school, ids).await?;
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
                match self.export_filter(caller, selection, school.settings.retention_days) {
                    Some(filter) => self.accounts.count_accounts(&caller.school, &filter).await?,
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
            committing: None,
            version: 0,
        };
        self.exports.put_export(&job).await?;
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
            .exports
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
                self.may_still_have(caller, &job).await?;
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

    /// The role at the time of use decides (SPEC §2): a finished file is handed out
    /// only if the caller, as they are now, may have every account it covers in an
    /// export of its content; otherwise it answers as a missing export.
    async fn may_still_have(&self, caller: &Caller, job: &ExportJob) -> Result<()> {
        let made_by = &job.requested_by;
        let ids = match (
            self.distributions.get_distribution(&job.school, &job.id).await?,
            &job.request.scope,
        ) {
            // The accounts handed a secret, and those named (an activated
            // account's card, a line of identifiers).
            (Some(distribution), Scope::Ids(ids)) => {
                let mut all = distribution.accounts;
                all.extend(
                    ids.iter()
                        .filter(|id| !all.contains(id))
                        .cloned()
                        .collect::<Vec<_>>(),
                );
                all
            }
            (Some(distribution), Scope::Filter(_)) => distribution.accounts,
            (None, Scope::Ids(ids)) => ids.clone(),
            // A file of identifiers chosen by a filter names no account: the caller
            // must still be who made it.
            (None, Scope::Filter(_)) => {
                let same =
                    caller.role == made_by.role && made_by.classes.iter().all(|c| caller.classes.contains(c));
                return if same { Ok(()) } else { Err(Error::NotFound) };
            }
        };
        let content = job.request.content;
        // What the file shows of an account its maker could put in it, the caller
        // must be able to obtain now: its line, and its birth date if it has one.
        let refused = |a: &Account| {
            let in_file = may_export(made_by, content, a).is_ok();
            // Only a file of identifiers has a birth-date column.
            let shows_birth_date = content == Content::Identifiers
                && a.birth_date.is_some()
                && made_by.may(Action::SeeBirthDate, a).is_ok();
            in_file
                && (may_export(caller, content, a).is_err()
                    || (shows_birth_date && caller.may(Action::SeeBirthDate, a).is_err()))
        };
        for chunk in ids.chunks(100) {
            let accounts = self.accounts.get_accounts(&job.school, chunk).await?;
            if accounts.iter().any(refused) {
                return Err(Error::NotFound);
            }
        }
        Ok(())
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
        self.exports.put_export(&job).await?;
        let actor = Actor::caller(caller, request_id);
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

    /// Deletes the credential files that would be older than a day before the
    /// next sweep, which comes within `every`: no file outlives its day (SPEC §5).
    pub async fn sweep_exports(&self, every: Duration) -> Result<usize> {
        Ok(self.files.sweep(self.now() - (KEEP - every)).await?)
    }

    /// After a crash or a restart: a queued export is queued again; one that was
    /// running is failed (its secrets were not committed, so no password changed)
    /// and its file, if written, deleted.
    pub async fn recover_export(&self, job: ExportJob) -> Result<()> {
        match job.status {
            ExportStatus::Queued => Ok(self.jobs.enqueue(&job.school, &job.id).await?),
            ExportStatus::Running => self.fail_interrupted(job).await,
            _ => Ok(()),
        }
    }

    /// Ends an export a crash interrupted. Interrupted before its commit, it changed
    /// no password: it fails and its file goes. Interrupted after the whole commit
    /// (every secret of its file is its account's), it is done. Interrupted during
    /// a commit that is not atomic (DynamoDB, many accounts), the secrets it did
    /// hand out are revoked and it fails.
    async fn fail_interrupted(&self, mut job: ExportJob) -> Result<()> {
        let handed = match job.committing {
            Some(_) => self.handed_out_by(&job).await?,
            None => Vec::new(),
        };
        if job.committing.is_some_and(|n| n > 0 && n == handed.len() as u64) && job.file.is_some() {
            job.status = ExportStatus::Done;
            job.finished_at = Some(self.now());
            return self.save(job).await.map(drop);
        }
        if !handed.is_empty() {
            self.revoke_secrets_of(&job.school, &handed, &job.id, |_| Ok(()))
                .await?;
        }
        if let Some(file) = job.file.take() {
            self.files.delete(&file.key).await?;
        }
        job.status = ExportStatus::Failed;
        job.error = Some("the export was interrupted; none of its passwords works: make it again".to_owned());
        job.finished_at = Some(self.now());
        self.save(job).await.map(drop)
    }

    /// The accounts of `job`'s scope whose outstanding secret it handed out.
    async fn handed_out_by(&self, job: &ExportJob) -> Result<Vec<AccountId>> {
        let school = self.school(&job.school).await?;
        let accounts = self
            .export_accounts(&job.requested_by, &job.request, school.settings.retention_days)
            .await?;
        Ok(accounts
            .into_iter()
            .filter(|a| {
                a.credentials
                    .secret
                    .as_ref()
                    .and_then(|s| s.distribution.as_deref())
                    == Some(job.id.as_str())
            })
            .map(|a| a.id)
            .collect())
    }

    /// Builds the file of a queued export. A job found running was interrupted (a
    /// redelivered message after a crash): it is failed. Done or failed jobs are
    /// left alone.
    pub async fn run_export(&self, school: &SchoolId, id: &str) -> Result<()> {
        let Some(mut job) = self.exports.get_export(school, id).await? else {
            return Err(Error::NotFound);
        };
        if job.status == ExportStatus::Running {
            return self.fail_interrupted(job).await;
        }
        if job.status != ExportStatus::Queued {
            return Ok(());
        }
        job.status = ExportStatus::Running;
        job = self.save(job).await?;
        match self.build(&mut job).await {
            Ok(()) => Ok(()),
            Err(error) => {
                if let Error::Internal(source) | Error::Unavailable(source) = &error {
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
        match self.exports.put_export(&job).await {
            Ok(()) => Ok(ExportJob {
                version: job.version + 1,
                ..job
            }),
            Err(StoreError::Conflict) => Err(Error::conflict(Code::Conflict, "the export changed meanwhile")),
            Err(e) => Err(e.into()),
        }
    }

    /// Builds the file, crash-safe (SPEC §5): the secrets are made and hashed
    /// first, the file is written, and only then are the secrets handed to their
    /// accounts (on SQLite in one transaction) and the job marked done. A failure or
    /// a crash before that commit changes no password; an account that could not
    /// take its secret is left out of the file.
    async fn build(&self, job: &mut ExportJob) -> Result<()> {
        let caller = job.requested_by.clone();
        let school = self.school(&job.school).await?;
        let mut accounts = self
            .export_accounts(&caller, &job.request, school.settings.retention_days)
            .await?;
        let sort = job.request.sort;
        accounts.sort_by_cached_key(|a| (a.sort_key(sort), a.id.clone()));
        job.total = accounts.len() as u64;
        let content = job.request.content;
        let mut minted: Option<Minted> = None;
        for batch in accounts.chunks(BATCH) {
            let ids: Vec<AccountId> = batch
                .iter()
                .filter(|a| content != Content::Activation || a.activation == Activation::Pending)
                .map(|a| a.id.clone())
                .collect();
            let made = match content {
                Content::Identifiers => None,
                Content::Credentials => Some(
                    self.mint_passwords(&caller, &ids, SecretKind::TemporaryPassword)
                        .await?,
                ),
                Content::Activation => Some(self.mint_activation_codes(&caller, &ids).await?),
            };
            match (&mut minted, made) {
                (Some(all), Some(made)) => all.extend(made),
                (None, made) => minted = made,
                (Some(_), None) => {}
            }
            job.processed += batch.len() as u64;
            *job = self.save(job.clone()).await?;
        }
        let secret_of = |account: &Account| -> Option<Option<Secret>> {
            match content {
                Content::Identifiers => Some(None),
                Content::Activation if account.activation == Activation::Activated => {
                    Some(Some(Secret::HowToReset))
                }
                Content::Activation => {
                    let (code, expires_at) = minted.as_ref()?.get(&account.id)?;
                    Some(Some(Secret::ActivationCode { code, expires_at }))
                }
                Content::Credentials => {
                    let (password, expires_at) = minted.as_ref()?.get(&account.id)?;
                    Some(Some(Secret::TemporaryPassword { password, expires_at }))
                }
            }
        };
        let mut rows: Vec<(AccountId, Row)> = accounts
            .iter()
            .filter_map(|a| Some((a.id.clone(), row(&caller, a, secret_of(a)?))))
            .collect();
        let file = self.write_file(job, &school, &rows).await?;
        if let Some(minted) = minted {
            // What recovery needs to tell a commit done from one not begun.
            job.file = Some(file.clone());
            job.committing = Some(minted.ids().len() as u64);
            *job = self.save(job.clone()).await?;
            let by = Issuer {
                caller: &caller,
                distribution: Some((&job.id, DistributionKind::Export)),
            };
            let committed = self.commit(by, &minted.ids(), minted).await?;
            let lost: Vec<AccountId> = committed
                .into_iter()
                .filter(|r| r.result.is_err())
                .map(|r| r.account_id)
                .collect();
            if !lost.is_empty() {
                rows.retain(|(id, _)| !lost.contains(id));
                self.write_file(job, &school, &rows).await?;
            }
        }
        job.file = Some(file);
        job.status = ExportStatus::Done;
        job.finished_at = Some(self.now());
        *job = self.save(job.clone()).await?;
        let detail = format!(
            "export={} content={:?} format={:?}",
            job.id, job.request.content, job.request.format
        )
        .to_lowercase();
        let actor = Actor {
            name: &caller.sub,
            request_id: job.request_id.as_deref(),
        };
        let covered: Vec<AccountId> = rows.into_iter().map(|(id, _)| id).collect();
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

    /// Renders `rows` and stores the file under the job's key (a second call
    /// replaces it).
    async fn write_file(
        &self,
        job: &ExportJob,
        school: &School,
        rows: &[(AccountId, Row)],
    ) -> Result<ExportFile> {
        let format = job.request.format;
        let language = job.request.language.unwrap_or_default();
        let (content, per_page) = (job.request.content, job.request.per_page);
        let (school_name, login_url) = (school.name.clone(), school.settings.login_url.clone());
        let zone = school.settings.time_zone;
        let children = match format {
            export::Format::Pdf => self.children_of(&job.school, rows).await?,
            _ => HashMap::new(),
        };
        let activation_url = self.activation_url();
        let own_sign_in = self.sign_in_page && login_url == format!("{}/", self.public_url);
        let rows: Vec<Row> = rows.iter().map(|(_, row)| row.clone()).collect();
        // Rendering is CPU work: off the executor, with the rows dropped right after.
        let bytes = tokio::task::spawn_blocking(move || {
            let document = Document {
                school_name: &school_name,
                login_url: &login_url,
                language,
                zone,
                content,
                per_page,
                rows: &rows,
            };
            let cards = export::Cards {
                activation_url: &activation_url,
                own_sign_in,
                children: Some(&children),
            };
            export::render_with(format, &document, &cards)
        })
        .await
        .map_err(|e| Error::Internal(e.into()))??;
        let name = export::file_name(job.request.content, language, format, job.created_at);
        let key = format!(
            "exports/{}/{}-{}.{}",
            job.school,
            job.created_at.timestamp(),
            job.id,
            format.extension()
        );
        self.files.put(&key, bytes, export::content_type(format)).await?;
        Ok(ExportFile { key, name })
    }

    /// By login, the children a parent's card names ("Zoé Lefèvre (5A)").
    async fn children_of(
        &self,
        school: &crate::domain::SchoolId,
        rows: &[(AccountId, Row)],
    ) -> Result<HashMap<String, Vec<String>>> {
        let parents: Vec<&AccountId> = rows
            .iter()
            .filter(|(_, row)| row.profile == crate::domain::Profile::Parent)
            .map(|(id, _)| id)
            .collect();
        let mut found = Vec::with_capacity(parents.len());
        for chunk in parents.chunks(100) {
            let ids: Vec<AccountId> = chunk.iter().map(|id| (*id).clone()).collect();
            found.extend(self.accounts.get_accounts(school, &ids).await?);
        }
        let child_ids: Vec<AccountId> = found.iter().flat_map(|p| p.children.iter().cloned()).collect();
        let mut children = HashMap::new();
        for chunk in child_ids.chunks(100) {
            for child in self.accounts.get_accounts(school, chunk).await? {
                let mut classes: Vec<&str> = child.classes.iter().map(|c| c.as_str()).collect();
                classes.sort_unstable();
                let name = format!("{} {}", child.first_name, child.last_name);
                let named = match classes.is_empty() {
                    true => name,
                    false => format!("{name} ({})", classes.join(", ")),
                };
                children.insert(child.id.clone(), named);
            }
        }
        Ok(found
            .iter()
            .map(|parent| {
                let named = parent
                    .children
                    .iter()
                    .filter_map(|c| children.get(c).cloned())
                    .collect();
                (parent.login.to_string(), named)
            })
            .collect())
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
                    found.extend(self.accounts.get_accounts(&caller.school, chunk).await?);
                }
                found
            }
            Scope::Filter(selection) => {
                let Some(filter) = self.export_filter(caller, selection, retention) else {
                    return Ok(Vec::new());
                };
                self.all_accounts(&caller.school, filter).await?
            }
        };
        Ok(accounts
            .into_iter()
            .filter(|a| may_export(caller, request.content, a).is_ok())
            .collect())
    }
}

/// Who may have `account` in an export of `content`: the identifiers of those they
/// may distribute to; secrets only where they may obtain one (SPEC §2).
fn may_export(caller: &Caller, content: Content, account: &Account) -> Result<()> {
    caller.may(Action::ExportIdentifiers, account)?;
    match content {
        Content::Identifiers => Ok(()),
        Content::Credentials => caller.may_issue(account, SecretKind::TemporaryPassword),
        Content::Activation => caller.may_issue(account, SecretKind::ActivationCode),
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
        birth_date: account
            .birth_date
            .filter(|_| caller.may(Action::SeeBirthDate, account).is_ok()),
        profile: account.profile,
        secret,
    }
}
