//! Roster imports: create or update a school's accounts from rows, generating
//! logins (`first.last`, then `first.last2`, …), linking parents to children, and
//! setting initial passwords where the file gives one. Each bad row is reported and
//! skipped; the others go through. The demo school is built by this same code.

use super::replay::closed_replay;
use super::roster::RosterRow;
use super::{Actor, Sesame};
use crate::credentials::policy::{self, PolicyContext};
use crate::domain::text::login_base;
use crate::domain::{
    Access, Account, AccountId, Action, Activation, Caller, Class, ClassName, Credentials, Email, Error,
    LocalAdmin, Login, Outcome, Profile, Result, Role, School, SecretKind, Source,
};
use crate::ports::AccountFilter;
use chrono::NaiveDate;
use secrecy::SecretString;
use std::collections::{BTreeMap, HashMap, HashSet};

const CREATE_BATCH: usize = 500;

/// What an import tells whoever follows it: that it starts writing (and how many
/// accounts), then each batch written.
#[async_trait::async_trait]
pub(crate) trait Progress: Send + Sync {
    async fn writing(&self, total: usize) -> Result<()>;
    async fn written(&self, count: usize) -> Result<()>;
}

/// An import nobody follows (one answered in its request).
struct Unobserved;

#[async_trait::async_trait]
impl Progress for Unobserved {
    async fn writing(&self, _: usize) -> Result<()> {
        Ok(())
    }
    async fn written(&self, _: usize) -> Result<()> {
        Ok(())
    }
}

pub use crate::domain::import_job::{ImportReport, RowError};

struct Row {
    line: usize,
    account: Account,
    children: Vec<String>,
    password: Option<SecretString>,
    /// The account of the school the row names (by external id, else by login).
    matched: Option<AccountId>,
    /// No account of the school is this row's.
    new: bool,
}

