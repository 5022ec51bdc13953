//! The cloud's mailer: Amazon SES v2 `SendEmail` with simple content (a plain-text
//! and an HTML part, UTF-8). Throttling becomes `MailError::Throttled` (the caller
//! retries with backoff), a refusal of the message `Rejected`, anything else
//! `Backend`. What SES says goes to the log, never to the client.
//!
//! `SESAME_SES_API=v1` sends the same message by SES v1 `SendRawEmail` instead
//! ([`super::ses_v1`]), for emulators without SES v2. Each deployment's
//! configuration reads the choice once; [`mailer`] builds the one it names.

use crate::ports::{MailError, Mailer, Message};
use async_trait::async_trait;
use aws_sdk_sesv2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::operation::send_email::SendEmailError;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message as Simple};
use std::sync::Arc;

pub use super::ses_api::{SES_API_VAR, SesApi, UnknownSesApi};

/// The SES mailer of `api`, on the standard AWS configuration (`AWS_ENDPOINT_URL`
/// included); every message uses `configuration_set` when one is named, and
/// carries its tags (which account it is about) for the events to come back.
pub fn mailer(
    config: &aws_config::SdkConfig,
    api: SesApi,
    configuration_set: Option<String>,
) -> Arc<dyn Mailer> {
    match api {
        SesApi::V1 => Arc::new(
            super::ses_v1::SesV1Mailer::from_config(config).with_configuration_set(configuration_set),
        ),
        SesApi::V2 => Arc::new(SesMailer::from_config(config).with_configuration_set(configuration_set)),
    }
}

/// The SES v2 mailer.
pub struct SesMailer {
    client: aws_sdk_sesv2::Client,
    configuration_set: Option<String>,
}

impl SesMailer {
    /// A mailer on the standard AWS configuration (`AWS_ENDPOINT_URL` included).
    pub fn from_config(config: &aws_config::SdkConfig) -> Self {
        Self {
            client: aws_sdk_sesv2::Client::new(config),
            configuration_set: None,
        }
    }

    /// A mailer on a client configured by the caller (interceptors, retries).
    pub fn from_client(client: aws_sdk_sesv2::Client) -> Self {
        Self {
            client,
            configuration_set: None,
        }
    }

    /// Every message uses `name` (its event destination feeds the mail state).
    pub fn with_configuration_set(mut self, name: Option<String>) -> Self {
        self.configuration_set = name;
        self
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
            .set_configuration_set_name(self.configuration_set.clone())
            .set_email_tags(Some(tags(message)?))
            .send()
            .await
            .map(|_| ())
            .map_err(classify)
    }
}

/// The message's tags as SES takes them (names and values of letters, digits,
/// `_`, `-`, `.`, `@`: ids are).
fn tags(message: &Message) -> Result<Vec<aws_sdk_sesv2::types::MessageTag>, MailError> {
    message
        .tags
        .iter()
        .map(|(name, value)| {
            aws_sdk_sesv2::types::MessageTag::builder()
                .name(*name)
                .value(value)
                .build()
                .map_err(|e| MailError::Backend(e.into()))
        })
        .collect()
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
