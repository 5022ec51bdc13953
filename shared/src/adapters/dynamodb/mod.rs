//! The DynamoDB store of the cloud deployment: one table, every query a key
//! condition (`GetItem`, `Query`, their batches), never a `Scan`. `docs/dynamodb.md`
//! has the access patterns and the item layouts.

mod accounts;
mod audit;
mod batch;
mod classes;
mod create;
mod distributions;
mod expiring;
mod exports;
mod item;
mod listing;
mod projection;
mod schools;
mod sessions;
mod store;
mod table;

pub use item::{StreamJob, job_of};

use crate::ports::{StoreError, StoreResult};
use aws_config::BehaviorVersion;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;

/// Items of one `TransactWriteItems`, at most.
const TRANSACTION_ITEMS: usize = 100;

/// A [`Store`](crate::ports::Store) in one DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// A store on `table` with an already loaded configuration (shared with the
    /// other AWS clients of a process).
    pub fn from_config(config: &aws_config::SdkConfig, table: impl Into<String>) -> Self {
        Self::new(Client::from_conf(Self::client_config(config).build()), table)
    }

    /// The DynamoDB client's configuration: the SDK's, retrying throttling, 5xx
    /// and time-outs up to 8 attempts (the other AWS SDKs retry DynamoDB 10 times;
    /// the Rust SDK's default of 3 gives up under a burst of throttling).
    pub fn client_config(config: &aws_config::SdkConfig) -> aws_sdk_dynamodb::config::Builder {
        aws_sdk_dynamodb::config::Builder::from(config)
            .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(8))
    }

    /// A store on `table`, configured from the standard AWS environment
    /// (credentials, `AWS_REGION`, `AWS_ENDPOINT_URL` for an emulator).
    pub async fn connect(table: &str) -> anyhow::Result<Self> {
        anyhow::ensure!(!table.trim().is_empty(), "the DynamoDB table name is empty");
        let config = aws_config::load_defaults(BehaviorVersion::latest()).await;
        anyhow::ensure!(
            config.region().is_some(),
            "no AWS region is configured: set AWS_REGION"
        );
        Ok(Self::new(
            Client::from_conf(Self::client_config(&config).build()),
            table,
        ))
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}

/// An SDK failure as a backend error naming the operation; the SDK error stays
/// the source.
fn failed<E>(operation: &'static str) -> impl FnOnce(SdkError<E>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    move |error| {
        // What the SDK gave up retrying (throttling, 5xx, time-outs, no
        // connection) may work in a moment; anything else is a fault of ours.
        let passing = match &error {
            SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
            SdkError::ServiceError(service) => {
                service.raw().status().is_server_error()
                    || matches!(
                        service.err().code(),
                        Some(
                            "ProvisionedThroughputExceededException"
                                | "ThrottlingException"
                                | "RequestLimitExceeded"
                                | "TransactionInProgressException"
                        )
                    )
            }
            _ => false,
        };
        let error = anyhow::Error::new(error).context(format!("DynamoDB {operation}"));
        if passing {
            StoreError::Unavailable(error)
        } else {
            StoreError::Backend(error)
        }
    }
}

/// Whether a conditional write went through (`true`) or its condition refused it
/// (`false`); any other failure is a backend error naming `operation`.
fn conditional<T, E>(result: Result<T, SdkError<E>>, operation: &'static str) -> StoreResult<bool>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(e) if e.as_service_error().and_then(|s| s.code()) == Some("ConditionalCheckFailedException") => {
            Ok(false)
        }
        Err(e) => Err(failed(operation)(e)),
    }
}

/// Why a `TransactWriteItems` was refused.
enum Refusal {
    /// The condition of the item at this index in the request failed.
    Condition(usize),
    /// Another transaction was writing one of the items.
    Contention,
}

/// Tries of a transaction that a concurrent one or throttling cancelled.
const CANCELLED_TRIES: u32 = 10;

/// Writes `items` in one transaction: `Ok(Err(_))` says why DynamoDB refused it.
/// A transaction cancelled by a concurrent one on one of its items (two writes of
/// one class's count, say) or by throttling wrote nothing, and is tried again
/// after a short random pause, up to 10 times; then it is `Contention`, or
/// `Unavailable` (503) when throttling did not stop. Any other failure is a
/// backend error.
async fn transact(
    store: &DynamoStore,
    items: Vec<aws_sdk_dynamodb::types::TransactWriteItem>,
) -> StoreResult<Result<(), Refusal>> {
    for attempt in 1..=CANCELLED_TRIES {
        let sent = store
            .client
            .transact_write_items()
            .set_transact_items(Some(items.clone()))
            .send()
            .await;
        let Err(error) = sent else {
            return Ok(Ok(()));
        };
        match refusal(error)? {
            Cancelled::Refused(Refusal::Contention) | Cancelled::Throttled if attempt < CANCELLED_TRIES => {
                pause(attempt).await;
            }
            Cancelled::Refused(refused) => return Ok(Err(refused)),
            Cancelled::Throttled => {
                return Err(StoreError::Unavailable(anyhow::anyhow!(
                    "DynamoDB throttled a transaction {CANCELLED_TRIES} times"
                )));
            }
        }
    }
    Ok(Err(Refusal::Contention))
}

/// A random pause before the `attempt`th retry: 5–20 ms, doubling up to 64 times that.
async fn pause(attempt: u32) {
    let millis = rand::random_range(5..=20u64) << attempt.min(6);
    tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
}

/// What cancelled a transaction.
enum Cancelled {
    Refused(Refusal),
    /// Throttling of one of its items: nothing was written.
    Throttled,
}

/// The refusal behind a cancelled transaction; any other failure is a backend error.
fn refusal(error: SdkError<TransactWriteItemsError>) -> Result<Cancelled, StoreError> {
    let reasons = match error.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => {
            cancelled.cancellation_reasons()
        }
        _ => return Err(failed("TransactWriteItems")(error)),
    };
    let code_at = |code: &str| reasons.iter().position(|r| r.code() == Some(code));
    let throttled = [
        "ThrottlingError",
        "ProvisionedThroughputExceeded",
        "RequestLimitExceeded",
    ];
    if let Some(index) = code_at("ConditionalCheckFailed") {
        Ok(Cancelled::Refused(Refusal::Condition(index)))
    } else if code_at("TransactionConflict").is_some() {
        Ok(Cancelled::Refused(Refusal::Contention))
    } else if throttled.iter().any(|code| code_at(code).is_some()) {
        Ok(Cancelled::Throttled)
    } else {
        Err(failed("TransactWriteItems")(error))
    }
}
