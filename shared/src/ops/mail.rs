//! Mail to account holders: activation mail (a pending account gets a new activation
//! code and the page to type it on), login information (an activated account gets its
//! login and a new reset link), and reset links (`email_link` resets). On request,
//! the acting staff member gets a copy of each mail sent.
//!
//! Per account, the answer is `Sent`, `NoEmail` (nothing is handed out then) or
//! `Failed`; refusals (not found, forbidden, federated…) are errors of that account
//! only. Messages go out a few at a time; a throttling service is retried with
//! backoff. Each kind of mail sent is an audit event naming the accounts, never the
//! secret.

use super::secrets::{Handout, Issuer};
use super::{Actor, PerAccount, Sesame};
use crate::domain::Code;
use crate::domain::{
    Access, Account, AccountId, Action, Activation, Caller, DeliveryEvent, DeliveryKind, Email, Error, Login,
    Outcome, Result, School, SchoolId, SecretKind,
};
use crate::mail::{Backoff, Failure, Kind, Letter, deliver, deliver_noting};
use crate::ports::{Mailer, Message};
use futures::StreamExt;
use secrecy::ExposeSecret;
use std::collections::HashMap;

/// Messages in flight at once.
const CONCURRENCY: usize = 8;

/// What became of one account's mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailOutcome {
    Sent,
    /// The account has no address: nothing was sent, nor handed out.
    NoEmail,
    /// The address is marked bounced or complained (SPEC §4): nothing was sent,
    /// nor handed out, until it changes or an administrator clears the mark.
    Undeliverable,
    Failed(Failure),
}

/// The answer of a mailing: per account, and for the copy to the caller.
#[derive(Debug)]
pub struct MailReport {
    pub results: Vec<PerAccount<MailOutcome>>,
    /// When a copy was asked for: `Sent` once every mail that went out was copied,
    /// `NoEmail` when the caller's own account has no address (then none was).
    pub copy: Option<MailOutcome>,
}

/// Which mail an account gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Template {
    Activation,
    LoginInfo,
    ResetLink,
}

impl Template {
    const ALL: [Template; 3] = [Self::Activation, Self::LoginInfo, Self::ResetLink];

    fn action(self) -> &'static str {
        match self {
            Self::Activation => "mail.activation",
            Self::LoginInfo => "mail.login_info",
            Self::ResetLink => "mail.reset_link",
        }
    }
}

/// Why the mail is sent, which decides the permission and the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// `POST /v1/accounts/send-activation` (`Action::SendMail`): pending accounts
    /// get an activation mail with a new code (replacing the older one), activated
    /// accounts their login and a new reset link.
    Distribute,
    /// `reset-password` with `email_link` (`Action::Reset`): a new reset link by
    /// mail, replacing the older one; the current password works until it is used.
    Reset,
}

impl Purpose {
    fn distribution_kind(self) -> crate::domain::DistributionKind {
        match self {
            Self::Distribute => crate::domain::DistributionKind::SendActivation,
            Self::Reset => crate::domain::DistributionKind::ResetLink,
        }
    }
}

/// The template `account` gets, or why it gets none.
fn plan(caller: &Caller, account: &Account, purpose: Purpose) -> Result<Template> {
    match purpose {
        Purpose::Distribute => {
            caller.may(Action::SendMail, account)?;
            let kind = match account.activation {
                Activation::Pending => SecretKind::ActivationCode,
                Activation::Activated => SecretKind::ResetLink,
            };
            caller.may_issue(account, kind)?;
            if account.access == Access::Disabled {
                return Err(Error::conflict(
                    Code::AccessDisabled,
                    "this account's access is disabled: enable it before sending it mail",
                ));
            }
            Ok(match account.activation {
                Activation::Pending => Template::Activation,
                Activation::Activated => Template::LoginInfo,
            })
        }
        Purpose::Reset => {
            caller.may_issue(account, SecretKind::ResetLink)?;
            Ok(Template::ResetLink)
        }
    }
}

/// One account's mail, ready to go.
struct Job {
    account_id: AccountId,
    template: Template,
    message: Message,
    copy: Option<Message>,
}

