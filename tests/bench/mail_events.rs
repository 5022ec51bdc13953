//! `sesame-bench mail-events`: how long an SES delivery event takes from its
//! publication to the account's state as the API and the console read it, in the
//! cloud's shape on the emulator (AWS_ENDPOINT_URL, moto): the event published to
//! an SNS topic, delivered raw to an SQS queue, received by a worker that polls
//! as Lambda's SQS event source does (long polling, batches of up to 10) and runs
//! the mail-events function's handler on the DynamoDB store. Run it with
//! `SESAME_TEST_BACKEND=dynamodb` and `--features aws`.
//!
//! SNS and SQS are spoken to by their HTTP protocols directly (query and JSON), so
//! that the benchmark adds no AWS SDK crate to the build.

use serde_json::{Value, json};
use sesame::lambda::{QueueEvent, handle_mail_events};
use sesame_tests::TestApp;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

const AUTH: &str = "AWS4-HMAC-SHA256 Credential=test/20260101/eu-west-3/{service}/aws4_request, SignedHeaders=host, Signature=0";

struct Emulator {
    client: reqwest::Client,
    endpoint: String,
}

impl Emulator {
    /// An SQS call's answer; an answer that is not JSON (the emulator under load)
    /// is reported and answered as `null`, so that the worker polls again.
    async fn sqs(&self, action: &str, body: Value) -> Value {
        let reply = self
            .client
            .post(&self.endpoint)
            .header("x-amz-target", format!("AmazonSQS.{action}"))
            .header("content-type", "application/x-amz-json-1.0")
            .header("authorization", AUTH.replace("{service}", "sqs"))
            .body(body.to_string())
            .send()
            .await;
        let text = match reply {
            Ok(reply) => reply.text().await.unwrap_or_default(),
            Err(e) => e.to_string(),
        };
        serde_json::from_str(&text).unwrap_or_else(|_| {
            eprintln!(
                "SQS {action} answered: {}",
                text.chars().take(300).collect::<String>()
            );
            Value::Null
        })
    }

    async fn sns(&self, params: &[(&str, &str)]) -> String {
        let mut form = vec![("Version", "2010-03-31")];
        form.extend_from_slice(params);
        self.client
            .post(&self.endpoint)
            .header("authorization", AUTH.replace("{service}", "sns"))
            .form(&form)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> &'a str {
    let start = text.find(open).unwrap_or_else(|| panic!("no {open} in {text}")) + open.len();
    &text[start..start + text[start..].find(close).unwrap()]
}

/// The worker: long-polls the queue and applies what it receives, as the
/// mail-events function does behind Lambda's event source mapping.
async fn work(
    app: Arc<TestApp>,
    emulator: Arc<Emulator>,
    queue: String,
    stop: Arc<std::sync::atomic::AtomicBool>,
) {
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let received = emulator
            .sqs(
                "ReceiveMessage",
                json!({"QueueUrl": queue, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 1}),
            )
            .await;
        let messages = received["Messages"].as_array().cloned().unwrap_or_default();
        if messages.is_empty() {
            continue;
        }
        let records: Vec<Value> = messages
            .iter()
            .map(|m| json!({"messageId": m["MessageId"], "body": m["Body"]}))
            .collect();
        let event: QueueEvent = serde_json::from_value(json!({ "Records": records })).unwrap();
        let response = handle_mail_events(&app.state.sesame, &event).await;
        if !response.failures.is_empty() {
            eprintln!("to be received again: {:?}", response.failures);
        }
        for m in &messages {
            let failed = response
                .failures
                .iter()
                .any(|f| Some(f.id.as_str()) == m["MessageId"].as_str());
            if !failed {
                emulator
                    .sqs(
                        "DeleteMessage",
                        json!({"QueueUrl": queue, "ReceiptHandle": m["ReceiptHandle"]}),
                    )
                    .await;
            }
        }
    }
}

