//! OneRoster bundles (1EdTech OneRoster 1.1 and 1.2, CSV binding): a zip of
//! `manifest.csv`, `users.csv`, `orgs.csv`, `classes.csv`, `enrollments.csv`,
//! `demographics.csv` (birth dates) and, in 1.2, `roles.csv` (the primary role).
//! Read into the same rows as Sésame's own rosters (SPEC §4): `sourcedId` is the
//! external id, roles become profiles, enrollments classes, `grades` the level,
//! agents link parents to children, `enabledUser` and `tobedeleted` the access.
//!
//! The school is the org the setting `oneroster_org` names (or the bundle's only
//! school); users of other orgs (a district's bundle) are left out and counted, as
//! are passwords. A bundle that cannot be read as a whole (a missing file or
//! column, a broken reference, a repeated `sourcedId`, text that is not UTF-8, an
//! archive that would inflate too far) is refused, each problem named by file, row
//! and column. A delta bundle carries changes only: its rows change what they
//! name, and an enrollment adds or (`tobedeleted`) removes one class.

use super::{MAX_ROWS, Origin, Roster, RosterRow};
use crate::domain::import_job::OneRosterSummary;
use crate::domain::{Error, FieldError, Result};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::sync::Arc;

/// Most problems reported for a bundle refused whole.
const MAX_PROBLEMS: usize = 100;

/// One CSV file of the bundle: its columns and its rows.
struct Table {
    file: &'static str,
    columns: HashMap<String, usize>,
    rows: Vec<csv::StringRecord>,
}

impl Table {
    fn get<'a>(&self, row: &'a csv::StringRecord, column: &str) -> &'a str {
        self.columns
            .get(column)
            .and_then(|&i| row.get(i))
            .map(str::trim)
            .unwrap_or_default()
    }

    fn has(&self, column: &str) -> bool {
        self.columns.contains_key(column)
    }

    /// Whether a row is a deletion (`status` `tobedeleted`, in a delta file).
    fn deleted(&self, row: &csv::StringRecord) -> bool {
        self.get(row, "status").eq_ignore_ascii_case("tobedeleted")
    }

    /// The rows with their numbers in the file (the header is row 1).
    fn numbered(&self) -> impl Iterator<Item = (usize, &csv::StringRecord)> {
        self.rows.iter().enumerate().map(|(i, r)| (i + 2, r))
    }
}

/// Problems of a bundle, each named `file row N column C`.
#[derive(Default)]
struct Problems(Vec<FieldError>);

impl Problems {
    fn add(&mut self, file: &str, row: Option<usize>, column: Option<&str>, message: impl Into<String>) {
        if self.0.len() < MAX_PROBLEMS {
            let mut field = file.to_owned();
            if let Some(row) = row {
                field.push_str(&format!(" row {row}"));
            }
            if let Some(column) = column {
                field.push_str(&format!(" column {column}"));
            }
            self.0.push(FieldError::new(field, message.into()));
        }
    }

    fn check(&mut self) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(std::mem::take(&mut self.0)))
        }
    }
}

/// Whether `bytes` look like a zip archive (a OneRoster bundle, or a workbook).
pub fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

/// The files of a bundle that Sésame reads; any other (results, line items…) is
/// left in the archive, never inflated.
const READ: [&str; 8] = [
    "manifest.csv",
    "users.csv",
    "orgs.csv",
    "roles.csv",
    "classes.csv",
    "enrollments.csv",
    "demographics.csv",
    "academicsessions.csv",
];

/// The name of a part as the bundle's file it is, if it is one Sésame reads
/// (at the archive's root, in any case).
fn known_file(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    READ.iter()
        .find(|f| f.eq_ignore_ascii_case(&lower))
        .map(|f| match *f {
            "academicsessions.csv" => "academicSessions.csv",
            other => other,
        })
}

/// Whether a zip archive is a OneRoster bundle (it has `manifest.csv` or
/// `users.csv` at its root) rather than a workbook.
pub fn is_bundle(bytes: &[u8]) -> bool {
    zip::ZipArchive::new(std::io::Cursor::new(bytes)).is_ok_and(|archive| {
        archive
            .file_names()
            .any(|n| n.is_ok_and(|n| matches!(known_file(&n), Some("manifest.csv" | "users.csv"))))
    })
}

