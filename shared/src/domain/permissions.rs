//! Who may do what (SPEC §2), written once as a table that every road asks: the
//! API, the console, imports and their side effects, exports and their later
//! downloads, mail copies, recall, unlock and idempotent replays.
//!
//! A decision takes three things:
//! - the caller's role (and, for a teacher, whether the target is in one of their
//!   classes);
//! - the action;
//! - the target's kind: a pupil, a parent, an adult of the school, or an
//!   administrator. An account with `local_admin: admin` is an administrator
//!   whatever its profile (SPEC §2: its reset column is that of an administrator);
//!   a student or parent carrying any `local_admin` (which only legacy data can
//!   hold) is an adult, so that no teacher reaches it.
//!
//! The answer is `NotFound` when the caller may not even see the target (its
//! existence never leaks) and `Forbidden` when they see it but may not act.

use super::account::{Account, LocalAdmin, Profile};
use super::caller::{Caller, Denied, Role};
use super::error::Error;
use super::secret::SecretKind;

/// What a caller does to one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// List it, view it, follow it in a class's follow-up.
    View,
    /// Read its birth date (in any output: API, exports, mail, console).
    SeeBirthDate,
    /// Obtain or hand out a secret of it (a temporary password, a reset link, an
    /// activation code, a set password, an import's password column, a mail copy, a
    /// `credentials` or `activation` export), recall its distribution, unlock it,
    /// read its credential ledger: the reset column.
    Reset,
    /// Issue a birth-date password: it *is* the birth date.
    ResetToBirthDate,
    /// Activate or deactivate access.
    SetAccess,
    /// Mail the owner their activation or login information.
    SendMail,
    /// Put it in an `identifiers` export (no secret).
    ExportIdentifiers,
    /// Change it by import (fields, links to parents or children) or correct its
    /// address.
    Change,
}

impl Action {
    pub const ALL: [Action; 8] = [
        Self::View,
        Self::SeeBirthDate,
        Self::Reset,
        Self::ResetToBirthDate,
        Self::SetAccess,
        Self::SendMail,
        Self::ExportIdentifiers,
        Self::Change,
    ];
}

/// What an account is, for the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A student without any `local_admin`.
    Pupil,
    /// A parent without any `local_admin`.
    Parent,
    /// A teacher, staff or guest (or a legacy student or parent with
    /// `local_admin: secondary`).
    Adult,
    /// Any account with `local_admin: admin`.
    Administrator,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Self::Pupil, Self::Parent, Self::Adult, Self::Administrator];

    pub fn of(account: &Account) -> Self {
        match (account.local_admin, account.profile) {
            (LocalAdmin::Admin, _) => Self::Administrator,
            (LocalAdmin::None, Profile::Student) => Self::Pupil,
            (LocalAdmin::None, Profile::Parent) => Self::Parent,
            _ => Self::Adult,
        }
    }
}

/// One cell of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    Yes,
    /// Only when the target is in one of the teacher's classes.
    TheirClasses,
    No,
}

use Action as A;
use Kind as K;
use Rule::{No, TheirClasses as Class, Yes};

/// The table of SPEC §2: what `role` may do to an account of `kind`.
pub const fn rule(role: Role, action: Action, kind: Kind) -> Rule {
    match (role, action, kind) {
        // The role `admin` does anything to anyone of its school.
        (Role::Admin, _, _) => Yes,

        // A secondary admin sees everyone and every birth date, and acts on anyone
        // but administrators.
        (Role::SecondaryAdmin, A::View | A::SeeBirthDate | A::ExportIdentifiers, _) => Yes,
        (Role::SecondaryAdmin, _, K::Administrator) => No,
        (Role::SecondaryAdmin, _, _) => Yes,

        // A teacher sees the pupils of their classes and those pupils' parents; acts
        // on and hands out to those pupils only; never a birth date, never access.
        (Role::Teacher, A::View, K::Pupil | K::Parent) => Class,
        (Role::Teacher, A::Reset | A::SendMail | A::ExportIdentifiers, K::Pupil) => Class,
        (Role::Teacher, _, _) => No,
    }
}

