//! Accounts: who a person is in a school, and the state of their access.

use super::error::Error;
use super::ids::{AccountId, ClassName, Email, Login, SchoolId};
use super::secret::{Closed, Credentials};
use super::text::fold;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    Student,
    Parent,
    Teacher,
    Staff,
    Guest,
}

impl Profile {
    pub const ALL: [Profile; 5] = [
        Self::Student,
        Self::Parent,
        Self::Teacher,
        Self::Staff,
        Self::Guest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Student => "student",
            Self::Parent => "parent",
            Self::Teacher => "teacher",
            Self::Staff => "staff",
            Self::Guest => "guest",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == raw.trim())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LocalAdmin {
    #[default]
    None,
    Secondary,
    Admin,
}

impl LocalAdmin {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Secondary => "secondary",
            Self::Admin => "admin",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::None, Self::Secondary, Self::Admin]
            .into_iter()
            .find(|l| l.as_str() == raw.trim())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    #[default]
    Enabled,
    Disabled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    #[default]
    Pending,
    Activated,
}

/// Where an account is managed: here, or in a federated directory (then no password
/// operation is possible here).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum Source {
    #[default]
    Local,
    Federated(String),
}

impl From<String> for Source {
    fn from(raw: String) -> Self {
        if raw.is_empty() || raw == "local" {
            Source::Local
        } else {
            Source::Federated(raw)
        }
    }
}

impl From<Source> for String {
    fn from(source: Source) -> String {
        match source {
            Source::Local => "local".to_owned(),
            Source::Federated(name) => name,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub id: AccountId,
    pub school: SchoolId,
    pub login: Login,
    pub first_name: String,
    pub last_name: String,
    pub profile: Profile,
    pub classes: Vec<ClassName>,
    pub level: Option<String>,
    pub groups: Vec<String>,
    pub options: Vec<String>,
    pub email: Option<Email>,
    /// Whether mail reaches `email` (SPEC §4): reset when the address changes.
    #[serde(default)]
    pub email_state: super::email_state::EmailState,
    pub birth_date: Option<NaiveDate>,
    pub local_admin: LocalAdmin,
    pub parents: Vec<AccountId>,
    pub children: Vec<AccountId>,
    pub access: Access,
    pub activation: Activation,
    pub source: Source,
    /// The school's own identifier for the person (roster imports match on it).
    pub external_id: Option<String>,
    pub credentials: Credentials,
    pub created_at: DateTime<Utc>,
    pub activated_at: Option<DateTime<Utc>>,
    pub disabled_at: Option<DateTime<Utc>>,
    /// Closed by a roster (a OneRoster `enabledUser=false` or `tobedeleted`, or a
    /// sync's leaver), not by an administrator: a roster that names it open again
    /// reopens it. An administrator's deactivation only an administrator lifts.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub closed_by_roster: bool,
    /// Optimistic-concurrency version: a store writes an update only if the stored
    /// version is still the one this value was read at.
    pub version: u64,
}

/// The orders a list can be sorted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    #[default]
    Name,
    Profile,
    Class,
}

const SEP: char = '\u{1f}';

impl Account {
    /// An activated local account of school `north` in class `6A`, for unit tests.
    #[cfg(test)]
    pub(crate) fn sample(profile: Profile, local_admin: LocalAdmin) -> Self {
        Self {
            id: AccountId::generate(),
            school: SchoolId::parse("north").unwrap(),
            login: Login::parse("h.garnier").unwrap(),
            first_name: "Hélène".into(),
            last_name: "Garnier".into(),
            profile,
            classes: vec![ClassName::parse("6A").unwrap()],
            level: None,
            groups: vec![],
            options: vec![],
            email: None,
            email_state: Default::default(),
            birth_date: None,
            local_admin,
            parents: vec![],
            children: vec![],
            access: Access::Enabled,
            activation: Activation::Activated,
            source: Source::Local,
            external_id: None,
            credentials: Credentials::default(),
            created_at: Utc::now(),
            activated_at: None,
            disabled_at: None,
            closed_by_roster: false,
            version: 1,
        }
    }

    pub fn is_federated(&self) -> bool {
        matches!(self.source, Source::Federated(_))
    }

    /// Password operations happen here only for local accounts; a federated one
    /// names its directory (409 `federated_account`).
    pub fn ensure_local(&self) -> Result<(), Error> {
        match &self.source {
            Source::Federated(directory) => Err(Error::Federated {
                directory: directory.clone(),
            }),
            Source::Local => Ok(()),
        }
    }

    /// Its owner has set a password of their own: a pending account is claimed.
    pub fn claim(&mut self, now: DateTime<Utc>) {
        if self.activation == Activation::Pending {
            self.activation = Activation::Activated;
            self.activated_at = Some(now);
        }
    }

    /// Its owner sets a password of their own, with the handed-out secret `with`
    /// (or the current password): outstanding secrets end and the account is claimed.
    pub fn set_own_password(
        &mut self,
        hash: String,
        now: DateTime<Utc>,
        with: Option<&str>,
    ) -> Option<Closed> {
        let closed = self.credentials.set_password(hash, false, now, with);
        self.claim(now);
        closed
    }

    /// The key this account sorts by in `sort` order (ties are broken by id).
    pub fn sort_key(&self, sort: Sort) -> String {
        let name = format!(
            "{}{SEP}{}{SEP}{}",
            fold(&self.last_name),
            fold(&self.first_name),
            self.login
        );
        match sort {
            Sort::Name => name,
            Sort::Profile => format!("{}{SEP}{name}", self.profile as u8),
            Sort::Class => {
                let class = self.classes.iter().map(|c| fold(c.as_str())).min();
                // Accounts without a class come last.
                format!("{}{SEP}{name}", class.unwrap_or_else(|| "\u{7f}".to_owned()))
            }
        }
    }

    /// What `q` is matched against: names in both orders and the login, folded.
    pub fn search_text(&self) -> String {
        fold(&format!(
            "{} {} {} {} {}",
            self.first_name, self.last_name, self.login, self.last_name, self.first_name
        ))
    }

    /// Disabled for longer than the school's retention period.
    pub fn is_pre_deletion(&self, now: DateTime<Utc>, retention_days: u32) -> bool {
        self.access == Access::Disabled
            && self
                .disabled_at
                .is_some_and(|at| at <= now - chrono::Duration::days(i64::from(retention_days)))
    }

    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}
