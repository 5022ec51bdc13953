//! Credential files: what an export contains, in which format, and the pure
//! functions that render it (CSV, XLSX, PDF cards) — no I/O, bytes out.

mod columns;
mod csv;
pub(crate) mod labels;
mod pdf;
mod xlsx;

use crate::domain::{Language, Profile};
use chrono::{DateTime, NaiveDate, Utc};
use secrecy::SecretString;

pub use crate::domain::export_job::{Content, Format, PerPage};

/// One line (CSV, XLSX) or card (PDF) of a file. Secrets are plain here: they
/// exist only while the file is built.
#[derive(Debug, Clone)]
pub struct Row {
    pub class: String,
    pub first_name: String,
    pub last_name: String,
    pub login: String,
    pub birth_date: Option<NaiveDate>,
    pub profile: Profile,
    pub secret: Option<Secret>,
}

/// What a row hands out. Which kinds a content accepts: credentials take
/// temporary passwords, activation takes codes, identifiers take none; any
/// content accepts `HowToReset` and no secret. A secret of the wrong kind is an
/// error rather than a silently dropped (and so lost) secret.
#[derive(Debug, Clone)]
pub enum Secret {
    TemporaryPassword {
        password: SecretString,
        expires_at: DateTime<Utc>,
    },
    ActivationCode {
        code: SecretString,
        expires_at: DateTime<Utc>,
    },
    /// Activated account: explain how to reset instead of a secret.
    HowToReset,
}

/// Everything a file is made of.
#[derive(Debug, Clone, Copy)]
pub struct Document<'a> {
    pub school_name: &'a str,
    /// Printed on every line and card, and encoded in the cards' QR code.
    pub login_url: &'a str,
    pub language: Language,
    /// The school's time zone: every date of the file is shown in it.
    pub zone: crate::domain::TimeZone,
    pub content: Content,
    /// PDF only.
    pub per_page: PerPage,
    pub rows: &'a [Row],
}

/// What only the PDF cards print beyond the rows: where each card's QR code
/// leads, and the children a parent's card names.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cards<'a> {
    /// The activation page (`…/activate`): an activation card's QR code opens it
    /// with the login in the query and the code in the fragment (scan to claim).
    /// Empty: every QR code is the login URL.
    pub activation_url: &'a str,
    /// Whether the login URL is this deployment's own sign-in page, which fills
    /// in the login its address names: a credentials card's QR code then does.
    pub own_sign_in: bool,
    /// By login: the children a parent's card names, as "Zoé Lefèvre (5A)".
    pub children: Option<&'a std::collections::HashMap<String, Vec<String>>>,
}

/// The file's bytes. Memory and time are linear in the number of rows.
pub fn render(format: Format, doc: &Document) -> anyhow::Result<Vec<u8>> {
    render_with(format, doc, &Cards::default())
}

/// The file's bytes, the PDF cards with what `cards` adds.
pub fn render_with(format: Format, doc: &Document, cards: &Cards) -> anyhow::Result<Vec<u8>> {
    for row in doc.rows {
        check_secret(doc.content, row)?;
    }
    match format {
        Format::Csv => csv::render(doc),
        Format::Xlsx => xlsx::render(doc),
        Format::Pdf => pdf::render(doc, cards),
    }
}

/// The name offered to the browser: `identifiants-2026-11-21.csv`.
pub fn file_name(content: Content, language: Language, format: Format, created: DateTime<Utc>) -> String {
    let stem = labels::Labels::of(language).file_stem(content);
    format!("{stem}-{}.{}", created.format("%Y-%m-%d"), format.extension())
}

pub fn content_type(format: Format) -> &'static str {
    match format {
        Format::Csv => "text/csv; charset=utf-8",
        Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        Format::Pdf => "application/pdf",
    }
}

fn check_secret(content: Content, row: &Row) -> anyhow::Result<()> {
    let fits = match (&row.secret, content) {
        (None | Some(Secret::HowToReset), _) => true,
        (Some(Secret::TemporaryPassword { .. }), Content::Credentials) => true,
        (Some(Secret::ActivationCode { .. }), Content::Activation) => true,
        (Some(_), _) => false,
    };
    anyhow::ensure!(
        fits,
        "the row of {} holds a secret that a {content:?} file has no place for",
        row.login
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_page_is_a_number_in_json() {
        assert_eq!(serde_json::to_string(&PerPage::Eight).unwrap(), "8");
        assert_eq!(serde_json::from_str::<PerPage>("2").unwrap(), PerPage::Two);
        assert!(serde_json::from_str::<PerPage>("3").is_err());
        assert!(serde_json::from_str::<PerPage>("\"1\"").is_err());
    }

    #[test]
    fn per_page_schema_lists_the_three_numbers() {
        let schema = serde_json::to_value(<PerPage as utoipa::PartialSchema>::schema()).unwrap();
        assert_eq!(schema["type"], "integer");
        assert_eq!(schema["enum"], serde_json::json!([1, 2, 8]));
    }

    #[test]
    fn file_names_are_in_the_documents_language() {
        let created = "2026-11-21T15:30:00Z".parse().unwrap();
        assert_eq!(
            file_name(Content::Credentials, Language::Fr, Format::Csv, created),
            "identifiants-2026-11-21.csv"
        );
        assert_eq!(
            file_name(Content::Credentials, Language::En, Format::Pdf, created),
            "credentials-2026-11-21.pdf"
        );
        assert_eq!(
            file_name(Content::Identifiers, Language::Fr, Format::Xlsx, created),
            "liste-des-identifiants-2026-11-21.xlsx"
        );
    }

    #[test]
    fn a_secret_of_the_wrong_kind_is_refused_rather_than_dropped() {
        let row = Row {
            class: "3e1".into(),
            first_name: "Zoé".into(),
            last_name: "Lefèvre".into(),
            login: "zoe.lefevre".into(),
            birth_date: None,
            profile: Profile::Student,
            secret: Some(Secret::ActivationCode {
                code: "ABCD2345".into(),
                expires_at: Utc::now(),
            }),
        };
        let doc = Document {
            school_name: "Collège",
            login_url: "https://ent.example",
            language: Language::Fr,
            zone: crate::domain::TimeZone::default(),
            content: Content::Credentials,
            per_page: PerPage::One,
            rows: std::slice::from_ref(&row),
        };
        let error = render(Format::Csv, &doc).unwrap_err();
        assert!(error.to_string().contains("zoe.lefevre"), "{error}");
    }
}