/// What a caller does that is about the school, not one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// Import rosters (and upload them).
    Import,
    ReadAudit,
    ReadSettings,
    ChangeSettings,
    /// List and view every distribution of the school (a teacher sees those they
    /// made), and follow any class (a teacher, theirs).
    OverseeSchool,
}

impl Task {
    pub const ALL: [Task; 5] = [
        Self::Import,
        Self::ReadAudit,
        Self::ReadSettings,
        Self::ChangeSettings,
        Self::OverseeSchool,
    ];
}

/// The school-wide rows of SPEC §2's table.
pub const fn task_rule(role: Role, task: Task) -> bool {
    match (role, task) {
        (Role::Admin, _) => true,
        (Role::SecondaryAdmin, Task::ChangeSettings) => false,
        (Role::SecondaryAdmin, _) => true,
        (Role::Teacher, _) => false,
    }
}

impl Caller {
    /// Whether this caller may do `action` to `account`, as the table says.
    pub fn may(&self, action: Action, account: &Account) -> Result<(), Denied> {
        if account.school != self.school || !self.applies(Action::View, account) {
            return Err(Denied::NotFound);
        }
        if self.applies(action, account) {
            Ok(())
        } else {
            Err(Denied::Forbidden)
        }
    }

    fn applies(&self, action: Action, account: &Account) -> bool {
        match rule(self.role, action, Kind::of(account)) {
            Rule::Yes => true,
            Rule::TheirClasses => account.classes.iter().any(|c| self.classes.contains(c)),
            Rule::No => false,
        }
    }

    /// Whether this caller may obtain a secret of `kind` of `account`, by any road:
    /// the reset column (a birth-date password: the admin roles only), and only for
    /// accounts whose passwords live here (409 `federated_account` otherwise).
    pub fn may_issue(&self, account: &Account, kind: SecretKind) -> Result<(), Error> {
        let action = match kind {
            SecretKind::BirthDatePassword => Action::ResetToBirthDate,
            SecretKind::TemporaryPassword | SecretKind::ActivationCode | SecretKind::ResetLink => {
                Action::Reset
            }
        };
        self.may(action, account)?;
        account.ensure_local()
    }

    /// Whether this caller may do `task`.
    pub fn may_do(&self, task: Task) -> bool {
        task_rule(self.role, task)
    }
}

#[cfg(test)]
mod tests {
    //! The table against SPEC §2, written out again row by row in the spec's own
    //! words, for every role, action, kind of target and class membership.

    use super::*;
    use crate::domain::{ClassName, SchoolId};

    /// SPEC §2, one line of its table at a time: may `role` do `action` to an
    /// account of `kind`, that is (`in_class`) or is not in the teacher's classes?
    fn spec(role: Role, action: Action, kind: Kind, in_class: bool) -> bool {
        let admin = role == Role::Admin;
        let secondary = role == Role::SecondaryAdmin;
        let teacher = role == Role::Teacher;
        // "list / view accounts: all of the school | all of the school | students of
        // their classes and those students' parents"
        let sees = admin || secondary || (teacher && in_class && matches!(kind, Kind::Pupil | Kind::Parent));
        // "reset a student's or parent's password: yes | yes | students of their
        // classes"; "reset a teacher's or staff password: yes | yes, except
        // local_admin: admin accounts | no"; an account with local_admin: admin has
        // an administrator's reset column.
        let resets = match kind {
            Kind::Pupil => admin || secondary || (teacher && in_class),
            Kind::Parent => admin || secondary,
            Kind::Adult => admin || secondary,
            Kind::Administrator => admin,
        };
        let allowed = match action {
            Action::View => true,
            // "Birth dates are for the two admin roles only"
            Action::SeeBirthDate => admin || secondary,
            // "Secrets follow the reset column, on every path"; unlock, recall and
            // the ledger "as the reset rows"; send activation / login mail hands a
            // secret out too (its copy_to_me copy), so it follows the reset column
            // within "yes | yes | students of their classes".
            Action::Reset | Action::SendMail => resets,
            // "a birth-date password is the birth date, so only the admin roles may
            // issue one"
            Action::ResetToBirthDate => resets && (admin || secondary),
            // "activate / deactivate: yes | yes, except admins | no"
            Action::SetAccess => admin || (secondary && kind != Kind::Administrator),
            // "export credentials: yes | yes | students of their classes"
            Action::ExportIdentifiers => admin || secondary || (teacher && in_class && kind == Kind::Pupil),
            // imports and address corrections: admins, and a secondary admin never
            // changes an administrator ("imports never escalate")
            Action::Change => admin || (secondary && kind != Kind::Administrator),
        };
        sees && allowed
    }

