//! Reading a roster file into rows: CSV (`,` or `;` separated, UTF-8 with or without
//! BOM) or XLSX (the first sheet). Both share the headers, in English or French
//! (`prenom`, `nom`, `classe`, …), the building of rows and the bounds.

pub mod oneroster;
mod xlsx;

use crate::domain::Code;
use crate::domain::text::fold;
use crate::domain::{Error, Result};
use std::sync::Arc;

/// One row of a roster, as written in the file.
#[derive(Clone, Default, PartialEq)]
pub struct RosterRow {
    /// The columns the file has (a matched account keeps the fields of the others);
    /// `None`: every column (rows built in code).
    pub columns: Option<Arc<[&'static str]>>,
    /// The school's own identifier of the person; re-imports update by it.
    pub external_id: Option<String>,
    pub profile: String,
    pub first_name: String,
    pub last_name: String,
    /// Class names separated by `|` or `;` when the file is `,`-separated.
    pub classes: Option<String>,
    pub level: Option<String>,
    pub groups: Option<String>,
    pub options: Option<String>,
    pub email: Option<String>,
    /// `YYYY-MM-DD` or `DD/MM/YYYY`.
    pub birth_date: Option<String>,
    pub local_admin: Option<String>,
    /// `local` or the name of a federated directory.
    pub source: Option<String>,
    /// For parents: the `external_id`s of their children.
    pub children: Option<String>,
    /// Optional initial password (seed 003), checked against the policy.
    pub password: Option<String>,
    /// Optional explicit login; generated as `first.last` otherwise.
    pub login: Option<String>,
    /// `enabled` or `disabled` (a OneRoster `enabledUser` or `tobedeleted`).
    pub access: Option<String>,
    /// A OneRoster row's enrollments, as lists (a title may hold `;` or `|`): the
    /// classes to add and to remove. With a `classes` column (a bulk file) the
    /// account's classes are exactly those added; without (a delta), the others stay.
    pub class_changes: Option<(Vec<String>, Vec<String>)>,
    /// A OneRoster delta's `tobedeleted` user: it closes the account it names, if
    /// the school has one, and carries nothing else.
    pub deletion: bool,
    /// Where the row comes from when it is not row N of one file (a OneRoster bundle).
    pub origin: Option<Origin>,
}

/// Where a row of a bundle comes from: its row in `users.csv` (or, for a delta row
/// that only changes enrollments or a birth date, in that file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: &'static str,
    pub row: usize,
    /// The row of `demographics.csv` that gave the birth date.
    pub demographics_row: Option<usize>,
    /// The first row of `enrollments.csv` that gave a class.
    pub enrollments_row: Option<usize>,
    /// The login is a wish (a OneRoster `username`): taken or invalid, the account
    /// gets another, and the report says so.
    pub login_is_a_wish: bool,
}

impl RosterRow {
    /// Whether the file has the column `name`.
    pub fn has(&self, name: &str) -> bool {
        self.columns.as_ref().is_none_or(|c| c.contains(&name))
    }
}

/// Everything but the password.
impl std::fmt::Debug for RosterRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RosterRow")
            .field("external_id", &self.external_id)
            .field("profile", &self.profile)
            .field("first_name", &self.first_name)
            .field("last_name", &self.last_name)
            .field("login", &self.login)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .finish_non_exhaustive()
    }
}

fn column(header: &str) -> Option<&'static str> {
    let key: String = fold(header)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    Some(match key.as_str() {
        "externalid" | "id" | "identifiantetablissement" | "idetablissement" => "external_id",
        "profile" | "profil" => "profile",
        "firstname" | "prenom" => "first_name",
        "lastname" | "nom" | "nomdefamille" => "last_name",
        "class" | "classes" | "classe" => "classes",
        "level" | "niveau" => "level",
        "groups" | "groupes" | "group" | "groupe" => "groups",
        "options" | "option" => "options",
        "email" | "courriel" | "mail" => "email",
        "birthdate" | "datedenaissance" | "naissance" => "birth_date",
        "localadmin" | "administrateurlocal" => "local_admin",
        "source" | "annuaire" => "source",
        "children" | "enfants" => "children",
        "password" | "motdepasse" => "password",
        "login" | "identifiant" | "nomdutilisateur" => "login",
        _ => return None,
    })
}

/// Most rows a roster may hold besides its header (a whole school is a few thousand).
pub const MAX_ROWS: usize = 100_000;
/// Most columns a roster may have.
pub const MAX_COLUMNS: usize = 100;

