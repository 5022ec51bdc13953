//! The cold start of every Lambda function: configuration from the environment,
//! the clients built once, then the function's loop: `lambda_http::run` on its part
//! of the router, the export worker fed by the table's stream, or the sweep.
//! A function mails (SES) or keeps files (S3) only if its crate turns on the
//! features `aws-mail` or `aws-files`; otherwise those ports refuse loudly.

use crate::adapters::dynamodb::DynamoStore;
use crate::app::{Adapters, App, Files, Jobs};
use crate::config::CloudConfig;
use crate::http::Group;
use crate::http::gateway::with_gateway_claims;
use crate::ports::{FileStore, Mailer, NoFiles, NoMail, StoredJobs, SystemClock};
use lambda_http::{Error, LambdaEvent, service_fn};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;

/// What a function's work needs beyond the table.
#[derive(Debug, Clone, Copy, Default)]
pub struct Needs {
    pub mail: bool,
    pub files: bool,
}

/// The app of a cloud function, built once per cold start. Features unify across
/// a workspace build, so what was compiled in is not what a function may use: it
/// gets a mailer or a file store only if it `needs` one (and only its role may use
/// them); the others refuse loudly.
pub async fn app(needs: Needs) -> Result<App, Error> {
    lambda_http::tracing::init_default_subscriber();
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let config = CloudConfig::load(&sdk).await?;
    let adapters = Adapters {
        store: Arc::new(DynamoStore::from_config(&sdk, &config.table)),
        clock: Arc::new(SystemClock),
        mailer: if needs.mail {
            mailer(&sdk)
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

#[cfg(feature = "aws-mail")]
fn mailer(sdk: &aws_config::SdkConfig) -> Arc<dyn Mailer> {
    Arc::new(crate::adapters::ses::SesMailer::from_config(sdk))
}

#[cfg(not(feature = "aws-mail"))]
fn mailer(_: &aws_config::SdkConfig) -> Arc<dyn Mailer> {
    Arc::new(NoMail)
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
        files: groups.contains(&Group::Exports),
    };
    let app = app(needs).await?;
    lambda_http::run(with_gateway_claims(app.router(groups))).await
}

/// What the worker reads of a DynamoDB Streams event: the keys of new items.
#[derive(Debug, Deserialize)]
pub struct StreamEvent {
    #[serde(rename = "Records", default)]
    pub records: Vec<StreamRecord>,
}

#[derive(Debug, Deserialize)]
pub struct StreamRecord {
    #[serde(rename = "eventName", default)]
    pub event_name: String,
    pub dynamodb: StreamImage,
}

#[derive(Debug, Deserialize)]
pub struct StreamImage {
    #[serde(rename = "Keys", default)]
    pub keys: HashMap<String, HashMap<String, String>>,
}

impl StreamRecord {
    /// The school and id of a newly inserted export job.
    pub fn new_export(&self) -> Option<(crate::domain::SchoolId, String)> {
        if self.event_name != "INSERT" {
            return None;
        }
        let key = |name: &str| self.dynamodb.keys.get(name)?.get("S").map(String::as_str);
        crate::adapters::dynamodb::export_of(key("pk")?, key("sk")?)
    }
}

/// Builds the exports the table's stream announces.
pub async fn run_export_worker() -> Result<(), Error> {
    let app = app(Needs {
        mail: false,
        files: true,
    })
    .await?;
    lambda_http::lambda_runtime::run(service_fn(|event: LambdaEvent<StreamEvent>| {
        let sesame = app.sesame().clone();
        async move {
            for (school, id) in event.payload.records.iter().filter_map(StreamRecord::new_export) {
                sesame.run_export(&school, &id).await?;
            }
            Ok::<(), Error>(())
        }
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
    fn the_worker_reads_new_export_jobs_from_a_stream_event_and_ignores_the_rest() {
        let event: StreamEvent = serde_json::from_value(serde_json::json!({"Records": [
            {"eventName": "INSERT", "eventSource": "aws:dynamodb", "awsRegion": "eu-west-3",
             "dynamodb": {"Keys": {"pk": {"S": "SCHOOL#demo"}, "sk": {"S": "EXPORT#exp_1"}},
                          "SequenceNumber": "1", "SizeBytes": 40, "StreamViewType": "KEYS_ONLY"}},
            {"eventName": "MODIFY", "dynamodb": {"Keys": {"pk": {"S": "SCHOOL#demo"}, "sk": {"S": "EXPORT#exp_1"}}}},
            {"eventName": "INSERT", "dynamodb": {"Keys": {"pk": {"S": "SCHOOL#demo"}, "sk": {"S": "ACCOUNT#acc_1"}}}}
        ]}))
        .unwrap();
        let jobs: Vec<_> = event
            .records
            .iter()
            .filter_map(StreamRecord::new_export)
            .collect();
        assert_eq!(
            jobs,
            [(
                crate::domain::SchoolId::parse("demo").unwrap(),
                "exp_1".to_owned()
            )]
        );
    }
}
