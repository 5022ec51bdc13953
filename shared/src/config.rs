//! Configuration of the cloud functions, read once at cold start from the
//! environment. Missing required values fail fast with a clear message; nothing
//! has a silent default, and secrets are never printed.

use anyhow::{Context, bail};

pub struct CloudConfig {
    /// `SESAME_TABLE`: the DynamoDB table.
    pub table: String,
    /// `SESAME_DATA_KEY`: seals remembered idempotent responses (≥ 32 characters).
    pub data_key: Vec<u8>,
    /// `SESAME_JWT_KEY`: verifies bearer tokens when no authorizer did (optional).
    pub jwt_key: Option<Vec<u8>>,
    /// `SESAME_PUBLIC_URL`: the API's public base URL, where links in mail point.
    pub public_url: String,
    /// `SESAME_SENDER`: the sender of mail for schools whose settings name none
    /// (optional; a verified SES identity).
    pub sender: Option<crate::domain::Email>,
}

impl std::fmt::Debug for CloudConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudConfig")
            .field("table", &self.table)
            .field("sender", &self.sender)
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

impl CloudConfig {
    pub fn from_env() -> anyhow::Result<Self> {
        let data_key = required("SESAME_DATA_KEY")?;
        if data_key.len() < 32 {
            bail!("SESAME_DATA_KEY must be at least 32 characters");
        }
        let jwt_key = match std::env::var("SESAME_JWT_KEY") {
            Ok(key) if key.len() >= 32 => Some(key.into_bytes()),
            Ok(_) => bail!("SESAME_JWT_KEY must be at least 32 characters"),
            Err(_) => None,
        };
        Ok(Self {
            table: required("SESAME_TABLE")?,
            data_key: data_key.into_bytes(),
            jwt_key,
            public_url: required("SESAME_PUBLIC_URL")?,
            // Empty (the template's default) means none: each school then sets its own.
            sender: match std::env::var("SESAME_SENDER") {
                Ok(raw) if !raw.trim().is_empty() => Some(
                    crate::domain::Email::parse(&raw).context("SESAME_SENDER must be an e-mail address")?,
                ),
                _ => None,
            },
        })
    }
}
