//! The cold start of every Lambda function: configuration from the environment,
//! the DynamoDB store built once, and `lambda_http::run` on the function's part of
//! the router. Logs are JSON, one line per event, with the request id.

use crate::adapters::dynamodb::DynamoStore;
use crate::config::CloudConfig;
use crate::http::gateway::with_gateway_claims;
use crate::http::{AppState, Group, router};
use crate::ops::Ports;
use crate::ports::{NoFiles, NoMail, SystemClock};
use crate::token::TokenKey;
use std::sync::Arc;

/// Serves `groups` as a Lambda function until the runtime stops it.
pub async fn run(groups: &[Group]) -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = CloudConfig::from_env()?;
    let store = DynamoStore::connect(&config.table).await?;
    let key = config.jwt_key.as_deref().map(TokenKey::new);
    // None of the functions deployed so far mails or stores files.
    let ports = Ports {
        store: Arc::new(store),
        clock: Arc::new(SystemClock),
        mailer: Arc::new(NoMail),
        files: Arc::new(NoFiles),
    };
    let state = AppState::new(ports, key, &config.data_key, &config.public_url)?;
    lambda_http::run(with_gateway_claims(router(state, groups))).await
}
