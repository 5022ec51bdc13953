//! Reading accounts: the class list, the filtered account list, one account.

use super::Sesame;
use crate::domain::Code;
use crate::domain::text::fold;
use crate::domain::{Access, Account, AccountId, Caller, ClassName, Error, Profile, Result, SchoolId, Sort};
use crate::ports::{AccountCursor, AccountFilter, AccountQuery};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 500;

pub use crate::domain::selection::Selection;

impl Selection {
    /// The store filter for `caller`, narrowed to what a teacher may see; `None` when
    /// the caller can see none of the accounts asked for.
    pub fn to_filter(
        &self,
        caller: &Caller,
        now: DateTime<Utc>,
        retention_days: u32,
    ) -> Option<AccountFilter> {
        let mut profiles = self.profiles.clone();
        let mut within_classes = None;
        let mut local_admin = self.local_admin;
        if !caller.is_admin() {
            // A pupil or parent carrying local_admin (legacy data) is out of a
            // teacher's reach, as the table's kinds of account say.
            match local_admin {
                Some(l) if l != crate::domain::LocalAdmin::None => return None,
                _ => local_admin = Some(crate::domain::LocalAdmin::None),
            }
            let visible = [Profile::Student, Profile::Parent];
            profiles = if profiles.is_empty() {
                visible.to_vec()
            } else {
                profiles.into_iter().filter(|p| visible.contains(p)).collect()
            };
            if profiles.is_empty() || caller.classes.is_empty() {
                return None;
            }
            within_classes = Some(caller.classes.clone());
        }
        let days = |d: u32| Duration::days(i64::from(d));
        Some(AccountFilter {
            profiles,
            classes: self.classes.clone(),
            within_classes,
            level: self.level.clone(),
            group: self.group.clone(),
            access: self.access,
            activation: self.activation,
            has_email: self.has_email,
            email_state: self.email_state,
            local_admin,
            created_from: self.created_from,
            created_to: self.created_to,
            disabled_since: self.disabled_within_days.map(|d| now - days(d)),
            pre_deletion: self
                .pre_deletion
                .map(|want| (want, now - days(retention_days) + Duration::microseconds(1))),
            search: self
                .q
                .as_deref()
                .map(fold)
                .map(|q| q.trim().to_owned())
                .filter(|q| !q.is_empty()),
        })
    }
}

/// A page of the account list.
#[derive(Debug)]
pub struct AccountList {
    pub items: Vec<Account>,
    pub next_cursor: Option<String>,
    pub total: u64,
    /// The school's retention period, which decides `pre_deletion`.
    pub retention_days: u32,
}

#[derive(Serialize, Deserialize)]
struct CursorData {
    s: Sort,
    k: String,
    i: AccountId,
}

fn encode_cursor(sort: Sort, last: &Account) -> String {
    let data = CursorData {
        s: sort,
        k: last.sort_key(sort),
        i: last.id.clone(),
    };
    B64.encode(serde_json::to_vec(&data).unwrap_or_default())
}

fn decode_cursor(sort: Sort, raw: &str) -> Result<AccountCursor> {
    let invalid = || Error::bad_request(Code::InvalidCursor, "the cursor is not one this list gave");
    let data: CursorData = B64
        .decode(raw)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(invalid)?;
    if data.s != sort {
        return Err(invalid());
    }
    Ok(AccountCursor {
        key: data.k,
        id: data.i,
    })
}

/// A class as listed, with its number of students.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassSummary {
    pub name: ClassName,
    pub level: Option<String>,
    pub student_count: u64,
}

impl Sesame {
    /// Every account of `school` that `filter` selects, page by page.
    pub(crate) async fn all_accounts(
        &self,
        school: &SchoolId,
        filter: AccountFilter,
    ) -> Result<Vec<Account>> {
        let mut all = Vec::new();
        let mut query = AccountQuery {
            filter,
            sort: Sort::Name,
            after: None,
            limit: 500,
        };
        loop {
            let page = self.accounts.list_accounts(school, &query).await?;
            query.after = page.items.last().map(|a| AccountCursor {
                key: a.sort_key(Sort::Name),
                id: a.id.clone(),
            });
            all.extend(page.items);
            if !page.more {
                return Ok(all);
            }
        }
    }

