//! Configuration of the cloud functions, read once at cold start from the
//! environment. Missing required values fail fast with a clear message; nothing
//! has a silent default, and secrets are never printed.

use crate::adapters::ses_api::{SES_API_VAR, SesApi};
use anyhow::{Context, bail};

pub struct CloudConfig {
    /// `SESAME_TABLE`: the DynamoDB table.
    pub table: String,
    /// Seals remembered idempotent responses (≥ 32 characters): read at cold start
    /// from the SSM Parameter Store SecureString that `SESAME_DATA_KEY_PARAMETER`
    /// names (deployments), or from `SESAME_DATA_KEY` (emulators, local runs).
    pub data_key: Vec<u8>,
    /// `SESAME_JWT_KEY`: verifies bearer tokens when no authorizer did (optional).
    pub jwt_key: Option<Vec<u8>>,
    /// `SESAME_PUBLIC_URL`: the API's public base URL, where links in mail point.
    pub public_url: String,
    /// `SESAME_SENDER`: the sender of mail for schools whose settings name none
    /// (optional; a verified SES identity).
    pub sender: Option<crate::domain::Email>,
    /// `SESAME_MAIL_IDENTITY`: the SES identity (a domain, or an address) the
    /// functions may send from; `SESAME_SENDER` and the schools' senders must
    /// belong to it (optional: without it, any sender is tried).
    pub mail_identity: Option<crate::domain::MailIdentity>,
    /// `SESAME_BUCKET`: the bucket of credential files (the export functions).
    pub bucket: Option<String>,
    /// `SESAME_SES_API`: `v1` mails by SES v1 `SendRawEmail` (emulators without
    /// SES v2); unset, empty or `v2`: SES v2.
    pub ses_api: SesApi,
    /// `SESAME_SES_CONFIGURATION_SET`: the SES configuration set every message
    /// uses, whose event destination feeds the accounts' mail state (SPEC §6).
    pub ses_configuration_set: Option<String>,
}

impl std::fmt::Debug for CloudConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudConfig")
            .field("table", &self.table)
            .field("sender", &self.sender)
            .field("bucket", &self.bucket)
            .field("ses_api", &self.ses_api)
            .field("ses_configuration_set", &self.ses_configuration_set)
            .field("jwt_key", &self.jwt_key.as_ref().map(|_| "<set>"))
            .finish_non_exhaustive()
    }
}

fn required(name: &str) -> anyhow::Result<String> {
    let value = std::env::var(name).with_context(|| format!("{name} must be set"))?;
    if value.trim().is_empty() {
        bail!("{name} must not be empty");
    }
    Ok(value)
}

/// The data key: the SecureString `parameter` of SSM Parameter Store, decrypted.
pub async fn data_key_from_ssm(sdk: &aws_config::SdkConfig, parameter: &str) -> anyhow::Result<String> {
    data_key_from(&aws_sdk_ssm::Client::new(sdk), parameter).await
}

/// The data key from SSM through `client` (configured by the caller: the tests
/// sign with a function's own key and record the call).
pub async fn data_key_from(client: &aws_sdk_ssm::Client, parameter: &str) -> anyhow::Result<String> {
    let output = client
        .get_parameter()
        .name(parameter)
        .with_decryption(true)
        .send()
        .await
        .with_context(|| format!("reading the SSM parameter {parameter} (SESAME_DATA_KEY_PARAMETER)"))?;
    output
        .parameter
        .and_then(|p| p.value)
        .with_context(|| format!("the SSM parameter {parameter} has no value"))
}

impl CloudConfig {
    /// The configuration, with the data key from SSM when the environment names a
    /// parameter, else from `SESAME_DATA_KEY`.
    pub async fn load(sdk: &aws_config::SdkConfig) -> anyhow::Result<Self> {
        let data_key = match std::env::var("SESAME_DATA_KEY_PARAMETER") {
            Ok(parameter) if !parameter.trim().is_empty() => data_key_from_ssm(sdk, parameter.trim()).await?,
            _ => required("SESAME_DATA_KEY")?,
        };
        Self::with_data_key(data_key)
    }

    fn with_data_key(data_key: String) -> anyhow::Result<Self> {
        if data_key.len() < 32 {
            bail!("the data key (SESAME_DATA_KEY or its SSM parameter) must be at least 32 characters");
        }
        let jwt_key = match std::env::var("SESAME_JWT_KEY") {
            Ok(key) if key.len() >= 32 => Some(key.into_bytes()),
            Ok(_) => bail!("SESAME_JWT_KEY must be at least 32 characters"),
            Err(_) => None,
        };
        let sender = match std::env::var("SESAME_SENDER") {
            Ok(raw) if !raw.trim().is_empty() => {
                Some(crate::domain::Email::parse(&raw).context("SESAME_SENDER must be an e-mail address")?)
            }
            _ => None,
        };
        let mail_identity = match std::env::var("SESAME_MAIL_IDENTITY") {
            Ok(raw) if !raw.trim().is_empty() => Some(
                crate::domain::MailIdentity::parse(&raw)
                    .context("SESAME_MAIL_IDENTITY must be a domain or an e-mail address")?,
            ),
            _ => None,
        };
        if let (Some(sender), Some(identity)) = (&sender, &mail_identity)
            && !identity.covers(sender)
        {
            bail!("SESAME_SENDER ({sender}) must be an address of SESAME_MAIL_IDENTITY ({identity})");
        }
        Ok(Self {
            table: required("SESAME_TABLE")?,
            data_key: data_key.into_bytes(),
            jwt_key,
            public_url: required("SESAME_PUBLIC_URL")?,
            // Empty (the template's default) means none: each school then sets its own.
            sender,
            mail_identity,
            bucket: std::env::var("SESAME_BUCKET")
                .ok()
                .filter(|b| !b.trim().is_empty()),
            ses_api: SesApi::parse(
                std::env::var_os(SES_API_VAR)
                    .map(|raw| raw.to_string_lossy().into_owned())
                    .as_deref(),
            )?,
            ses_configuration_set: std::env::var("SESAME_SES_CONFIGURATION_SET")
                .ok()
                .filter(|s| !s.trim().is_empty()),
        })
    }

    /// The bucket, for a function that keeps files.
    pub fn bucket(&self) -> anyhow::Result<&str> {
        self.bucket.as_deref().context("SESAME_BUCKET must be set")
    }

    /// What the app needs of this configuration.
    pub fn app_config(&self) -> crate::app::AppConfig {
        crate::app::AppConfig {
            data_key: self.data_key.clone(),
            token_key: self.jwt_key.as_deref().map(crate::token::TokenKey::new),
            public_url: self.public_url.clone(),
            sender: self.sender.clone(),
            mail_identity: self.mail_identity.clone(),
            console: false,
            trusted_proxies: Vec::new(),
            alone: false,
        }
    }
}