fn split_list(raw: Option<&str>) -> Vec<String> {
    raw.unwrap_or_default()
        .split(['|', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn parse_date(raw: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(raw, "%d/%m/%Y"))
        .ok()
}

/// Validates one row into an account (without id or login yet).
fn validate(
    line: usize,
    raw: &RosterRow,
    school: &School,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Row, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut error = |field: &str, message: String| {
        errors.push(RowError {
            row: line,
            field: field.to_owned(),
            message,
        })
    };
    let profile = Profile::parse(&raw.profile.to_lowercase());
    if profile.is_none() {
        error(
            "profile",
            "must be student, parent, teacher, staff or guest".to_owned(),
        );
    }
    for (field, value) in [("first_name", &raw.first_name), ("last_name", &raw.last_name)] {
        if value.trim().is_empty() || value.chars().count() > 100 {
            error(field, "must be 1 to 100 characters".to_owned());
        }
        if crate::domain::text::has_control(value) {
            error(
                field,
                "must not contain control characters (line breaks, tabs…)".to_owned(),
            );
        }
    }
    let mut classes = Vec::new();
    for name in split_list(raw.classes.as_deref()) {
        match ClassName::parse(&name) {
            Ok(c) if !classes.contains(&c) => classes.push(c),
            Ok(_) => {}
            Err(e) => error("classes", format!("{name:?} {e}")),
        }
    }
    let email = raw
        .email
        .as_deref()
        .map(Email::parse)
        .transpose()
        .unwrap_or_else(|e| {
            error("email", e.to_string());
            None
        });
    let birth_date = raw.birth_date.as_deref().and_then(|d| {
        let parsed = parse_date(d);
        if parsed.is_none() {
            error("birth_date", "must be YYYY-MM-DD or DD/MM/YYYY".to_owned());
        }
        parsed
    });
    let local_admin = match raw.local_admin.as_deref() {
        None => LocalAdmin::None,
        Some(v) => LocalAdmin::parse(v).unwrap_or_else(|| {
            error("local_admin", "must be none, secondary or admin".to_owned());
            LocalAdmin::None
        }),
    };
    if profile.is_some_and(|p| !may_carry_local_admin(p)) && local_admin != LocalAdmin::None {
        error("local_admin", LOCAL_ADMIN_ADULTS.to_owned());
    }
    let login = raw
        .login
        .as_deref()
        .and_then(|l| Login::parse(l).map_err(|e| error("login", e.to_string())).ok());
    let source = Source::from(raw.source.clone().unwrap_or_default());
    if source != Source::Local && raw.password.is_some() {
        error(
            "password",
            "federated accounts get their password from their directory".to_owned(),
        );
    }
    let (Some(profile), true) = (profile, errors.is_empty()) else {
        return Err(errors);
    };
    let account = Account {
        id: AccountId::generate(),
        school: school.id.clone(),
        login: login.unwrap_or_else(|| Login::parse("pending").unwrap_or_else(|_| unreachable!())),
        first_name: raw.first_name.trim().to_owned(),
        last_name: raw.last_name.trim().to_owned(),
        profile,
        classes,
        level: raw.level.clone(),
        groups: split_list(raw.groups.as_deref()),
        options: split_list(raw.options.as_deref()),
        email,
        email_state: Default::default(),
        birth_date,
        local_admin,
        parents: Vec::new(),
        children: Vec::new(),
        access: Access::Enabled,
        activation: Activation::Pending,
        source,
        external_id: raw.external_id.clone(),
        credentials: Credentials::default(),
        created_at: now,
        activated_at: None,
        disabled_at: None,
        version: 0,
    };
    Ok(Row {
        line,
        account,
        children: split_list(raw.children.as_deref()),
        password: raw.password.clone().map(SecretString::from),
        matched: None,
        new: true,
    })
}

/// Why a student, parent or guest row cannot carry `local_admin` (SPEC §2).
const LOCAL_ADMIN_ADULTS: &str =
    "only teacher and staff accounts can be administrators: must be none (or empty) for this profile";

/// Whether accounts of `profile` may carry `local_admin` (teachers and staff only).
pub fn may_carry_local_admin(profile: Profile) -> bool {
    matches!(profile, Profile::Teacher | Profile::Staff)
}

/// Whether `caller` may import `row` (line `line`), matched to the existing account
/// `matched` if any: imports never escalate (SPEC §2). A matched account is changed
/// only by whoever may reset its password; a password column sets a secret, so it
/// asks the rule of every secret; only the role `admin` gives `local_admin: admin`.
fn may_import(
    caller: &Caller,
    line: usize,
    raw: &RosterRow,
    matched: Option<&Account>,
    row: Row,
) -> Result<Row, Vec<RowError>> {
    let refuse = |field: &str, message: &str| {
        Err(vec![RowError {
            row: line,
            field: field.to_owned(),
            message: message.to_owned(),
        }])
    };
    if let Some(old) = matched {
        if caller.may(Action::Change, old).is_err() {
            return refuse("external_id", "you may not change this account");
        }
        if raw.password.is_some() && caller.may_issue(old, SecretKind::TemporaryPassword).is_err() {
            return refuse("password", "this account's password cannot be set here");
        }
        // The file's profile with the flag the account keeps (only the role admin's
        // file changes it).
        let kept = if caller.role == Role::Admin && raw.has("local_admin") {
            row.account.local_admin
        } else {
            old.local_admin
        };
        if kept != LocalAdmin::None && !may_carry_local_admin(row.account.profile) {
            return refuse("local_admin", LOCAL_ADMIN_ADULTS);
        }
    } else if caller.role != Role::Admin && row.account.local_admin != LocalAdmin::None {
        return refuse("local_admin", "only an administrator may create administrators");
    }
    Ok(row)
}

/// The fields of a matched account that the file names; `source` and
/// `local_admin` only from the role `admin` (anyone else's import leaves them).
fn merge(caller: &Caller, raw: &RosterRow, account: &mut Account, fresh: Account) {
    /// `field` takes `value` if the file has `column`.
    fn named<T>(raw: &RosterRow, column: &str, field: &mut T, value: T) {
        if raw.has(column) {
            *field = value;
        }
    }
    // An account matched by its login takes the file's external id if it had none.
    if account.external_id.is_none() {
        account.external_id = fresh.external_id.clone();
    }
    (account.first_name, account.last_name, account.profile) =
        (fresh.first_name, fresh.last_name, fresh.profile);
    named(raw, "classes", &mut account.classes, fresh.classes);
    named(raw, "level", &mut account.level, fresh.level);
    named(raw, "groups", &mut account.groups, fresh.groups);
    named(raw, "options", &mut account.options, fresh.options);
    if raw.has("email") {
        // A new address starts with an unknown mail state (SPEC §4).
        account.set_email(fresh.email);
    }
    named(raw, "birth_date", &mut account.birth_date, fresh.birth_date);
    if caller.role == Role::Admin {
        named(raw, "local_admin", &mut account.local_admin, fresh.local_admin);
        named(raw, "source", &mut account.source, fresh.source);
    }
}

/// An import under way: the file, what the school held before it, the rows that
/// passed so far, and the report.
struct Import<'a> {
    caller: &'a Caller,
    school: &'a School,
    file: &'a [RosterRow],
    before: HashMap<&'a AccountId, &'a Account>,
    by_external: HashMap<&'a str, &'a Account>,
    by_login: HashMap<&'a str, &'a Account>,
    rows: Vec<Row>,
    report: ImportReport,
}

/// What an import writes.
struct Changes {
    creates: Vec<Account>,
    updates: Vec<Account>,
}

impl<'a> Import<'a> {
    fn new(caller: &'a Caller, school: &'a School, file: &'a [RosterRow], existing: &'a [Account]) -> Self {
        Self {
            caller,
            school,
            file,
            before: existing.iter().map(|a| (&a.id, a)).collect(),
            by_external: existing
                .iter()
                .filter_map(|a| Some((a.external_id.as_deref()?, a)))
                .collect(),
            by_login: existing.iter().map(|a| (a.login.as_str(), a)).collect(),
            rows: Vec::with_capacity(file.len()),
            report: ImportReport::default(),
        }
    }

    fn error(&mut self, row: usize, field: &str, message: impl Into<String>) {
        self.report.errors.push(RowError {
            row,
            field: field.to_owned(),
            message: message.into(),
        });
    }

    /// 1. Each row is valid, the caller may import it, and its external id is new
    ///    to the file.
    fn check_rows(&mut self, now: chrono::DateTime<chrono::Utc>) {
        let mut seen = HashSet::new();
        let mut named = HashSet::new();
        for (i, raw) in self.file.iter().enumerate() {
            let line = i + 2;
            let matched = match self.matched(line, raw) {
                Ok(matched) => matched,
                Err(error) => {
                    self.report.errors.push(error);
                    continue;
                }
            };
            if matched.is_some_and(|a| !named.insert(&a.id)) {
                self.error(
                    line,
                    "login",
                    "names an account another row of the file already names",
                );
                continue;
            }
            let checked = validate(line, raw, self.school, now)
                .and_then(|row| may_import(self.caller, line, raw, matched, row))
                .map(|row| Row {
                    matched: matched.map(|a| a.id.clone()),
                    new: matched.is_none(),
                    ..row
                });
            match checked {
                Ok(row)
                    if row
                        .account
                        .external_id
                        .as_ref()
                        .is_some_and(|e| !seen.insert(e.clone())) =>
                {
                    self.error(line, "external_id", "appears twice in the file");
                }
                Ok(row) => self.rows.push(row),
                Err(errors) => self.report.errors.extend(errors),
            }
        }
    }

    /// The account of the school that a row names (SPEC §1): the one with its
    /// external id, else the one with its login. A login whose account another
    /// external id names is someone else's: the row's error, never a new account.
    fn matched(&self, line: usize, raw: &RosterRow) -> Result<Option<&'a Account>, RowError> {
        if let Some(found) = raw.external_id.as_deref().and_then(|e| self.by_external.get(e)) {
            return Ok(Some(*found));
        }
        let Some(login) = raw.login.as_deref().and_then(|l| Login::parse(l).ok()) else {
            return Ok(None);
        };
        match self.by_login.get(login.as_str()) {
            Some(account) if account.external_id.is_some() && raw.external_id.is_some() => Err(RowError {
                row: line,
                field: "login".to_owned(),
                message: format!(
                    "{login} is the login of another person of the school (external id {})",
                    account.external_id.as_deref().unwrap_or_default()
                ),
            }),
            Some(account) => Ok(Some(*account)),
            None => Ok(None),
        }
    }

    /// 3. A password the file gives meets the school's policy, or its row is left out.
    fn check_passwords(&mut self) {
        let mut errors = Vec::new();
        self.rows.retain(|row| {
            let Some(password) = &row.password else {
                return true;
            };
            let broken = policy::check(
                password,
                &PolicyContext::of(self.school, &row.account),
                "password",
            );
            let meets = broken.is_empty();
            errors.extend(broken.into_iter().map(|e| RowError {
                row: row.line,
                field: e.field,
                message: e.message,
            }));
            meets
        });
        self.report.errors.extend(errors);
    }

    /// 4. Parents and children, by external id (in this file or already imported);
    ///    a parent follows the classes of their children. Answers the accounts of
    ///    children outside the file that gain a parent.
    fn link_families(&mut self) -> Vec<Account> {
        let mut id_of: HashMap<String, AccountId> = self
            .by_external
            .iter()
            .map(|(ext, a)| ((*ext).to_owned(), a.id.clone()))
            .collect();
        id_of.extend(
            self.rows
                .iter()
                .filter_map(|r| Some((r.account.external_id.clone()?, r.account.id.clone()))),
        );
        let index: HashMap<AccountId, usize> = self
            .rows
            .iter()
            .enumerate()
            .map(|(i, r)| (r.account.id.clone(), i))
            .collect();
        let mut outside: BTreeMap<AccountId, Account> = BTreeMap::new();
        for p in 0..self.rows.len() {
            let mut children = Vec::new();
            let line = self.rows[p].line;
            for ext in self.rows[p].children.clone() {
                let Some(id) = id_of.get(&ext) else {
                    self.error(
                        line,
                        "children",
                        format!("no account has the external id {ext:?}"),
                    );
                    continue;
                };
                // Linking changes the child too: it must be a student the caller may
                // change (SPEC §2, side effects).
                let child = match index.get(id) {
                    Some(&c) => Some(&self.rows[c].account),
                    None => self.before.get(id).copied(),
                };
                let refusal = match child {
                    Some(c) if c.profile != Profile::Student => Some("is not a student's"),
                    Some(c) if !index.contains_key(id) && self.caller.may(Action::Change, c).is_err() => {
                        Some("names an account you may not change")
                    }
                    _ => None,
                };
                match refusal {
                    Some(why) => self.error(line, "children", format!("the external id {ext:?} {why}")),
                    None => children.push(id.clone()),
                }
            }
            let parent_id = self.rows[p].account.id.clone();
            let mut classes = self.rows[p].account.classes.clone();
            for child_id in &children {
                let child = match index.get(child_id) {
                    Some(&c) => &mut self.rows[c].account,
                    None => match self.before.get(child_id) {
                        Some(old) => outside.entry(child_id.clone()).or_insert_with(|| (*old).clone()),
                        None => continue,
                    },
                };
                if !child.parents.contains(&parent_id) {
                    child.parents.push(parent_id.clone());
                }
                for class in &child.classes {
                    if !classes.contains(class) {
                        classes.push(class.clone());
                    }
                }
            }
            if !children.is_empty() {
                let parent = &mut self.rows[p].account;
                for child in children {
                    if !parent.children.contains(&child) {
                        parent.children.push(child);
                    }
                }
                parent.classes = classes;
            }
        }
        outside.into_values().collect()
    }

    /// 6. What to create and what to update; rows that change nothing are counted.
    fn changes(&mut self, outside: Vec<Account>) -> Changes {
        let mut creates = Vec::new();
        let mut updates = outside;
        for row in std::mem::take(&mut self.rows) {
            let unchanged = self
                .before
                .get(&row.account.id)
                .is_some_and(|old| **old == row.account);
            if row.new {
                creates.push(row.account);
            } else if unchanged {
                self.report.unchanged += 1;
            } else if let Some(pos) = updates.iter().position(|u| u.id == row.account.id) {
                updates[pos] = row.account;
            } else {
                updates.push(row.account);
            }
        }
        self.report.created = creates.len();
        self.report.updated = updates.len();
        Changes { creates, updates }
    }
}

