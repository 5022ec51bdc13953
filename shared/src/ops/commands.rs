//! The admin actions on chosen accounts as typed commands: the one front door
//! that both the JSON API and the console go through. A command's parsing holds
//! its limits and de-duplication (SPEC §4: the same on both doors), and running it
//! makes the choices a door must not make on its own (send now or queue).

use super::Sesame;
use super::access::MAX_BULK_IDS;
use super::mail::{MailReport, Purpose};
use super::mail_runs::MAX_SYNC_MAIL;
use super::reset::{MAX_RESET_IDS, ResetMethod};
use super::secrets::new_distribution_id;
use crate::domain::{AccountId, Caller, Distribution, Error, Result, Scope};
use std::collections::HashSet;

/// An action on checked accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bulk {
    Reset(ResetMethod),
    SendActivation,
    Activate,
    Deactivate,
    Unlock,
    /// Mail may go to these addresses again (SPEC §4).
    ClearEmailState,
    Export,
}

impl Bulk {
    /// Every action, in the order a menu offers them.
    pub const ALL: [Bulk; 9] = [
        Self::Reset(ResetMethod::Temporary),
        Self::Reset(ResetMethod::BirthDate),
        Self::Reset(ResetMethod::EmailLink),
        Self::SendActivation,
        Self::Activate,
        Self::Deactivate,
        Self::Export,
        Self::Unlock,
        Self::ClearEmailState,
    ];

    /// The action's name in forms.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Reset(ResetMethod::Temporary) => "reset_temporary",
            Self::Reset(ResetMethod::BirthDate) => "reset_birth_date",
            Self::Reset(ResetMethod::EmailLink) => "reset_link",
            Self::SendActivation => "send_activation",
            Self::Activate => "activate",
            Self::Deactivate => "deactivate",
            Self::Export => "export",
            Self::Unlock => "unlock",
            Self::ClearEmailState => "clear_email_state",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.as_str() == raw)
    }

    /// The most accounts one request may name (SPEC §4): 100 for a reset that
    /// answers passwords (beyond that, an export), 500 for the others.
    pub const fn max_ids(self) -> usize {
        match self {
            Self::Reset(_) => MAX_RESET_IDS,
            Self::Export => super::export::MAX_EXPORT_IDS,
            Self::SendActivation
            | Self::Activate
            | Self::Deactivate
            | Self::Unlock
            | Self::ClearEmailState => MAX_BULK_IDS,
        }
    }

    /// The accounts `raw` names, without repeats, in the order given: at least one,
    /// at most [`Bulk::max_ids`], each a well-formed id (the field is named).
    pub fn ids(self, raw: &[String]) -> Result<Vec<AccountId>> {
        distinct_ids(raw, self.max_ids())
    }
}

/// The ids of a bulk request, without repeats, in the order given; at most `max`.
pub fn distinct_ids(raw: &[String], max: usize) -> Result<Vec<AccountId>> {
    if raw.is_empty() {
        return Err(Error::invalid("account_ids", "must name at least one account"));
    }
    if raw.len() > max {
        return Err(Error::invalid(
            "account_ids",
            format!("must name at most {max} accounts"),
        ));
    }
    let mut seen = HashSet::with_capacity(raw.len());
    let mut ids: Vec<AccountId> = Vec::with_capacity(raw.len());
    for (i, id) in raw.iter().enumerate() {
        let id =
            AccountId::parse(id).map_err(|e| Error::invalid(&format!("account_ids[{i}]"), e.to_string()))?;
        if seen.insert(id.clone()) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// What a send-activation did: mailed now, or queued to run in the background.
pub enum Sent {
    Now(MailReport),
    Queued(Box<Distribution>),
}

impl Sesame {
    /// Send-activation as both doors ask it: up to [`MAX_SYNC_MAIL`] accounts are
    /// mailed now; more, or a filter, run in the background (no request outlives
    /// API Gateway's 29 s).
    pub async fn send_activation_to(
        &self,
        caller: &Caller,
        request_id: Option<&str>,
        scope: Scope,
        copy_to_me: bool,
    ) -> Result<Sent> {
        match scope {
            Scope::Ids(ids) if ids.len() <= MAX_SYNC_MAIL => Ok(Sent::Now(
                self.send_mail(
                    caller,
                    request_id,
                    &ids,
                    copy_to_me,
                    Purpose::Distribute,
                    &new_distribution_id(),
                )
                .await?,
            )),
            scope => Ok(Sent::Queued(Box::new(
                self.queue_send_activation(caller, request_id, scope, copy_to_me)
                    .await?,
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_reads_back_from_its_name() {
        for bulk in Bulk::ALL {
            assert_eq!(Bulk::parse(bulk.as_str()), Some(bulk));
        }
        assert_eq!(Bulk::parse("drop_school"), None);
    }

    #[test]
    fn repeats_anywhere_count_once_and_the_limit_is_the_apis() {
        let a = AccountId::generate().to_string();
        let b = AccountId::generate().to_string();
        let ids = Bulk::Unlock.ids(&[a.clone(), b.clone(), a.clone()]).unwrap();
        assert_eq!(ids.len(), 2);
        let many: Vec<String> = (0..101).map(|_| AccountId::generate().to_string()).collect();
        assert!(Bulk::Reset(ResetMethod::Temporary).ids(&many).is_err());
        assert!(Bulk::Activate.ids(&many).is_ok());
    }

    #[test]
    fn a_malformed_id_is_named_not_dropped() {
        let error = Bulk::Activate.ids(&["not an id".to_owned()]).unwrap_err();
        assert!(matches!(error, Error::Validation(ref e) if e[0].field == "account_ids[0]"));
    }
}
