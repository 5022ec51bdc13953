//! Mail that reaches families (SPEC §4 "mail state", §6): correcting an address,
//! clearing a mark, and recording what the mail service says of a message (an
//! SMTP refusal on the edge, an SES event in the cloud).

use super::bulk::Change;
use super::{Actor, PerAccount, Sesame};
use crate::domain::export_job::{Content, Format, PerPage};
use crate::domain::{
    Account, AccountId, Action, Activation, Caller, ClassName, DeliveryEvent, Email, EmailState, Error,
    ExportJob, ExportRequest, Outcome, Profile, Result, SchoolId, Scope, SecretKind, Sort,
};
use crate::ports::AccountFilter;

/// Who records what the mail service said, in the audit log.
const MAIL_SERVICE: &str = "mail-service";

impl Sesame {
    /// `PATCH /v1/accounts/{id}` with `email`: corrects (or removes) an address; a
    /// new one starts with an unknown mail state. Needs `Action::Change`; audited.
    pub async fn change_email(
        &self,
        caller: &Caller,
        request_id: Option<&str>,
        id: &AccountId,
        email: Option<Email>,
    ) -> Result<Account> {
        let results = self
            .update_each(&caller.school, std::slice::from_ref(id), |account| {
                caller.may(Action::Change, account)?;
                let mut next = account.clone();
                Ok(match next.set_email(email.clone()) {
                    true => Change::Write(next),
                    false if next.email != account.email => Change::Write(next),
                    false => Change::Keep,
                })
            })
            .await?;
        let account = PerAccount::only(results)?;
        self.audit(
            Actor::caller(caller, request_id),
            &caller.school,
            "account.email",
            vec![account.id.clone()],
            Outcome::Ok,
            None,
        )
        .await?;
        Ok(account)
    }

    /// `POST /v1/accounts/clear-email-state`: mail may go to these addresses again
    /// (the administrator knows the mailbox works now). Needs `Action::Change`.
    pub async fn clear_email_state(
        &self,
        caller: &Caller,
        request_id: Option<&str>,
        ids: &[AccountId],
    ) -> Result<Vec<PerAccount<Account>>> {
        let results = self
            .update_each(&caller.school, ids, |account| {
                caller.may(Action::Change, account)?;
                if account.email_state == EmailState::default() {
                    return Ok(Change::Keep);
                }
                let mut next = account.clone();
                next.email_state = EmailState::default();
                Ok(Change::Write(next))
            })
            .await?;
        let done = PerAccount::succeeded(&results);
        let outcome = Outcome::of(done.len(), ids.len());
        self.audit(
            Actor::caller(caller, request_id),
            &caller.school,
            "account.email_state.clear",
            done,
            outcome,
            None,
        )
        .await?;
        Ok(results)
    }

    /// Applies what the mail service said of a message sent to `account` of
    /// `school` (its recipient must be the account's current address; an older or
    /// repeated event changes nothing). Whether the state changed; a bounce or a
    /// complaint is audited.
    pub async fn record_delivery(
        &self,
        school: &SchoolId,
        account: &AccountId,
        event: &DeliveryEvent,
    ) -> Result<bool> {
        // Whether the last look at the account (a conflict looks again) wrote.
        let mut changed = false;
        let results = self
            .update_each(school, std::slice::from_ref(account), |current| {
                let mut next = current.clone();
                changed = next.record_delivery(event);
                Ok(match changed {
                    true => Change::Write(next),
                    false => Change::Keep,
                })
            })
            .await?;
        let after = match PerAccount::only(results) {
            Ok(after) => after,
            // The account is gone: nothing to mark.
            Err(crate::domain::Error::NotFound) => return Ok(false),
            // Anything else (the account kept changing, the store): the event is
            // delivered again, never dropped.
            Err(e) => return Err(e),
        };
        if changed && after.email_state.status.blocks_mail() {
            let actor = Actor {
                name: MAIL_SERVICE,
                request_id: None,
            };
            let action = format!("mail.{}", after.email_state.status.as_str());
            let detail = after.email_state.diagnostic.clone();
            self.audit(actor, school, &action, vec![after.id], Outcome::Ok, detail)
                .await?;
        }
        Ok(changed)
    }

    /// The activation cards (PDF) of the pending accounts of `class` whose mail
    /// did not arrive, among those the caller may hand an activation code to: the
    /// follow-up's "print cards for these families".
    pub async fn cards_for_undelivered(
        &self,
        caller: &Caller,
        request_id: Option<&str>,
        class: &ClassName,
    ) -> Result<ExportJob> {
        if !caller.may_follow(class) {
            return Err(Error::NotFound);
        }
        let filter = AccountFilter {
            classes: vec![class.clone()],
            profiles: vec![Profile::Student, Profile::Parent],
            activation: Some(Activation::Pending),
            ..AccountFilter::default()
        };
        let ids: Vec<AccountId> = self
            .all_accounts(&caller.school, filter)
            .await?
            .into_iter()
            .filter(|a| a.mail_blocked() && caller.may_issue(a, SecretKind::ActivationCode).is_ok())
            .map(|a| a.id)
            .collect();
        if ids.is_empty() {
            return Err(Error::invalid(
                "class",
                "no pending account of this class that you may hand a code to has an undelivered address",
            ));
        }
        let request = ExportRequest {
            scope: Scope::Ids(ids),
            content: Content::Activation,
            format: Format::Pdf,
            per_page: PerPage::default(),
            sort: Sort::Name,
            language: None,
        };
        self.create_export(caller, request_id, request).await
    }
}
