//! The edge's SMTP mailer (lettre over tokio). The server is named by a URL:
//! `smtp://host:25` in clear (a relay on the local network), `smtp://user:pass@host:587?tls=required`
//! for STARTTLS, `smtps://user:pass@host` for TLS from the first byte (port 465).
//! A transient answer (4xx: 421, 450, 451, 452…) becomes `MailError::Throttled`,
//! retried with backoff by the caller; a permanent one (5xx) `Bounced` when it
//! refuses the recipient's mailbox (a message has one recipient, so a refusal of
//! the message's address or of the message is that recipient's), else `Rejected`
//! (the sender, the relay, authentication: the session's fault, which marks no
//! address); a server that cannot be reached or spoken to `Backend`. Messages are
//! multipart: plain text and HTML, UTF-8.
//!
//! What the edge cannot see: a bounce that a relay accepted first and returns
//! later, by mail, to the sender's address.

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
            Err(e) if e.is_permanent() => {
                let said = e.to_string();
                match e.status().map(u16::from) {
                    Some(code) if refuses_the_recipient(code, &said) => Err(MailError::Bounced(said)),
                    _ => Err(MailError::Rejected(said)),
                }
            }
            Err(e) => Err(MailError::Backend(
                anyhow::Error::new(e).context("talking to the SMTP server"),
            )),
        }
    }
}

/// Whether a permanent SMTP answer refuses the recipient's mailbox (RFC 5321
/// replies 550, 551, 553; RFC 3463 status 5.1.x of the destination, 5.2.x of the
/// mailbox), not the sender, the relay or the session (5.1.7, 5.1.8, 5.7.x, 530,
/// 535…). When unsure, it is not: an address is marked only on a clear refusal.
fn refuses_the_recipient(code: u16, said: &str) -> bool {
    let enhanced = said
        .split(|c: char| c.is_whitespace() || c == ':' || c == ',')
        .find(|word| {
            let mut parts = word.split('.');
            parts.next() == Some("5")
                && parts.next().is_some_and(|p| p.parse::<u16>().is_ok())
                && parts.next().is_some_and(|p| p.parse::<u16>().is_ok())
                && parts.next().is_none()
        });
    match enhanced {
        Some("5.1.7" | "5.1.8") => false,
        Some(status) => status.starts_with("5.1.") || status.starts_with("5.2."),
        None => {
            let lower = said.to_ascii_lowercase();
            matches!(code, 550 | 551 | 553)
                && !["sender", "relay", "auth", "from"]
                    .iter()
                    .any(|w| lower.contains(w))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_mailbox_is_a_bounce_a_refused_session_is_not() {
        for (code, said) in [
            (
                550,
                "5.1.1 <x@example.org>: Recipient address rejected: User unknown",
            ),
            (550, "No such user here"),
            (552, "5.2.2 Mailbox full"),
            (553, "mailbox name not allowed"),
        ] {
            assert!(refuses_the_recipient(code, said), "{code} {said}");
        }
        for (code, said) in [
            (535, "5.7.8 Authentication credentials invalid"),
            (550, "5.7.1 Relaying denied"),
            (553, "5.1.8 Sender address rejected: Domain not found"),
            (550, "Sender verify failed"),
            (554, "Transaction failed"),
        ] {
            assert!(!refuses_the_recipient(code, said), "{code} {said}");
        }
    }

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
