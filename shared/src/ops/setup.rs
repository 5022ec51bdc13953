//! Setting a school up from the command line: its first administrator, who signs
//! in with a temporary password the command prints (SPEC §11).

use super::Sesame;
use super::reset::{Issued, ResetMethod};
use super::roster::RosterRow;
use crate::domain::{Caller, Code, Error, LocalAdmin, Login, Result, Role, SchoolId};

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
}
