//! The S3 file store against the emulator `AWS_ENDPOINT_URL` names (moto, started
//! by the test command): files are encrypted, links say 15 minutes and work, the
//! sweep deletes what is older than a day. Without an emulator these tests fail.

use aws_sdk_s3::types::ServerSideEncryption;
use chrono::{Duration, Utc};
use sesame::adapters::s3::S3Files;
use sesame::ports::FileStore;

async fn bucket() -> (aws_sdk_s3::Client, String, S3Files) {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    assert!(
        !endpoint.is_empty(),
        "AWS_ENDPOINT_URL must name an emulator (scripts/moto.sh)"
    );
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let client = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    );
    let name = format!("sesame-files-{}", uuid::Uuid::new_v4().simple());
    let location = aws_sdk_s3::types::CreateBucketConfiguration::builder()
        .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(
            sdk.region().unwrap().as_ref(),
        ))
        .build();
    client
        .create_bucket()
        .bucket(&name)
        .create_bucket_configuration(location)
        .send()
        .await
        .unwrap();
    let files = S3Files::new(&sdk, &name);
    (client, name, files)
}

#[tokio::test]
async fn a_stored_file_is_encrypted_and_its_link_says_fifteen_minutes_and_works() {
    let (client, name, files) = bucket().await;
    let now = Utc::now();
    let key = format!("exports/demo/{}-exp_1.csv", now.timestamp());
    files
        .put(&key, b"\xEF\xBB\xBFClasse;Nom\n".to_vec(), "text/csv")
        .await
        .unwrap();

    let head = client.head_object().bucket(&name).key(&key).send().await.unwrap();
    assert_eq!(head.server_side_encryption(), Some(&ServerSideEncryption::Aes256));
    let url = files
        .link(&key, "identifiants.csv", now, now + Duration::minutes(15))
        .await
        .unwrap();
    assert!(url.contains("X-Amz-Expires=900"), "{url}");
    let response = reqwest::get(&url).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("identifiants.csv")
    );
    assert_eq!(&response.bytes().await.unwrap()[..], b"\xEF\xBB\xBFClasse;Nom\n");
}

#[tokio::test]
async fn a_deleted_file_is_gone() {
    let (client, name, files) = bucket().await;
    let key = format!("exports/demo/{}-exp_2.pdf", Utc::now().timestamp());
    files
        .put(&key, b"%PDF".to_vec(), "application/pdf")
        .await
        .unwrap();
    files.delete(&key).await.unwrap();
    assert!(client.head_object().bucket(&name).key(&key).send().await.is_err());
}

#[tokio::test]
async fn the_sweep_deletes_files_older_than_the_cutoff_only() {
    let (client, name, files) = bucket().await;
    let now = Utc::now();
    let old = format!("exports/demo/{}-old.csv", (now - Duration::hours(25)).timestamp());
    let new = format!("exports/demo/{}-new.csv", now.timestamp());
    for key in [&old, &new] {
        files.put(key, b"x".to_vec(), "text/csv").await.unwrap();
    }
    assert_eq!(files.sweep(now - Duration::hours(24)).await.unwrap(), 1);
    assert!(client.head_object().bucket(&name).key(&old).send().await.is_err());
    assert!(client.head_object().bucket(&name).key(&new).send().await.is_ok());
}
