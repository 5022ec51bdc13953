//! SES delivery events (SPEC §4 "mail state", §6) as the mail-events function
//! receives them: SQS records whose bodies are SNS notifications of SES events,
//! built as SES publishes them, applied by `sesame::lambda::handle_mail_events` to
//! the store under test. Bounce, complaint, delivery, delay, duplicates,
//! reordering, copies and strangers.
#![cfg(feature = "aws")]

use serde_json::{Value, json};
use sesame::lambda::{QueueEvent, handle_mail_events};
use sesame_tests::Fixture;

/// One SES event about a message to `recipient`, tagged as Sésame tags the
/// messages it sends, wrapped by SNS.
fn ses(kind: &str, tags: Value, recipient: &str, at: &str, message_id: &str) -> String {
    let detail = match kind {
        "Bounce" | "TransientBounce" => json!({
            "bounceType": if kind == "Bounce" { "Permanent" } else { "Transient" },
            "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": recipient, "action": "failed", "status": "5.1.1",
                "diagnosticCode": "smtp; 550 5.1.1 user unknown"}],
            "timestamp": at, "feedbackId": format!("fb-{message_id}")}),
        "Complaint" => json!({"complainedRecipients": [{"emailAddress": recipient}],
            "timestamp": at, "feedbackId": format!("fb-{message_id}"), "complaintFeedbackType": "abuse"}),
        "Delivery" => json!({"timestamp": at, "processingTimeMillis": 420, "recipients": [recipient],
            "smtpResponse": "250 2.0.0 OK", "reportingMTA": "a8-1.smtp-out.amazonses.com"}),
        "DeliveryDelay" => json!({"delayType": "MailboxFull", "expirationTime": at,
            "delayedRecipients": [{"emailAddress": recipient, "status": "4.2.2",
                "diagnosticCode": "smtp; 452 4.2.2 mailbox full"}], "timestamp": at}),
        other => panic!("no such event: {other}"),
    };
    let (event_type, key) = match kind {
        "TransientBounce" => ("Bounce", "bounce"),
        "DeliveryDelay" => ("DeliveryDelay", "deliveryDelay"),
        "Complaint" => ("Complaint", "complaint"),
        "Delivery" => ("Delivery", "delivery"),
        _ => ("Bounce", "bounce"),
    };
    let mut event = json!({
        "eventType": event_type,
        "mail": {"timestamp": at, "source": "ecole@sesame.test", "sendingAccountId": "123456789012",
            "messageId": message_id, "destination": [recipient], "tags": tags},
    });
    event[key] = detail;
    json!({"Type": "Notification", "MessageId": format!("sns-{message_id}"),
        "TopicArn": "arn:aws:sns:eu-west-3:123456789012:sesame-mail-events-dev",
        "Message": event.to_string(), "Timestamp": at})
    .to_string()
}

fn tags(f: &Fixture, ext: &str) -> Value {
    json!({"school": ["riverside"], "account": [f.id(ext)], "distribution": ["dst_1"],
        "ses:configuration-set": ["sesame-dev"]})
}

fn queue(bodies: &[String]) -> QueueEvent {
    let records: Vec<Value> = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| {
            json!({"messageId": format!("q{i}"), "receiptHandle": "h", "body": body,
            "eventSource": "aws:sqs", "awsRegion": "eu-west-3", "attributes": {}, "messageAttributes": {}})
        })
        .collect();
    serde_json::from_value(json!({ "Records": records })).unwrap()
}

async fn apply(f: &Fixture, bodies: &[String]) {
    let response = handle_mail_events(f.app.function("sesame-mail-events"), &queue(bodies)).await;
    assert!(response.failures.is_empty(), "{response:?}");
}

async fn state(f: &Fixture, ext: &str) -> Value {
    let account = f
        .app
        .get(&format!("/v1/accounts/{}", f.id(ext)), &f.admin())
        .await;
    account.body["email_state"].clone()
}

