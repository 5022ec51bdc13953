//! Delivery events as Amazon SES publishes them (event publishing through a
//! configuration set, SPEC §6): a bounce, complaint, delivery, delivery delay or
//! reject about one message, with the tags Sésame put on it (`school`, `account`,
//! and for a copy to an administrator `copy`). They reach the mail-events
//! function through SNS and SQS: the queue's body is the SNS notification, whose
//! `Message` is the event (or the event itself, with raw message delivery).
//!
//! Read with `serde_json` alone: no SDK type, so the same reading serves the
//! function and the tests.

use crate::domain::{AccountId, DeliveryEvent, DeliveryKind, Email, SchoolId};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::HashMap;

/// The message tags Sésame sets on every message it sends through SES.
pub mod tags {
    pub const SCHOOL: &str = "school";
    pub const ACCOUNT: &str = "account";
    pub const DISTRIBUTION: &str = "distribution";
    /// Set on the copy to an administrator: its events never mark the account
    /// the copy was about.
    pub const COPY: &str = "copy";
}

/// What one SES event says, about which account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggedEvents {
    pub school: SchoolId,
    pub account: AccountId,
    /// One per recipient the event names.
    pub events: Vec<DeliveryEvent>,
}

/// Why an event was not read: it is dropped (and logged), never retried.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Unreadable {
    #[error("not an SES event: {0}")]
    Malformed(String),
}

