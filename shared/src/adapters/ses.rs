//! The cloud's mailer: Amazon SES v2 `SendEmail` with simple content (a plain-text
//! and an HTML part, UTF-8). Throttling becomes `MailError::Throttled` (the caller
//! retries with backoff), a refusal of the message `Rejected`, anything else
//! `Backend`. What SES says goes to the log, never to the client.
//!
//! `SESAME_SES_API=v1` sends the same message by SES v1 `SendRawEmail` instead
//! ([`super::ses_v1`]), for emulators without SES v2. The choice is made here once,
//! by [`mailer`], for the edge's `--mail ses` and every Lambda function that mails.

use crate::ports::{MailError, Mailer, Message};
use async_trait::async_trait;
use aws_sdk_sesv2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::operation::send_email::SendEmailError;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message as Simple};
use std::sync::Arc;

/// The environment variable that chooses the SES API.
pub const SES_API_VAR: &str = "SESAME_SES_API";

/// Which SES API carries mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SesApi {
    /// v1 `SendRawEmail` of a MIME message (LocalStack community has no SES v2).
    V1,
    /// v2 `SendEmail` with simple content.
    #[default]
    V2,
}

#[derive(Debug, thiserror::Error)]
#[error("SESAME_SES_API must be v1 or v2 (unset or empty means v2), not {0:?}")]
pub struct UnknownSesApi(String);

impl SesApi {
    /// `v1` or `v2`; nothing (or an empty value, as templates pass an unset
    /// parameter) is v2.
    pub fn parse(raw: Option<&str>) -> Result<Self, UnknownSesApi> {
        match raw {
            None | Some("" | "v2") => Ok(Self::V2),
            Some("v1") => Ok(Self::V1),
            Some(other) => Err(UnknownSesApi(other.to_owned())),
        }
    }

    /// The API `SESAME_SES_API` names.
    pub fn from_env() -> Result<Self, UnknownSesApi> {
        match std::env::var(SES_API_VAR) {
            Ok(raw) => Self::parse(Some(&raw)),
            Err(std::env::VarError::NotPresent) => Self::parse(None),
            Err(std::env::VarError::NotUnicode(raw)) => {
                Err(UnknownSesApi(raw.to_string_lossy().into_owned()))
            }
        }
    }
}

/// The SES mailer of `api`, on the standard AWS configuration (`AWS_ENDPOINT_URL` included).
pub fn mailer(config: &aws_config::SdkConfig, api: SesApi) -> Arc<dyn Mailer> {
    match api {
        SesApi::V1 => Arc::new(super::ses_v1::SesV1Mailer::from_config(config)),
        SesApi::V2 => Arc::new(SesMailer::from_config(config)),
    }
}

/// The SES mailer `SESAME_SES_API` names: read at start-up, so that a wrong value
/// stops the server or the function before it serves anything.
pub fn mailer_from_env(config: &aws_config::SdkConfig) -> Result<Arc<dyn Mailer>, UnknownSesApi> {
    Ok(mailer(config, SesApi::from_env()?))
}

/// The SES v2 mailer.
pub struct SesMailer {
    client: aws_sdk_sesv2::Client,
}

impl SesMailer {
    /// A mailer on the standard AWS configuration (`AWS_ENDPOINT_URL` included).
    pub fn from_config(config: &aws_config::SdkConfig) -> Self {
        Self {
            client: aws_sdk_sesv2::Client::new(config),
        }
    }
}

fn utf8(data: &str) -> Result<Content, MailError> {
    Content::builder()
        .data(data)
        .charset("UTF-8")
        .build()
        .map_err(|e| MailError::Backend(e.into()))
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, message: &Message) -> Result<(), MailError> {
        let mut body = Body::builder().text(utf8(&message.text)?);
        if let Some(html) = &message.html {
            body = body.html(utf8(html)?);
        }
        let simple = Simple::builder()
            .subject(utf8(&message.subject)?)
            .body(body.build())
            .build();
        self.client
            .send_email()
            .from_email_address(message.from.as_str())
            .destination(Destination::builder().to_addresses(message.to.as_str()).build())
            .content(EmailContent::builder().simple(simple).build())
            .send()
            .await
            .map(|_| ())
            .map_err(classify)
    }
}

type SendError = SdkError<SendEmailError, aws_sdk_sesv2::config::http::HttpResponse>;

fn classify(error: SendError) -> MailError {
    use SendEmailError as E;
    match error.as_service_error() {
        Some(E::TooManyRequestsException(_) | E::LimitExceededException(_)) => MailError::Throttled,
        Some(e) if matches!(e.code(), Some("Throttling" | "ThrottlingException")) => MailError::Throttled,
        Some(
            e @ (E::MessageRejected(_)
            | E::MailFromDomainNotVerifiedException(_)
            | E::NotFoundException(_)
            | E::BadRequestException(_)),
        ) => MailError::Rejected(format!(
            "{}: {}",
            e.code().unwrap_or("rejected"),
            e.message().unwrap_or_default()
        )),
        // A suspended or paused account, an unknown answer, the network: not this message's fault.
        _ => MailError::Backend(error.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_empty_and_v2_mean_v2_and_v1_means_v1() {
        for raw in [None, Some(""), Some("v2")] {
            assert_eq!(SesApi::parse(raw).unwrap(), SesApi::V2, "{raw:?}");
        }
        assert_eq!(SesApi::parse(Some("v1")).unwrap(), SesApi::V1);
    }

    #[test]
    fn any_other_value_is_refused_by_a_message_naming_the_variable_and_the_value() {
        for raw in ["v3", "V1", "sesv2", " v1"] {
            let error = SesApi::parse(Some(raw)).unwrap_err().to_string();
            assert!(error.contains("SESAME_SES_API"), "{error}");
            assert!(error.contains(&format!("{raw:?}")), "{error}");
        }
    }
}
