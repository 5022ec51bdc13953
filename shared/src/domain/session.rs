//! Console sessions (SPEC §11): a server-side record per signed-in browser, keyed
//! by the SHA-256 of the cookie's random token (the store never holds a cookie).
//! A session ends after 30 idle minutes or 8 hours, at sign-out, and as soon as
//! its account's password changes, its console role changes or it is disabled:
//! the account is read again on every request and compared with what the
//! session began with.

use super::account::{Access, Account, LocalAdmin, Profile};
use super::caller::{Caller, Role};
use super::ids::{AccountId, SchoolId};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

pub const IDLE: Duration = Duration::minutes(30);
pub const ABSOLUTE: Duration = Duration::hours(8);

/// What an account may do in the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Seat {
    /// A student, parent or other account: their own page only.
    Own,
    /// Staff and teachers: the console, with this role (SPEC §2).
    Console(Role),
}

impl Account {
    /// The console role the account's own fields give it: `local_admin` for
    /// staff, the teacher's role for teachers (their classes are theirs), else
    /// only their own page.
    /// `local_admin` counts on teacher and staff accounts only (SPEC §2): a student
    /// or parent carrying it (legacy data) signs in to their own page.
    pub fn seat(&self) -> Seat {
        match (self.local_admin, self.profile) {
            (LocalAdmin::Admin, Profile::Teacher | Profile::Staff) => Seat::Console(Role::Admin),
            (LocalAdmin::Secondary, Profile::Teacher | Profile::Staff) => Seat::Console(Role::SecondaryAdmin),
            (_, Profile::Teacher) => Seat::Console(Role::Teacher),
            _ => Seat::Own,
        }
    }

    /// The caller a console session of this account acts as, if it has a console.
    pub fn as_caller(&self) -> Option<Caller> {
        let Seat::Console(role) = self.seat() else {
            return None;
        };
        Some(Caller {
            sub: self.id.to_string(),
            school: self.school.clone(),
            role,
            classes: if role == Role::Teacher {
                self.classes.clone()
            } else {
                Vec::new()
            },
        })
    }
}

/// Why a session no longer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Idle too long, or older than the absolute limit.
    TimedOut,
    /// The password changed since the session began (by anyone, on any road).
    PasswordChanged,
    /// The account's console role is not the one the session began with.
    RoleChanged,
    Disabled,
    /// The account is gone.
    Gone,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// The SHA-256 (hex) of the cookie's token.
    pub key: String,
    pub school: SchoolId,
    pub account: AccountId,
    pub started_at: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// A mark of the account's password when the session began (see
    /// `Credentials::mark`): any new password, by any road, changes it.
    pub password_mark: String,
    pub seat: Seat,
    /// The token every form of this session carries (random, per session).
    #[serde(default)]
    pub csrf: String,
    pub version: u64,
}

impl Session {
    /// A session of `account` beginning now, for the token whose hash is `key`.
    pub fn begin(key: String, account: &Account, now: DateTime<Utc>) -> Self {
        Self {
            key,
            school: account.school.clone(),
            account: account.id.clone(),
            started_at: now,
            last_seen: now,
            password_mark: account.credentials.mark(),
            seat: account.seat(),
            csrf: String::new(),
            version: 0,
        }
    }

    /// When it ends if nothing is done with it (what the store's TTL is set to).
    pub fn ends_at(&self) -> DateTime<Utc> {
        (self.started_at + ABSOLUTE).min(self.last_seen + IDLE)
    }

    /// Whether it still holds at `now` for `account` as it is now (`None`: gone).
    pub fn check(&self, account: Option<&Account>, now: DateTime<Utc>) -> Result<(), Ended> {
        if now >= self.ends_at() {
            return Err(Ended::TimedOut);
        }
        let Some(account) = account.filter(|a| a.id == self.account && a.school == self.school) else {
            return Err(Ended::Gone);
        };
        if account.access == Access::Disabled {
            return Err(Ended::Disabled);
        }
        if account.credentials.mark() != self.password_mark {
            return Err(Ended::PasswordChanged);
        }
        if account.seat() != self.seat {
            return Err(Ended::RoleChanged);
        }
        Ok(())
    }

    /// Whether a form's `presented` token is this session's, in constant time.
    pub fn csrf_matches(&self, presented: &str) -> bool {
        use subtle::ConstantTimeEq;
        !self.csrf.is_empty() && bool::from(self.csrf.as_bytes().ct_eq(presented.as_bytes()))
    }

    /// A password changed in this session ends every other session of the
    /// account, and this one carries on with the new password.
    pub fn after_own_change(&mut self, account: &Account) {
        self.password_mark = account.credentials.mark();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(profile: Profile, local_admin: LocalAdmin) -> Account {
        Account::sample(profile, local_admin)
    }

    #[test]
    fn the_seat_comes_from_the_accounts_own_fields() {
        assert_eq!(
            account(Profile::Staff, LocalAdmin::Admin).seat(),
            Seat::Console(Role::Admin)
        );
        assert_eq!(
            account(Profile::Staff, LocalAdmin::Secondary).seat(),
            Seat::Console(Role::SecondaryAdmin)
        );
        let teacher = account(Profile::Teacher, LocalAdmin::None);
        assert_eq!(teacher.as_caller().unwrap().classes, teacher.classes);
        assert_eq!(account(Profile::Staff, LocalAdmin::None).seat(), Seat::Own);
        assert_eq!(account(Profile::Student, LocalAdmin::None).as_caller(), None);
    }

    #[test]
    fn a_session_ends_idle_after_30_minutes_and_at_the_latest_after_8_hours() {
        let now = Utc::now();
        let admin = account(Profile::Staff, LocalAdmin::Admin);
        let mut session = Session::begin("k".into(), &admin, now);
        assert_eq!(session.check(Some(&admin), now + Duration::minutes(29)), Ok(()));
        assert_eq!(session.check(Some(&admin), now + IDLE), Err(Ended::TimedOut));
        for minutes in (25..=475).step_by(25) {
            session.last_seen = now + Duration::minutes(minutes);
        }
        assert_eq!(session.check(Some(&admin), now + Duration::minutes(479)), Ok(()));
        assert_eq!(session.check(Some(&admin), now + ABSOLUTE), Err(Ended::TimedOut));
    }

    #[test]
    fn a_password_change_a_demotion_or_a_deactivation_ends_it() {
        let now = Utc::now();
        let admin = account(Profile::Staff, LocalAdmin::Admin);
        let session = Session::begin("k".into(), &admin, now);
        let mut changed = admin.clone();
        changed.credentials.set_password("h".into(), false, now, None);
        assert_eq!(session.check(Some(&changed), now), Err(Ended::PasswordChanged));
        let mut demoted = admin.clone();
        demoted.local_admin = LocalAdmin::Secondary;
        assert_eq!(session.check(Some(&demoted), now), Err(Ended::RoleChanged));
        let mut disabled = admin.clone();
        disabled.access = Access::Disabled;
        assert_eq!(session.check(Some(&disabled), now), Err(Ended::Disabled));
        assert_eq!(session.check(None, now), Err(Ended::Gone));
    }
}