    /// Whether the caller's `sub` names an account of its school (by id or login)
    /// that is disabled.
    /// The accounts among `ids` that `caller` may see (the table's `View`), in no
    /// particular order: what a page may name of them.
    pub async fn visible_accounts(&self, caller: &Caller, ids: &[AccountId]) -> Result<Vec<Account>> {
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(100) {
            found.extend(self.accounts.get_accounts(&caller.school, chunk).await?);
        }
        Ok(found.into_iter().filter(|a| caller.can_see(a)).collect())
    }

    pub async fn caller_is_disabled(&self, caller: &Caller) -> Result<bool> {
        let account = self.callers_account(caller).await?;
        Ok(account.is_some_and(|a| a.access == Access::Disabled))
    }

    /// The account the caller's `sub` names in the caller's school, by id or else by
    /// login, if there is one (a portal's staff may have none).
    pub(crate) async fn callers_account(&self, caller: &Caller) -> Result<Option<Account>> {
        Ok(self.accounts.find_caller(&caller.school, &caller.sub).await?)
    }

    /// The classes the caller sees, by name (no counts: one read, for menus).
    pub async fn visible_classes(&self, caller: &Caller) -> Result<Vec<crate::domain::Class>> {
        let mut classes = self.schools.list_classes(&caller.school).await?;
        if !caller.is_admin() {
            classes.retain(|c| caller.classes.contains(&c.name));
        }
        classes.sort_by_key(|c| fold(c.name.as_str()));
        Ok(classes)
    }

    /// The classes the caller sees, by name, with their students: one read.
    pub async fn list_classes(&self, caller: &Caller) -> Result<Vec<ClassSummary>> {
        let mut classes = self.schools.list_classes_with_students(&caller.school).await?;
        if !caller.is_admin() {
            classes.retain(|(c, _)| caller.classes.contains(&c.name));
        }
        classes.sort_by_key(|(c, _)| fold(c.name.as_str()));
        Ok(classes
            .into_iter()
            .map(|(class, student_count)| ClassSummary {
                name: class.name,
                level: class.level,
                student_count,
            })
            .collect())
    }

    pub async fn list_accounts(
        &self,
        caller: &Caller,
        selection: &Selection,
        sort: Sort,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<AccountList> {
        let after = cursor.map(|c| decode_cursor(sort, c)).transpose()?;
        let school = self.school(&caller.school).await?;
        let Some(filter) = selection.to_filter(caller, self.now(), school.settings.retention_days) else {
            let retention_days = school.settings.retention_days;
            return Ok(AccountList {
                items: Vec::new(),
                next_cursor: None,
                total: 0,
                retention_days,
            });
        };
        let query = AccountQuery {
            filter,
            sort,
            after,
            limit: limit.clamp(1, MAX_LIMIT),
        };
        let page = self.accounts.list_accounts(&caller.school, &query).await?;
        let next_cursor = page
            .more
            .then(|| page.items.last().map(|a| encode_cursor(sort, a)))
            .flatten();
        let retention_days = school.settings.retention_days;
        Ok(AccountList {
            items: page.items,
            next_cursor,
            total: page.total,
            retention_days,
        })
    }

    /// The school's retention period, as far as `account`'s page needs it: only a
    /// disabled account has a pre-deletion date, so only its page reads the school.
    pub async fn retention_days_for(&self, caller: &Caller, account: &Account) -> Result<u32> {
        if account.access != Access::Disabled {
            return Ok(0);
        }
        Ok(self.school(&caller.school).await?.settings.retention_days)
    }

    pub async fn get_account(&self, caller: &Caller, id: &AccountId) -> Result<Account> {
        self.account_if(caller, id, Caller::may_view).await
    }

    /// Account `id` of the caller's school if `may` lets the caller at it; else the
    /// error `may` gives (404 for an account the caller may not see).
    pub(crate) async fn account_if(
        &self,
        caller: &Caller,
        id: &AccountId,
        may: impl Fn(&Caller, &Account) -> std::result::Result<(), crate::domain::Denied>,
    ) -> Result<Account> {
        let account = self
            .accounts
            .get_account(&caller.school, id)
            .await?
            .ok_or(Error::NotFound)?;
        may(caller, &account)?;
        Ok(account)
    }
}
