//! Setting a school up from the command line: its first administrator, who signs
//! in with a temporary password the command prints (SPEC §11).

use super::Sesame;
use super::bulk::Change;
use super::import::may_carry_local_admin;
use super::reset::{Issued, ResetMethod};
use super::roster::RosterRow;
use super::{Actor, PerAccount};
use crate::domain::{AccountId, Caller, Code, Error, LocalAdmin, Login, Outcome, Result, Role, SchoolId};
use crate::ports::AccountFilter;

/// Who acts for the command line, in the audit log.
pub const COMMAND_LINE: &str = "sesame-command-line";

impl Sesame {
    /// Creates (or finds) the administrator `login` of `school` and hands them a
    /// new temporary password. Running it again for the same login is the way back
    /// in for a school whose only administrator lost their password.
    pub async fn first_admin(
        &self,
        school: &SchoolId,
        login: &str,
        first_name: &str,
        last_name: &str,
    ) -> Result<(Login, Issued)> {
        let parsed = Login::parse(login).map_err(|e| Error::invalid("login", e.to_string()))?;
        let system = Caller {
            sub: COMMAND_LINE.to_owned(),
            school: school.clone(),
            role: Role::Admin,
            classes: vec![],
        };
        self.school(school).await?;
        let account = match self.accounts.find_by_login(&parsed).await? {
            Some(found) if &found.school != school => {
                return Err(Error::conflict(
                    Code::Conflict,
                    "this login belongs to another school",
                ));
            }
            Some(found) if found.local_admin != LocalAdmin::Admin => {
                return Err(Error::conflict(
                    Code::Conflict,
                    "this login is not an administrator of the school",
                ));
            }
            Some(found) => found,
            None => {
                let row = RosterRow {
                    login: Some(parsed.to_string()),
                    profile: "staff".into(),
                    first_name: first_name.to_owned(),
                    last_name: last_name.to_owned(),
                    local_admin: Some("admin".into()),
                    ..RosterRow::default()
                };
                let report = self.import_roster(&system, None, &[row], false).await?;
                if let Some(error) = report.errors.first() {
                    return Err(Error::invalid(&error.field, error.message.clone()));
                }
                self.accounts
                    .find_by_login(&parsed)
                    .await?
                    .filter(|a| &a.school == school)
                    .ok_or_else(|| Error::conflict(Code::Conflict, "the login was taken meanwhile"))?
            }
        };
        let mut issued = self
            .reset_passwords(
                &system,
                None,
                std::slice::from_ref(&account.id),
                ResetMethod::Temporary,
                None,
            )
            .await?;
        let issued = issued.pop().ok_or(Error::NotFound)?.result?;
        Ok((account.login, issued))
    }

    /// Clears `local_admin` where it sits on an account that cannot carry it (a
    /// student, parent or guest: SPEC §2 gives it to teachers and staff only),
    /// which older imports let through. Each change is audited; the sessions of
    /// those accounts end at their next request (their seat changed). Answers the
    /// accounts changed.
    pub async fn clear_misplaced_local_admin(&self, school: &SchoolId) -> Result<Vec<AccountId>> {
        self.school(school).await?;
        let misplaced: Vec<AccountId> = self
            .all_accounts(school, AccountFilter::default())
            .await?
            .into_iter()
            .filter(|a| a.local_admin != LocalAdmin::None && !may_carry_local_admin(a.profile))
            .map(|a| a.id)
            .collect();
        if misplaced.is_empty() {
            return Ok(misplaced);
        }
        let results = self
            .update_each(school, &misplaced, |account| {
                if account.local_admin == LocalAdmin::None || may_carry_local_admin(account.profile) {
                    return Ok(Change::Keep);
                }
                let mut next = account.clone();
                next.local_admin = LocalAdmin::None;
                Ok(Change::Write(next))
            })
            .await?;
        let done = PerAccount::succeeded(&results);
        let actor = Actor {
            name: COMMAND_LINE,
            request_id: None,
        };
        let outcome = Outcome::of(done.len(), misplaced.len());
        self.audit(
            actor,
            school,
            "account.local_admin_cleared",
            done.clone(),
            outcome,
            Some("local_admin belongs to teacher and staff accounts only".to_owned()),
        )
        .await?;
        Ok(done)
    }
}
