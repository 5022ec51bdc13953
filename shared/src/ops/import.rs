//! Roster imports: create or update a school's accounts from rows, generating
//! logins (`first.last`, then `first.last2`, …), linking parents to children, and
//! setting initial passwords where the file gives one. Each bad row is reported and
//! skipped; the others go through. The demo school is built by this same code.

use super::replay::closed_replay;
use super::roster::{Roster, RosterRow, oneroster};
use super::{Actor, Sesame};
use crate::credentials::policy::{self, PolicyContext};
use crate::domain::text::login_base;
use crate::domain::{
    Access, Account, AccountId, Action, Activation, Caller, Class, ClassName, Credentials, Email, Error,
    FieldError, LocalAdmin, Login, Outcome, Profile, Result, Role, School, SecretKind, Source,
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
pub(crate) struct Unobserved;

#[async_trait::async_trait]
impl Progress for Unobserved {
    async fn writing(&self, _: usize) -> Result<()> {
        Ok(())
    }
    async fn written(&self, _: usize) -> Result<()> {
        Ok(())
    }
}

pub use crate::domain::import_job::{
    ImportMode, ImportOptions, ImportReport, Leaver, LeaverGroup, RowError, SyncReport,
};

struct Row {
    line: usize,
    /// The row's place in the file's rows.
    index: usize,
    /// The file's login was a wish that cannot be (the account gets one of ours).
    wish_refused: bool,
    account: Account,
    children: Vec<String>,
    password: Option<SecretString>,
    /// The account of the school the row names (by external id, else by login).
    matched: Option<AccountId>,
    /// No account of the school is this row's.
    new: bool,
    /// What the row gets otherwise than it asked (reported, not refused).
    notices: Vec<RowError>,
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
    let mut notices = Vec::new();
    let mut error = |field: &str, message: String| errors.push(RowError::new(line, field, message));
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
    for (field, value, most) in [
        ("external_id", raw.external_id.as_deref(), 255),
        ("level", raw.level.as_deref(), 100),
    ] {
        if let Some(value) = value
            && (value.chars().count() > most || crate::domain::text::has_control(value))
        {
            error(
                field,
                format!("must be at most {most} characters, without control characters"),
            );
        }
    }
    let mut classes = Vec::new();
    let added = raw
        .class_changes
        .iter()
        .flat_map(|(added, _)| added.iter().cloned());
    for name in split_list(raw.classes.as_deref()).into_iter().chain(added) {
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
    let wish = raw.origin.as_ref().is_some_and(|o| o.login_is_a_wish);
    let mut login_refused = false;
    let login = raw.login.as_deref().and_then(|l| match Login::parse(l) {
        Ok(login) => Some(login),
        // A wish that cannot be a login: the account gets one of ours.
        Err(e) if wish => {
            login_refused = true;
            notices.push(RowError::new(
                line,
                "login",
                format!("{l:?} {e}: the account gets a login of its own"),
            ));
            None
        }
        Err(e) => {
            error("login", e.to_string());
            None
        }
    });
    let access = match raw.access.as_deref() {
        None | Some("enabled") => Access::Enabled,
        Some("disabled") => Access::Disabled,
        Some(_) => {
            error("access", "must be enabled or disabled".to_owned());
            Access::Enabled
        }
    };
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
        access,
        activation: Activation::Pending,
        source,
        external_id: raw.external_id.clone(),
        credentials: Credentials::default(),
        created_at: now,
        activated_at: None,
        disabled_at: (access == Access::Disabled).then_some(now),
        closed_by_roster: access == Access::Disabled,
        version: 0,
    };
    Ok(Row {
        line,
        index: 0,
        wish_refused: raw.login.is_some() && login_refused,
        account,
        children: split_list(raw.children.as_deref()),
        password: raw.password.clone().map(SecretString::from),
        matched: None,
        new: true,
        notices,
    })
}

/// Whether an import may close `account`: never a federated account (its
/// directory decides) nor one with `local_admin` (SPEC §4, sync).
fn closable(account: &Account) -> bool {
    account.source == Source::Local && account.local_admin == LocalAdmin::None
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
    let refuse = |field: &str, message: &str| Err(vec![RowError::new(line, field, message)]);
    if let Some(old) = matched {
        if caller.may(Action::Change, old).is_err() {
            return refuse("external_id", "you may not change this account");
        }
        // A file that closes an account asks what a deactivation asks (of one it
        // may close at all: see `Import::closures`).
        if row.account.access == Access::Disabled && old.access == Access::Enabled && closable(old) {
            if caller.may_set_access(old).is_err() {
                return refuse("access", "you may not deactivate this account");
            }
            if caller.is_self(old) {
                return refuse("access", "you cannot deactivate your own account");
            }
        }
        // And one that reopens an account a roster closed, what an activation asks.
        if row.account.access == Access::Enabled
            && old.access == Access::Disabled
            && old.closed_by_roster
            && raw.has("access")
            && caller.may_set_access(old).is_err()
        {
            return refuse("access", "you may not activate this account");
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
/// Access is not among them: a file closes an account as a deactivation does, and
/// reopens one only if a roster closed it (see [`Import::closures`]).
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
    named(raw, "classes", &mut account.classes, fresh.classes.clone());
    if let (false, Some((_, removed))) = (raw.has("classes"), &raw.class_changes) {
        account
            .classes
            .retain(|c| !removed.iter().any(|r| r == c.as_str()));
        for class in fresh.classes {
            if !account.classes.contains(&class) {
                account.classes.push(class);
            }
        }
    }
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
    /// Every account a row of the file names, even a row refused (a sync's leaver
    /// is an account no row names).
    named: HashSet<AccountId>,
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
            named: HashSet::new(),
            report: ImportReport::default(),
        }
    }

    fn error(&mut self, row: usize, field: &str, message: impl Into<String>) {
        self.report.errors.push(RowError::new(row, field, message));
    }

    /// 1. Each row is valid, the caller may import it, and its external id is new
    ///    to the file.
    fn check_rows(&mut self, now: chrono::DateTime<chrono::Utc>) {
        let mut seen = HashSet::new();
        let mut named = HashSet::new();
        for (i, raw) in self.file.iter().enumerate() {
            let line = i + 2;
            let matched = match self.matched(line, raw) {
                Ok(matched) => {
                    self.named.extend(matched.map(|a| a.id.clone()));
                    matched
                }
                Err(error) => {
                    self.report.errors.push(error);
                    continue;
                }
            };
            if matched.is_some_and(|a| !named.insert(&a.id)) {
                let by_external = raw
                    .external_id
                    .as_deref()
                    .is_some_and(|e| self.by_external.contains_key(e));
                self.error(
                    line,
                    if by_external { "external_id" } else { "login" },
                    "names an account another row of the file already names",
                );
                continue;
            }
            // A row that changes only some fields (a OneRoster delta's enrollment)
            // names an account of the school, whose name and profile it keeps.
            let filled;
            let raw = match matched {
                _ if raw.has("profile") => raw,
                Some(account) => {
                    let (first, last) = if raw.has("first_name") {
                        (raw.first_name.clone(), raw.last_name.clone())
                    } else {
                        (account.first_name.clone(), account.last_name.clone())
                    };
                    filled = RosterRow {
                        profile: account.profile.as_str().to_owned(),
                        first_name: first,
                        last_name: last,
                        ..raw.clone()
                    };
                    &filled
                }
                None if raw.deletion => {
                    self.report.notices.push(RowError::new(
                        line,
                        "external_id",
                        "nothing to close: no account of the school has this external id",
                    ));
                    continue;
                }
                None => {
                    self.error(line, "external_id", "names no account of the school");
                    continue;
                }
            };
            let checked = validate(line, raw, self.school, now)
                .and_then(|row| may_import(self.caller, line, raw, matched, row))
                .map(|row| Row {
                    matched: matched.map(|a| a.id.clone()),
                    new: matched.is_none(),
                    index: i,
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
                Ok(mut row) => {
                    self.report.notices.append(&mut row.notices);
                    self.rows.push(row);
                }
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
            Some(account) if account.external_id.is_some() && raw.external_id.is_some() => {
                Err(RowError::new(
                    line,
                    "login",
                    format!(
                        "{login} is the login of another person of the school (external id {})",
                        account.external_id.as_deref().unwrap_or_default()
                    ),
                ))
            }
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
            errors.extend(
                broken
                    .into_iter()
                    .map(|e| RowError::new(row.line, &e.field, e.message)),
            );
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

    /// 6. The accounts the file closes (a OneRoster `enabledUser=false` or
    ///    `tobedeleted`): matched, enabled, and closable; and those it reopens
    ///    (`enabledUser=true`): matched, closed by a roster. The others are noted:
    ///    an account an administrator closed only an administrator reopens.
    fn closures(&mut self) -> (Vec<AccountId>, Vec<AccountId>) {
        let mut closing = Vec::new();
        let mut reopening = Vec::new();
        let mut notices = Vec::new();
        for row in self.rows.iter().filter(|r| !r.new) {
            let Some(old) = self.before.get(&row.account.id) else {
                continue;
            };
            match (self.file[row.index].access.as_deref(), old.access) {
                (Some("disabled"), Access::Enabled) if closable(old) => closing.push(old.id.clone()),
                (Some("disabled"), Access::Enabled) => notices.push(RowError::new(
                    row.line,
                    "access",
                    "kept open: an import never closes a federated account or one with local_admin",
                )),
                (Some("enabled"), Access::Disabled) if old.closed_by_roster => reopening.push(old.id.clone()),
                (Some("enabled"), Access::Disabled) => notices.push(RowError::new(
                    row.line,
                    "access",
                    "kept closed: an administrator deactivated this account; activate it if it should be",
                )),
                _ => {}
            }
        }
        self.report.notices.extend(notices);
        (closing, reopening)
    }

    /// 8. A sync's leavers: the local accounts of the file's profiles (or those
    ///    asked) that no row names, still enabled, with the accounts the file
    ///    itself closes (`closing`). Federated accounts, those with `local_admin`
    ///    and those the caller may not deactivate are kept, and counted.
    fn leavers(&self, options: &ImportOptions, closing: &[AccountId]) -> (SyncReport, Vec<AccountId>) {
        let mut profiles: Vec<Profile> = if options.sync_profiles.is_empty() {
            self.file
                .iter()
                .filter(|raw| raw.has("profile"))
                .filter_map(|raw| Profile::parse(&raw.profile.to_lowercase()))
                .collect()
        } else {
            options.sync_profiles.clone()
        };
        profiles.sort();
        profiles.dedup();

        let mut report = SyncReport {
            profiles: profiles.clone(),
            ..SyncReport::default()
        };
        let closed_by_file: HashSet<&AccountId> = closing.iter().collect();
        let mut missing: Vec<&Account> = self
            .before
            .values()
            .copied()
            .filter(|a| a.access == Access::Enabled)
            .filter(|a| {
                closed_by_file.contains(&a.id)
                    || (profiles.contains(&a.profile) && !self.named.contains(&a.id))
            })
            .collect();
        missing.sort_by_cached_key(|a| a.sort_key(crate::domain::Sort::Name));
        let mut groups: BTreeMap<(Option<String>, Profile), Vec<Leaver>> = BTreeMap::new();
        let mut ids = Vec::new();
        for account in missing {
            if !closable(account)
                || self.caller.may_set_access(account).is_err()
                || self.caller.is_self(account)
            {
                report.kept += 1;
                continue;
            }
            ids.push(account.id.clone());
            groups
                .entry((
                    account.classes.first().map(|c| c.as_str().to_owned()),
                    account.profile,
                ))
                .or_default()
                .push(Leaver {
                    id: account.id.clone(),
                    login: account.login.as_str().to_owned(),
                    first_name: account.first_name.clone(),
                    last_name: account.last_name.clone(),
                });
        }
        report.deactivations = ids.len();
        report.digest = digest(&ids);
        report.by_class = groups
            .into_iter()
            .map(|((class, profile), accounts)| LeaverGroup {
                class,
                profile,
                count: accounts.len(),
                accounts,
            })
            .collect();
        (report, ids)
    }

    /// 7. What to create and what to update; rows that change nothing are counted.
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
        let mut notices = Vec::new();
        for row in &mut import.rows {
            let raw = &import.file[row.index];
            let matched = row.matched.as_ref().and_then(|id| import.before.get(id));
            if let Some(old) = matched {
                let fresh = std::mem::replace(&mut row.account, (*old).clone());
                if fresh.profile != old.profile {
                    notices.push(RowError::new(
                        row.line,
                        "profile",
                        format!(
                            "{} ({}) was a {}: the file makes it a {}",
                            old.login,
                            old.external_id.as_deref().unwrap_or("no external id"),
                            old.profile.as_str(),
                            fresh.profile.as_str()
                        ),
                    ));
                }
                merge(import.caller, raw, &mut row.account, fresh);
                row.new = false;
                continue;
            }
            let login = row.account.login.clone();
            let wish = raw.origin.as_ref().is_some_and(|o| o.login_is_a_wish);
            let wished = raw.login.is_some() && wish;
            row.account.login = if raw.login.is_none() || row.wish_refused {
                self.free_login(&row.account.first_name, &row.account.last_name, &mut taken)
                    .await?
            } else if !taken.insert(login.clone()) {
                // Two new rows asking for one login: the second gets one of its own.
                self.free_login(&row.account.first_name, &row.account.last_name, &mut taken)
                    .await?
            } else if self.accounts.find_by_login(&login).await?.is_some() {
                if wished {
                    notices.push(RowError::new(
                        row.line,
                        "login",
                        format!("{login} is taken: the account gets a login of its own"),
                    ));
                    self.free_login(&row.account.first_name, &row.account.last_name, &mut taken)
                        .await?
                } else {
                    // Not an account of this school (those were matched): another's.
                    elsewhere.push((row.line, login.clone()));
                    login
                }
            } else {
                login
            };
        }
        import.report.notices.extend(notices);
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

    /// 9. The classes, the new accounts, then the updates; a password the file set
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

    /// Imports `rows` into the caller's school (administrators only), as a merge.
    pub async fn import_roster(
        &self,
        caller: &Caller,
        request_id: Option<&str>,
        rows: &[RosterRow],
        dry_run: bool,
    ) -> Result<ImportReport> {
        let roster = Roster::of(rows.to_vec());
        let options = ImportOptions {
            mode: Some(ImportMode::Merge),
            ..ImportOptions::default()
        };
        self.import_file(caller, request_id, &roster, &options, dry_run, &Unobserved)
            .await
    }

    /// The school's OneRoster org (its setting `oneroster_org`), to read a bundle.
    pub async fn oneroster_org(&self, caller: &Caller) -> Result<Option<String>> {
        Self::may_import(caller)?;
        Ok(self.school(&caller.school).await?.settings.oneroster_org)
    }

    /// Imports a roster as read from its file, as `options` say, telling `progress`
    /// how the writing goes ([`Unobserved`] when the request waits for the report).
    pub(crate) async fn import_file(
        &self,
        caller: &Caller,
        request_id: Option<&str>,
        roster: &Roster,
        options: &ImportOptions,
        dry_run: bool,
        progress: &dyn Progress,
    ) -> Result<ImportReport> {
        Self::may_import(caller)?;
        let mode = mode_of(roster, options)?;
        let school = self.school(&caller.school).await?;
        let now = self.now();
        let existing = self.all_accounts(&school.id, AccountFilter::default()).await?;
        let rows = &roster.rows;
        let mut import = Import::new(caller, &school, rows, &existing);
        import.report.dry_run = dry_run;
        import.report.mode = mode;
        import.report.oneroster = roster.oneroster.clone();

        import.check_rows(now);
        self.identify(&mut import).await?;
        import.check_passwords();
        let outside = import.link_families();
        self.set_initial_passwords(&mut import, now).await?;
        let (closures, reopening) = import.closures();
        let changes = import.changes(outside);
        let leavers = (mode == ImportMode::Sync).then(|| import.leavers(options, &closures));
        import.report.sync = leavers.as_ref().map(|(report, _)| report.clone());
        import.report.deactivated = leavers.as_ref().map_or(closures.len(), |(_, ids)| ids.len());
        import.report.reactivated = reopening.len();
        locate(rows, &mut import.report.errors);
        locate(rows, &mut import.report.notices);
        if dry_run {
            return Ok(import.report);
        }
        let closing = match &leavers {
            Some((report, ids)) => {
                sync_may_run(&import.report, report, options)?;
                ids.clone()
            }
            None => closures,
        };

        let lost = self.write_changes(&import, &changes, progress).await?;
        if lost > 0 {
            import.report.updated -= lost;
            import.error(
                0,
                "file",
                format!("{lost} accounts changed during the import; import again"),
            );
        }
        let closed = self
            .roster_access(caller, request_id, &closing, Access::Disabled)
            .await?;
        import.report.deactivated = closed.len();
        import.report.reactivated = self
            .roster_access(caller, request_id, &reopening, Access::Enabled)
            .await?
            .len();
        if let Some(sync) = &mut import.report.sync {
            sync.deactivations = closed.len();
            for group in &mut sync.by_class {
                group.accounts.retain(|a| closed.contains(&a.id));
                group.count = group.accounts.len();
            }
            sync.by_class.retain(|g| g.count > 0);
        }
        let report = import.report;
        let targets: Vec<AccountId> = changes
            .creates
            .iter()
            .chain(&changes.updates)
            .map(|a| a.id.clone())
            .collect();
        let mut detail = format!(
            "created={} updated={} errors={}",
            report.created,
            report.updated,
            report.errors.len()
        );
        if mode == ImportMode::Sync {
            detail.push_str(" mode=sync");
        }
        if !closed.is_empty() {
            detail.push_str(&format!(" deactivated={}", closed.len()));
        }
        if let Some(bundle) = &report.oneroster {
            detail.push_str(&format!(
                " oneroster={} delta={} other_orgs={} passwords_ignored={}",
                bundle.version, bundle.delta, bundle.other_orgs, bundle.passwords
            ));
        }
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

    /// Deactivates the accounts the file closes and a sync's leavers, or reopens
    /// those the file names open again (as `POST /v1/accounts/deactivate` and
    /// `activate` do, audited the same way, on behalf of the roster), answering
    /// those it changed.
    async fn roster_access(
        &self,
        caller: &Caller,
        request_id: Option<&str>,
        ids: &[AccountId],
        access: Access,
    ) -> Result<HashSet<AccountId>> {
        let mut changed = HashSet::new();
        for batch in ids.chunks(super::access::MAX_BULK_IDS) {
            let results = self
                .set_access_by(caller, request_id, batch, access, super::access::By::Roster)
                .await?;
            changed.extend(super::PerAccount::succeeded(&results));
        }
        Ok(changed)
    }
}

/// A short fingerprint of a set of accounts: the real run of a sync closes the
/// accounts its preview listed, not merely as many.
fn digest(ids: &[AccountId]) -> String {
    use sha2::{Digest, Sha256};
    let mut sorted: Vec<&str> = ids.iter().map(AccountId::as_str).collect();
    sorted.sort_unstable();
    let hash = Sha256::digest(sorted.join("\n").as_bytes());
    hash[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The mode an import runs in: as asked, else a OneRoster bulk bundle syncs and
/// anything else merges. A delta carries changes only, so it never syncs.
fn mode_of(roster: &Roster, options: &ImportOptions) -> Result<ImportMode> {
    let delta = roster.oneroster.as_ref().is_some_and(|o| o.delta);
    let bulk = roster.oneroster.as_ref().is_some_and(|o| !o.delta);
    let mode = options
        .mode
        .unwrap_or(if bulk { ImportMode::Sync } else { ImportMode::Merge });
    if mode == ImportMode::Sync && delta {
        return Err(Error::invalid(
            "mode",
            "a OneRoster delta carries changes only: it cannot stand for the whole roster of a sync",
        ));
    }
    if mode == ImportMode::Merge && !options.sync_profiles.is_empty() {
        return Err(Error::invalid("sync_profiles", "is for mode=sync only"));
    }
    if mode == ImportMode::Merge && options.expect_digest.is_some() {
        return Err(Error::invalid("expect_digest", "is for mode=sync only"));
    }
    if mode == ImportMode::Merge && options.expect_deactivations.is_some() {
        return Err(Error::invalid("expect_deactivations", "is for mode=sync only"));
    }
    Ok(mode)
}

/// Whether the real run of a sync may go: a file without row errors (a rejected
/// row must not look like a leaver), and no more leavers than the caller confirmed.
fn sync_may_run(report: &ImportReport, sync: &SyncReport, options: &ImportOptions) -> Result<()> {
    if !report.errors.is_empty() {
        let mut errors = vec![FieldError::new(
            "file",
            format!(
                "a sync runs only on a file without errors, so that a rejected row is not taken for a leaver: \
                 {} row errors (the dry run lists them)",
                report.errors.len()
            ),
        )];
        errors.extend(report.errors.iter().take(100).map(|e| {
            let field = match &e.file {
                Some(file) => format!("{file} row {} column {}", e.row, e.field),
                None => format!("row {} {}", e.row, e.field),
            };
            FieldError::new(field, e.message.clone())
        }));
        return Err(Error::Validation(errors));
    }
    if let Some(expected) = &options.expect_digest
        && *expected != sync.digest
    {
        return Err(Error::invalid(
            "expect_digest",
            "the accounts this file would close are no longer those of its preview: preview it again",
        ));
    }
    match options.expect_deactivations {
        None if sync.deactivations > 0 => Err(Error::invalid(
            "expect_deactivations",
            "a sync that closes accounts needs the number its dry run gave, to confirm it",
        )),
        Some(expected) if sync.deactivations > expected => Err(Error::invalid(
            "expect_deactivations",
            format!(
                "this file would close {} accounts, more than the {expected} confirmed: \
                 is the export complete? Check it with a dry run",
                sync.deactivations
            ),
        )),
        _ => Ok(()),
    }
}

/// Names, for the rows of a bundle, the file, row and column of each problem.
fn locate(rows: &[RosterRow], errors: &mut [RowError]) {
    for error in errors {
        let origin = error
            .row
            .checked_sub(2)
            .and_then(|i| rows.get(i))
            .and_then(|raw| raw.origin.as_ref());
        if let Some(origin) = origin {
            let (file, row, column) = oneroster::source_of(&error.field, origin);
            error.file = Some(file.to_owned());
            error.row = row;
            error.field = column.to_owned();
        }
    }
}