    fn account(kind: Kind, in_class: bool) -> Account {
        let (profile, local_admin) = match kind {
            Kind::Pupil => (Profile::Student, LocalAdmin::None),
            Kind::Parent => (Profile::Parent, LocalAdmin::None),
            Kind::Adult => (Profile::Teacher, LocalAdmin::Secondary),
            Kind::Administrator => (Profile::Staff, LocalAdmin::Admin),
        };
        let mut account = Account::sample(profile, local_admin);
        let class = if in_class { "6A" } else { "6B" };
        account.classes = vec![ClassName::parse(class).unwrap()];
        account
    }

    fn caller(role: Role) -> Caller {
        Caller {
            sub: "acc_caller".into(),
            school: SchoolId::parse("north").unwrap(),
            role,
            classes: vec![ClassName::parse("6A").unwrap()],
        }
    }

    #[test]
    fn the_table_is_spec_section_2_for_every_role_action_and_target() {
        let mut checked = 0;
        for role in [Role::Admin, Role::SecondaryAdmin, Role::Teacher] {
            for action in Action::ALL {
                for kind in Kind::ALL {
                    for in_class in [true, false] {
                        let target = account(kind, in_class);
                        let decided = caller(role).may(action, &target);
                        let expected = spec(role, action, kind, in_class);
                        assert_eq!(
                            decided.is_ok(),
                            expected,
                            "{role:?} {action:?} on {kind:?} (in class: {in_class})"
                        );
                        if !expected {
                            let seen = spec(role, Action::View, kind, in_class);
                            let why = if seen { Denied::Forbidden } else { Denied::NotFound };
                            assert_eq!(decided, Err(why), "{role:?} {action:?} on {kind:?}");
                        }
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 3 * Action::ALL.len() * Kind::ALL.len() * 2);
    }

    #[test]
    fn every_profile_and_local_admin_is_one_kind() {
        for profile in Profile::ALL {
            for local_admin in [LocalAdmin::None, LocalAdmin::Secondary, LocalAdmin::Admin] {
                let mut target = account(Kind::Pupil, true);
                target.profile = profile;
                target.local_admin = local_admin;
                let expected = match (profile, local_admin) {
                    (_, LocalAdmin::Admin) => Kind::Administrator,
                    (Profile::Student, LocalAdmin::None) => Kind::Pupil,
                    (Profile::Parent, LocalAdmin::None) => Kind::Parent,
                    _ => Kind::Adult,
                };
                assert_eq!(Kind::of(&target), expected, "{profile:?} {local_admin:?}");
            }
        }
    }

    #[test]
    fn a_student_carrying_local_admin_is_out_of_every_teachers_reach() {
        let mut pupil = account(Kind::Pupil, true);
        pupil.local_admin = LocalAdmin::Admin;
        for action in Action::ALL {
            assert!(caller(Role::Teacher).may(action, &pupil).is_err(), "{action:?}");
        }
    }

    #[test]
    fn another_schools_account_is_never_found() {
        let mut target = account(Kind::Pupil, true);
        target.school = SchoolId::parse("other").unwrap();
        for role in [Role::Admin, Role::SecondaryAdmin, Role::Teacher] {
            for action in Action::ALL {
                assert_eq!(caller(role).may(action, &target), Err(Denied::NotFound));
            }
        }
    }

    #[test]
    fn school_wide_tasks_follow_the_table() {
        for task in Task::ALL {
            assert!(caller(Role::Admin).may_do(task));
            assert_eq!(
                caller(Role::SecondaryAdmin).may_do(task),
                task != Task::ChangeSettings
            );
            assert!(!caller(Role::Teacher).may_do(task));
        }
    }
}