/// The classes of the students an import writes, each with the first level seen.
fn classes_of(accounts: &[&Account]) -> Vec<Class> {
    let mut classes: BTreeMap<ClassName, Option<String>> = BTreeMap::new();
    for a in accounts.iter().filter(|a| a.profile == Profile::Student) {
        for c in &a.classes {
            let level = classes.entry(c.clone()).or_default();
            if level.is_none() {
                level.clone_from(&a.level);
            }
        }
    }
    classes
        .into_iter()
        .map(|(name, level)| Class { name, level })
        .collect()
}

impl Sesame {
    /// A login not used in the deployment nor by this import.
    async fn free_login(&self, first: &str, last: &str, taken: &mut HashSet<Login>) -> Result<Login> {
        let base = login_base(first, last);
        for n in 1.. {
            let candidate = if n == 1 {
                base.clone()
            } else {
                format!("{base}{n}")
            };
            let login = Login::parse(&candidate)
                .map_err(|e| Error::Internal(anyhow::anyhow!("generated login: {e}")))?;
            if !taken.contains(&login) && self.accounts.find_by_login(&login).await?.is_none() {
                taken.insert(login.clone());
                return Ok(login);
            }
        }
        unreachable!("an unbounded range always yields")
    }

    /// 2. Identity: a matched account keeps its id, login, state and credentials and
    ///    takes the fields the file names; a new one gets its login (the file's if
    ///    free, else a generated one).
    async fn identify(&self, import: &mut Import<'_>) -> Result<()> {
        let mut taken: HashSet<Login> = HashSet::new();
        let mut elsewhere = Vec::new();
        for row in &mut import.rows {
            let raw = &import.file[row.line - 2];
            let matched = row.matched.as_ref().and_then(|id| import.before.get(id));
            if let Some(old) = matched {
                let fresh = std::mem::replace(&mut row.account, (*old).clone());
                merge(import.caller, raw, &mut row.account, fresh);
                row.new = false;
                continue;
            }
            let login = row.account.login.clone();
            row.account.login = if raw.login.is_none() {
                self.free_login(&row.account.first_name, &row.account.last_name, &mut taken)
                    .await?
            } else if !taken.insert(login.clone()) {
                // Two new rows asking for one login: the second gets one of its own.
                self.free_login(&row.account.first_name, &row.account.last_name, &mut taken)
                    .await?
            } else if self.accounts.find_by_login(&login).await?.is_some() {
                // Not an account of this school (those were matched): another's.
                elsewhere.push((row.line, login.clone()));
                login
            } else {
                login
            };
        }
        for (line, login) in elsewhere {
            import.rows.retain(|r| r.line != line);
            import.error(
                line,
                "login",
                format!("{login} is the login of an account of another school"),
            );
        }
        Ok(())
    }

