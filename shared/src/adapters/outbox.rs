//! The edge's default mailer: each message becomes an `.eml` file (RFC 5322, UTF-8)
//! in `<data-dir>/outbox/`, for an administrator to check or hand to any mail client.

use crate::ports::{MailError, Mailer, Message};
use async_trait::async_trait;
use std::path::PathBuf;

pub struct Outbox {
    dir: PathBuf,
}

impl Outbox {
    pub fn new(dir: impl Into<PathBuf>) -> anyhow::Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir })
    }
}

/// The message as an `.eml` file: headers written by the same encoder as SMTP's
/// (lettre: RFC 2047 words, folding, no line break ever reaching a header), the
/// plain-text part as UTF-8 in 8 bits, readable as it is.
fn eml(message: &Message) -> Result<Vec<u8>, MailError> {
    use lettre::message::Body;
    use lettre::message::header::{ContentTransferEncoding, ContentType};
    let failed =
        |e: lettre::error::Error| MailError::Backend(anyhow::Error::new(e).context("building the message"));
    let id = format!("<{}@sesame.local>", uuid::Uuid::new_v4().simple());
    let text = message.text.replace("\r\n", "\n").replace('\n', "\r\n");
    // 8 bits as it is, so that the file reads as the mail does, when RFC 5322
    // allows it (lines under 998 bytes, no NUL); otherwise lettre's own choice.
    let eight_bit = text.lines().all(|line| line.len() < 998) && !text.contains('\0');
    let body = if eight_bit {
        Body::dangerous_pre_encoded(text.into_bytes(), ContentTransferEncoding::EightBit)
    } else {
        Body::new(text)
    };
    let email = lettre::Message::builder()
        .from(super::mime::mailbox(&message.from)?)
        .to(super::mime::mailbox(&message.to)?)
        .subject(message.subject.as_str())
        .message_id(Some(id))
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(failed)?;
    Ok(email.formatted())
}

#[async_trait]
impl Mailer for Outbox {
    async fn send(&self, message: &Message) -> Result<(), MailError> {
        let eml = eml(message)?;
        let id = uuid::Uuid::new_v4().simple().to_string();
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.6f");
        let path = self.dir.join(format!("{stamp}-{id}.eml"));
        tokio::fs::write(&path, eml)
            .await
            .map_err(|e| MailError::Backend(e.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::eml;
    use crate::domain::Email;
    use crate::ports::Message;

    #[test]
    fn a_line_break_can_never_start_a_header() {
        let message = Message {
            from: Email::parse("no-reply@sesame.test").unwrap(),
            to: Email::parse("zoe@example.org").unwrap(),
            subject: "Bonjour\r\nBcc: spy@evil.test".to_owned(),
            text: "Bonjour Zoé,\nvotre code : K7MPQ2XR\n".to_owned(),
            html: None,
            tags: Vec::new(),
        };
        let raw = String::from_utf8(eml(&message).unwrap()).unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap();
        assert!(!head.lines().any(|line| line.starts_with("Bcc")), "{head}");
        assert!(body.contains("Bonjour Zoé,\r\nvotre code : K7MPQ2XR"), "{body}");
    }
}
