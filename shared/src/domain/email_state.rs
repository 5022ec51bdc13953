//! Whether mail reaches an account's address (SPEC §4 "mail state", §6): what the
//! mail service said last about a message sent *to the account's current address*.
//! A permanent bounce or a complaint stops Sésame mailing there until the address
//! changes or an administrator clears the mark; a delay is shown, never blocks.
//!
//! Events arrive late, twice and out of order: the same event again changes
//! nothing, and an event older than the state it would replace is dropped.

use super::account::Account;
use super::ids::Email;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What is known of the account's address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EmailStatus {
    /// Nothing said yet (no mail sent, or no event back).
    #[default]
    Unknown,
    Delivered,
    /// Permanently refused: no mail goes there any more.
    Bounced,
    /// Its owner marked a mail as spam: no mail goes there any more.
    Complained,
    /// Refused for now; the service keeps trying.
    Delayed,
}

impl EmailStatus {
    pub const ALL: [EmailStatus; 5] = [
        Self::Unknown,
        Self::Delivered,
        Self::Bounced,
        Self::Complained,
        Self::Delayed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Delivered => "delivered",
            Self::Bounced => "bounced",
            Self::Complained => "complained",
            Self::Delayed => "delayed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw.trim())
    }

    /// Mail is not sent to such an address.
    pub fn blocks_mail(self) -> bool {
        matches!(self, Self::Bounced | Self::Complained)
    }
}

/// The account's mail state: its status, since when, and what the service said.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EmailState {
    pub status: EmailStatus,
    /// When the event that set it happened (the service's time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
    /// The service's diagnostic (e.g. `smtp; 550 5.1.1 user unknown`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnostic: Option<String>,
    /// The message the event was about (events repeat: the same one is applied once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
}

/// What is shown of a mail state (the API, the ledger): its status, since when,
/// and what the service said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct EmailStateView {
    pub status: EmailStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diagnostic: Option<String>,
}

impl From<&EmailState> for EmailStateView {
    fn from(state: &EmailState) -> Self {
        Self {
            status: state.status,
            at: state.at,
            diagnostic: state.diagnostic.clone(),
        }
    }
}

/// What the mail service said about one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryKind {
    Delivery,
    /// `permanent`: the address cannot receive mail (SES `Permanent`, SMTP 5xx);
    /// else a transient refusal.
    Bounce {
        permanent: bool,
    },
    Complaint,
    DeliveryDelay,
    /// The service refused to send at all (e.g. a virus): logged, no state.
    Reject,
}

/// One event of the mail service about a message sent to `recipient`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryEvent {
    pub kind: DeliveryKind,
    pub recipient: Email,
    pub at: DateTime<Utc>,
    pub message_id: String,
    pub diagnostic: Option<String>,
}

impl DeliveryEvent {
    /// The status this event sets, if any.
    pub fn status(&self) -> Option<EmailStatus> {
        match self.kind {
            DeliveryKind::Delivery => Some(EmailStatus::Delivered),
            DeliveryKind::Bounce { permanent: true } => Some(EmailStatus::Bounced),
            DeliveryKind::Bounce { permanent: false } | DeliveryKind::DeliveryDelay => {
                Some(EmailStatus::Delayed)
            }
            DeliveryKind::Complaint => Some(EmailStatus::Complained),
            DeliveryKind::Reject => None,
        }
    }
}

/// Diagnostics are the service's words: kept short and on one line.
const MAX_DIAGNOSTIC: usize = 300;

impl Account {
    /// Applies `event` to this account's mail state: only when it was sent to the
    /// current address, sets a state, and is not older than the state it replaces
    /// (nor the same event again). Whether anything changed.
    pub fn record_delivery(&mut self, event: &DeliveryEvent) -> bool {
        let Some(status) = event.status() else {
            return false;
        };
        let to_current = self
            .email
            .as_ref()
            .is_some_and(|current| current.as_str().eq_ignore_ascii_case(event.recipient.as_str()));
        if !to_current {
            return false;
        }
        let state = &self.email_state;
        if state.at.is_some_and(|at| event.at < at) {
            return false;
        }
        let same = state.status == status
            && state.at == Some(event.at)
            && state.message_id.as_deref() == Some(event.message_id.as_str());
        if same {
            return false;
        }
        // At the same instant, a refusal outranks a delivery (the safer reading).
        if state.at == Some(event.at) && state.status.blocks_mail() && !status.blocks_mail() {
            return false;
        }
        let diagnostic = event.diagnostic.as_deref().map(|d| {
            let line: String = d.split_whitespace().collect::<Vec<_>>().join(" ");
            line.chars().take(MAX_DIAGNOSTIC).collect()
        });
        self.email_state = EmailState {
            status,
            at: Some(event.at),
            diagnostic,
            message_id: Some(event.message_id.clone()),
        };
        true
    }

