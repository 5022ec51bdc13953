//! The cloud's mailer by SES v1: `SendRawEmail` of the message as MIME (see
//! [`super::mime`]), for the emulators that do not speak SES v2 (LocalStack
//! community answers it 501). Chosen by `SESAME_SES_API=v1` (see [`super::ses`]).
//! The sender is the message's `Source` (the identity SES checks); the recipient is
//! the MIME `To`, which SES takes as the envelope. Errors are classified as v2's are:
//! throttling `Throttled`, a refusal of the message `Rejected`, anything else `Backend`.

use crate::ports::{MailError, Mailer, Message};
use async_trait::async_trait;
use aws_sdk_ses::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ses::operation::send_raw_email::SendRawEmailError;
use aws_sdk_ses::primitives::Blob;
use aws_sdk_ses::types::RawMessage;

pub struct SesV1Mailer {
    client: aws_sdk_ses::Client,
    configuration_set: Option<String>,
}

impl SesV1Mailer {
    /// A mailer on the standard AWS configuration (`AWS_ENDPOINT_URL` included).
    pub fn from_config(config: &aws_config::SdkConfig) -> Self {
        Self {
            client: aws_sdk_ses::Client::new(config),
            configuration_set: None,
        }
    }

    /// Every message uses `name` (its event destination feeds the mail state).
    pub fn with_configuration_set(mut self, name: Option<String>) -> Self {
        self.configuration_set = name;
        self
    }
}

#[async_trait]
impl Mailer for SesV1Mailer {
    async fn send(&self, message: &Message) -> Result<(), MailError> {
        let mime = super::mime::message(message)?.formatted();
        let raw = RawMessage::builder()
            .data(Blob::new(mime))
            .build()
            .map_err(|e| MailError::Backend(e.into()))?;
        self.client
            .send_raw_email()
            .source(message.from.as_str())
            .raw_message(raw)
            .set_configuration_set_name(self.configuration_set.clone())
            .set_tags(Some(
                message
                    .tags
                    .iter()
                    .map(|(name, value)| {
                        aws_sdk_ses::types::MessageTag::builder()
                            .name(*name)
                            .value(value)
                            .build()
                            .map_err(|e| MailError::Backend(e.into()))
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ))
            .send()
            .await
            .map(|_| ())
            .map_err(classify)
    }
}

type SendError = SdkError<SendRawEmailError, aws_sdk_ses::config::http::HttpResponse>;

fn classify(error: SendError) -> MailError {
    use SendRawEmailError as E;
    match error.as_service_error() {
        // SES v1 says `Throttling` ("Maximum sending rate exceeded"), which it does not model.
        Some(e) if matches!(e.code(), Some("Throttling" | "ThrottlingException")) => MailError::Throttled,
        Some(
            e @ (E::MessageRejected(_)
            | E::MailFromDomainNotVerifiedException(_)
            | E::ConfigurationSetDoesNotExistException(_)),
        ) => rejected(e),
        // v1's query protocol answers a bad address or message so (v2: BadRequestException).
        Some(e) if e.code() == Some("InvalidParameterValue") => rejected(e),
        // A suspended or paused account, an unknown answer, the network: not this message's fault.
        _ => MailError::Backend(error.into()),
    }
}

fn rejected(e: &SendRawEmailError) -> MailError {
    MailError::Rejected(format!(
        "{}: {}",
        e.code().unwrap_or("rejected"),
        e.message().unwrap_or_default()
    ))
}