pub async fn mail_events(report: &mut String) {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL names the emulator");
    assert_eq!(
        std::env::var("SESAME_TEST_BACKEND").as_deref(),
        Ok("dynamodb"),
        "the cloud's store: SESAME_TEST_BACKEND=dynamodb"
    );
    let emulator = Arc::new(Emulator {
        client: reqwest::Client::new(),
        endpoint,
    });
    let app = Arc::new(TestApp::spawn().await);
    let accounts = 200usize;
    app.create_school("events", "École des retours").await;
    let mut roster = String::from("external_id,profile,first_name,last_name,classes,email\n");
    for i in 0..accounts {
        writeln!(roster, "P{i},parent,Parent{i},Famille{i},,famille{i}@example.org").unwrap();
    }
    let imported = app.import("events", &roster).await;
    assert_eq!(imported.body["errors"], json!([]), "{:?}", imported.body);
    let token = app.token("events", "admin", "bench", &[]);
    let mut ids = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = app
            .get(&format!("/v1/accounts?profile=parent&limit=500{cursor}"), &token)
            .await;
        for item in page.body["items"].as_array().unwrap() {
            ids.push((
                item["id"].as_str().unwrap().to_owned(),
                item["email"].as_str().unwrap().to_owned(),
            ));
        }
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(ids.len(), accounts);

    let unique = format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let queue = emulator
        .sqs(
            "CreateQueue",
            json!({"QueueName": format!("mail-events-{unique}")}),
        )
        .await["QueueUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let queue_arn = emulator
        .sqs(
            "GetQueueAttributes",
            json!({"QueueUrl": queue, "AttributeNames": ["QueueArn"]}),
        )
        .await["Attributes"]["QueueArn"]
        .as_str()
        .unwrap()
        .to_owned();
    let created = emulator
        .sns(&[
            ("Action", "CreateTopic"),
            ("Name", &format!("mail-events-{unique}")),
        ])
        .await;
    let topic = between(&created, "<TopicArn>", "</TopicArn>").to_owned();
    emulator
        .sns(&[
            ("Action", "Subscribe"),
            ("TopicArn", &topic),
            ("Protocol", "sqs"),
            ("Endpoint", &queue_arn),
            ("Attributes.entry.1.key", "RawMessageDelivery"),
            ("Attributes.entry.1.value", "true"),
        ])
        .await;

    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let worker = tokio::spawn(work(app.clone(), emulator.clone(), queue.clone(), stop.clone()));

    // One bounce per account, published every 25 ms. One watcher lists the
    // bounced accounts through the API (which the console reads alike) every
    // 250 ms and notes when each first shows: watching each account on its own
    // would load the emulator more than the events do.
    let published: Arc<std::sync::Mutex<std::collections::HashMap<String, Instant>>> = Arc::default();
    let watcher = {
        let (app, token, published) = (app.clone(), token.clone(), published.clone());
        tokio::spawn(async move {
            let start = Instant::now();
            let mut seen: std::collections::HashMap<String, Duration> = std::collections::HashMap::new();
            while seen.len() < accounts && start.elapsed() < Duration::from_secs(600) {
                let listed = app
                    .get("/v1/accounts?email_state=bounced&limit=500", &token)
                    .await;
                let now = Instant::now();
                for item in listed.body["items"].as_array().into_iter().flatten() {
                    let id = item["id"].as_str().unwrap_or_default().to_owned();
                    if let Some(at) = published.lock().unwrap().get(&id).copied() {
                        seen.entry(id).or_insert(now - at);
                    }
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            seen
        })
    };
    for (i, (id, email)) in ids.iter().enumerate() {
        let event = json!({
            "eventType": "Bounce",
            "mail": {"timestamp": "2026-09-01T08:00:00Z", "source": "ecole@sesame.test",
                "messageId": format!("bench-{unique}-{i}"), "destination": [email],
                "tags": {"school": ["events"], "account": [id]}},
            "bounce": {"bounceType": "Permanent", "bounceSubType": "General",
                "bouncedRecipients": [{"emailAddress": email, "diagnosticCode": "smtp; 550 5.1.1 user unknown"}],
                "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)},
        });
        published.lock().unwrap().insert(id.clone(), Instant::now());
        let said = emulator
            .sns(&[
                ("Action", "Publish"),
                ("TopicArn", &topic),
                ("Message", &event.to_string()),
            ])
            .await;
        assert!(said.contains("<MessageId>"), "publish answered: {said}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let seen = watcher.await.unwrap();
    assert_eq!(seen.len(), accounts, "every event shows within 10 minutes");
    let mut latencies: Vec<Duration> = seen.into_values().collect();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    worker.await.unwrap();
    latencies.sort();
    let at = |p: f64| latencies[((latencies.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1e3;
    writeln!(
        report,
        "## SES delivery events: from publication to the account's state (cloud shape, emulator)\n"
    )
    .unwrap();
    writeln!(report, "{accounts} permanent bounces, one per account, published to an SNS topic every 25 ms, delivered raw to an SQS queue, received by a worker long-polling in batches of up to 10 (as Lambda's SQS event source does) that runs the mail-events handler on the DynamoDB store; the bounced accounts listed through the API (the console reads the same) every 250 ms, each timed from its publication to the first list that shows it. Target: p95 ≤ 60 s.\n").unwrap();
    writeln!(report, "| p50 | p95 | max |\n|---|---|---|").unwrap();
    writeln!(
        report,
        "| {:.0} ms | {:.0} ms | {:.0} ms |",
        at(0.5),
        at(0.95),
        at(1.0)
    )
    .unwrap();
}