    /// Sets the account's address; a new one starts with an unknown mail state.
    /// Whether it changed.
    pub fn set_email(&mut self, email: Option<Email>) -> bool {
        let same = match (&self.email, &email) {
            (Some(a), Some(b)) => a.as_str().eq_ignore_ascii_case(b.as_str()),
            (None, None) => true,
            _ => false,
        };
        if same {
            self.email = email;
            return false;
        }
        self.email = email;
        self.email_state = EmailState::default();
        true
    }

    /// Whether mail may be sent to the account's address.
    pub fn mail_blocked(&self) -> bool {
        self.email.is_some() && self.email_state.status.blocks_mail()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{LocalAdmin, Profile};
    use chrono::TimeZone;

    fn parent() -> Account {
        let mut a = Account::sample(Profile::Parent, LocalAdmin::None);
        a.email = Some(Email::parse("famille@example.org").unwrap());
        a
    }

    fn event(kind: DeliveryKind, to: &str, minute: u32, id: &str) -> DeliveryEvent {
        DeliveryEvent {
            kind,
            recipient: Email::parse(to).unwrap(),
            at: Utc.with_ymd_and_hms(2026, 9, 1, 8, minute, 0).unwrap(),
            message_id: id.to_owned(),
            diagnostic: Some("smtp; 550 5.1.1\n user unknown".into()),
        }
    }

    const BOUNCE: DeliveryKind = DeliveryKind::Bounce { permanent: true };

    #[test]
    fn a_permanent_bounce_to_the_current_address_blocks_mail_until_the_address_changes() {
        let mut a = parent();
        assert!(a.record_delivery(&event(BOUNCE, "Famille@example.org", 1, "m1")));
        assert_eq!(a.email_state.status, EmailStatus::Bounced);
        assert_eq!(
            a.email_state.diagnostic.as_deref(),
            Some("smtp; 550 5.1.1 user unknown")
        );
        assert!(a.mail_blocked());
        assert!(!a.set_email(Some(Email::parse("FAMILLE@example.org").unwrap())));
        assert!(a.mail_blocked(), "the same address in other letters is the same");
        assert!(a.set_email(Some(Email::parse("nouvelle@example.org").unwrap())));
        assert_eq!(a.email_state, EmailState::default());
        assert!(!a.mail_blocked());
    }

    #[test]
    fn events_about_another_address_rejects_and_repeats_change_nothing() {
        let mut a = parent();
        assert!(!a.record_delivery(&event(BOUNCE, "ancienne@example.org", 1, "m1")));
        assert!(!a.record_delivery(&event(DeliveryKind::Reject, "famille@example.org", 1, "m1")));
        assert_eq!(a.email_state.status, EmailStatus::Unknown);
        assert!(a.record_delivery(&event(DeliveryKind::Complaint, "famille@example.org", 2, "m2")));
        assert!(!a.record_delivery(&event(DeliveryKind::Complaint, "famille@example.org", 2, "m2")));
        assert_eq!(a.email_state.status, EmailStatus::Complained);
    }

    #[test]
    fn an_older_event_never_overwrites_a_newer_state() {
        let mut a = parent();
        assert!(a.record_delivery(&event(BOUNCE, "famille@example.org", 5, "m2")));
        assert!(!a.record_delivery(&event(DeliveryKind::Delivery, "famille@example.org", 4, "m1")));
        assert_eq!(a.email_state.status, EmailStatus::Bounced);
        assert!(!a.record_delivery(&event(DeliveryKind::Delivery, "famille@example.org", 5, "m3")));
        assert!(a.record_delivery(&event(DeliveryKind::Delivery, "famille@example.org", 6, "m4")));
        assert_eq!(a.email_state.status, EmailStatus::Delivered);
        let transient = DeliveryKind::Bounce { permanent: false };
        assert!(a.record_delivery(&event(transient, "famille@example.org", 7, "m5")));
        assert_eq!(a.email_state.status, EmailStatus::Delayed);
        assert!(!a.mail_blocked(), "a delay never blocks");
    }
}