#[tokio::test]
async fn bounces_complaints_and_deliveries_set_the_state_once_and_never_backwards() {
    let f = Fixture::new().await;
    let seb = "seb@example.org";
    assert_eq!(state(&f, "PA1").await["status"], "unknown");

    apply(
        &f,
        &[ses(
            "Delivery",
            tags(&f, "PA1"),
            seb,
            "2026-09-01T08:00:01Z",
            "m1",
        )],
    )
    .await;
    assert_eq!(state(&f, "PA1").await["status"], "delivered");

    let bounce = ses("Bounce", tags(&f, "PA1"), seb, "2026-09-01T08:10:00Z", "m2");
    apply(&f, &[bounce.clone(), bounce.clone()]).await;
    apply(&f, &[bounce]).await;
    let bounced = state(&f, "PA1").await;
    assert_eq!(bounced["status"], "bounced", "{bounced}");
    assert_eq!(bounced["diagnostic"], "smtp; 550 5.1.1 user unknown");
    assert_eq!(bounced["at"], "2026-09-01T08:10:00Z");
    let audit = f.app.get("/v1/audit?action=mail.bounced", &f.admin()).await;
    assert_eq!(
        audit.body["items"].as_array().unwrap().len(),
        1,
        "a repeated event is applied once: {:?}",
        audit.body
    );

    // An older delivery arriving late, an event about an older address, a copy to
    // an administrator, an untagged or foreign message: nothing changes.
    let mut copy = tags(&f, "PA1");
    copy["copy"] = json!(["true"]);
    let mut foreign = tags(&f, "PA1");
    foreign["school"] = json!(["elsewhere"]);
    apply(
        &f,
        &[
            ses("Delivery", tags(&f, "PA1"), seb, "2026-09-01T08:05:00Z", "m3"),
            ses(
                "Delivery",
                tags(&f, "PA1"),
                "old@example.org",
                "2026-09-01T09:00:00Z",
                "m4",
            ),
            ses("Delivery", copy, seb, "2026-09-01T09:00:00Z", "m5"),
            ses("Delivery", json!({}), seb, "2026-09-01T09:00:00Z", "m6"),
            ses("Delivery", foreign, seb, "2026-09-01T09:00:00Z", "m7"),
            "not an event".to_owned(),
        ],
    )
    .await;
    assert_eq!(state(&f, "PA1").await, bounced);

    let listed = f.app.get("/v1/accounts?email_state=bounced", &f.admin()).await;
    assert_eq!(listed.body["total"], 1, "{:?}", listed.body);
    let mailed = f
        .app
        .post(
            "/v1/accounts/send-activation",
            Some(&f.admin()),
            json!({"account_ids": [f.id("PA1")]}),
        )
        .await;
    assert_eq!(
        mailed.body["results"][0]["error"]["code"], "email_undeliverable",
        "{:?}",
        mailed.body
    );

    // A complaint, newer: complained, and still no mail.
    apply(
        &f,
        &[ses(
            "Complaint",
            tags(&f, "PA1"),
            seb,
            "2026-09-02T10:00:00Z",
            "m8",
        )],
    )
    .await;
    assert_eq!(state(&f, "PA1").await["status"], "complained");
    let listed = f.app.get("/v1/accounts?email_state=complained", &f.admin()).await;
    assert_eq!(listed.body["items"][0]["id"], f.id("PA1"), "{:?}", listed.body);
}

#[tokio::test]
async fn a_transient_bounce_or_a_delay_shows_delayed_and_blocks_nothing() {
    let f = Fixture::new().await;
    let teacher = "m.besson@example.org";
    apply(
        &f,
        &[ses(
            "TransientBounce",
            tags(&f, "TA"),
            teacher,
            "2026-09-01T08:00:00Z",
            "t1",
        )],
    )
    .await;
    assert_eq!(state(&f, "TA").await["status"], "delayed");
    apply(
        &f,
        &[ses(
            "DeliveryDelay",
            tags(&f, "TA"),
            teacher,
            "2026-09-01T09:00:00Z",
            "t2",
        )],
    )
    .await;
    let delayed = state(&f, "TA").await;
    assert_eq!(delayed["status"], "delayed");
    assert_eq!(delayed["diagnostic"], "smtp; 452 4.2.2 mailbox full");
    let mailed = f
        .app
        .post(
            "/v1/accounts/send-activation",
            Some(&f.admin()),
            json!({"account_ids": [f.id("TA")]}),
        )
        .await;
    assert_ne!(
        mailed.body["results"][0]["error"]["code"], "email_undeliverable",
        "{:?}",
        mailed.body
    );
}