/// What became of a job: its mail (with a bounce's diagnostic), and its copy if
/// one was due.
type Delivered = (Result<(), (Failure, Option<String>)>, Option<Result<(), Failure>>);

/// Sends a job's mail, then its copy if the mail went.
async fn send_job(mailer: &dyn Mailer, job: &Job) -> Delivered {
    let sent = deliver_noting(mailer, &job.message, Backoff::default()).await;
    let copied = match (&sent, &job.copy) {
        (Ok(()), Some(copy)) => Some(deliver(mailer, copy, Backoff::default()).await),
        _ => None,
    };
    (sent, copied)
}

impl Sesame {
    /// Mail for `purpose` to each of `ids`, its secrets in `distribution` (a new
    /// one, `secrets::new_distribution_id`, or a background run's), with a copy to
    /// the caller when `copy_to_me`. Federated and disabled accounts are refused.
    pub async fn send_mail(
        &self,
        caller: &Caller,
        request_id: Option<&str>,
        ids: &[AccountId],
        copy_to_me: bool,
        purpose: Purpose,
        distribution: &str,
    ) -> Result<MailReport> {
        let school = self.school(&caller.school).await?;
        let mut found: HashMap<AccountId, Account> = self
            .accounts
            .get_accounts(&caller.school, ids)
            .await?
            .into_iter()
            .map(|a| (a.id.clone(), a))
            .collect();
        let mut results: HashMap<AccountId, Result<MailOutcome>> = HashMap::new();
        let mut wanted: Vec<(Template, Account)> = Vec::new();
        for id in ids {
            let planned = found
                .remove(id)
                .ok_or(Error::NotFound)
                .and_then(|account| Ok((plan(caller, &account, purpose)?, account)));
            match planned {
                Err(e) => {
                    results.insert(id.clone(), Err(e));
                }
                Ok((_, account)) if account.email.is_none() => {
                    results.insert(id.clone(), Ok(MailOutcome::NoEmail));
                }
                Ok((_, account)) if account.mail_blocked() => {
                    results.insert(id.clone(), Ok(MailOutcome::Undeliverable));
                }
                Ok(planned) => wanted.push(planned),
            }
        }

        let copy_to = if copy_to_me {
            Some(self.own_address(caller).await?)
        } else {
            None
        };
        let sender = school.settings.sender.clone().or_else(|| self.sender.clone());
        let jobs = match sender {
            Some(from) => {
                let by = Issuer {
                    caller,
                    distribution: Some((distribution, purpose.distribution_kind())),
                };
                self.prepare(
                    by,
                    &school,
                    &from,
                    wanted,
                    copy_to.clone().and_then(std::result::Result::ok),
                    &mut results,
                )
                .await?
            }
            None => {
                tracing::warn!("no sender address: neither the school's settings nor SESAME_SENDER name one");
                for (_, account) in wanted {
                    results.insert(account.id, Ok(MailOutcome::Failed(Failure::NoSender)));
                }
                Vec::new()
            }
        };

        // Futures made first, then polled a few at a time (a closure in the stream
        // would make the handler's future lose `Send` to a lifetime inference limit).
        let sends: Vec<_> = jobs.iter().map(|job| send_job(&*self.mailer, job)).collect();
        let delivered: Vec<Delivered> = futures::stream::iter(sends).buffered(CONCURRENCY).collect().await;

        let mut copy = copy_to.map(|address| match address {
            Ok(_) => MailOutcome::Sent,
            Err(outcome) => outcome,
        });
        for (_, copied) in &delivered {
            if let Some(Err(failure)) = copied {
                copy = Some(MailOutcome::Failed(*failure));
            }
        }
        for (job, (sent, _)) in jobs.iter().zip(&delivered) {
            let outcome = match sent {
                Ok(()) => MailOutcome::Sent,
                Err((failure, diagnostic)) => {
                    if *failure == Failure::Bounced {
                        self.note_bounce(&caller.school, job, diagnostic.as_deref())
                            .await?;
                    }
                    MailOutcome::Failed(*failure)
                }
            };
            results.insert(job.account_id.clone(), Ok(outcome));
        }
        self.audit_mail(caller, request_id, &jobs, &delivered, copy)
            .await?;

        Ok(MailReport {
            results: ids
                .iter()
                .map(|id| PerAccount {
                    account_id: id.clone(),
                    result: results.remove(id).unwrap_or(Err(Error::NotFound)),
                })
                .collect(),
            copy,
        })
    }

