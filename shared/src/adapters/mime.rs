//! A message as MIME (RFC 5322, built by lettre: RFC 2047 header words, folding, no
//! line break ever reaching a header): multipart/alternative plain text and HTML, or
//! plain text alone, UTF-8, with a Message-ID at the sender's domain. What SES v1's
//! `SendRawEmail` carries; the shape SMTP's messages have too.

use crate::domain::Email;
use crate::ports::{MailError, Message};
use lettre::message::{Mailbox, MultiPart, SinglePart};

/// The address as a MIME mailbox.
pub(super) fn mailbox(address: &Email) -> Result<Mailbox, MailError> {
    address
        .as_str()
        .parse()
        .map_err(|e| MailError::Rejected(format!("the address is not one a mail header accepts: {e}")))
}

/// The message, ready to be sent as it is.
pub fn message(message: &Message) -> Result<lettre::Message, MailError> {
    let domain = message.from.as_str().rsplit('@').next().unwrap_or("localhost");
    let id = format!("<{}@{domain}>", uuid::Uuid::new_v4().simple());
    let builder = lettre::Message::builder()
        .from(mailbox(&message.from)?)
        .to(mailbox(&message.to)?)
        .subject(message.subject.as_str())
        .message_id(Some(id));
    let built = match &message.html {
        Some(html) => builder.multipart(MultiPart::alternative_plain_html(
            message.text.clone(),
            html.clone(),
        )),
        None => builder.singlepart(SinglePart::plain(message.text.clone())),
    };
    built.map_err(|e| MailError::Backend(anyhow::Error::new(e).context("building the message")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn activation(html: Option<&str>) -> Message {
        Message {
            to: Email::parse("zoe@example.org").unwrap(),
            from: Email::parse("ecole@rive-gauche.example").unwrap(),
            subject: "Collège : activez votre compte".into(),
            text: "Bonjour Zoé".into(),
            html: html.map(Into::into),
            tags: Vec::new(),
        }
    }

    #[test]
    fn a_message_with_html_is_multipart_alternative_with_a_message_id_at_the_senders_domain() {
        let raw = String::from_utf8(
            message(&activation(Some("<p>Bonjour Zoé</p>")))
                .unwrap()
                .formatted(),
        )
        .unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap();
        assert!(head.contains("multipart/alternative"), "{head}");
        assert!(head.contains("@rive-gauche.example>"), "{head}");
        assert!(head.contains("To: zoe@example.org"), "{head}");
        assert!(
            !head.contains("Subject: Collège"),
            "the subject is encoded: {head}"
        );
        assert!(body.contains("text/plain; charset=utf-8"), "{body}");
        assert!(body.contains("text/html; charset=utf-8"), "{body}");
    }

    #[test]
    fn a_message_without_html_is_plain_text_alone() {
        let raw = String::from_utf8(message(&activation(None)).unwrap().formatted()).unwrap();
        assert!(raw.contains("Content-Type: text/plain; charset=utf-8"), "{raw}");
        assert!(!raw.contains("multipart"), "{raw}");
    }

    #[test]
    fn a_line_break_in_the_subject_can_never_start_a_header() {
        let mut injected = activation(None);
        injected.subject = "Bonjour\r\nBcc: spy@evil.test".into();
        let raw = String::from_utf8(message(&injected).unwrap().formatted()).unwrap();
        let (head, _) = raw.split_once("\r\n\r\n").unwrap();
        assert!(!head.lines().any(|line| line.starts_with("Bcc")), "{head}");
    }
}