/// The files Sésame reads, inflated within the bounds, by name.
fn files(bytes: &[u8]) -> Result<BTreeMap<&'static str, Vec<u8>>> {
    super::xlsx::check_archive(bytes, "OneRoster bundle")?;
    let invalid = |message: String| Error::invalid("file", message);
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| invalid(format!("not a zip archive: {e}")))?;
    let mut files = BTreeMap::new();
    for i in 0..archive.len() {
        let mut file = archive
            .by_index(i)
            .map_err(|e| invalid(format!("an unreadable part: {e}")))?;
        let name = file
            .name()
            .map_err(|e| invalid(format!("an unreadable name: {e}")))?
            .into_owned();
        let Some(known) = known_file(&name) else {
            continue;
        };
        let declared = file.size();
        let mut content = Vec::with_capacity(usize::try_from(declared).unwrap_or(0));
        // Read to its end (so that its checksum is checked), but never beyond
        // the size declared and checked.
        (&mut file)
            .take(declared.saturating_add(1))
            .read_to_end(&mut content)
            .map_err(|e| invalid(format!("{name} cannot be inflated: {e}")))?;
        if content.len() as u64 > declared {
            return Err(invalid(format!("{name} inflates beyond the size it declares")));
        }
        if files.insert(known, content).is_some() {
            return Err(invalid(format!("{known} appears twice in the bundle")));
        }
    }
    Ok(files)
}

/// Most rows a file of the bundle may hold (a district's enrollments); the
/// archive's size bounds hold the memory they take.
const MAX_TABLE_ROWS: usize = 1_000_000;

/// Reads `file` of the bundle (absent: `None`), UTF-8 with or without a BOM,
/// checking that it has the `required` columns.
fn table(
    files: &BTreeMap<&'static str, Vec<u8>>,
    file: &'static str,
    required: &[&str],
    problems: &mut Problems,
) -> Option<Table> {
    let bytes = files.get(file)?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let Ok(text) = std::str::from_utf8(bytes) else {
        problems.add(file, None, None, "is not UTF-8 text (save it as UTF-8)");
        return None;
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            problems.add(file, Some(1), None, format!("unreadable header: {e}"));
            return None;
        }
    };
    let columns: HashMap<String, usize> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| (h.trim().to_owned(), i))
        .collect();
    let mut complete = true;
    for column in required {
        if !columns.contains_key(*column) {
            problems.add(file, Some(1), Some(column), "this required column is missing");
            complete = false;
        }
    }
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        if rows.len() == MAX_TABLE_ROWS {
            problems.add(file, None, None, format!("more than {MAX_TABLE_ROWS} rows"));
            return None;
        }
        match record {
            Ok(record) => rows.push(record),
            Err(e) => problems.add(file, Some(i + 2), None, e.to_string()),
        }
    }
    complete.then_some(Table { file, columns, rows })
}

/// The profile a OneRoster role gives (SPEC §4): students, teachers, parents, and
/// every other role (administrator, aide, proctor, 1.2's staff roles, a vendor's
/// `ext:` role) staff, never an administrator's; an empty role none.
fn profile(role: &str) -> Option<&'static str> {
    Some(match role.trim().to_ascii_lowercase().as_str() {
        "" => return None,
        "student" => "student",
        "teacher" => "teacher",
        "parent" | "guardian" | "relative" => "parent",
        _ => "staff",
    })
}

