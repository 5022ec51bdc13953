//! The cold start of every Lambda function: configuration from the environment,
//! the clients built once, then the function's loop: `lambda_http::run` on its part
//! of the router, the export worker fed by the table's stream, or the sweep.
//! A function mails (SES) or keeps files (S3) only if its crate turns on the
//! features `aws-mail` or `aws-files`; otherwise those ports refuse loudly.

use crate::adapters::dynamodb::{DynamoStore, StreamJob};
use crate::app::{Adapters, App, Files, Jobs};
use crate::config::CloudConfig;
use crate::http::Group;
use crate::http::gateway::with_gateway_claims;
use crate::ports::{FileStore, Mailer, NoFiles, NoMail, StoredJobs, SystemClock};
use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use lambda_http::{Error, LambdaEvent, service_fn};
use std::sync::Arc;

/// What a function's work needs beyond the table.
#[derive(Debug, Clone, Copy, Default)]
pub struct Needs {
    pub mail: bool,
    pub files: bool,
}

/// Logs to standard output as Lambda's runtime reads them: JSON when the
/// function's log format is JSON, else text; colour codes only on a terminal
/// (never in CloudWatch). Level from `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`.
fn init_logging() {
    use lambda_http::tracing::subscriber::{EnvFilter, fmt};
    use std::io::IsTerminal;
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".to_owned());
    let filter = EnvFilter::try_new(level.to_lowercase()).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = fmt()
        .with_target(false)
        .without_time()
        .with_ansi(std::io::stdout().is_terminal())
        .with_env_filter(filter)
        .with_writer(std::io::stdout);
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// The app of a cloud function, built once per cold start. Features unify across
/// a workspace build, so what was compiled in is not what a function may use: it
/// gets a mailer or a file store only if it `needs` one (and only its role may use
/// them); the others refuse loudly.
pub async fn app(needs: Needs) -> Result<App, Error> {
    init_logging();
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let config = CloudConfig::load(&sdk).await?;
    let adapters = Adapters {
        store: Arc::new(DynamoStore::from_config(&sdk, &config.table)),
        clock: Arc::new(SystemClock),
        mailer: if needs.mail {
            mailer(&sdk, config.ses_api, config.ses_configuration_set.clone())?
        } else {
            Arc::new(NoMail)
        },
        files: Files::Linked(if needs.files {
            files(&sdk, &config)?
        } else {
            Arc::new(NoFiles)
        }),
        jobs: Jobs::Elsewhere(Arc::new(StoredJobs)),
    };
    Ok(App::build(config.app_config(), adapters)?)
}

/// SES, v2 unless the configuration says v1 (a wrong value failed the cold start).
#[cfg(feature = "aws-mail")]
fn mailer(
    sdk: &aws_config::SdkConfig,
    api: crate::adapters::ses_api::SesApi,
    configuration_set: Option<String>,
) -> Result<Arc<dyn Mailer>, Error> {
    Ok(crate::adapters::ses::mailer(sdk, api, configuration_set))
}

#[cfg(not(feature = "aws-mail"))]
fn mailer(
    _: &aws_config::SdkConfig,
    _: crate::adapters::ses_api::SesApi,
    _: Option<String>,
) -> Result<Arc<dyn Mailer>, Error> {
    Ok(Arc::new(NoMail))
}

#[cfg(feature = "aws-files")]
fn files(sdk: &aws_config::SdkConfig, config: &CloudConfig) -> Result<Arc<dyn FileStore>, Error> {
    Ok(Arc::new(crate::adapters::s3::S3Files::new(
        sdk,
        config.bucket()?.to_owned(),
    )))
}

#[cfg(not(feature = "aws-files"))]
fn files(_: &aws_config::SdkConfig, _: &CloudConfig) -> Result<Arc<dyn FileStore>, Error> {
    Ok(Arc::new(NoFiles))
}

/// Serves `groups` as a Lambda function until the runtime stops it.
pub async fn run(groups: &[Group]) -> Result<(), Error> {
    let needs = Needs {
        mail: groups.iter().any(|g| g.sends_mail()),
        files: groups.contains(&Group::Exports) || groups.contains(&Group::Imports),
    };
    let app = app(needs).await?;
    lambda_http::run(with_gateway_claims(app.router(groups))).await
}

/// The work a DynamoDB Streams record announces: a new export or import job, or
/// a new distribution (only a queued send-activation has work in it).
pub fn job_of(record: &EventRecord) -> Option<StreamJob> {
    if record.event_name != "INSERT" {
        return None;
    }
    // The keys as DynamoDB's JSON: {"pk": {"S": "SCHOOL#…"}, "sk": {"S": "EXPORT#…"}}.
    let keys = serde_json::to_value(&record.change.keys).ok()?;
    let key = |name: &str| keys.get(name)?.get("S")?.as_str();
    crate::adapters::dynamodb::job_of(key("pk")?, key("sk")?)
}

/// Runs what a stream event announces, one record after the other.
pub async fn handle_stream(sesame: &crate::ops::Sesame, event: &Event) -> crate::domain::Result<()> {
    for job in event.records.iter().filter_map(job_of) {
        match job {
            StreamJob::Export(school, id) => sesame.run_export(&school, &id).await?,
            StreamJob::Distribution(school, id) => sesame.run_distribution(&school, &id).await?,
            StreamJob::Import(school, id) => sesame.run_import(&school, &id).await?,
        }
    }
    Ok(())
}

/// Builds the exports, and runs the background send-activations and imports,
/// that the table's stream announces.
pub async fn run_export_worker() -> Result<(), Error> {
    let app = app(Needs {
        mail: true,
        files: true,
    })
    .await?;
    lambda_http::lambda_runtime::run(service_fn(|event: LambdaEvent<Event>| {
        let sesame = app.sesame().clone();
        async move {
            handle_stream(&sesame, &event.payload).await?;
            Ok::<(), Error>(())
        }
    }))
    .await
}

/// The SQS event the mail-events function is fed: each record's id and body (an
/// SES event, through SNS). Read with serde alone (no event crate feature).
#[derive(Debug, serde::Deserialize)]
pub struct QueueEvent {
    #[serde(rename = "Records", default)]
    pub records: Vec<QueueRecord>,
}

#[derive(Debug, serde::Deserialize)]
pub struct QueueRecord {
    #[serde(rename = "messageId")]
    pub message_id: String,
    pub body: String,
}

/// The records to deliver again (`ReportBatchItemFailures`): those whose event
/// could not be applied now (the store did not answer).
#[derive(Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct BatchResponse {
    #[serde(rename = "batchItemFailures")]
    pub failures: Vec<ItemFailure>,
}

