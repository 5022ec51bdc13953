//! The demo school `demo`: three classes, 60 students with accented names, their
//! parents (some without e-mail), teachers, an admin and a secondary admin, a
//! student from a federated directory, an account disabled a few days ago, and
//! activated and pending accounts in every class. Built through the roster import.

use crate::domain::{Access, Activation, Caller, Error, Result, Role, School, SchoolId, Settings};
use crate::ops::Sesame;
use crate::ops::bulk::Change;
use crate::ops::roster::RosterRow;
use crate::ports::{AccountFilter, AccountQuery};
use chrono::Duration;

pub const DEMO_SCHOOL: &str = "demo";
/// The password of every activated demo student: `<login>` is not in it, so it
/// passes the policy, and it is printed by `sesame demo` for trying a login.
pub const DEMO_STUDENT_PASSWORD: &str = "tournesol-violet-48";
/// The password of the demo's first teacher and of its administrator, to sign
/// in to the console with.
pub const DEMO_STAFF_PASSWORD: &str = "cartable-orange-27";

const FIRST: [&str; 24] = [
    "Zoé",
    "Anaïs",
    "Léa",
    "Chloé",
    "Maël",
    "Noé",
    "Éloïse",
    "Inès",
    "Raphaël",
    "Loïc",
    "François",
    "Gaëlle",
    "Hélène",
    "Jérôme",
    "Benoît",
    "Théo",
    "Cécile",
    "Agnès",
    "Joël",
    "Ophélie",
    "Aïcha",
    "Mégane",
    "Timothée",
    "Lucas",
];
const LAST: [&str; 20] = [
    "Lefèvre",
    "Béranger",
    "Fournier",
    "Núñez",
    "Müller",
    "Côté",
    "Gérard",
    "Dubois",
    "Ménard",
    "Lemaître",
    "Bélanger",
    "Pérez",
    "Brûlé",
    "Mercier",
    "N'Diaye",
    "Da Silva",
    "Nguyễn",
    "Roussel",
    "Çelik",
    "Martin",
];
const CLASSES: [(&str, &str); 3] = [("CM1-A", "CM1"), ("CM2-B", "CM2"), ("6e-1", "6e")];
const PARENT_FIRST: [&str; 8] = [
    "Sébastien",
    "Émilie",
    "Jean-Pierre",
    "Françoise",
    "Karim",
    "Sophie",
    "Stéphane",
    "Nadège",
];

fn row(profile: &str, first: &str, last: &str) -> RosterRow {
    RosterRow {
        profile: profile.to_owned(),
        first_name: first.to_owned(),
        last_name: last.to_owned(),
        ..RosterRow::default()
    }
}

fn email(first: &str, last: &str) -> String {
    format!("{}@example.org", crate::domain::text::login_base(first, last))
}

/// The rows of the demo roster.
pub fn roster() -> Vec<RosterRow> {
    let mut rows = Vec::new();
    for i in 0..60usize {
        let (class, level) = CLASSES[i % 3];
        // Student 30 is a homonym of student 0, as happens in every school.
        let n = if i == 30 { 0 } else { i };
        let (first, last) = (FIRST[(n * 7) % FIRST.len()], LAST[(n * 3 + n / 20) % LAST.len()]);
        let mut r = row("student", first, last);
        r.external_id = Some(format!("S{i:03}"));
        r.classes = Some(class.to_owned());
        r.level = Some(level.to_owned());
        let year = match level {
            "CM1" => 2016,
            "CM2" => 2015,
            _ => 2014,
        };
        r.birth_date = Some(format!("{year}-{:02}-{:02}", i % 12 + 1, i % 28 + 1));
        r.groups = (i % 4 == 0)
            .then(|| "Foot".to_owned())
            .or_else(|| (i % 5 == 0).then(|| "Chorale".to_owned()));
        r.options = (level == "6e").then(|| if i % 2 == 0 { "Anglais" } else { "Allemand" }.to_owned());
        if i % 2 == 1 {
            r.password = Some(DEMO_STUDENT_PASSWORD.to_owned());
        }
        if i == 59 {
            r.source = Some("ENT Académie".to_owned());
            r.password = None;
        }
        rows.push(r);
    }
    // One parent per student, except that students 0 and 3 are siblings.
    for i in 0..60usize {
        if i == 3 {
            continue;
        }
        let n = if i == 30 { 0 } else { i };
        let child_last = LAST[(n * 3 + n / 20) % LAST.len()];
        let first = PARENT_FIRST[i % PARENT_FIRST.len()];
        let mut r = row("parent", first, child_last);
        r.external_id = Some(format!("P{i:03}"));
        r.children = Some(if i == 0 {
            "S000|S003".to_owned()
        } else {
            format!("S{i:03}")
        });
        if i % 4 != 1 {
            r.email = Some(email(first, child_last));
        }
        rows.push(r);
    }
    let teachers = [
        ("Marion", "Besson", "CM1-A"),
        ("Yannick", "Paquay", "CM2-B"),
        ("Adèle", "Rivière", "6e-1"),
        ("Grégoire", "Lambert", "CM2-B|6e-1"),
    ];
    for (i, (first, last, classes)) in teachers.into_iter().enumerate() {
        let mut r = row("teacher", first, last);
        r.external_id = Some(format!("T{i:03}"));
        r.classes = Some(classes.to_owned());
        r.email = Some(email(first, last));
        if i == 0 {
            r.password = Some(DEMO_STAFF_PASSWORD.to_owned());
        }
        rows.push(r);
    }
    for (i, (first, last, admin)) in [("Hélène", "Garnier", "admin"), ("Benoît", "Lefèvre", "secondary")]
        .into_iter()
        .enumerate()
    {
        let mut r = row("staff", first, last);
        r.external_id = Some(format!("A{i:03}"));
        r.local_admin = Some(admin.to_owned());
        r.email = Some(email(first, last));
        if i == 0 {
            r.password = Some(DEMO_STAFF_PASSWORD.to_owned());
        }
        rows.push(r);
    }
    rows
}

