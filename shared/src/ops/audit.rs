//! Reading the audit log (administrators only), newest first.

use super::Sesame;
use crate::domain::Code;
use crate::domain::{AuditEvent, Caller, Error, Result};
use crate::ports::AuditQuery;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, Utc};

pub struct AuditList {
    pub items: Vec<AuditEvent>,
    pub next_cursor: Option<String>,
}

/// The opaque cursor of a list ordered by time then id (audit, distributions).
pub(crate) fn encode_cursor(at: DateTime<Utc>, id: &str) -> String {
    B64.encode(serde_json::to_vec(&(at, id)).unwrap_or_default())
}

pub(crate) fn decode_cursor(raw: &str) -> Result<(DateTime<Utc>, String)> {
    B64.decode(raw)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| Error::bad_request(Code::InvalidCursor, "the cursor is not one this list gave"))
}

impl Sesame {
    /// `query.before` is set from `cursor`.
    pub async fn list_audit(
        &self,
        caller: &Caller,
        mut query: AuditQuery,
        cursor: Option<&str>,
    ) -> Result<AuditList> {
        if !caller.may_do(crate::domain::Task::ReadAudit) {
            return Err(Error::Forbidden);
        }
        query.before = cursor.map(decode_cursor).transpose()?;
        let page = self.audit_log.list_audit(&caller.school, &query).await?;
        let next_cursor = page
            .more
            .then(|| page.items.last().map(|e| encode_cursor(e.at, &e.id)))
            .flatten();
        Ok(AuditList {
            items: page.items,
            next_cursor,
        })
    }
}
