//! The cells of a table row (CSV and XLSX share them), in the order of the
//! headers of `labels`.

use super::labels::Labels;
use super::{Content, Document, Row, Secret};
use secrecy::ExposeSecret;
use std::borrow::Cow;

/// What every row of one document shares, computed once.
pub(super) struct Table<'a> {
    pub labels: &'static Labels,
    pub headers: &'static [&'static str],
    content: Content,
    login_url: &'a str,
    zone: crate::domain::TimeZone,
    activate: String,
    reset: String,
}

impl<'a> Table<'a> {
    pub fn new(doc: &Document<'a>) -> Self {
        let labels = Labels::of(doc.language);
        Self {
            labels,
            headers: labels.headers(doc.content),
            content: doc.content,
            login_url: doc.login_url,
            zone: doc.zone,
            activate: labels.activate_column.replace("{url}", doc.login_url),
            reset: labels.reset_column.replace("{url}", doc.login_url),
        }
    }

    /// The column of `row`'s expiry, and the expiry on the school's clocks
    /// (a spreadsheet's date cell has no zone).
    pub fn expiry(&self, row: &Row) -> Option<(usize, chrono::NaiveDateTime)> {
        let at = match &row.secret {
            Some(
                Secret::TemporaryPassword { expires_at, .. } | Secret::ActivationCode { expires_at, .. },
            ) => expires_at,
            _ => return None,
        };
        (self.content != Content::Identifiers).then(|| (5, self.zone.local(*at).naive_local()))
    }

    /// The cells of `row`, as many as there are headers; `cells` is cleared first
    /// so that one buffer serves every row.
    pub fn cells<'r>(&'r self, row: &'r Row, cells: &mut Vec<Cow<'r, str>>) {
        cells.clear();
        let (secret, expires_at): (&str, _) = match &row.secret {
            Some(Secret::TemporaryPassword { password, expires_at }) => {
                (password.expose_secret(), Some(expires_at))
            }
            Some(Secret::ActivationCode { code, expires_at }) => (code.expose_secret(), Some(expires_at)),
            Some(Secret::HowToReset) | None => ("", None),
        };
        let expiry = || {
            expires_at.map_or(Cow::Borrowed(""), |at| {
                Cow::Owned(self.labels.expiry(*at, self.zone))
            })
        };
        // Who, then the secret and its expiry: the first six cells of both hand-outs.
        let person = |last: Cow<'r, str>| {
            [
                Cow::Borrowed(row.class.as_str()),
                Cow::Borrowed(row.first_name.as_str()),
                Cow::Borrowed(row.last_name.as_str()),
                Cow::Borrowed(row.login.as_str()),
                Cow::Borrowed(secret),
                expiry(),
                last,
            ]
        };
        match self.content {
            Content::Credentials => cells.extend(person(Cow::Borrowed(self.login_url))),
            Content::Activation => {
                let instructions = match row.secret {
                    Some(Secret::ActivationCode { .. }) => self.activate.as_str(),
                    Some(Secret::HowToReset) => self.reset.as_str(),
                    _ => "",
                };
                cells.extend(person(Cow::Borrowed(instructions)))
            }
            Content::Identifiers => cells.extend([
                Cow::Borrowed(row.class.as_str()),
                Cow::Borrowed(row.last_name.as_str()),
                Cow::Borrowed(row.first_name.as_str()),
                Cow::Borrowed(row.login.as_str()),
                row.birth_date
                    .map_or(Cow::Borrowed(""), |date| Cow::Owned(self.labels.birth_date(date))),
            ]),
        }
    }
}