/// Who to try the demo as.
#[derive(Debug, Clone)]
pub struct DemoInfo {
    pub school: SchoolId,
    pub admin_id: String,
    pub admin_login: String,
    pub teacher_id: String,
    pub teacher_login: String,
    pub teacher_classes: Vec<String>,
    pub student_login: String,
}

/// Creates the demo school if it is absent; answers who to try it as.
pub async fn ensure_demo_school(sesame: &Sesame) -> Result<DemoInfo> {
    let id = SchoolId::parse(DEMO_SCHOOL).map_err(|e| Error::Internal(e.into()))?;
    let system = Caller {
        sub: "sesame-demo".to_owned(),
        school: id.clone(),
        role: Role::Admin,
        classes: vec![],
    };
    // Cards, files and mail point at the console of this very server.
    let settings = Settings {
        login_url: format!("{}/", sesame.public_url),
        ..Settings::default()
    };
    let school = School::new(id.clone(), "École de démonstration Sésame", settings);
    let query = AccountQuery {
        filter: AccountFilter::default(),
        sort: crate::domain::Sort::Name,
        after: None,
        limit: 500,
    };
    let created = sesame.create_school(&school).await?;
    let mut accounts = sesame.accounts.list_accounts(&id, &query).await?.items;
    // A first start stopped between the school and its roster imports it now (the
    // import matches by external id, so it never duplicates).
    let complete = ["A000", "T000", "S001"]
        .iter()
        .all(|ext| accounts.iter().any(|a| a.external_id.as_deref() == Some(*ext)));
    if created || !complete {
        sesame.import_roster(&system, None, &roster(), false).await?;
        shape_demo_states(sesame, &system).await?;
        accounts = sesame.accounts.list_accounts(&id, &query).await?.items;
    }
    let by_ext = |ext: &str| accounts.iter().find(|a| a.external_id.as_deref() == Some(ext));
    let missing = || Error::Internal(anyhow::anyhow!("the demo school lacks its demo accounts"));
    let admin = by_ext("A000").ok_or_else(missing)?;
    let teacher = by_ext("T000").ok_or_else(missing)?;
    let student = by_ext("S001").ok_or_else(missing)?;
    Ok(DemoInfo {
        school: id,
        admin_id: admin.id.to_string(),
        admin_login: admin.login.to_string(),
        teacher_id: teacher.id.to_string(),
        teacher_login: teacher.login.to_string(),
        teacher_classes: teacher.classes.iter().map(ToString::to_string).collect(),
        student_login: student.login.to_string(),
    })
}

/// Activated accounts (those imported with a password), and one disabled days ago.
async fn shape_demo_states(sesame: &Sesame, system: &Caller) -> Result<()> {
    let now = sesame.now();
    let query = AccountQuery {
        filter: AccountFilter::default(),
        sort: crate::domain::Sort::Name,
        after: None,
        limit: 500,
    };
    let accounts = sesame.accounts.list_accounts(&system.school, &query).await?.items;
    let ids: Vec<_> = accounts.iter().map(|a| a.id.clone()).collect();
    sesame
        .update_each(&system.school, &ids, |a| {
            let mut next = a.clone();
            let ext = a.external_id.as_deref().unwrap_or_default();
            if a.credentials.password_hash.is_some() {
                next.activation = Activation::Activated;
                next.activated_at = Some(now - Duration::days(20));
            }
            if ext == "S002" {
                next.access = Access::Disabled;
                next.disabled_at = Some(now - Duration::days(4));
            }
            Ok(if next == *a {
                Change::Keep
            } else {
                Change::Write(next)
            })
        })
        .await?;
    Ok(())
}
