//! The cloud's stream worker fed what DynamoDB Streams really delivers: records
//! read from moto's stream of the table (GetRecords), wrapped in the Lambda event
//! shape, build a queued export, run a background send-activation, and import a
//! roster uploaded to S3 through a presigned link.

use serde_json::{Value, json};
use sesame::adapters::disk::DiskFiles;
use sesame::adapters::dynamodb::DynamoStore;
use sesame::adapters::outbox::Outbox;
use sesame::app::{Adapters, App, AppConfig, Files, Jobs};
use sesame::domain::{
    Caller, ExportRequest, ExportStatus, Role, RunStatus, School, SchoolId, Scope, Settings, Sort,
};
use sesame::export::{Content, Format, PerPage};
use sesame::ops::roster::RosterRow;
use sesame::ports::{AccountFilter, AccountQuery, StoredJobs, SystemClock};
use std::sync::Arc;

/// One call of the emulator's JSON API (moto routes on the target; it checks no
/// signature).
async fn call(target: &str, body: Value) -> Value {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL names moto (scripts/moto.sh)");
    let response = reqwest::Client::new()
        .post(endpoint)
        .header("X-Amz-Target", target)
        .header("Content-Type", "application/x-amz-json-1.0")
        .header(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=test/20261130/eu-west-3/dynamodb/aws4_request, \
             SignedHeaders=host, Signature=0",
        )
        .json(&body)
        .send()
        .await
        .expect("moto answers");
    let status = response.status();
    let answer: Value = response.json().await.expect("JSON");
    assert!(status.is_success(), "{target}: {answer}");
    answer
}

/// Every record of the table's stream so far, as GetRecords gives them.
async fn stream_records(table: &str) -> Vec<Value> {
    let described = call("DynamoDB_20120810.DescribeTable", json!({"TableName": table})).await;
    let arn = described["Table"]["LatestStreamArn"]
        .as_str()
        .expect("a stream")
        .to_owned();
    let stream = call(
        "DynamoDBStreams_20120810.DescribeStream",
        json!({"StreamArn": arn}),
    )
    .await;
    let mut records = Vec::new();
    for shard in stream["StreamDescription"]["Shards"].as_array().unwrap() {
        let iterator = call(
            "DynamoDBStreams_20120810.GetShardIterator",
            json!({"StreamArn": arn, "ShardId": shard["ShardId"], "ShardIteratorType": "TRIM_HORIZON"}),
        )
        .await;
        let page = call(
            "DynamoDBStreams_20120810.GetRecords",
            json!({"ShardIterator": iterator["ShardIterator"]}),
        )
        .await;
        records.extend(page["Records"].as_array().unwrap().iter().cloned());
    }
    records
}

