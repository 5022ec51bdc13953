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

/// `=?utf-8?b?…?=` when the header is not plain printable ASCII: a line break
/// (which callers refuse already) is then inside base64 and cannot start a header.
fn header(value: &str) -> String {
    use base64::Engine;
    if value.bytes().all(|b| (b' '..=b'~').contains(&b)) {
        value.to_owned()
    } else {
        format!(
            "=?utf-8?b?{}?=",
            base64::engine::general_purpose::STANDARD.encode(value)
        )
    }
}

#[async_trait]
impl Mailer for Outbox {
    async fn send(&self, message: &Message) -> Result<(), MailError> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let date = chrono::Utc::now().to_rfc2822();
        let eml = format!(
            "From: {}\r\nTo: {}\r\nSubject: {}\r\nDate: {date}\r\nMessage-ID: <{id}@sesame.local>\r\n\
             MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}",
            message.from,
            message.to,
            header(&message.subject),
            message.text.replace('\n', "\r\n"),
        );
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.6f");
        let path = self.dir.join(format!("{stamp}-{id}.eml"));
        tokio::fs::write(&path, eml)
            .await
            .map_err(|e| MailError::Backend(e.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::header;

    #[test]
    fn a_line_break_can_never_start_a_header() {
        let encoded = header("Bonjour\r\nBcc: spy@evil.test");
        assert!(!encoded.contains('\r') && !encoded.contains('\n'), "{encoded}");
        assert!(encoded.starts_with("=?utf-8?b?"));
        assert_eq!(header("Plain subject"), "Plain subject");
    }
}
