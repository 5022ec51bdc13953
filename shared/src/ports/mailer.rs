//! The mail port: SES v2 in the cloud; SMTP or an outbox folder on the edge.

use crate::domain::Email;
use async_trait::async_trait;

/// One message, already rendered (see `mail::templates`).
#[derive(Clone, PartialEq, Eq)]
pub struct Message {
    pub to: Email,
    pub from: Email,
    pub subject: String,
    /// Plain text; the link or code it carries is a secret, so `Debug` hides it.
    pub text: String,
    pub html: Option<String>,
    /// Names for the mail service to give back with its events (SES message
    /// tags: `mail::events::tags`); empty for services that give none back.
    pub tags: Vec<(&'static str, String)>,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Message")
            .field("to", &self.to)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The service asks to slow down: worth retrying after a pause.
    #[error("the mail service is throttling")]
    Throttled,
    /// The service refused this message (bad address, unverified sender…).
    #[error("the mail service refused the message: {0}")]
    Rejected(String),
    /// The recipient's server refused this address for good (an SMTP 5xx to its
    /// `RCPT TO`): what it said, for the account's mail state.
    #[error("the recipient's address was refused: {0}")]
    Bounced(String),
    #[error("the mail service failed")]
    Backend(#[source] anyhow::Error),
}

#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, message: &Message) -> Result<(), MailError>;
}

/// The mailer of a deployment that sends no mail (a Lambda function whose
/// endpoints never mail): any attempt fails loudly instead of being dropped.
pub struct NoMail;

#[async_trait]
impl Mailer for NoMail {
    async fn send(&self, _: &Message) -> Result<(), MailError> {
        Err(MailError::Backend(anyhow::anyhow!(
            "this deployment is not configured to send mail"
        )))
    }
}
