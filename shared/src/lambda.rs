//! The cold start of every Lambda function: configuration from the environment,
//! the DynamoDB store built once, and `lambda_http::run` on the function's part of
//! the router. Logs are JSON, one line per event, with the request id.

use crate::adapters::dynamodb::DynamoStore;
use crate::config::CloudConfig;
use crate::http::gateway::with_gateway_claims;
use crate::http::{AppState, Group, router};
use crate::ports::SystemClock;
use crate::token::TokenKey;
use std::sync::Arc;

/// Serves `groups` as a Lambda function until the runtime stops it.
pub async fn run(groups: &[Group]) -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = CloudConfig::from_env()?;
    let store = DynamoStore::connect(&config.table).await?;
    let key = config.jwt_key.as_deref().map(TokenKey::new);
    let state = AppState::new(Arc::new(store), Arc::new(SystemClock), key, &config.data_key)?;
    lambda_http::run(with_gateway_claims(router(state, groups))).await
}
