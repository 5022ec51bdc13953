//! Imports of rosters too large for one request (a Lambda request carries 6 MB):
//! the administrator asks for an upload link, puts the file there, then starts
//! the import, which the edge's task or the cloud's stream worker runs, recording
//! its progress and its report. The uploaded file is deleted once the run ends.
//!
//! An upload is imported at most once (the job's id comes from the upload's); a
//! dry run may read it first. A run interrupted before it writes is run again; one
//! interrupted while writing is reported as such, never run twice.

use super::Sesame;
use super::bulk::optimistic;
use super::import::ImportOptions;
use super::import::Progress;
use super::roster::{RosterKind, read_file};
use crate::domain::{Caller, Code, Error, ImportJob, Result, RunStatus, SchoolId};
use crate::ops::import::ImportReport;
use crate::ports::StoreError;
use crate::ports::files::MAX_UPLOAD_BYTES;
use chrono::{DateTime, Duration, Utc};

/// How long an upload link accepts the file.
pub const UPLOAD_VALIDITY: Duration = Duration::minutes(15);
/// Runs begun of one job at most: the cloud's stream delivers a record three
/// times (`MaximumRetryAttempts: 2`), the third delivery ends a job cut short twice.
const MAX_ATTEMPTS: u32 = 2;
/// Row errors a job's record keeps (a DynamoDB item holds 400 KB); the count of
/// the others follows them.
const KEPT_ERRORS: usize = 1000;

/// Where to put a roster, and until when.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Upload {
    /// Give it to `POST /v1/imports/jobs` once the file is uploaded.
    #[schema(pattern = r"^[0-9]{1,12}-[0-9a-f]{32}$")]
    pub upload_id: String,
    /// Send the roster (CSV or XLSX, at most 64 MiB) here with `PUT`.
    pub url: String,
    pub method: UploadMethod,
    pub max_bytes: u64,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub enum UploadMethod {
    #[serde(rename = "PUT")]
    Put,
}

/// The file store's key of upload `id` of `school`, when `id` is one that
/// [`Sesame::create_upload`] makes (`<unix seconds>-<32 hex digits>`).
fn upload_key(school: &SchoolId, id: &str) -> Option<String> {
    let (time, random) = id.split_once('-')?;
    let well_formed = (1..=12).contains(&time.len())
        && time.bytes().all(|b| b.is_ascii_digit())
        && random.len() == 32
        && random.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    well_formed.then(|| format!("uploads/{school}/{id}"))
}

/// Follows a run's writing in its job record.
struct JobProgress<'a> {
    sesame: &'a Sesame,
    school: &'a SchoolId,
    id: &'a str,
}

#[async_trait::async_trait]
impl Progress for JobProgress<'_> {
    async fn writing(&self, _: usize) -> Result<()> {
        self.sesame
            .update_import(self.school, self.id, |job| job.writing = true)
            .await
            .map(drop)
    }

    /// Progress only: a failed write of it does not stop the import.
    async fn written(&self, count: usize) -> Result<()> {
        let saved = self
            .sesame
            .update_import(self.school, self.id, |job| job.processed += count as u64)
            .await;
        if let Err(e) = saved {
            tracing::warn!(import = self.id, error = %e, "an import's progress could not be saved");
        }
        Ok(())
    }
}

