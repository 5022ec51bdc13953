//! The AWS backend of the edge binary: the DynamoDB store for `serve --backend aws`,
//! and `sesame aws bootstrap`, which creates the table, the files bucket and the
//! sender identity on the configured endpoint (LocalStack, moto, a dev account).

use anyhow::Context;
use aws_config::BehaviorVersion;
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, BucketLocationConstraint, CreateBucketConfiguration, ExpirationStatus,
    LifecycleExpiration, LifecycleRule, LifecycleRuleFilter, PublicAccessBlockConfiguration,
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule,
};
use sesame::adapters::dynamodb::DynamoStore;

pub async fn store(table: &str) -> anyhow::Result<DynamoStore> {
    DynamoStore::connect(table).await
}

/// Creates what the cloud deployment needs; running it again changes nothing.
pub async fn bootstrap(table: &str, bucket: Option<&str>, sender: Option<&str>) -> anyhow::Result<()> {
    let config = aws_config::load_defaults(BehaviorVersion::latest()).await;
    let region = config
        .region()
        .map(ToString::to_string)
        .context("set AWS_REGION")?;
    DynamoStore::from_config(&config, table).create_table().await?;
    println!("table {table}: ready");
    if let Some(bucket) = bucket {
        create_bucket(&aws_sdk_s3::Client::new(&config), bucket, &region).await?;
        println!("bucket {bucket}: ready (encrypted, private, objects expire after a day)");
    }
    if let Some(sender) = sender {
        let ses = aws_sdk_sesv2::Client::new(&config);
        match ses.create_email_identity().email_identity(sender).send().await {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_already_exists_exception()) => {}
            Err(e) => return Err(e).context("creating the sender identity"),
        }
        println!("sender {sender}: identity created (verify it before sending for real)");
    }
    Ok(())
}

async fn create_bucket(s3: &aws_sdk_s3::Client, bucket: &str, region: &str) -> anyhow::Result<()> {
    let mut create = s3.create_bucket().bucket(bucket);
    if region != "us-east-1" {
        let location = CreateBucketConfiguration::builder()
            .location_constraint(BucketLocationConstraint::from(region))
            .build();
        create = create.create_bucket_configuration(location);
    }
    match create.send().await {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_bucket_already_owned_by_you()) => {}
        Err(e) => return Err(e).context("creating the bucket"),
    }
    let rule = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(
            ServerSideEncryptionByDefault::builder()
                .sse_algorithm(ServerSideEncryption::Aes256)
                .build()?,
        )
        .build();
    s3.put_bucket_encryption()
        .bucket(bucket)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder().rules(rule).build()?,
        )
        .send()
        .await
        .context("encrypting the bucket")?;
    let private = PublicAccessBlockConfiguration::builder()
        .block_public_acls(true)
        .ignore_public_acls(true)
        .block_public_policy(true)
        .restrict_public_buckets(true)
        .build();
    s3.put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(private)
        .send()
        .await
        .context("blocking public access to the bucket")?;
    // A backstop only: Sésame deletes credential files itself within 24 hours.
    let expire = LifecycleRule::builder()
        .id("expire-credential-files")
        .filter(LifecycleRuleFilter::builder().prefix("").build())
        .status(ExpirationStatus::Enabled)
        .expiration(LifecycleExpiration::builder().days(1).build())
        .build()?;
    s3.put_bucket_lifecycle_configuration()
        .bucket(bucket)
        .lifecycle_configuration(BucketLifecycleConfiguration::builder().rules(expire).build()?)
        .send()
        .await
        .context("setting the bucket's lifecycle")?;
    Ok(())
}
