//! What the API shows of domain values. Credentials never appear; birth dates only
//! to administrators.

use crate::domain::Code;
use crate::domain::{Access, Account, Activation, Caller, Error, LocalAdmin, Profile, School, Settings};
use crate::ops::PerAccount;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountView {
    pub id: String,
    /// The school's own identifier of the person (a OneRoster `sourcedId`), if imported with one.
    pub external_id: Option<String>,
    pub login: String,
    pub first_name: String,
    pub last_name: String,
    pub profile: Profile,
    pub classes: Vec<String>,
    pub level: Option<String>,
    pub groups: Vec<String>,
    pub options: Vec<String>,
    pub email: Option<String>,
    /// Whether mail reaches `email` (absent without an address): a bounced or
    /// complained address gets no mail until it changes or the mark is cleared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_state: Option<crate::domain::EmailStateView>,
    /// Shown to administrators only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<NaiveDate>,
    pub local_admin: LocalAdmin,
    pub parents: Vec<String>,
    pub children: Vec<String>,
    pub access: Access,
    pub activation: Activation,
    /// `local`, or the name of the federated directory that manages the account.
    pub source: String,
    pub must_change_password: bool,
    pub temporary_password_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub activated_at: Option<DateTime<Utc>>,
    pub disabled_at: Option<DateTime<Utc>>,
    /// Disabled for longer than the school's retention period.
    pub pre_deletion: bool,
}

impl AccountView {
    pub fn new(a: Account, caller: &Caller, now: DateTime<Utc>, retention_days: u32) -> Self {
        let pre_deletion = a.is_pre_deletion(now, retention_days);
        let birth_date_seen = caller.may(crate::domain::Action::SeeBirthDate, &a).is_ok();
        let strings = |v: Vec<_>| {
            v.into_iter()
                .map(|x: crate::domain::AccountId| x.to_string())
                .collect()
        };
        Self {
            id: a.id.to_string(),
            external_id: a.external_id,
            login: a.login.to_string(),
            first_name: a.first_name,
            last_name: a.last_name,
            profile: a.profile,
            classes: a.classes.into_iter().map(String::from).collect(),
            level: a.level,
            groups: a.groups,
            options: a.options,
            email_state: a
                .email
                .is_some()
                .then(|| crate::domain::EmailStateView::from(&a.email_state)),
            email: a.email.map(String::from),
            birth_date: a.birth_date.filter(|_| birth_date_seen),
            local_admin: a.local_admin,
            parents: strings(a.parents),
            children: strings(a.children),
            access: a.access,
            activation: a.activation,
            source: a.source.into(),
            must_change_password: a.credentials.must_change_password,
            temporary_password_expires_at: a.credentials.temporary_password_expires_at(),
            created_at: a.created_at,
            activated_at: a.activated_at,
            disabled_at: a.disabled_at,
            pre_deletion,
        }
    }
}

/// The error of one account in a bulk answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemError {
    pub code: Code,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    Ok,
    Error,
}

/// One account's result in a bulk answer: `ok` with what `T` adds, or `error`
/// with why.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum BulkItem<T: ToSchema> {
    Ok {
        account_id: String,
        status: Succeeded,
        #[serde(flatten)]
        data: T,
    },
    Error {
        account_id: String,
        status: Failed,
        error: ItemError,
    },
}

/// The `status` of an account that succeeded.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Succeeded {
    Ok,
}

/// The `status` of an account that failed.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Failed {
    Error,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResults<T: ToSchema> {
    pub results: Vec<BulkItem<T>>,
}

impl<T: ToSchema> BulkResults<T> {
    pub fn from_results<U>(results: Vec<PerAccount<U>>, mut ok: impl FnMut(U) -> T) -> Self {
        let results = results
            .into_iter()
            .map(|r| match r.result {
                Ok(value) => BulkItem::Ok {
                    account_id: r.account_id.into(),
                    status: Succeeded::Ok,
                    data: ok(value),
                },
                Err(e) => BulkItem::Error {
                    account_id: r.account_id.into(),
                    status: Failed::Error,
                    error: item_error(&e),
                },
            })
            .collect();
        Self { results }
    }
}

pub fn item_error(e: &Error) -> ItemError {
    crate::http::problem::log_internal(e);
    ItemError {
        code: e.code(),
        detail: e.detail(),
    }
}

/// Settings as shown, with the school's name.
#[derive(Debug, Serialize, ToSchema)]
pub struct SettingsView {
    pub school_id: String,
    pub school_name: String,
    #[serde(flatten)]
    pub settings: Settings,
}

impl From<School> for SettingsView {
    fn from(school: School) -> Self {
        Self {
            school_id: school.id.into(),
            school_name: school.name,
            settings: school.settings,
        }
    }
}