/// The formats a roster comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RosterKind {
    Csv,
    Xlsx,
    /// A OneRoster CSV bundle (a zip of `manifest.csv`, `users.csv`, …).
    OneRoster,
}

impl RosterKind {
    pub const CSV_TYPE: &'static str = "text/csv";
    pub const XLSX_TYPE: &'static str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    pub const ZIP_TYPE: &'static str = "application/zip";

    /// The format a `Content-Type` names (parameters such as `charset` aside).
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        let mime = content_type.split(';').next().unwrap_or_default().trim();
        if mime.eq_ignore_ascii_case(Self::CSV_TYPE) {
            Some(Self::Csv)
        } else if mime.eq_ignore_ascii_case(Self::XLSX_TYPE) {
            Some(Self::Xlsx)
        } else if mime.eq_ignore_ascii_case(Self::ZIP_TYPE)
            || mime.eq_ignore_ascii_case("application/x-zip-compressed")
        {
            Some(Self::OneRoster)
        } else {
            None
        }
    }

    /// The format of a file nobody named (the console's upload, an uploaded file): a
    /// zip archive, whose first bytes no text file starts with, is a OneRoster bundle
    /// when it holds `manifest.csv` and `users.csv`, else a workbook.
    pub fn sniff(bytes: &[u8]) -> Self {
        if !oneroster::is_zip(bytes) {
            Self::Csv
        } else if oneroster::is_bundle(bytes) {
            Self::OneRoster
        } else {
            Self::Xlsx
        }
    }
}

/// A roster as read: its rows and, for a OneRoster bundle, what else it held.
#[derive(Debug, Default)]
pub struct Roster {
    pub rows: Vec<RosterRow>,
    pub oneroster: Option<crate::domain::import_job::OneRosterSummary>,
}

impl Roster {
    /// Rows built in code (the demo, the first administrator).
    pub fn of(rows: Vec<RosterRow>) -> Self {
        Self {
            rows,
            oneroster: None,
        }
    }
}

/// Reads a roster of any kind off the async executor; a OneRoster bundle keeps
/// the users of the org `org` (the school's `oneroster_org`).
pub async fn read_file<B>(bytes: B, kind: RosterKind, org: Option<String>) -> Result<Roster>
where
    B: AsRef<[u8]> + Send + 'static,
{
    tokio::task::spawn_blocking(move || match kind {
        RosterKind::OneRoster => oneroster::parse_bundle(bytes.as_ref(), org.as_deref()),
        _ => parse_roster(bytes.as_ref(), kind).map(Roster::of),
    })
    .await
    .map_err(|e| Error::Internal(e.into()))?
}

/// Reads a roster of `kind`. A header that names no known column is an error, so
/// that a misspelt column is not silently ignored.
pub fn parse_roster(bytes: &[u8], kind: RosterKind) -> Result<Vec<RosterRow>> {
    match kind {
        RosterKind::Csv => parse_csv(bytes),
        RosterKind::Xlsx => parse_xlsx(bytes),
        // Its users depend on the school's org: `read_file` reads it.
        RosterKind::OneRoster => Err(Error::invalid(
            "file",
            "a OneRoster bundle is read for its school's org",
        )),
    }
}

/// The columns of a roster, as its header row names them, and the rows read so far.
struct Rows {
    columns: Vec<&'static str>,
    present: Arc<[&'static str]>,
    rows: Vec<RosterRow>,
}

impl Rows {
    fn new<'a>(headers: impl IntoIterator<Item = &'a str>) -> Result<Self> {
        let mut columns = Vec::new();
        for header in headers {
            if columns.len() == MAX_COLUMNS {
                return Err(too_many_columns());
            }
            match column(header) {
                Some(name) => columns.push(name),
                None if header.trim().is_empty() => columns.push(""),
                None => return Err(Error::invalid("file", format!("unknown column {header:?}"))),
            }
        }
        for required in ["profile", "first_name", "last_name"] {
            if !columns.contains(&required) {
                return Err(Error::invalid(
                    "file",
                    format!("the column {required} is missing"),
                ));
            }
        }
        Ok(Self {
            present: columns.iter().copied().collect(),
            columns,
            rows: Vec::new(),
        })
    }

