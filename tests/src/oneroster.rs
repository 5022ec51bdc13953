//! OneRoster CSV bundles for the tests and the benchmark, written from the 1EdTech
//! OneRoster CSV binding's column lists (1.1 and 1.2).

use std::io::Write;

/// `users.csv` of OneRoster 1.1, in the binding's order.
pub const USERS_11: &str = "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password";
/// `users.csv` of OneRoster 1.2 (roles move to `roles.csv`).
pub const USERS_12: &str = "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,userMasterIdentifier,resourceSourcedIds,preferredGivenName,preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,pronouns";
pub const ROLES_12: &str = "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,userProfileSourcedId";
pub const ORGS: &str = "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId";
pub const CLASSES_11: &str = "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods";
pub const ENROLLMENTS_11: &str = "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate";
pub const DEMOGRAPHICS_11: &str = "sourcedId,status,dateLastModified,birthDate,sex,americanIndianOrAlaskaNative,asian,blackOrAfricanAmerican,nativeHawaiianOrOtherPacificIslander,white,demographicRaceTwoOrMoreRaces,hispanicOrLatinoEthnicity,countryOfBirthCode,stateOfBirthAbbreviation,cityOfBirth,publicSchoolResidenceStatus";

/// A manifest for `version` (`1.1` or `1.2`) whose files are `bulk` or `delta`.
pub fn manifest(version: &str, mode: &str, files: &[&str]) -> String {
    let mut out = format!("propertyName,value\nmanifest.version,1.0\noneroster.version,{version}\n");
    for file in [
        "academicSessions",
        "categories",
        "classes",
        "classResources",
        "courses",
        "courseResources",
        "demographics",
        "enrollments",
        "lineItems",
        "orgs",
        "resources",
        "results",
        "users",
    ] {
        let state = if files.contains(&file) { mode } else { "absent" };
        out.push_str(&format!("file.{file},{state}\n"));
    }
    out.push_str("source.systemName,Test SIS\nsource.systemCode,test\n");
    out
}

/// A zip of `files` (name, content).
pub fn zip(files: &[(&str, String)]) -> Vec<u8> {
    let mut out = ::zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, content) in files {
        out.start_file(*name, ::zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(content.as_bytes()).unwrap();
    }
    out.finish().unwrap().into_inner()
}

/// A 1.1 `users.csv` row: `(sourcedId, enabled, org, role, username, given, family, email, agents, grades, password)`.
#[allow(clippy::too_many_arguments)]
pub fn user_11(
    id: &str,
    enabled: bool,
    org: &str,
    role: &str,
    username: &str,
    given: &str,
    family: &str,
    email: &str,
    agents: &str,
    grades: &str,
    password: &str,
) -> String {
    let quote = |s: &str| {
        if s.contains(',') {
            format!("\"{s}\"")
        } else {
            s.to_owned()
        }
    };
    format!(
        "{id},,,{enabled},{},{role},{username},,{given},{family},,,{email},,,{},{},{password}",
        quote(org),
        quote(agents),
        quote(grades)
    )
}

/// A family name of letters only for `n` (a digit would meet the logins' own
/// numbering: `nom37` + `3` is `nom373`).
fn family(n: usize) -> String {
    let mut name = String::from("Nom");
    let mut n = n;
    loop {
        name.push(char::from(b'a' + (n % 26) as u8));
        n /= 26;
        if n == 0 {
            return name;
        }
    }
}

/// A whole school of OneRoster 1.1 with `students` students in classes of 25,
/// one parent for every second student, a teacher a class, every pupil named
/// `given` (so that two schools' logins differ): its bundle, and the number of
/// users of the school.
pub fn school_11(students: usize, given: &str) -> (Vec<u8>, usize) {
    let classes = students.div_ceil(25);
    let tag: String = given
        .to_lowercase()
        .chars()
        .filter(char::is_ascii_alphabetic)
        .take(3)
        .collect();
    let mut users = vec![USERS_11.to_owned()];
    let mut class_rows = vec![CLASSES_11.to_owned()];
    let mut enrollments = vec![ENROLLMENTS_11.to_owned()];
    let mut demographics = vec![DEMOGRAPHICS_11.to_owned()];
    for c in 0..classes {
        class_rows.push(format!("c{c},,,{}e-{c},06,,,scheduled,,s1,t1,,,", 6 + c % 4));
        users.push(user_11(
            &format!("t{c}"),
            true,
            "s1",
            "teacher",
            &format!("prof{c}.{tag}"),
            "Claire",
            &format!("Prof{}", family(c)),
            &format!("prof{c}.{tag}@example.org"),
            "",
            "",
            "",
        ));
        enrollments.push(format!("et{c},,,c{c},s1,t{c},teacher,true,,"));
    }
    for s in 0..students {
        let parent = (s % 2 == 0).then(|| format!("p{s}"));
        users.push(user_11(
            &format!("s{s}"),
            true,
            "s1",
            "student",
            "",
            given,
            &family(s),
            "",
            parent.as_deref().unwrap_or_default(),
            "06",
            "",
        ));
        enrollments.push(format!("e{s},,,c{},s1,s{s},student,false,,", s / 25));
        demographics.push(format!("s{s},,,2013-0{}-1{},,,,,,,,,,,,", 1 + s % 9, s % 10));
        if let Some(parent) = parent {
            users.push(user_11(
                &parent,
                true,
                "s1",
                "parent",
                "",
                "Parent",
                &family(s),
                &format!("parent{s}@example.org"),
                &format!("s{s}"),
                "",
                "",
            ));
        }
    }
    let count = users.len() - 1;
    let bundle = zip(&[
        (
            "manifest.csv",
            manifest(
                "1.1",
                "bulk",
                &["orgs", "users", "classes", "enrollments", "demographics"],
            ),
        ),
        (
            "orgs.csv",
            format!("{ORGS}\ns1,,,Collège Test,school,0750001A,\n"),
        ),
        ("users.csv", users.join("\n") + "\n"),
        ("classes.csv", class_rows.join("\n") + "\n"),
        ("enrollments.csv", enrollments.join("\n") + "\n"),
        ("demographics.csv", demographics.join("\n") + "\n"),
    ]);
    (bundle, count)
}
