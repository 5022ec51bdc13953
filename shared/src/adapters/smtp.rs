//! The edge's SMTP mailer (lettre over tokio). The server is named by a URL:
//! `smtp://host:25` in clear (a relay on the local network), `smtp://user:pass@host:587?tls=required`
//! for STARTTLS, `smtps://user:pass@host` for TLS from the first byte (port 465).
//! A transient answer (4xx: 421, 450, 451, 452…) becomes `MailError::Throttled`,
//! retried with backoff by the caller; a permanent one (5xx) `Rejected`; a server
//! that cannot be reached or spoken to `Backend`. Messages are multipart: plain text
//! and HTML, UTF-8.

use crate::ports::{MailError, Mailer, Message};
use anyhow::Context;
use async_trait::async_trait;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::time::Duration;

/// Longest wait for any one step of a conversation with the server.
const TIMEOUT: Duration = Duration::from_secs(30);

pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl SmtpMailer {
    /// A mailer for the server `url` names (its password, if any, is never printed).
    pub fn new(url: &str) -> anyhow::Result<Self> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .context("the SMTP URL must look like smtp://host:port, smtp://user:password@host:587?tls=required or smtps://user:password@host")?
            .timeout(Some(TIMEOUT))
            .build();
        Ok(Self { transport })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, message: &Message) -> Result<(), MailError> {
        let email = super::mime::message(message)?;
        match self.transport.send(email).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_transient() => {
                tracing::debug!(
                    code = e.status().map(u16::from),
                    "the SMTP server asks to try later"
                );
                Err(MailError::Throttled)
            }
            Err(e) if e.is_permanent() => Err(MailError::Rejected(e.to_string())),
            Err(e) => Err(MailError::Backend(
                anyhow::Error::new(e).context("talking to the SMTP server"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_with_an_unknown_scheme_are_refused_without_echoing_them() {
        let Err(error) = SmtpMailer::new("imap://user:s3cret@mail.example.org") else {
            panic!("an IMAP URL is no SMTP server");
        };
        assert!(!format!("{error:#}").contains("s3cret"), "{error:#}");
    }

    #[test]
    fn plain_tls_and_starttls_urls_are_understood() {
        for url in [
            "smtp://127.0.0.1:2525",
            "smtp://user:p%40ss@mail.example.org:587?tls=required",
            "smtps://user:pass@mail.example.org",
        ] {
            assert!(SmtpMailer::new(url).is_ok(), "{url}");
        }
    }
}