    /// Adds the row of `values`, one a column, numbered `number` in the file.
    fn push<'a>(&mut self, number: usize, values: impl IntoIterator<Item = &'a str>) -> Result<()> {
        if self.rows.len() == MAX_ROWS {
            return Err(Error::invalid(
                "file",
                format!("more than {MAX_ROWS} rows; split the roster"),
            ));
        }
        let mut row = RosterRow {
            columns: Some(self.present.clone()),
            ..RosterRow::default()
        };
        let mut values = values.into_iter();
        for (name, value) in self.columns.iter().zip(values.by_ref()) {
            let value = value.trim();
            let optional = (!value.is_empty()).then(|| value.to_owned());
            match *name {
                "external_id" => row.external_id = optional,
                "profile" => row.profile = value.to_owned(),
                "first_name" => row.first_name = value.to_owned(),
                "last_name" => row.last_name = value.to_owned(),
                "classes" => row.classes = optional,
                "level" => row.level = optional,
                "groups" => row.groups = optional,
                "options" => row.options = optional,
                "email" => row.email = optional,
                "birth_date" => row.birth_date = optional,
                "local_admin" => row.local_admin = optional,
                "source" => row.source = optional,
                "children" => row.children = optional,
                "password" => row.password = optional,
                "login" => row.login = optional,
                _ => {}
            }
        }
        if values.any(|v| !v.trim().is_empty()) {
            return Err(Error::invalid(
                &format!("row {number}"),
                "a value lies beyond the last column of the header",
            ));
        }
        self.rows.push(row);
        Ok(())
    }
}

fn too_many_columns() -> Error {
    Error::invalid("file", format!("more than {MAX_COLUMNS} columns"))
}

fn parse_csv(bytes: &[u8]) -> Result<Vec<RosterRow>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes)
        .map_err(|_| Error::bad_request(Code::InvalidFile, "the file is not UTF-8"))?;
    let first_line = text.lines().next().unwrap_or_default();
    let delimiter = if first_line.matches(';').count() > first_line.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| Error::bad_request(Code::InvalidFile, format!("unreadable header: {e}")))?;
    let mut rows = Rows::new(headers)?;
    for (i, record) in reader.records().enumerate() {
        let number = i + 2;
        let record = record.map_err(|e| Error::invalid(&format!("row {number}"), e.to_string()))?;
        rows.push(number, &record)?;
    }
    Ok(rows.rows)
}

/// The first sheet of a workbook; its first row is the header, and rows keep the
/// numbers the spreadsheet shows.
fn parse_xlsx(bytes: &[u8]) -> Result<Vec<RosterRow>> {
    let mut rows: Option<Rows> = None;
    xlsx::each_row(bytes, |number, cells| match rows.as_mut() {
        None => {
            rows = Some(Rows::new(cells.iter().map(String::as_str))?);
            Ok(())
        }
        Some(rows) => rows.push(number, cells.iter().map(String::as_str)),
    })?;
    let rows = rows.ok_or_else(|| Error::invalid("file", "the first sheet is empty"))?;
    Ok(rows.rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_headers_and_semicolons_are_understood() {
        let csv =
            "\u{feff}Profil;Prénom;Nom;Classe;Date de naissance\nstudent;Zoé;Lefèvre;CM1-A;09/03/2015\n";
        let rows = parse_roster(csv.as_bytes(), RosterKind::Csv).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].first_name, "Zoé");
        assert_eq!(rows[0].classes.as_deref(), Some("CM1-A"));
        assert_eq!(rows[0].birth_date.as_deref(), Some("09/03/2015"));
    }

    #[test]
    fn a_roster_of_more_rows_than_the_bound_is_refused() {
        let mut csv = String::from("profile,first_name,last_name\n");
        for _ in 0..=MAX_ROWS {
            csv.push_str("student,A,B\n");
        }
        let refused = parse_roster(csv.as_bytes(), RosterKind::Csv);
        assert!(
            matches!(&refused, Err(Error::Validation(e)) if e[0].field == "file"),
            "{refused:?}"
        );
    }

    #[test]
    fn the_content_type_or_the_bytes_name_the_format() {
        assert_eq!(
            RosterKind::from_content_type("text/csv; charset=utf-8"),
            Some(RosterKind::Csv)
        );
        assert_eq!(
            RosterKind::from_content_type(RosterKind::XLSX_TYPE),
            Some(RosterKind::Xlsx)
        );
        assert_eq!(RosterKind::from_content_type("application/pdf"), None);
        assert_eq!(RosterKind::sniff(b"PK\x03\x04rest"), RosterKind::Xlsx);
        assert_eq!(RosterKind::sniff(b"profile,first_name"), RosterKind::Csv);
    }

    #[test]
    fn an_unknown_column_is_refused() {
        let csv = "profile,first_name,last_name,shoe_size\n";
        assert!(parse_roster(csv.as_bytes(), RosterKind::Csv).is_err());
    }
}