/// A comma-separated list of a OneRoster cell.
fn list(cell: &str) -> impl Iterator<Item = &str> {
    cell.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// The bundle's files, read and checked.
struct Bundle {
    version: String,
    v12: bool,
    delta: bool,
    orgs: Option<Table>,
    users: Table,
    roles: Option<Table>,
    classes: Option<Table>,
    enrollments: Option<Table>,
    demographics: Option<Table>,
}

impl Bundle {
    fn read(files: &BTreeMap<&'static str, Vec<u8>>, problems: &mut Problems) -> Result<Self> {
        if !files.contains_key("manifest.csv") {
            problems.add("manifest.csv", None, None, "this file is missing from the bundle");
        }
        let manifest = table(files, "manifest.csv", &["propertyName", "value"], problems);
        let property = |name: &str| {
            manifest.as_ref().and_then(|m| {
                m.rows
                    .iter()
                    .find(|r| m.get(r, "propertyName") == name)
                    .map(|r| m.get(r, "value").to_ascii_lowercase())
            })
        };
        let version = property("oneroster.version").unwrap_or_else(|| "1.1".to_owned());
        if !(version.starts_with("1.1") || version.starts_with("1.2")) {
            problems.add(
                "manifest.csv",
                None,
                Some("oneroster.version"),
                format!("{version:?}: OneRoster 1.1 and 1.2 are read"),
            );
        }
        let v12 = version.starts_with("1.2");
        // A delta carries changes: its files say `delta` (those it lacks, `absent`).
        let delta = ["users", "enrollments", "demographics", "classes", "roles"]
            .iter()
            .any(|f| property(&format!("file.{f}")).as_deref() == Some("delta"));
        if !files.contains_key("users.csv") && !delta {
            problems.add("users.csv", None, None, "this file is missing from the bundle");
        }
        let mut users_required = vec!["sourcedId", "givenName", "familyName"];
        if !v12 {
            users_required.extend(["role", "orgSourcedIds"]);
        }
        let users = table(files, "users.csv", &users_required, problems);
        let orgs = table(files, "orgs.csv", &["sourcedId"], problems);
        let classes = table(files, "classes.csv", &["sourcedId", "title"], problems);
        let enrollments = table(
            files,
            "enrollments.csv",
            &["sourcedId", "classSourcedId", "userSourcedId"],
            problems,
        );
        if enrollments.is_some() && !files.contains_key("classes.csv") {
            problems.add(
                "classes.csv",
                None,
                None,
                "enrollments.csv names classes by their sourcedId: this file, which titles them, is missing",
            );
        }
        let demographics = table(files, "demographics.csv", &["sourcedId", "birthDate"], problems);
        let roles = if v12 {
            let roles = table(
                files,
                "roles.csv",
                &["userSourcedId", "roleType", "role", "orgSourcedId"],
                problems,
            );
            if !files.contains_key("roles.csv") && !delta {
                problems.add(
                    "roles.csv",
                    None,
                    None,
                    "a OneRoster 1.2 bundle names its users' roles in this file: it is missing",
                );
            }
            roles
        } else {
            None
        };
        problems.check()?;
        let users = users.unwrap_or_else(|| Table {
            file: "users.csv",
            columns: HashMap::new(),
            rows: Vec::new(),
        });
        Ok(Self {
            version: if v12 { "1.2" } else { "1.1" }.to_owned(),
            v12,
            delta,
            orgs,
            users,
            roles,
            classes,
            enrollments,
            demographics,
        })
    }

    /// The school's org: `org` when given, else the bundle's only school.
    fn org(&self, org: Option<&str>) -> Result<String> {
        if let Some(org) = org {
            return Ok(org.to_owned());
        }
        let schools: Vec<&str> = self
            .orgs
            .iter()
            .flat_map(|t| {
                t.rows
                    .iter()
                    .filter(|r| matches!(t.get(r, "type").to_ascii_lowercase().as_str(), "school" | ""))
                    .map(|r| t.get(r, "sourcedId"))
            })
            .collect();
        match schools.as_slice() {
            [only] => Ok((*only).to_owned()),
            _ => Err(Error::invalid(
                "oneroster_org",
                format!(
                    "set the school's setting oneroster_org to the sourcedId of its org in orgs.csv{}",
                    if schools.is_empty() {
                        String::new()
                    } else {
                        format!(" (the bundle has {})", schools.join(", "))
                    }
                ),
            )),
        }
    }
}

/// Each user's roles at the school (1.2's `roles.csv`): the primary one first.
type Roles<'a> = HashMap<&'a str, Vec<&'a str>>;

/// A user's role at the school, if they have one there: 1.2's primary role at
/// the school, else another of their roles there; 1.1's role, if one of its orgs
/// is the school.
fn role_here<'a>(
    users: &'a Table,
    roles: Option<&Roles<'a>>,
    row: &'a csv::StringRecord,
    org: &str,
) -> Option<&'a str> {
    let id = users.get(row, "sourcedId");
    if let Some(roles) = roles {
        return roles.get(id).and_then(|r| r.first().copied());
    }
    let orgs = match users.get(row, "orgSourcedIds") {
        "" => users.get(row, "primaryOrgSourcedId"),
        orgs => orgs,
    };
    list(orgs).any(|o| o == org).then(|| users.get(row, "role"))
}