    /// 5. The file's passwords, hashed in parallel; like any password set, each
    ///    ends the account's outstanding secret.
    async fn set_initial_passwords(
        &self,
        import: &mut Import<'_>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<()> {
        let given: Vec<(usize, SecretString)> = import
            .rows
            .iter()
            .enumerate()
            .filter_map(|(i, row)| Some((i, row.password.clone()?)))
            .collect();
        let hashes = self
            .hasher
            .hash_many(given.iter().map(|(_, p)| p.clone()).collect())
            .await?;
        for ((i, _), hash) in given.iter().zip(hashes) {
            import.rows[*i]
                .account
                .credentials
                .set_password(hash, false, now, None);
        }
        Ok(())
    }

    /// 7. The classes, the new accounts, then the updates; a password the file set
    ///    ends the one stored copy of the secret it replaced. Answers how many updates
    ///    lost a race with another write.
    async fn write_changes(
        &self,
        import: &Import<'_>,
        changes: &Changes,
        progress: &dyn Progress,
    ) -> Result<usize> {
        let written: Vec<&Account> = changes.creates.iter().chain(&changes.updates).collect();
        progress.writing(written.len()).await?;
        self.schools
            .put_classes(&import.school.id, &classes_of(&written))
            .await?;
        for batch in changes.creates.chunks(CREATE_BATCH) {
            self.accounts.create_accounts(batch).await?;
            progress.written(batch.len()).await?;
        }
        let outcomes = self.accounts.update_accounts(&changes.updates).await?;
        progress.written(changes.updates.len()).await?;
        let replays = changes
            .updates
            .iter()
            .zip(&outcomes)
            .filter(|(_, outcome)| outcome.is_ok())
            .filter_map(|(new, _)| closed_replay(import.before.get(&new.id)?, new))
            .collect();
        self.forget_replays(replays).await;
        Ok(outcomes.iter().filter(|o| o.is_err()).count())
    }