    /// Hands out the new codes and links of `wanted` and renders their mail.
    async fn prepare(
        &self,
        by: Issuer<'_>,
        school: &School,
        from: &Email,
        wanted: Vec<(Template, Account)>,
        copy_to: Option<Email>,
        results: &mut HashMap<AccountId, Result<MailOutcome>>,
    ) -> Result<Vec<Job>> {
        let ids = |want: fn(Template) -> bool| -> Vec<AccountId> {
            wanted
                .iter()
                .filter(|(t, _)| want(*t))
                .map(|(_, a)| a.id.clone())
                .collect()
        };
        let pending = ids(|t| t == Template::Activation);
        let activated = ids(|t| t != Template::Activation);
        let mut handouts: HashMap<AccountId, Result<Handout>> = HashMap::new();
        if !pending.is_empty() {
            let codes = self.issue_activation_codes(by, &pending).await?;
            handouts.extend(codes.into_iter().map(|r| (r.account_id, r.result)));
        }
        if !activated.is_empty() {
            let links = self.issue_reset_links(by, &activated).await?;
            handouts.extend(links.into_iter().map(|r| (r.account_id, r.result)));
        }

        let now = self.now();
        let mut jobs = Vec::with_capacity(wanted.len());
        for (template, account) in wanted {
            let (secret, expires_at) = match handouts.remove(&account.id) {
                Some(Ok(handout)) => handout,
                Some(Err(e)) => {
                    results.insert(account.id, Err(e));
                    continue;
                }
                None => {
                    results.insert(account.id, Err(Error::NotFound));
                    continue;
                }
            };
            let Some(to) = account.email.as_ref() else {
                results.insert(account.id, Ok(MailOutcome::NoEmail));
                continue;
            };
            let valid_for = expires_at - now;
            // The secret is a code for an activation mail, a link's token otherwise.
            let url = match template {
                Template::Activation => self.activation_page(&account.login, secret.expose_secret())?,
                Template::LoginInfo | Template::ResetLink => {
                    self.reset_url(&secret).expose_secret().to_owned()
                }
            };
            let (activation_url, reset_url) = (&url, url.as_str());
            let kind = match template {
                Template::Activation => Kind::Activation {
                    url: activation_url,
                    code: secret.expose_secret(),
                    valid_for,
                },
                Template::LoginInfo => Kind::LoginInfo { reset_url, valid_for },
                Template::ResetLink => Kind::ResetLink { reset_url, valid_for },
            };
            let name = account.full_name();
            let letter = Letter {
                school: &school.name,
                language: school.settings.language,
                name: &name,
                login: account.login.as_str(),
                kind,
            };
            // The tags the mail service gives back with its events (SES): which
            // account a bounce is about; a copy says so and marks nobody.
            use crate::mail::events::tags;
            let mut message = letter.message(from, to);
            message.tags = vec![
                (tags::SCHOOL, school.id.to_string()),
                (tags::ACCOUNT, account.id.to_string()),
            ];
            if let Some((distribution, _)) = by.distribution {
                message.tags.push((tags::DISTRIBUTION, distribution.to_owned()));
            }
            let copy = copy_to.as_ref().map(|admin| {
                let mut copy = letter.copy(from, admin, to);
                copy.tags = vec![
                    (tags::SCHOOL, school.id.to_string()),
                    (tags::COPY, "true".to_owned()),
                ];
                copy
            });
            jobs.push(Job {
                message,
                copy,
                account_id: account.id,
                template,
            });
        }
        Ok(jobs)
    }

