//! Fixtures of the contract: accounts, audit events, a school roster.

use crate::domain::{
    Access, Account, AccountId, Activation, AuditEvent, ClassName, Credentials, Email, LocalAdmin, Login,
    Outcome, Profile, SchoolId, Source,
};
use chrono::{DateTime, Duration, TimeZone, Utc};

/// 1 September 2024, 08:00 UTC, plus `days`.
pub fn day(days: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 9, 1, 8, 0, 0)
        .single()
        .expect("a valid fixed date")
        + Duration::days(days)
}

pub fn school_id(id: &str) -> SchoolId {
    SchoolId::parse(id).expect("a valid school id")
}

pub fn class(name: &str) -> ClassName {
    ClassName::parse(name).expect("a valid class name")
}

/// The id an account fixture gets from its login.
pub fn id_of(login: &str) -> AccountId {
    AccountId::parse(&format!("acc_{}", login.replace('.', "-"))).expect("a login makes a valid id")
}

/// A plain enabled, pending account, created on `day(0)`.
pub fn account(
    school: &str,
    login: &str,
    first: &str,
    last: &str,
    profile: Profile,
    classes: &[&str],
) -> Account {
    Account {
        id: id_of(login),
        school: school_id(school),
        login: Login::parse(login).expect("a valid login"),
        first_name: first.to_owned(),
        last_name: last.to_owned(),
        profile,
        classes: classes.iter().map(|c| class(c)).collect(),
        level: None,
        groups: Vec::new(),
        options: Vec::new(),
        email: None,
        email_state: Default::default(),
        birth_date: None,
        local_admin: LocalAdmin::None,
        parents: Vec::new(),
        children: Vec::new(),
        access: Default::default(),
        activation: Activation::Pending,
        source: Source::Local,
        external_id: None,
        credentials: Credentials::default(),
        created_at: day(0),
        activated_at: None,
        disabled_at: None,
        closed_by_roster: false,
        version: 0,
    }
}

pub fn event(
    school: &str,
    id: &str,
    at: DateTime<Utc>,
    actor: &str,
    action: &str,
    targets: &[&str],
) -> AuditEvent {
    AuditEvent {
        id: id.to_owned(),
        school: school_id(school),
        at,
        actor: actor.to_owned(),
        action: action.to_owned(),
        targets: targets.iter().map(|login| id_of(login)).collect(),
        outcome: Outcome::Ok,
        request_id: Some(format!("req-{id}")),
        detail: None,
    }
}

/// Zoé Lefèvre, a student of the north school in `classes`.
pub fn zoe(classes: &[&str]) -> Account {
    account(
        "north",
        "zoe.lefevre",
        "Zoé",
        "Lefèvre",
        Profile::Student,
        classes,
    )
}

/// A school of nine with every attribute a filter reads, and a second school
/// sharing a class name.
pub fn roster() -> Vec<Account> {
    let email = |address: &str| Some(Email::parse(address).expect("valid e-mail"));
    let mut zoe = zoe(&["6A"]);
    zoe.level = Some("6e".to_owned());
    zoe.groups = vec!["latin".to_owned()];
    zoe.email = email("zoe@example.org");
    zoe.activation = Activation::Activated;
    zoe.created_at = day(0);
    let mut adam = account(
        "north",
        "adam.bernard",
        "Adam",
        "Bernard",
        Profile::Student,
        &["6A", "5B"],
    );
    adam.level = Some("5e".to_owned());
    adam.groups = vec!["latin".to_owned(), "chorale".to_owned()];
    adam.created_at = day(1);
    let mut lea = account("north", "lea.martin", "Léa", "Martin", Profile::Student, &["5B"]);
    lea.level = Some("5e".to_owned());
    lea.created_at = day(2);
    lea.access = Access::Disabled;
    lea.disabled_at = Some(day(-100));
    let mut hugo = account("north", "hugo.petit", "Hugo", "Petit", Profile::Student, &[]);
    hugo.created_at = day(3);
    hugo.access = Access::Disabled;
    hugo.disabled_at = Some(day(-10));
    let mut marc = account(
        "north",
        "marc.durand",
        "Marc",
        "Durand",
        Profile::Teacher,
        &["6A", "5B"],
    );
    marc.email = email("marc.durand@example.org");
    marc.local_admin = LocalAdmin::Secondary;
    marc.activation = Activation::Activated;
    marc.created_at = day(4);
    // Enabled again after a long deactivation: not in pre-deletion.
    let mut ines = account("north", "ines.roux", "Inès", "Roux", Profile::Staff, &[]);
    ines.email = email("ines.roux@example.org");
    ines.local_admin = LocalAdmin::Admin;
    ines.created_at = day(5);
    ines.disabled_at = Some(day(-100));
    let mut paul = account("north", "paul.moreau", "Paul", "Moreau", Profile::Parent, &[]);
    paul.created_at = day(6);
    let mut jo_ann = account("north", "jo_ann.ndiaye", "Jo", "N'Diaye", Profile::Guest, &[]);
    jo_ann.created_at = day(7);
    let mut joxann = account("north", "joxann.faye", "Jo", "Faye", Profile::Guest, &[]);
    joxann.created_at = day(8);
    let mut sam = account("south", "sam.sud", "Sam", "Sud", Profile::Student, &["6A"]);
    sam.groups = vec!["latin".to_owned()];
    vec![zoe, adam, lea, hugo, marc, ines, paul, jo_ann, joxann, sam]
}