impl Sesame {
    /// A link to upload a roster to (administrators only).
    pub async fn create_upload(&self, caller: &Caller) -> Result<Upload> {
        Self::may_import(caller)?;
        let now = self.now();
        let upload_id = format!("{}-{}", now.timestamp(), uuid::Uuid::new_v4().simple());
        let key = upload_key(&caller.school, &upload_id)
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("an upload id that upload_key refuses")))?;
        let expires_at = now + UPLOAD_VALIDITY;
        let url = self
            .files
            .upload_link(&key, now, expires_at)
            .await
            .map_err(Error::Internal)?;
        Ok(Upload {
            upload_id,
            url,
            method: UploadMethod::Put,
            max_bytes: MAX_UPLOAD_BYTES,
            expires_at,
        })
    }

    /// Queues the import of upload `upload_id` (administrators only).
    pub async fn start_import(
        &self,
        caller: &Caller,
        request_id: Option<&str>,
        upload_id: &str,
        dry_run: bool,
        options: ImportOptions,
    ) -> Result<ImportJob> {
        Self::may_import(caller)?;
        let key = upload_key(&caller.school, upload_id)
            .ok_or_else(|| Error::invalid("upload_id", "is not an id that POST /v1/imports/uploads gave"))?;
        // The first job of an upload seals it: the link takes no other file, and
        // every run (the dry run, then the real one) reads the bytes sealed.
        let Some(key) = self.files.seal(&key).await.map_err(Error::Internal)? else {
            return Err(Error::conflict(
                Code::Conflict,
                "nothing was uploaded with this upload_id (yet), or it is older than a day",
            ));
        };
        match self.files.size(&key).await.map_err(Error::Internal)? {
            None => {
                return Err(Error::conflict(
                    Code::Conflict,
                    "nothing was uploaded with this upload_id (yet), or it was already imported, or it is older than a day",
                ));
            }
            Some(size) if size > MAX_UPLOAD_BYTES => {
                return Err(Error::invalid(
                    "upload_id",
                    format!("the uploaded file is larger than {} MiB", MAX_UPLOAD_BYTES >> 20),
                ));
            }
            Some(_) => {}
        }
        let random = upload_id.split_once('-').map_or(upload_id, |(_, r)| r);
        // A real run's id is the upload's: a second start of it is refused.
        let id = if dry_run {
            ImportJob::new_id()
        } else {
            format!("imp_{random}")
        };
        let job = ImportJob {
            options,
            ..ImportJob::queued(
                id,
                caller.clone(),
                request_id.map(str::to_owned),
                key,
                dry_run,
                self.now(),
            )
        };
        match self.exports.put_import(&job).await {
            Ok(()) => {}
            Err(StoreError::Conflict) => {
                return Err(Error::conflict(
                    Code::Conflict,
                    format!("this upload is already being imported: follow {}", job.id),
                ));
            }
            Err(e) => return Err(e.into()),
        }
        self.jobs
            .enqueue(&job.school, &job.id)
            .await
            .map_err(Error::Internal)?;
        Ok(ImportJob { version: 1, ..job })
    }

    /// An import job of the caller's school (administrators only).
    pub async fn get_import(&self, caller: &Caller, id: &str) -> Result<ImportJob> {
        Self::may_import(caller)?;
        if !ImportJob::is_id(id) {
            return Err(Error::NotFound);
        }
        self.exports
            .get_import(&caller.school, id)
            .await?
            .ok_or(Error::NotFound)
    }

    /// Runs queued import `id`, or ends one a crash interrupted; anything else is left.
    pub async fn run_import(&self, school: &SchoolId, id: &str) -> Result<()> {
        let job = self
            .exports
            .get_import(school, id)
            .await?
            .ok_or(Error::NotFound)?;
        match (job.status, job.writing) {
            (RunStatus::Queued, _) | (RunStatus::Running, false) => {}
            (RunStatus::Running, true) => {
                let message = format!(
                    "the import was interrupted while writing ({} of {} accounts written); \
                     import the roster again: rows with an external_id are matched, not created twice",
                    job.processed, job.total
                );
                return self.end_import(&job, Err(message)).await;
            }
            (RunStatus::Done | RunStatus::Failed, _) => return Ok(()),
        }
        if job.attempts >= MAX_ATTEMPTS {
            let message = format!(
                "the import was cut short {MAX_ATTEMPTS} times before it wrote anything; \
                 import the roster in smaller parts"
            );
            return self.end_import(&job, Err(message)).await;
        }
        // Claimed by one worker: a second delivery of the same job loses the race.
        let claimed = ImportJob {
            status: RunStatus::Running,
            attempts: job.attempts + 1,
            ..job.clone()
        };
        match self.exports.put_import(&claimed).await {
            Ok(()) => {}
            Err(StoreError::Conflict) => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        // The importer as they are when it runs: a disabled account imports no more.
        if self.caller_is_disabled(&job.requested_by).await? {
            let message = "the account that started this import has been disabled".to_owned();
            return self.end_import(&job, Err(message)).await;
        }
        let outcome = match self.import_upload(&job).await {
            Ok(report) => Ok(report),
            Err(Error::Internal(source) | Error::Unavailable(source)) => {
                tracing::error!(import = id, error = format!("{source:#}"), "an import failed");
                let written = self
                    .exports
                    .get_import(school, id)
                    .await?
                    .map_or(0, |j| j.processed);
                Err(format!(
                    "the import stopped on an internal error ({written} accounts written); \
                     upload the roster again: rows with an external_id are matched, not created twice"
                ))
            }
            Err(e) => Err(refusal(&e)),
        };
        self.end_import(&job, outcome).await
    }

    /// Reads the uploaded roster and imports it.
    async fn import_upload(&self, job: &ImportJob) -> Result<ImportReport> {
        let bytes = self
            .files
            .get(&job.upload_key, MAX_UPLOAD_BYTES)
            .await
            .map_err(Error::Internal)?
            .ok_or_else(|| {
                Error::invalid("upload_id", "the uploaded file is gone (uploads are kept a day)")
            })?;
        if bytes.len() as u64 > MAX_UPLOAD_BYTES {
            return Err(Error::invalid(
                "upload_id",
                format!("the uploaded file is larger than {} MiB", MAX_UPLOAD_BYTES >> 20),
            ));
        }
        let kind = RosterKind::sniff(&bytes);
        let org = match kind {
            RosterKind::OneRoster => self.school(&job.school).await?.settings.oneroster_org,
            _ => None,
        };
        let roster = read_file(bytes, kind, org).await?;
        let total = roster.rows.len() as u64;
        self.update_import(&job.school, &job.id, |j| j.total = total)
            .await?;
        let progress = JobProgress {
            sesame: self,
            school: &job.school,
            id: &job.id,
        };
        self.import_file(
            &job.requested_by,
            job.request_id.as_deref(),
            &roster,
            &job.options,
            job.dry_run,
            &progress,
        )
        .await
    }

    /// Records how the run ended and, unless it was a dry run (the real run may
    /// follow), deletes the upload.
    async fn end_import(
        &self,
        job: &ImportJob,
        outcome: std::result::Result<ImportReport, String>,
    ) -> Result<()> {
        let now = self.now();
        let outcome = outcome.map(kept);
        let ended = self
            .update_import(&job.school, &job.id, |j| {
                j.finished_at = Some(now);
                match &outcome {
                    Ok(report) => {
                        j.status = RunStatus::Done;
                        j.processed = j.total;
                        j.report = Some(report.clone());
                    }
                    Err(message) => {
                        j.status = RunStatus::Failed;
                        j.error = Some(message.clone());
                    }
                }
            })
            .await?;
        // A run that stopped while writing wrote some accounts: the audit says so.
        if ended.writing && outcome.is_err() {
            let actor = super::Actor::caller(&job.requested_by, job.request_id.as_deref());
            let detail = format!("interrupted after {} of {} rows", ended.processed, ended.total);
            self.audit(
                actor,
                &job.school,
                "roster.import",
                Vec::new(),
                crate::domain::Outcome::Error,
                Some(detail),
            )
            .await?;
        }
        // A dry run's upload stays for the real run (the sweep deletes it after a day).
        if !job.dry_run
            && let Err(e) = self.files.delete(&job.upload_key).await
        {
            tracing::warn!(
                import = job.id,
                error = format!("{e:#}"),
                "an upload could not be deleted; the sweep will"
            );
        }
        Ok(())
    }

    /// Changes the job's record, read afresh.
    async fn update_import(
        &self,
        school: &SchoolId,
        id: &str,
        change: impl Fn(&mut ImportJob),
    ) -> Result<ImportJob> {
        optimistic(|| async {
            let mut job = self
                .exports
                .get_import(school, id)
                .await?
                .ok_or(Error::NotFound)?;
            change(&mut job);
            match self.exports.put_import(&job).await {
                Ok(()) => Ok(Some(ImportJob {
                    version: job.version + 1,
                    ..job
                })),
                Err(StoreError::Conflict) => Ok(None),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }
}

/// The report as a job's record keeps it: the first row errors, then how many more.
fn kept(mut report: ImportReport) -> ImportReport {
    if report.errors.len() > KEPT_ERRORS {
        let more = report.errors.len() - KEPT_ERRORS;
        report.errors.truncate(KEPT_ERRORS);
        report.errors.push(crate::ops::import::RowError::new(
            0,
            "file",
            format!("and {more} more rows with errors"),
        ));
    }
    report.notices.truncate(KEPT_ERRORS);
    // The leavers' names, within a record's size; the counts stay whole.
    if let Some(sync) = &mut report.sync {
        let mut room = KEPT_ERRORS;
        for group in &mut sync.by_class {
            group.accounts.truncate(room);
            room -= group.accounts.len();
        }
    }
    report
}

/// Why a run was refused, in the words the API would have answered.
fn refusal(error: &Error) -> String {
    match error {
        Error::Validation(fields) => fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.detail(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::import::RowError;

    #[test]
    fn a_jobs_record_keeps_the_first_thousand_row_errors_and_counts_the_others() {
        let error = |row| RowError::new(row, "last_name", "must be 1 to 100 characters");
        let report = ImportReport {
            errors: (2..2502).map(error).collect(),
            ..ImportReport::default()
        };

        let kept = kept(report);

        assert_eq!(kept.errors.len(), KEPT_ERRORS + 1);
        assert_eq!(kept.errors[KEPT_ERRORS - 1].row, KEPT_ERRORS + 1);
        assert_eq!(kept.errors[KEPT_ERRORS].message, "and 1500 more rows with errors");
    }

    #[test]
    fn only_ids_that_create_upload_makes_name_a_file() {
        let school = SchoolId::parse("north").unwrap();
        let id = "1700000000-0123456789abcdef0123456789abcdef";
        assert_eq!(upload_key(&school, id), Some(format!("uploads/north/{id}")));
        for bad in [
            "../1-0123456789abcdef0123456789abcdef",
            "1700000000-0123456789ABCDEF0123456789abcdef",
            "1700000000-0123456789abcdef",
            "-0123456789abcdef0123456789abcdef",
            "1700000000-0123456789abcdef0123456789abcdef/x",
        ] {
            assert_eq!(upload_key(&school, bad), None, "{bad}");
        }
    }
}