    /// The activation page, with the login filled in.
    /// The activation page with the login filled in, and the code in the URL
    /// fragment (which browsers never send): the mail's link and its code are one
    /// secret, not two, and the page's script fills the code in (SPEC §3).
    fn activation_page(&self, login: &Login, code: &str) -> Result<String> {
        let query = serde_urlencoded::to_string([("login", login.as_str())])
            .map_err(|e| Error::Internal(e.into()))?;
        let fragment =
            serde_urlencoded::to_string([("code", code)]).map_err(|e| Error::Internal(e.into()))?;
        Ok(format!("{}?{query}#{fragment}", self.activation_url()))
    }

    /// The address of the caller's own account (whose id or login is the token's
    /// `sub`, in the caller's school), or why no copy can go there.
    async fn own_address(&self, caller: &Caller) -> Result<std::result::Result<Email, MailOutcome>> {
        let account = self.callers_account(caller).await?;
        Ok(match account {
            Some(a) if a.mail_blocked() => Err(MailOutcome::Undeliverable),
            Some(a) => a.email.ok_or(MailOutcome::NoEmail),
            None => Err(MailOutcome::NoEmail),
        })
    }

    /// The recipient's server refused a job's address for good (the edge's SMTP):
    /// the account's address is marked bounced, as an SES bounce would.
    async fn note_bounce(&self, school: &SchoolId, job: &Job, diagnostic: Option<&str>) -> Result<()> {
        let now = self.now();
        let event = DeliveryEvent {
            kind: DeliveryKind::Bounce { permanent: true },
            recipient: job.message.to.clone(),
            at: now,
            // One refusal, one event: the account and the instant name it.
            message_id: format!("smtp-{}-{}", job.account_id, now.timestamp_micros()),
            diagnostic: diagnostic.map(str::to_owned),
        };
        self.record_delivery(school, &job.account_id, &event).await?;
        Ok(())
    }

    /// One event per kind of mail sent, naming the accounts it reached, and one per
    /// kind naming those it did not.
    async fn audit_mail(
        &self,
        caller: &Caller,
        request_id: Option<&str>,
        jobs: &[Job],
        delivered: &[Delivered],
        copy: Option<MailOutcome>,
    ) -> Result<()> {
        let actor = Actor::caller(caller, request_id);
        let copy = copy.map(|c| format!("copy={}", outcome_name(c)));
        for template in Template::ALL {
            let mut sent = Vec::new();
            let mut failed: Vec<(AccountId, Failure)> = Vec::new();
            for (job, (result, _)) in jobs.iter().zip(delivered) {
                if job.template != template {
                    continue;
                }
                match result {
                    Ok(()) => sent.push(job.account_id.clone()),
                    Err((failure, _)) => failed.push((job.account_id.clone(), *failure)),
                }
            }
            let tried = sent.len() + failed.len();
            if !sent.is_empty() {
                let outcome = Outcome::of(sent.len(), tried);
                self.audit(
                    actor,
                    &caller.school,
                    template.action(),
                    sent,
                    outcome,
                    copy.clone(),
                )
                .await?;
            }
            if !failed.is_empty() {
                let mut reasons: Vec<&str> = failed.iter().map(|(_, f)| failure_name(*f)).collect();
                reasons.sort_unstable();
                reasons.dedup();
                let detail = format!("not delivered: {}", reasons.join(", "));
                let targets = failed.into_iter().map(|(id, _)| id).collect();
                self.audit(
                    actor,
                    &caller.school,
                    template.action(),
                    targets,
                    Outcome::Error,
                    Some(detail),
                )
                .await?;
            }
        }
        Ok(())
    }
}

/// `sent`, `no_email`, `failed`: as the API says it.
pub fn outcome_name(outcome: MailOutcome) -> &'static str {
    match outcome {
        MailOutcome::Sent => "sent",
        MailOutcome::NoEmail => "no_email",
        MailOutcome::Undeliverable => "email_undeliverable",
        MailOutcome::Failed(_) => "failed",
    }
}

fn failure_name(failure: Failure) -> &'static str {
    match failure {
        Failure::Throttled => "throttled",
        Failure::Rejected => "rejected",
        Failure::Unavailable => "unavailable",
        Failure::NoSender => "no_sender",
        Failure::Bounced => "bounced",
    }
}