/// Reads a OneRoster bundle for the school whose org is `org` (its setting
/// `oneroster_org`; `None`: the bundle's only school).
pub fn parse_bundle(bytes: &[u8], org: Option<&str>) -> Result<Roster> {
    let files = files(bytes)?;
    let mut problems = Problems::default();
    let bundle = Bundle::read(&files, &mut problems)?;
    let org = bundle.org(org)?;
    let org = org.as_str();
    let Bundle {
        delta,
        v12,
        users,
        roles,
        classes,
        enrollments,
        demographics,
        ..
    } = &bundle;
    let (delta, v12) = (*delta, *v12);

    // Each user once, with a sourcedId, and (1.1) an org.
    let mut row_of: HashMap<&str, usize> = HashMap::new();
    for (number, row) in users.numbered() {
        let id = users.get(row, "sourcedId");
        if id.is_empty() {
            problems.add(users.file, Some(number), Some("sourcedId"), "is empty");
        } else if let Some(first) = row_of.insert(id, number) {
            problems.add(
                users.file,
                Some(number),
                Some("sourcedId"),
                format!("{id:?} repeats row {first}"),
            );
        }
        // A delta's `tobedeleted` record may carry its id alone.
        if !v12 && users.get(row, "orgSourcedIds").is_empty() && !(delta && users.deleted(row)) {
            problems.add(
                users.file,
                Some(number),
                Some("orgSourcedIds"),
                "is empty: name the user's org",
            );
        }
    }
    // A reference to a user the bundle does not hold is broken, except in a delta,
    // which names users it does not carry.
    let known = |problems: &mut Problems, file: &str, number: usize, column: &str, user: &str| {
        let found = row_of.contains_key(user);
        if !found && !delta {
            problems.add(
                file,
                Some(number),
                Some(column),
                format!("names no user of users.csv ({user:?})"),
            );
        }
        found
    };
    // 1.2: each user's roles at the school, the primary one first.
    let mut here: Roles = HashMap::new();
    if let Some(roles) = roles {
        for (number, row) in roles.numbered() {
            let user = roles.get(row, "userSourcedId");
            known(&mut problems, roles.file, number, "userSourcedId", user);
            if roles.deleted(row) || roles.get(row, "orgSourcedId") != org {
                continue;
            }
            let role = roles.get(row, "role");
            let held = here.entry(user).or_default();
            if roles.get(row, "roleType").eq_ignore_ascii_case("primary") {
                held.insert(0, role);
            } else {
                held.push(role);
            }
        }
    }
    // 1.2 names roles in roles.csv only: a user without one there has none here.
    let roles_here = v12.then_some(&here);
    // The school's classes, by sourcedId; a title two sections share is told
    // apart by its class code (else its sourcedId), so that a teacher of one
    // section never gets the pupils of another.
    let mut titles: HashMap<&str, String> = HashMap::new();
    if let Some(classes) = classes {
        let ours = |row: &csv::StringRecord| match classes.get(row, "schoolSourcedId") {
            "" => true,
            school => school == org,
        };
        let mut count: HashMap<&str, usize> = HashMap::new();
        for row in classes.rows.iter().filter(|r| ours(r)) {
            *count.entry(classes.get(row, "title")).or_default() += 1;
        }
        for (number, row) in classes.numbered() {
            let (id, title) = (classes.get(row, "sourcedId"), classes.get(row, "title"));
            if !ours(row) {
                continue;
            }
            if title.is_empty() {
                // (A delta's `tobedeleted` class may carry its id alone.)
                if !(delta && classes.deleted(row)) {
                    problems.add(classes.file, Some(number), Some("title"), "is empty");
                }
                continue;
            }
            let name = if count.get(title).copied().unwrap_or(0) > 1 {
                match classes.get(row, "classCode") {
                    "" => format!("{title} ({id})"),
                    code => format!("{title} ({code})"),
                }
            } else {
                title.to_owned()
            };
            if titles.insert(id, name).is_some() {
                problems.add(
                    classes.file,
                    Some(number),
                    Some("sourcedId"),
                    format!("{id:?} repeats"),
                );
            }
        }
    }
    let all_classes: BTreeSet<&str> = classes
        .iter()
        .flat_map(|c| c.rows.iter().map(|r| c.get(r, "sourcedId")))
        .collect();
    // Enrollments in the school's classes: each user's (a delta: added and removed).
    let mut enrolled: HashMap<&str, (BTreeSet<&str>, BTreeSet<&str>)> = HashMap::new();
    let mut enrollment_row: HashMap<&str, usize> = HashMap::new();
    if let Some(enrollments) = enrollments {
        for (number, row) in enrollments.numbered() {
            let (class, user) = (
                enrollments.get(row, "classSourcedId"),
                enrollments.get(row, "userSourcedId"),
            );
            // A delta's `tobedeleted` enrollment that carries its id alone names no
            // class we can take the user out of.
            if delta && enrollments.deleted(row) && (class.is_empty() || user.is_empty()) {
                continue;
            }
            if !known(&mut problems, enrollments.file, number, "userSourcedId", user) && !delta {
                continue;
            }
            let Some(title) = titles.get(class) else {
                // Another school's class (a district's bundle) is not ours to read.
                if !all_classes.contains(class) {
                    problems.add(
                        enrollments.file,
                        Some(number),
                        Some("classSourcedId"),
                        format!("names no class of classes.csv ({class:?})"),
                    );
                }
                continue;
            };
            enrollment_row.entry(user).or_insert(number);
            let (added, removed) = enrolled.entry(user).or_default();
            if enrollments.deleted(row) {
                removed.insert(title);
            } else {
                added.insert(title);
            }
        }
    }
    let mut birth: HashMap<&str, (&str, usize)> = HashMap::new();
    if let Some(demographics) = demographics {
        for (number, row) in demographics.numbered() {
            let user = demographics.get(row, "sourcedId");
            known(&mut problems, demographics.file, number, "sourcedId", user);
            let date = demographics.get(row, "birthDate");
            if !date.is_empty() && !demographics.deleted(row) {
                birth.insert(user, (date, number));
            }
        }
    }
    // Agents, both ways: a parent's children, and the parents a student names.
    let profiles: HashMap<&str, Option<&'static str>> = users
        .rows
        .iter()
        .map(|row| {
            let role = role_here(users, roles_here, row, org).unwrap_or_default();
            (users.get(row, "sourcedId"), profile(role))
        })
        .collect();
    let mut children: HashMap<&str, BTreeSet<&str>> = HashMap::new();
    if users.has("agentSourcedIds") {
        for (number, row) in users.numbered() {
            let id = users.get(row, "sourcedId");
            for agent in list(users.get(row, "agentSourcedIds")) {
                let found = known(&mut problems, users.file, number, "agentSourcedIds", agent);
                let mine = profiles.get(id).copied().flatten();
                let theirs = profiles.get(agent).copied().flatten();
                match (mine, theirs) {
                    (Some("parent"), Some("student")) => children.entry(id).or_default().insert(agent),
                    (Some("student"), Some("parent")) => children.entry(agent).or_default().insert(id),
                    // A delta's parent naming a child it does not carry: the import
                    // checks that it is a student of the school.
                    (Some("parent"), None) if !found => children.entry(id).or_default().insert(agent),
                    _ => false,
                };
            }
        }
    }
    problems.check()?;

    // The rows of the school, in the file's order. A bulk file's columns are the
    // same for every row; a delta's row carries what it changes.
    let mut columns = vec!["external_id", "first_name", "last_name", "login", "access"];
    for (column, present) in [
        ("email", users.has("email")),
        ("classes", enrollments.is_some() && !delta),
        ("level", users.has("grades")),
        ("children", users.has("agentSourcedIds")),
    ] {
        if present {
            columns.push(column);
        }
    }
    let shared = |profile: bool, birth_date: bool| -> Arc<[&'static str]> {
        let mut c = columns.clone();
        c.extend(profile.then_some("profile"));
        c.extend(birth_date.then_some("birth_date"));
        c.into()
    };
    let bulk_columns = shared(true, demographics.is_some());
    let mut summary = OneRosterSummary {
        version: bundle.version.clone(),
        delta,
        ..OneRosterSummary::default()
    };
    let mut rows = Vec::with_capacity(users.rows.len());
    let mut carried: BTreeSet<&str> = BTreeSet::new();
    for (number, row) in users.numbered() {
        let id = users.get(row, "sourcedId");
        if delta && users.deleted(row) {
            // Whatever else it carries (it may carry nothing but its id): the
            // account it names, if the school has one, is closed.
            carried.insert(id);
            enrolled.remove(id);
            rows.push(RosterRow {
                columns: Some(["external_id", "access"].into()),
                external_id: Some(id.to_owned()),
                access: Some("disabled".to_owned()),
                deletion: true,
                origin: Some(Origin {
                    file: users.file,
                    row: number,
                    demographics_row: None,
                    enrollments_row: None,
                    login_is_a_wish: false,
                }),
                ..RosterRow::default()
            });
            continue;
        }
        let role = role_here(users, roles_here, row, org);
        // 1.2's delta may carry a user without their roles: the account keeps its
        // profile, if it is the school's (else the row names no account).
        let role_kept = v12 && delta && role.is_none() && !here.contains_key(id) && {
            let primary = users.get(row, "primaryOrgSourcedId");
            primary.is_empty() || primary == org
        };
        let Some(role) = role.or(role_kept.then_some("")) else {
            summary.other_orgs += 1;
            continue;
        };
        if !users.get(row, "password").is_empty() {
            summary.passwords += 1;
        }
        carried.insert(id);
        let optional = |value: &str| (!value.is_empty()).then(|| value.to_owned());
        let disabled = users.get(row, "enabledUser").eq_ignore_ascii_case("false") || users.deleted(row);
        let (added, removed) = enrolled.remove(id).unwrap_or_default();
        let birth_date = birth.get(id);
        let row_columns = if delta || role_kept {
            shared(!role_kept, birth_date.is_some())
        } else {
            bulk_columns.clone()
        };
        rows.push(RosterRow {
            columns: Some(row_columns),
            external_id: Some(id.to_owned()),
            // An empty role is the row's error, as in any roster.
            profile: profile(role).unwrap_or(role).to_owned(),
            first_name: users.get(row, "givenName").to_owned(),
            last_name: users.get(row, "familyName").to_owned(),
            // As a list, never joined: a class's title may hold `;` or `|`. A bulk
            // row's are all its classes (its columns name `classes`), a delta's the
            // changes.
            class_changes: Some((
                added.iter().map(|c| (*c).to_owned()).collect(),
                if delta {
                    removed.iter().map(|c| (*c).to_owned()).collect()
                } else {
                    Vec::new()
                },
            )),
            level: list(users.get(row, "grades")).next().map(str::to_owned),
            email: optional(users.get(row, "email")),
            birth_date: birth_date.map(|(b, _)| (*b).to_owned()),
            login: optional(users.get(row, "username")),
            access: Some(if disabled { "disabled" } else { "enabled" }.to_owned()),
            children: children
                .get(id)
                .map(|c| c.iter().copied().collect::<Vec<_>>().join("|")),
            origin: Some(Origin {
                file: users.file,
                row: number,
                demographics_row: birth_date.map(|(_, n)| *n),
                enrollments_row: enrollment_row.get(id).copied(),
                login_is_a_wish: true,
            }),
            ..RosterRow::default()
        });
    }
    // A delta's enrollments and birth dates of users it does not carry: one row
    // each that changes only those (the import finds the account by its external
    // id, and refuses a row that names none).
    if rows.len() > MAX_ROWS {
        return Err(Error::invalid(
            "users.csv",
            format!("more than {MAX_ROWS} users of the school; split the roster"),
        ));
    }
    if delta {
        let mut partial: BTreeMap<&str, RosterRow> = BTreeMap::new();
        for (user, (added, removed)) in enrolled {
            if carried.contains(user) || row_of.contains_key(user) {
                continue;
            }
            let number = enrollment_row.get(user).copied().unwrap_or(0);
            partial.insert(
                user,
                RosterRow {
                    columns: Some(["external_id"].into()),
                    external_id: Some(user.to_owned()),
                    class_changes: Some((
                        added.iter().map(|c| (*c).to_owned()).collect(),
                        removed.iter().map(|c| (*c).to_owned()).collect(),
                    )),
                    origin: Some(Origin {
                        file: "enrollments.csv",
                        row: number,
                        demographics_row: None,
                        enrollments_row: Some(number),
                        login_is_a_wish: false,
                    }),
                    ..RosterRow::default()
                },
            );
        }
        for (user, (date, number)) in &birth {
            if carried.contains(user) || row_of.contains_key(user) {
                continue;
            }
            let row = partial.entry(user).or_insert_with(|| RosterRow {
                external_id: Some((*user).to_owned()),
                origin: Some(Origin {
                    file: "demographics.csv",
                    row: *number,
                    demographics_row: None,
                    enrollments_row: None,
                    login_is_a_wish: false,
                }),
                ..RosterRow::default()
            });
            row.columns = Some(["external_id", "birth_date"].into());
            row.birth_date = Some((*date).to_owned());
            if let Some(origin) = &mut row.origin {
                origin.demographics_row = Some(*number);
            }
        }
        rows.extend(partial.into_values());
    }
    Ok(Roster {
        rows,
        oneroster: Some(summary),
    })
}

