//! Send-activation in the background (SPEC §4): more than 50 accounts, or any
//! `filter`, is queued as a distribution that the edge's task or the cloud's
//! stream worker runs, 50 accounts at a time, recording each account's result.
//! A run interrupted by a crash resumes where its recorded results end: an
//! account mailed twice got a new code, and its last mail is the one that works.

use super::bulk::optimistic;
use super::mail::{MailOutcome, MailReport};
use super::{PerAccount, Sesame};
use crate::domain::{
    AccountId, Caller, Distribution, DistributionKind, Error, MailRun, Result, RunResult, RunStatus,
    SchoolId, Scope,
};
use crate::ports::StoreError;

/// At most this many accounts are mailed in the request; more run in the background.
pub const MAX_SYNC_MAIL: usize = 50;
/// Accounts mailed between two saves of a run's progress.
const CHUNK: usize = 50;

fn run_result(r: PerAccount<MailOutcome>) -> RunResult {
    let (status, mail, code) = match r.result {
        Ok(MailOutcome::Sent) => ("ok", Some("sent"), None),
        Ok(MailOutcome::NoEmail) => ("error", Some("no_email"), Some(crate::domain::Code::NoEmail)),
        Ok(MailOutcome::Undeliverable) => (
            "error",
            Some("email_undeliverable"),
            Some(crate::domain::Code::EmailUndeliverable),
        ),
        Ok(MailOutcome::Failed(_)) => ("error", Some("failed"), Some(crate::domain::Code::MailFailed)),
        Err(e) => ("error", None, Some(e.code())),
    };
    RunResult {
        account_id: r.account_id.to_string(),
        status: status.to_owned(),
        mail: mail.map(str::to_owned),
        code: code.map(|c| c.as_str().to_owned()),
    }
}

impl Sesame {
    /// Queues a send-activation for `scope`; answers the queued distribution.
    pub async fn queue_send_activation(
        &self,
        caller: &Caller,
        request_id: Option<&str>,
        scope: Scope,
        copy_to_me: bool,
    ) -> Result<Distribution> {
        let school = self.school(&caller.school).await?;
        let mut distribution = Distribution::done(
            super::secrets::new_distribution_id(),
            caller.school.clone(),
            DistributionKind::SendActivation,
            &caller.sub,
            self.now(),
            school.settings.audit_days,
        );
        distribution.status = RunStatus::Queued;
        distribution.total = match &scope {
            Scope::Ids(ids) => ids.len() as u64,
            Scope::Filter(_) => 0,
        };
        distribution.run = Some(MailRun {
            requested_by: caller.clone(),
            request_id: request_id.map(str::to_owned),
            scope,
            copy_to_me,
        });
        self.distributions.put_distribution(&distribution).await?;
        distribution.version += 1;
        self.jobs
            .enqueue(&caller.school, &distribution.id)
            .await
            .map_err(Error::Internal)?;
        Ok(distribution)
    }

    /// Runs the queued (or interrupted) send-activation `id`; anything else is left.
    pub async fn run_distribution(&self, school: &SchoolId, id: &str) -> Result<()> {
        let Some(distribution) = self.distributions.get_distribution(school, id).await? else {
            return Err(Error::NotFound);
        };
        let Some(run) = distribution.run.clone() else {
            return Ok(());
        };
        if !matches!(distribution.status, RunStatus::Queued | RunStatus::Running) {
            return Ok(());
        }
        let outcome = self.mail_run(&distribution, &run).await;
        match &outcome {
            Ok(()) => {}
            Err(Error::Internal(source) | Error::Unavailable(source)) => tracing::error!(
                distribution = id,
                error = format!("{source:#}"),
                "send-activation failed"
            ),
            Err(other) => tracing::error!(distribution = id, error = ?other, "send-activation failed"),
        }
        let status = if outcome.is_ok() {
            RunStatus::Done
        } else {
            RunStatus::Failed
        };
        self.update_run(school, id, |d| d.status = status).await
    }

    async fn mail_run(&self, distribution: &Distribution, run: &MailRun) -> Result<()> {
        let caller = &run.requested_by;
        // The caller as they are when it runs (SPEC §2): a caller whose account was
        // disabled since hands nothing out any more.
        if self.caller_is_disabled(caller).await? {
            return Err(Error::Forbidden);
        }
        let ids: Vec<AccountId> = match &run.scope {
            Scope::Ids(ids) => ids.clone(),
            Scope::Filter(selection) => {
                let school = self.school(&caller.school).await?;
                match selection.to_filter(caller, self.now(), school.settings.retention_days) {
                    None => Vec::new(),
                    Some(filter) => self
                        .all_accounts(&caller.school, filter)
                        .await?
                        .into_iter()
                        .filter(|a| caller.may(crate::domain::Action::SendMail, a).is_ok())
                        .map(|a| a.id)
                        .collect(),
                }
            }
        };
        // A resumed run skips the accounts it already answered for.
        let done: std::collections::HashSet<&str> = distribution
            .results
            .iter()
            .map(|r| r.account_id.as_str())
            .collect();
        let left: Vec<AccountId> = ids
            .iter()
            .filter(|id| !done.contains(id.as_str()))
            .cloned()
            .collect();
        let total = ids.len() as u64;
        self.update_run(&distribution.school, &distribution.id, |d| {
            d.status = RunStatus::Running;
            d.total = total;
        })
        .await?;
        for chunk in left.chunks(CHUNK) {
            let MailReport { results, .. } = self
                .send_mail(
                    caller,
                    run.request_id.as_deref(),
                    chunk,
                    run.copy_to_me,
                    super::mail::Purpose::Distribute,
                    &distribution.id,
                )
                .await?;
            let results: Vec<RunResult> = results.into_iter().map(run_result).collect();
            self.update_run(&distribution.school, &distribution.id, |d| {
                d.processed += results.len() as u64;
                d.results.extend(results.iter().cloned());
            })
            .await?;
        }
        Ok(())
    }

    /// Changes the run's record, read afresh (handing out secrets also writes it).
    async fn update_run(
        &self,
        school: &SchoolId,
        id: &str,
        change: impl Fn(&mut Distribution),
    ) -> Result<()> {
        optimistic(|| async {
            let mut distribution = self
                .distributions
                .get_distribution(school, id)
                .await?
                .ok_or(Error::NotFound)?;
            change(&mut distribution);
            match self.distributions.put_distribution(&distribution).await {
                Ok(()) => Ok(Some(())),
                Err(StoreError::Conflict) => Ok(None),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }

    /// The edge's in-process jobs: an export, a send-activation run, an import.
    pub async fn run_job(&self, school: &SchoolId, id: &str) -> Result<()> {
        if id.starts_with("dst_") {
            self.run_distribution(school, id).await
        } else if id.starts_with("imp_") {
            self.run_import(school, id).await
        } else {
            self.run_export(school, id).await
        }
    }
}