#[derive(Debug, PartialEq, Eq, serde::Serialize)]
pub struct ItemFailure {
    #[serde(rename = "itemIdentifier")]
    pub id: String,
}

/// Applies each record's delivery events to the account it is about (SPEC §6).
/// An event that is not SES's, or concerns no account, is logged and dropped; one
/// that fails to apply is delivered again (then to the dead-letter queue).
pub async fn handle_mail_events(sesame: &crate::ops::Sesame, event: &QueueEvent) -> BatchResponse {
    let mut response = BatchResponse::default();
    for record in &event.records {
        let tagged = match crate::mail::events::read(&record.body) {
            Ok(Some(tagged)) => tagged,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(message_id = record.message_id, error = %e, "dropped a queue message");
                continue;
            }
        };
        for delivery in &tagged.events {
            if let Err(e) = sesame
                .record_delivery(&tagged.school, &tagged.account, delivery)
                .await
            {
                tracing::warn!(message_id = record.message_id, error = %e, "a mail event will be retried");
                response.failures.push(ItemFailure {
                    id: record.message_id.clone(),
                });
                break;
            }
        }
    }
    response
}

/// Applies the SES delivery events of the mail-events queue.
pub async fn run_mail_events() -> Result<(), Error> {
    let app = app(Needs::default()).await?;
    lambda_http::lambda_runtime::run(service_fn(|event: LambdaEvent<QueueEvent>| {
        let sesame = app.sesame().clone();
        async move { Ok::<BatchResponse, Error>(handle_mail_events(&sesame, &event.payload).await) }
    }))
    .await
}

/// How often the template schedules the sweep function.
const SWEEP_EVERY: chrono::Duration = chrono::Duration::hours(1);

/// Deletes credential files before they are a day old (run on a schedule).
pub async fn run_sweep() -> Result<(), Error> {
    let app = app(Needs {
        mail: false,
        files: true,
    })
    .await?;
    lambda_http::lambda_runtime::run(service_fn(|_: LambdaEvent<serde_json::Value>| {
        let sesame = app.sesame().clone();
        async move {
            let removed = sesame.sweep_exports(SWEEP_EVERY).await?;
            tracing::info!(removed, "swept old credential files");
            Ok::<serde_json::Value, Error>(serde_json::json!({ "removed": removed }))
        }
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worker_reads_new_jobs_from_a_stream_event_and_ignores_the_rest() {
        let record = |n: u32, name: &str, sk: &str| {
            serde_json::json!({"eventID": n.to_string(), "eventName": name, "eventVersion": "1.1",
                "eventSource": "aws:dynamodb", "awsRegion": "eu-west-3",
                "dynamodb": {"Keys": {"pk": {"S": "SCHOOL#demo"}, "sk": {"S": sk}},
                    "SequenceNumber": n.to_string(), "SizeBytes": 40, "StreamViewType": "KEYS_ONLY"}})
        };
        let records = [
            record(1, "INSERT", "EXPORT#exp_1"),
            record(2, "MODIFY", "EXPORT#exp_1"),
            record(3, "INSERT", "ACCOUNT#acc_1"),
            record(4, "INSERT", "DIST#dst_1"),
            record(5, "INSERT", "IMPORT#imp_1"),
        ];
        let event: Event = serde_json::from_value(serde_json::json!({ "Records": records })).unwrap();
        let demo = crate::domain::SchoolId::parse("demo").unwrap();
        let jobs: Vec<_> = event.records.iter().filter_map(job_of).collect();
        assert_eq!(
            jobs,
            [
                StreamJob::Export(demo.clone(), "exp_1".to_owned()),
                StreamJob::Distribution(demo.clone(), "dst_1".to_owned()),
                StreamJob::Import(demo, "imp_1".to_owned())
            ]
        );
    }
}
