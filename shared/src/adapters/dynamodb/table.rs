//! The table itself: created on demand (idempotently), with TTL on `ttl` and
//! point-in-time recovery. Deployments normally create it with their
//! infrastructure; this is for emulators, tests and first starts.

use super::DynamoStore;
use super::item::{PK, SK, TTL};
use anyhow::Context;
use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::create_table::CreateTableError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, PointInTimeRecoverySpecification,
    ScalarAttributeType, TimeToLiveSpecification, TimeToLiveStatus,
};
use std::time::Duration;

/// How long a new table may take to become active.
const ACTIVE_WITHIN: Duration = Duration::from_secs(120);

impl DynamoStore {
    /// Creates the table if it does not exist, waits until it is active, checks
    /// its key schema, and enables TTL and point-in-time recovery (which an
    /// emulator may not support: that alone is ignored).
    pub async fn create_table(&self) -> anyhow::Result<()> {
        let table = self.table.as_str();
        let attribute = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
        };
        let key = |name: &str, key_type| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(key_type)
                .build()
        };
        let created = self
            .client
            .create_table()
            .table_name(table)
            .attribute_definitions(attribute(PK)?)
            .attribute_definitions(attribute(SK)?)
            .key_schema(key(PK, KeyType::Hash)?)
            .key_schema(key(SK, KeyType::Range)?)
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await;
        match created {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(CreateTableError::is_resource_in_use_exception) => {}
            Err(e) => return Err(e).with_context(|| format!("creating the DynamoDB table {table}")),
        }
        let described = self
            .client
            .wait_until_table_exists()
            .table_name(table)
            .wait(ACTIVE_WITHIN)
            .await
            .with_context(|| format!("waiting for the DynamoDB table {table} to be active"))?;
        let schema = described
            .as_result()
            .ok()
            .and_then(|output| output.table.as_ref())
            .map(|description| description.key_schema())
            .unwrap_or_default();
        let is = |name: &str, key_type: KeyType| {
            schema
                .iter()
                .any(|k| k.attribute_name() == name && *k.key_type() == key_type)
        };
        anyhow::ensure!(
            schema.len() == 2 && is(PK, KeyType::Hash) && is(SK, KeyType::Range),
            "the DynamoDB table {table} exists with another key schema than (pk, sk)"
        );
        self.enable_ttl().await?;
        self.enable_point_in_time_recovery().await
    }

    async fn enable_ttl(&self) -> anyhow::Result<()> {
        let table = self.table.as_str();
        let current = self
            .client
            .describe_time_to_live()
            .table_name(table)
            .send()
            .await
            .with_context(|| format!("reading the TTL of the DynamoDB table {table}"))?;
        let description = current.time_to_live_description;
        let status = description.as_ref().and_then(|d| d.time_to_live_status());
        if matches!(
            status,
            Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
        ) {
            let attribute = description.as_ref().and_then(|d| d.attribute_name());
            anyhow::ensure!(
                attribute == Some(TTL),
                "the DynamoDB table {table} has TTL on {attribute:?}, not on {TTL}"
            );
            return Ok(());
        }
        let specification = TimeToLiveSpecification::builder()
            .enabled(true)
            .attribute_name(TTL)
            .build()?;
        self.client
            .update_time_to_live()
            .table_name(table)
            .time_to_live_specification(specification)
            .send()
            .await
            .with_context(|| format!("enabling TTL on the DynamoDB table {table}"))?;
        Ok(())
    }

    async fn enable_point_in_time_recovery(&self) -> anyhow::Result<()> {
        let table = self.table.as_str();
        let specification = PointInTimeRecoverySpecification::builder()
            .point_in_time_recovery_enabled(true)
            .build()?;
        let enabled = self
            .client
            .update_continuous_backups()
            .table_name(table)
            .point_in_time_recovery_specification(specification)
            .send()
            .await;
        match enabled {
            Ok(_) => Ok(()),
            Err(e) if unsupported(&e) => {
                tracing::warn!(
                    table,
                    "this DynamoDB endpoint does not support point-in-time recovery"
                );
                Ok(())
            }
            Err(e) => Err(e)
                .with_context(|| format!("enabling point-in-time recovery on the DynamoDB table {table}")),
        }
    }
}

/// Whether an emulator answered that it does not implement the operation.
fn unsupported<E: ProvideErrorMetadata>(error: &SdkError<E>) -> bool {
    const CODES: [&str; 4] = [
        "UnknownOperationException",
        "NotImplementedException",
        "NotImplemented",
        "UnsupportedOperationException",
    ];
    let not_implemented = error
        .raw_response()
        .is_some_and(|response| response.status().as_u16() == 501);
    not_implemented || error.code().is_some_and(|code| CODES.contains(&code))
}