/// A new table `name` with its stream, as the SAM template makes it.
async fn streamed_table(name: &str) -> DynamoStore {
    let store = DynamoStore::connect(name).await.expect("the emulator answers");
    store.create_table().await.expect("the table");
    call(
        "DynamoDB_20120810.UpdateTable",
        json!({"TableName": name, "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "KEYS_ONLY"}}),
    )
    .await;
    store
}

#[tokio::test]
async fn the_worker_runs_what_the_tables_stream_announces() {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let table = format!("sesame-stream-{nanos:x}");
    let store = streamed_table(&table).await;

    let dir = tempfile::tempdir().unwrap();
    let base = "http://127.0.0.1:9";
    let adapters = Adapters {
        store: Arc::new(store),
        clock: Arc::new(SystemClock),
        mailer: Arc::new(Outbox::new(dir.path().join("outbox")).unwrap()),
        files: Files::Served(Arc::new(
            DiskFiles::new(dir.path().join("files"), b"files-key", base).unwrap(),
        )),
        // As in the cloud: nothing runs a job but the stream worker.
        jobs: Jobs::Elsewhere(Arc::new(StoredJobs)),
    };
    let config = AppConfig {
        data_key: b"a-data-key-a-data-key-a-data-key".to_vec(),
        token_key: None,
        public_url: base.to_owned(),
        sender: Some(sesame::domain::Email::parse("no-reply@sesame.test").unwrap()),
        mail_identity: None,
        console: false,
        trusted_proxies: Vec::new(),
        alone: false,
    };
    let app = App::build(config, adapters).unwrap();
    let sesame = app.sesame();
    let school = SchoolId::parse("stream").unwrap();
    sesame
        .create_school(&School::new(
            school.clone(),
            "Collège du Flux",
            Settings::default(),
        ))
        .await
        .unwrap();
    let admin = Caller {
        sub: "admin".into(),
        school: school.clone(),
        role: Role::Admin,
        classes: vec![],
    };
    let rows: Vec<RosterRow> = (0..3)
        .map(|i| RosterRow {
            external_id: Some(format!("S{i}")),
            profile: "student".into(),
            first_name: format!("Élève{i}"),
            last_name: "Flux".into(),
            classes: Some("6A".into()),
            email: Some(format!("eleve{i}@example.org")),
            ..RosterRow::default()
        })
        .collect();
    sesame.import_roster(&admin, None, &rows, false).await.unwrap();
    let query = AccountQuery {
        filter: AccountFilter::default(),
        sort: Sort::Name,
        after: None,
        limit: 10,
    };
    let listed = sesame.accounts.list_accounts(&school, &query).await.unwrap();
    let ids: Vec<_> = listed.items.into_iter().map(|a| a.id).collect();
    assert_eq!(ids.len(), 3);

    let request = ExportRequest {
        scope: Scope::Ids(ids.clone()),
        content: Content::Credentials,
        format: Format::Csv,
        per_page: PerPage::One,
        sort: Sort::Name,
        language: None,
    };
    let export = sesame.create_export(&admin, None, request).await.unwrap();
    let run = sesame
        .queue_send_activation(&admin, None, Scope::Ids(ids), false)
        .await
        .unwrap();

    let records = stream_records(&table).await;
    assert!(!records.is_empty());
    let event: aws_lambda_events::event::dynamodb::Event =
        serde_json::from_value(json!({ "Records": records })).expect("the Lambda event shape");
    sesame::lambda::handle_stream(sesame, &event).await.unwrap();

    let built = sesame
        .exports
        .get_export(&school, &export.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(built.status, ExportStatus::Done);
    let sent = sesame.distribution(&admin, &run.id).await.unwrap();
    assert_eq!(sent.status, RunStatus::Done);
    assert_eq!(sent.results.len(), 3);
    assert_eq!(std::fs::read_dir(dir.path().join("outbox")).unwrap().count(), 3);
}

/// A new bucket on moto (its REST API; it checks no signature).
async fn bucket(name: &str) {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL names moto (scripts/moto.sh)");
    let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "eu-west-3".to_owned());
    let response = reqwest::Client::new()
        .put(format!("{endpoint}/{name}"))
        .header(
            "Authorization",
            format!("AWS4-HMAC-SHA256 Credential=test/20261130/{region}/s3/aws4_request, SignedHeaders=host, Signature=0"),
        )
        .body(format!(
            "<CreateBucketConfiguration><LocationConstraint>{region}</LocationConstraint></CreateBucketConfiguration>"
        ))
        .send()
        .await
        .expect("moto answers");
    assert!(
        response.status().is_success(),
        "CreateBucket: {}",
        response.status()
    );
}

/// SPEC §4 (imports): a roster too large for a Lambda request is put on S3 behind
/// a presigned link, and the stream worker imports it, with the counts the edge
/// gives for the same file.
#[tokio::test]
async fn a_roster_uploaded_to_s3_is_imported_by_the_stream_worker_as_on_the_edge() {
    use sesame::http::Group;
    use sesame_tests::uploads::{finished, job, roster, start, upload};
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let table = format!("sesame-imports-{nanos:x}");
    let store = streamed_table(&table).await;
    bucket(&table).await;
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let key = sesame::token::TokenKey::new(b"stream-key-stream-key-stream-key");
    let dir = tempfile::tempdir().unwrap();
    let adapters = Adapters {
        store: Arc::new(store),
        clock: Arc::new(SystemClock),
        mailer: Arc::new(Outbox::new(dir.path().join("outbox")).unwrap()),
        files: Files::Linked(Arc::new(sesame::adapters::s3::S3Files::new(&sdk, &table))),
        jobs: Jobs::Elsewhere(Arc::new(StoredJobs)),
    };
    let config = AppConfig {
        data_key: b"a-data-key-a-data-key-a-data-key".to_vec(),
        token_key: Some(key.clone()),
        public_url: base.clone(),
        sender: None,
        mail_identity: None,
        console: false,
        trusted_proxies: Vec::new(),
        alone: false,
    };
    let cloud = App::build(config, adapters).unwrap();
    let school = School::new(
        SchoolId::parse("nuage").unwrap(),
        "Collège du Nuage",
        Settings::default(),
    );
    cloud.sesame().create_school(&school).await.unwrap();
    // The imports function's routes, as its Lambda serves them.
    let router = cloud.router(&[Group::Imports]);
    tokio::spawn(async move { axum::serve(listener, router).await });
    let now = chrono::Utc::now();
    let claims = sesame::token::Claims::issued(
        "secretariat",
        "nuage",
        "admin",
        vec![],
        now,
        chrono::Duration::hours(1),
    );
    let token = key.sign(&claims);
    let client = reqwest::Client::new();
    let csv = roster(120);

    let cloud_upload = upload(&client, &base, &token, csv.clone().into_bytes()).await;
    let (status, queued) = start(&client, &base, &token, &cloud_upload, false).await;
    assert_eq!(status, 202, "{queued:?}");
    let id = queued["id"].as_str().unwrap();
    assert_eq!(job(&client, &base, &token, id).await["status"], "queued");
    let empty = upload(&client, &base, &token, Vec::new()).await;
    let (_, empty) = start(&client, &base, &token, &empty, false).await;
    let records = stream_records(&table).await;
    let event: aws_lambda_events::event::dynamodb::Event =
        serde_json::from_value(json!({ "Records": records })).expect("the Lambda event shape");
    sesame::lambda::handle_stream(cloud.sesame(), &event)
        .await
        .unwrap();
    let in_the_cloud = finished(&client, &base, &token, id).await;
    let nothing = finished(&client, &base, &token, empty["id"].as_str().unwrap()).await;
    assert_eq!(nothing["status"], "failed");
    assert!(
        nothing["error"].as_str().unwrap().starts_with("file"),
        "{nothing:?}"
    );

    let edge = sesame_tests::TestApp::spawn().await;
    edge.create_school("bord", "Collège du Bord").await;
    let admin = edge.token("bord", "admin", "secretariat", &[]);
    let upload_id = upload(&edge.client, &edge.base, &admin, csv.into_bytes()).await;
    let (_, queued) = start(&edge.client, &edge.base, &admin, &upload_id, false).await;
    let on_the_edge = finished(&edge.client, &edge.base, &admin, queued["id"].as_str().unwrap()).await;

    assert_eq!(in_the_cloud["status"], "done", "{in_the_cloud:?}");
    assert_eq!(in_the_cloud["report"], on_the_edge["report"]);
    assert_eq!(
        (in_the_cloud["total"].as_u64(), in_the_cloud["processed"].as_u64()),
        (Some(240), Some(240))
    );
    // The upload is deleted once imported.
    let (status, _) = start(&client, &base, &token, &cloud_upload, false).await;
    assert_eq!(status, 409);
}