    /// Whether `caller` may import at all (administrators only); the route asks
    /// before it reads the file.
    pub fn may_import(caller: &Caller) -> Result<()> {
        if caller.may_administer() {
            Ok(())
        } else {
            Err(Error::Forbidden)
        }
    }

    /// Imports `rows` into the caller's school (administrators only).
    pub async fn import_roster(
        &self,
        caller: &Caller,
        request_id: Option<&str>,
        rows: &[RosterRow],
        dry_run: bool,
    ) -> Result<ImportReport> {
        self.import_observed(caller, request_id, rows, dry_run, &Unobserved)
            .await
    }

    /// [`import_roster`](Self::import_roster), telling `progress` how the writing goes.
    pub(crate) async fn import_observed(
        &self,
        caller: &Caller,
        request_id: Option<&str>,
        rows: &[RosterRow],
        dry_run: bool,
        progress: &dyn Progress,
    ) -> Result<ImportReport> {
        Self::may_import(caller)?;
        let school = self.school(&caller.school).await?;
        let now = self.now();
        let existing = self.all_accounts(&school.id, AccountFilter::default()).await?;
        let mut import = Import::new(caller, &school, rows, &existing);
        import.report.dry_run = dry_run;

        import.check_rows(now);
        self.identify(&mut import).await?;
        import.check_passwords();
        let outside = import.link_families();
        self.set_initial_passwords(&mut import, now).await?;
        let changes = import.changes(outside);
        if dry_run {
            return Ok(import.report);
        }

        let lost = self.write_changes(&import, &changes, progress).await?;
        if lost > 0 {
            import.report.updated -= lost;
            import.error(
                0,
                "file",
                format!("{lost} accounts changed during the import; import again"),
            );
        }
        let report = import.report;
        let targets: Vec<AccountId> = changes
            .creates
            .iter()
            .chain(&changes.updates)
            .map(|a| a.id.clone())
            .collect();
        let detail = format!(
            "created={} updated={} errors={}",
            report.created,
            report.updated,
            report.errors.len()
        );
        let outcome = if report.errors.is_empty() {
            Outcome::Ok
        } else {
            Outcome::Partial
        };
        let actor = Actor::caller(caller, request_id);
        self.audit(actor, &school.id, "roster.import", targets, outcome, Some(detail))
            .await?;
        Ok(report)
    }
}
