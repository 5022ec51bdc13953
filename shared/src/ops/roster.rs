//! Reading a roster file (CSV, `,` or `;` separated, UTF-8 with or without BOM) into
//! rows. Headers may be in English or French (`prenom`, `nom`, `classe`, …).

use crate::domain::Code;
use crate::domain::text::fold;
use crate::domain::{Error, Result};

/// One row of a roster, as written in the file.
#[derive(Clone, Default, PartialEq)]
pub struct RosterRow {
    /// The columns the file has (a matched account keeps the fields of the others);
    /// `None`: every column (rows built in code).
    pub columns: Option<std::sync::Arc<[&'static str]>>,
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

/// Parses a CSV roster. A header that names no known column is an error, so that a
/// misspelt column is not silently ignored.
pub fn parse_csv(bytes: &[u8]) -> Result<Vec<RosterRow>> {
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
    let mut columns = Vec::with_capacity(headers.len());
    for header in headers {
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
    let present: std::sync::Arc<[&'static str]> = columns.iter().copied().collect();
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| Error::invalid(&format!("row {}", i + 2), e.to_string()))?;
        let mut row = RosterRow {
            columns: Some(present.clone()),
            ..RosterRow::default()
        };
        for (name, value) in columns.iter().zip(record.iter()) {
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
        rows.push(row);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_headers_and_semicolons_are_understood() {
        let csv =
            "\u{feff}Profil;Prénom;Nom;Classe;Date de naissance\nstudent;Zoé;Lefèvre;CM1-A;09/03/2015\n";
        let rows = parse_csv(csv.as_bytes()).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].first_name, "Zoé");
        assert_eq!(rows[0].classes.as_deref(), Some("CM1-A"));
        assert_eq!(rows[0].birth_date.as_deref(), Some("09/03/2015"));
    }

    #[test]
    fn an_unknown_column_is_refused() {
        let csv = "profile,first_name,last_name,shoe_size\n";
        assert!(parse_csv(csv.as_bytes()).is_err());
    }
}