#[derive(Deserialize)]
struct SnsNotification {
    #[serde(rename = "Type")]
    kind: String,
    #[serde(rename = "Message")]
    message: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SesEvent {
    /// Event publishing says `eventType`; identity notifications `notificationType`.
    #[serde(alias = "notificationType")]
    event_type: String,
    mail: Mail,
    bounce: Option<Bounce>,
    complaint: Option<Complaint>,
    delivery: Option<Delivery>,
    delivery_delay: Option<DeliveryDelay>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Mail {
    message_id: String,
    #[serde(default)]
    tags: HashMap<String, Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Recipient {
    email_address: String,
    diagnostic_code: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Bounce {
    bounce_type: String,
    bounce_sub_type: Option<String>,
    bounced_recipients: Vec<Recipient>,
    timestamp: DateTime<Utc>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Complaint {
    complained_recipients: Vec<Recipient>,
    timestamp: DateTime<Utc>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Delivery {
    recipients: Vec<String>,
    timestamp: DateTime<Utc>,
    smtp_response: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeliveryDelay {
    delayed_recipients: Vec<Recipient>,
    timestamp: DateTime<Utc>,
}

/// Reads a queue message's body. `Ok(None)`: a well-formed event that concerns
/// no account (a copy to an administrator, a message without Sésame's tags, a
/// kind of event that sets no state, an SNS subscription message).
pub fn read(body: &str) -> Result<Option<TaggedEvents>, Unreadable> {
    let value: serde_json::Value =
        serde_json::from_str(body).map_err(|e| Unreadable::Malformed(e.to_string()))?;
    // Wrapped by SNS (its `Type` says so), or raw.
    let event: SesEvent = if value.get("Type").is_some() {
        let notification: SnsNotification =
            serde_json::from_value(value).map_err(|e| Unreadable::Malformed(e.to_string()))?;
        if notification.kind != "Notification" {
            return Ok(None);
        }
        serde_json::from_str(&notification.message).map_err(|e| Unreadable::Malformed(e.to_string()))?
    } else {
        serde_json::from_value(value).map_err(|e| Unreadable::Malformed(e.to_string()))?
    };
    let tag = |name: &str| {
        event
            .mail
            .tags
            .get(name)
            .and_then(|v| v.first())
            .map(String::as_str)
    };
    if tag(tags::COPY).is_some() {
        return Ok(None);
    }
    let (Some(school), Some(account)) = (tag(tags::SCHOOL), tag(tags::ACCOUNT)) else {
        return Ok(None);
    };
    let (Ok(school), Ok(account)) = (SchoolId::parse(school), AccountId::parse(account)) else {
        return Err(Unreadable::Malformed(
            "its school or account tag is not one of Sésame's".into(),
        ));
    };
    let message_id = event.mail.message_id.clone();
    let made = |kind, recipient: &str, at, diagnostic: Option<String>| {
        Email::parse(recipient.trim())
            .ok()
            .map(|recipient| DeliveryEvent {
                kind,
                recipient,
                at,
                message_id: message_id.clone(),
                diagnostic,
            })
    };
    let events: Vec<DeliveryEvent> = match (event.event_type.as_str(), &event) {
        ("Bounce", SesEvent { bounce: Some(b), .. }) => {
            // `Permanent` (including SES's own suppression list), else transient.
            let kind = DeliveryKind::Bounce {
                permanent: b.bounce_type == "Permanent",
            };
            b.bounced_recipients
                .iter()
                .filter_map(|r| {
                    let said = r.diagnostic_code.clone().or_else(|| {
                        b.bounce_sub_type
                            .clone()
                            .map(|s| format!("{} ({s})", b.bounce_type))
                    });
                    made(kind, &r.email_address, b.timestamp, said)
                })
                .collect()
        }
        (
            "Complaint",
            SesEvent {
                complaint: Some(c), ..
            },
        ) => c
            .complained_recipients
            .iter()
            .filter_map(|r| made(DeliveryKind::Complaint, &r.email_address, c.timestamp, None))
            .collect(),
        (
            "Delivery",
            SesEvent {
                delivery: Some(d), ..
            },
        ) => d
            .recipients
            .iter()
            .filter_map(|r| made(DeliveryKind::Delivery, r, d.timestamp, d.smtp_response.clone()))
            .collect(),
        (
            "DeliveryDelay",
            SesEvent {
                delivery_delay: Some(d),
                ..
            },
        ) => d
            .delayed_recipients
            .iter()
            .filter_map(|r| {
                made(
                    DeliveryKind::DeliveryDelay,
                    &r.email_address,
                    d.timestamp,
                    r.diagnostic_code.clone(),
                )
            })
            .collect(),
        ("Reject", _) => {
            tracing::warn!(
                message_id,
                "SES rejected a message (e.g. a virus): no state changes"
            );
            Vec::new()
        }
        // Send, Open, Click, Rendering Failure, Subscription: no mail state.
        _ => Vec::new(),
    };
    if events.is_empty() {
        return Ok(None);
    }
    Ok(Some(TaggedEvents {
        school,
        account,
        events,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::AccountId;

    fn ses(kind: &str, detail: serde_json::Value, tags: serde_json::Value) -> String {
        let mut event = serde_json::json!({
            "eventType": kind,
            "mail": {
                "timestamp": "2026-09-01T08:00:00.000Z",
                "source": "ecole@example.org",
                "messageId": "0102019-abc",
                "destination": ["famille@example.org"],
                "tags": tags,
            },
        });
        let key = match kind {
            "DeliveryDelay" => "deliveryDelay".to_owned(),
            other => other.to_ascii_lowercase(),
        };
        event[key] = detail;
        event.to_string()
    }

    fn tagged(account: &AccountId) -> serde_json::Value {
        serde_json::json!({"school": ["north"], "account": [account.to_string()], "ses:configuration-set": ["sesame"]})
    }

    #[test]
    fn a_permanent_bounce_wrapped_by_sns_names_its_account_and_diagnostic() {
        let account = AccountId::generate();
        let event = ses(
            "Bounce",
            serde_json::json!({"bounceType": "Permanent", "bounceSubType": "General",
                "bouncedRecipients": [{"emailAddress": "famille@example.org", "action": "failed",
                    "status": "5.1.1", "diagnosticCode": "smtp; 550 5.1.1 user unknown"}],
                "timestamp": "2026-09-01T08:00:05.000Z", "feedbackId": "f1"}),
            tagged(&account),
        );
        let sns =
            serde_json::json!({"Type": "Notification", "MessageId": "n1", "Message": event}).to_string();
        let read = read(&sns).unwrap().unwrap();
        assert_eq!(read.account, account);
        assert_eq!(read.school.as_str(), "north");
        let [one] = read.events.as_slice() else {
            panic!("{read:?}")
        };
        assert_eq!(one.kind, DeliveryKind::Bounce { permanent: true });
        assert_eq!(one.recipient.as_str(), "famille@example.org");
        assert_eq!(one.diagnostic.as_deref(), Some("smtp; 550 5.1.1 user unknown"));
        assert_eq!(one.message_id, "0102019-abc");
    }

    #[test]
    fn complaints_deliveries_delays_and_suppressions_are_read_raw_too() {
        let account = AccountId::generate();
        let complaint = ses(
            "Complaint",
            serde_json::json!({"complainedRecipients": [{"emailAddress": "famille@example.org"}],
                "timestamp": "2026-09-02T10:00:00Z", "feedbackId": "f2", "complaintFeedbackType": "abuse"}),
            tagged(&account),
        );
        assert_eq!(
            read(&complaint).unwrap().unwrap().events[0].kind,
            DeliveryKind::Complaint
        );
        let delivery = ses(
            "Delivery",
            serde_json::json!({"timestamp": "2026-09-01T08:00:02Z", "processingTimeMillis": 500,
                "recipients": ["famille@example.org"], "smtpResponse": "250 2.6.0 ok",
                "reportingMTA": "a8-70.smtp-out.amazonses.com"}),
            tagged(&account),
        );
        assert_eq!(
            read(&delivery).unwrap().unwrap().events[0].kind,
            DeliveryKind::Delivery
        );
        let delay = ses(
            "DeliveryDelay",
            serde_json::json!({"delayType": "MailboxFull", "expirationTime": "2026-09-02T08:00:00Z",
                "delayedRecipients": [{"emailAddress": "famille@example.org", "status": "4.2.2",
                    "diagnosticCode": "smtp; 452 4.2.2 mailbox full"}],
                "timestamp": "2026-09-01T09:00:00Z"}),
            tagged(&account),
        );
        assert_eq!(
            read(&delay).unwrap().unwrap().events[0].kind,
            DeliveryKind::DeliveryDelay
        );
        let suppressed = ses(
            "Bounce",
            serde_json::json!({"bounceType": "Permanent", "bounceSubType": "OnAccountSuppressionList",
                "bouncedRecipients": [{"emailAddress": "famille@example.org"}],
                "timestamp": "2026-09-01T08:00:01Z", "feedbackId": "f3"}),
            tagged(&account),
        );
        let read_back = read(&suppressed).unwrap().unwrap();
        assert_eq!(read_back.events[0].kind, DeliveryKind::Bounce { permanent: true });
        assert_eq!(
            read_back.events[0].diagnostic.as_deref(),
            Some("Permanent (OnAccountSuppressionList)")
        );
    }

    #[test]
    fn copies_untagged_messages_rejects_and_subscriptions_concern_no_account() {
        let account = AccountId::generate();
        let bounce = serde_json::json!({"bounceType": "Permanent",
            "bouncedRecipients": [{"emailAddress": "admin@example.org"}], "timestamp": "2026-09-01T08:00:05Z"});
        let mut copy = tagged(&account);
        copy["copy"] = serde_json::json!(["true"]);
        assert_eq!(read(&ses("Bounce", bounce.clone(), copy)).unwrap(), None);
        assert_eq!(read(&ses("Bounce", bounce, serde_json::json!({}))).unwrap(), None);
        assert_eq!(
            read(&ses(
                "Reject",
                serde_json::json!({"reason": "Bad content"}),
                tagged(&account)
            ))
            .unwrap(),
            None
        );
        let confirmation =
            serde_json::json!({"Type": "SubscriptionConfirmation", "Message": "You have chosen…"});
        assert_eq!(read(&confirmation.to_string()).unwrap(), None);
        assert!(read("not json").is_err());
        assert!(read("{\"eventType\": \"Bounce\"}").is_err());
    }
}