/// The file, row and column of the bundle that hold a roster row's `field`.
pub fn source_of(field: &str, origin: &Origin) -> (&'static str, usize, &'static str) {
    let here = |column| (origin.file, origin.row, column);
    let id_column = match origin.file {
        "enrollments.csv" => "userSourcedId",
        _ => "sourcedId",
    };
    match field {
        "external_id" => here(id_column),
        "first_name" => here("givenName"),
        "last_name" => here("familyName"),
        "login" => here("username"),
        "profile" | "local_admin" => here("role"),
        "level" => here("grades"),
        "children" => here("agentSourcedIds"),
        "access" => here("enabledUser"),
        "email" => here("email"),
        "classes" => (
            "enrollments.csv",
            origin.enrollments_row.unwrap_or(origin.row),
            "classSourcedId",
        ),
        "birth_date" => (
            "demographics.csv",
            origin.demographics_row.unwrap_or(origin.row),
            "birthDate",
        ),
        _ => here(id_column),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip(files: &[(&str, &str)]) -> Vec<u8> {
        let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, content) in files {
            out.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            out.write_all(content.as_bytes()).unwrap();
        }
        out.finish().unwrap().into_inner()
    }

    const MANIFEST: &str =
        "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\nfile.users,bulk\n";

    #[test]
    fn a_bundle_of_another_encoding_or_with_a_broken_reference_is_refused_naming_file_row_and_column() {
        let users = "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\n\
                     u1,,,true,s1,student,,,Zo\u{e9},L,,,,,,,06,\n";
        let bundle = zip(&[
            ("manifest.csv", MANIFEST),
            ("users.csv", users),
            ("classes.csv", "sourcedId,title\nc1,6A\n"),
            (
                "enrollments.csv",
                "sourcedId,classSourcedId,userSourcedId\ne1,c1,u9\n",
            ),
        ]);
        let Err(Error::Validation(problems)) = parse_bundle(&bundle, Some("s1")) else {
            panic!("refused")
        };
        assert_eq!(problems[0].field, "enrollments.csv row 2 column userSourcedId");

        let latin1 = [b"sourcedId,givenName\nu1,Zo".as_slice(), &[0xE9], b"\n"].concat();
        let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        out.start_file("manifest.csv", zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(MANIFEST.as_bytes()).unwrap();
        out.start_file("users.csv", zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(&latin1).unwrap();
        let bytes = out.finish().unwrap().into_inner();
        let Err(Error::Validation(problems)) = parse_bundle(&bytes, Some("s1")) else {
            panic!("refused")
        };
        assert_eq!(problems[0].field, "users.csv");
    }
}
